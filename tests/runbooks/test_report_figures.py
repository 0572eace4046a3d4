"""The figures a report fills into runbook commands: the memory peak, the route, the revision
to roll back to (issue: a last sample reported as the peak, a trailing colon, LAST_GOOD left)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prodguardian.config import load_config
from prodguardian.engine import run_report
from prodguardian.runbooks.findings import RunbookMatch
from prodguardian.runbooks.placeholders import values_from_texts
from tests.logs.incident_data import shifted, write_jsonl


def _config(tmp_path: Path) -> Path:
    config = tmp_path / "pg.yaml"
    config.write_text(
        "service: {name: emergence-app, region: europe-west1}\n"
        "log_sources:\n  logs: {type: file, path: app.jsonl}\n"
        "checks:\n  - {name: errors, kind: log_errors, source: logs, timeout: 20s}\n"
    )
    return config


def _match(findings: tuple[object, ...], runbook: str) -> RunbookMatch:
    [found] = [f for f in findings if isinstance(f, RunbookMatch) and f.id == runbook]
    return found


async def test_the_memory_peak_is_the_highest_figure_not_the_last(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    used = [1060, 1071, 1055]  # the last one logged is not the peak
    rows = [
        {
            "timestamp": (now - timedelta(minutes=30 - i)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "severity": "ERROR",
            "textPayload": f"Memory limit of 1024 MiB exceeded with {mib} MiB used. "
            "Consider increasing the memory limit",
            "resource": {"labels": {"service_name": "emergence-app"}},
        }
        for i, mib in enumerate(used)
    ]
    rows += [
        {
            "timestamp": (now - timedelta(minutes=20, seconds=i)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "severity": "INFO",
            "textPayload": "GET /api/health 200",
            "resource": {"labels": {"service_name": "emergence-app"}},
        }
        for i in range(20)
    ]
    (tmp_path / "app.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = await run_report(load_config(_config(tmp_path)))
    match = _match(report.runbooks, "cloud-run-memory-limit")
    assert match.placeholders["memory_peak"] == "1071Mi"
    assert match.placeholders["memory_limit"] == "1Gi"
    [sig] = [e for e in report.checks[0].result.evidence if e.type == "error_signature"]
    assert "1055 MiB" in sig.sample
    assert sig.peak_sample is not None
    assert "1071 MiB" in sig.peak_sample


def test_a_route_keeps_no_trailing_punctuation() -> None:
    values = values_from_texts(["POST /api/memory/tend-garden: 500 Internal Server Error"])
    assert values["route"] == "/api/memory/tend-garden"
    assert values_from_texts(["GET /api/threads/7 took 3 s"])["route"] == "/api/threads/7"


async def test_the_rollback_names_the_last_good_revision(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "app.jsonl", shifted("incident-06-not-ready.jsonl", datetime.now(UTC)))
    report = await run_report(load_config(_config(tmp_path)))
    match = _match(report.runbooks, "revision-not-ready-env-lost")
    assert match.placeholders["last_good_revision"] == "emergence-app-00048-ok1"
    commands = [c for step in match.first_steps for c in step.commands]
    rollback = next(c for c in commands if "--to-revisions" in c)
    assert rollback.endswith("--to-revisions=emergence-app-00048-ok1=100")
    assert "LAST_GOOD" not in " ".join(commands)
