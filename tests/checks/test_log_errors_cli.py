"""``prodguardian check --since-deploy/--revision`` as a real process on a file of logs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from tests.logs.incident_data import DEPLOY, NOW, shifted, write_jsonl
from tests.support.cli_process import prodguardian


def setup(tmp_path: Path) -> tuple[Path, datetime]:
    """The hotfix hour ending now, without revision labels (so only a time splits)."""
    now = datetime.now(UTC)  # entries span [now - 59.5 min, now - 5 s]
    write_jsonl(
        tmp_path / "logs.jsonl", shifted("incident-01-hotfix.jsonl", now, drop_revisions=True)
    )
    config = tmp_path / "prodguardian.yaml"
    config.write_text(
        "service: {name: emergence-app}\n"
        "log_sources:\n"
        "  prod-logs: {type: file, path: logs.jsonl}\n"
        "checks:\n"
        "  - {name: errors, kind: log_errors, source: prod-logs, timeout: 20s}\n"
    )
    return config, now - (NOW - DEPLOY)


def test_since_deploy_turns_the_hotfix_hour_ok(tmp_path: Path) -> None:
    config, deployed = setup(tmp_path)
    before = prodguardian("check", "-c", str(config), "--json")
    assert before.returncode == 1, before.stderr  # 9 of 116 over the whole hour
    stamp = deployed.strftime("%Y-%m-%dT%H:%M:%SZ")
    after = prodguardian("check", "-c", str(config), "--json", "--since-deploy", stamp)
    assert after.returncode == 0, after.stdout + after.stderr
    report = json.loads(after.stdout)
    assert report["deploy"]["since"].startswith(stamp[:19])
    [run] = report["checks"]
    assert run["result"]["metrics"]["errors_since_deploy"] == 0
    [sig] = [e for e in run["result"]["evidence"] if e["type"] == "error_signature"]
    assert sig["before_deploy"] is True
    assert sig["count"] == 9


def test_a_bad_deploy_time_is_a_usage_error(tmp_path: Path) -> None:
    config, _ = setup(tmp_path)
    result = prodguardian("check", "-c", str(config), "--since-deploy", "yesterday-ish")
    assert result.returncode == 3
    assert "use ISO 8601 such as 2025-10-11T12:21:00Z" in result.stderr


def test_an_unknown_source_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "prodguardian.yaml"
    config.write_text(
        "log_sources:\n  prod-logs: {type: file, path: x.jsonl}\n"
        "checks:\n  - {name: errors, kind: log_errors, source: prod}\n"
    )
    result = prodguardian("check", "-c", str(config))
    assert result.returncode == 3
    assert "checks[0].source" in result.stderr


def test_revision_names_the_active_revision(tmp_path: Path) -> None:
    now = datetime.now(UTC)  # entries span [now - 59.5 min, now - 5 s]
    write_jsonl(tmp_path / "logs.jsonl", shifted("incident-01-hotfix.jsonl", now))
    config = tmp_path / "prodguardian.yaml"
    config.write_text(
        "log_sources:\n  prod-logs: {type: file, path: logs.jsonl}\n"
        "checks:\n  - {name: errors, kind: log_errors, source: prod-logs, timeout: 20s}\n"
    )
    # Left alone, the newest revision (the fix) is active: OK.
    assert prodguardian("check", "-c", str(config)).returncode == 0
    # Told the broken revision is the active one, its 9 of 80 decide: DEGRADED.
    told = prodguardian(
        "check", "-c", str(config), "--json", "--revision", "emergence-app-00041-rok"
    )
    assert told.returncode == 1, told.stdout + told.stderr
    [run] = json.loads(told.stdout)["checks"]
    assert run["result"]["metrics"]["error_rate_since_deploy_pct"] == 11.25
