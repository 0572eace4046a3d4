"""The command line, run as a real process against the demo's stand-in service."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from prodguardian.demo.__main__ import send_traffic
from prodguardian.demo.target import RunningTarget
from prodguardian.render import report_json_schema

DEMO_CONFIG = Path(__file__).parents[1] / "config" / "demo.yaml"


@pytest.fixture
def log_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The stand-in's log file, which the demo config's `errors` check reads."""
    path = tmp_path / "service.jsonl"
    path.touch()
    monkeypatch.setenv("DEMO_LOG_FILE", str(path))
    return path


@pytest.fixture
def target(log_file: Path) -> Iterator[RunningTarget]:
    with RunningTarget(log_path=log_file) as running:
        send_traffic(running.url, 8)  # a window with entries: an empty one is UNKNOWN
        yield running


def prodguardian(
    *args: str, url: str | None = None, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DEMO_TARGET_URL"}
    env.update(extra_env or {})
    if url is not None:
        env["DEMO_TARGET_URL"] = url
    return subprocess.run(
        [sys.executable, "-m", "prodguardian.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


# The demo's `latency` check reads the spans sent to serve's receiver: a one-shot check has none.
WITHOUT_TRACES = [
    arg for name in ("api-health", "liveness", "readiness", "errors") for arg in ("--only", name)
]


def test_a_healthy_service_exits_0_with_a_table(target: RunningTarget) -> None:
    done = prodguardian("check", "-c", str(DEMO_CONFIG), *WITHOUT_TRACES, url=target.url)
    assert done.returncode == 0, done.stderr
    assert "OK" in done.stdout
    for name in ("api-health", "liveness", "readiness", "errors"):
        assert name in done.stdout


def test_json_output_follows_the_documented_schema(target: RunningTarget) -> None:
    done = prodguardian("check", "-c", str(DEMO_CONFIG), "--json", *WITHOUT_TRACES, url=target.url)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    jsonschema.validate(report, report_json_schema())
    assert report["status"] == "OK"
    assert report["service"] == "emergence-app"


def test_a_database_down_is_degraded_with_the_failed_condition(target: RunningTarget) -> None:
    # The demo's readiness says failure_status: DEGRADED (the API still answers without its DB).
    target.state.db_up = False
    done = prodguardian("check", "-c", str(DEMO_CONFIG), "--json", url=target.url)
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    by_name = {c["name"]: c["result"] for c in report["checks"]}
    assert by_name["api-health"]["status"] == "OK"
    assert by_name["liveness"]["status"] == "DEGRADED"
    assert by_name["readiness"]["status"] == "DEGRADED"
    conditions = [e for e in by_name["readiness"]["evidence"] if e["type"] == "condition"]
    assert any("db" in e["condition"] and "down" in e["actual"] for e in conditions)


def test_a_service_that_is_gone_is_critical(target: RunningTarget) -> None:
    url = target.url
    target.stop()
    done = prodguardian("check", "-c", str(DEMO_CONFIG), "--json", url=url)
    assert done.returncode == 2, done.stderr
    assert json.loads(done.stdout)["status"] == "CRITICAL"


def test_only_runs_the_named_check(target: RunningTarget) -> None:
    done = prodguardian(
        "check", "-c", str(DEMO_CONFIG), "--json", "--only", "readiness", url=target.url
    )
    assert done.returncode == 0, done.stderr
    assert [c["name"] for c in json.loads(done.stdout)["checks"]] == ["readiness"]


def test_an_unknown_check_name_exits_3(target: RunningTarget) -> None:
    done = prodguardian("check", "-c", str(DEMO_CONFIG), "--only", "nope", url=target.url)
    assert done.returncode == 3
    assert "no check named 'nope'" in done.stderr


def test_a_bad_config_exits_3_naming_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(DEMO_CONFIG.read_text().replace("    expect:\n", "    expct:\n", 1))
    done = prodguardian("check", "-c", str(bad))
    assert done.returncode == 3
    assert f"config error: {bad}" in done.stderr
    assert "checks[0].expct: unknown key 'expct' (did you mean 'expect'?)" in done.stderr
    assert prodguardian("config", "validate", "-c", str(bad)).returncode == 3


def test_a_missing_env_var_exits_3(tmp_path: Path) -> None:
    config = tmp_path / "env.yaml"
    config.write_text(
        DEMO_CONFIG.read_text().replace(
            "${DEMO_TARGET_URL:-http://127.0.0.1:8765}", "${PG_TEST_TARGET}"
        )
    )
    done = prodguardian("config", "validate", "-c", str(config))
    assert done.returncode == 3
    assert "environment variable PG_TEST_TARGET is not set" in done.stderr


def test_config_validate_accepts_the_shipped_configs_as_they_are() -> None:
    for path in (DEMO_CONFIG, DEMO_CONFIG.with_name("prodguardian.example.yaml")):
        done = prodguardian("config", "validate", "-c", str(path))  # no variables set
        assert done.returncode == 0, done.stderr
        assert "valid" in done.stdout


def test_usage_errors_exit_3() -> None:
    done = prodguardian("check", "--no-such-flag")
    assert done.returncode == 3
    assert "No such option" in done.stderr


def test_config_validate_also_validates_the_runbooks_the_config_uses(tmp_path: Path) -> None:
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "runbooks" / "broken.md").write_text("---\nid: broken\n---\nbody\n")
    config = tmp_path / "pg.yaml"
    config.write_text(
        "runbooks: {directories: [runbooks]}\n"
        "checks:\n  - {name: a, kind: http, url: 'http://127.0.0.1:9/'}\n"
    )
    done = prodguardian("config", "validate", "-c", str(config))
    assert done.returncode == 3
    assert "broken.md" in done.stderr
    assert "title: required key is missing" in done.stderr
