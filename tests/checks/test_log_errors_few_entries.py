"""``log_errors`` below ``min_entries``: a verdict with its reason, never a silent OK."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prodguardian.checks.log_errors import (
    Basis,
    LogErrorsParams,
    decide,
    judge_few_entries,
)
from prodguardian.config import load_config
from prodguardian.engine import run_report
from prodguardian.evidence import ErrorSignature
from prodguardian.runbooks.findings import RunbookMatch
from prodguardian.status import Status

DB_LOST = "RuntimeError: Database connection is not available."


def basis(entries: int, errors: int, fingerprint: str = "f") -> Basis:
    sig = ErrorSignature(fingerprint=fingerprint, message="boom", count=errors, sample="boom")
    return Basis(label="x", entries=entries, errors=errors, warnings=0, signatures=(sig,))


def test_too_few_entries_withholds_the_rate_and_says_why() -> None:
    status, reasons = decide(LogErrorsParams(source="s"), basis(1, 1))
    assert status is Status.OK
    assert reasons == ["too few entries to judge the rate: 1 < 10 (`min_entries`)"]


def test_errors_far_past_the_critical_rate_still_fail() -> None:
    params = LogErrorsParams(source="s")  # 25 %: 3 errors are 30 % even over 10 entries
    status, reasons = judge_few_entries(params, basis(3, 3), {})
    assert status is Status.CRITICAL
    assert "at least 30 % even over 10 entries" in reasons[0]
    assert judge_few_entries(params, basis(3, 2), {})[0] is Status.OK


def test_an_error_a_critical_runbook_covers_fails_on_a_quiet_service() -> None:
    status, reasons = decide(LogErrorsParams(source="s"), basis(1, 1, "db"), {"db": "db-lost"})
    assert status is Status.CRITICAL
    assert "critical runbook db-lost" in reasons[0]


def _write_logs(path: Path, lines: list[tuple[str, str]]) -> None:
    now = datetime.now(UTC)
    with path.open("w", encoding="utf-8") as out:
        for i, (severity, text) in enumerate(lines):
            stamp = (now - timedelta(minutes=5 + i)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            entry = {
                "timestamp": stamp,
                "severity": severity,
                "textPayload": text,
                "resource": {"labels": {"service_name": "api"}},
            }
            out.write(json.dumps(entry) + "\n")


def _config(tmp_path: Path) -> Path:
    config = tmp_path / "pg.yaml"
    config.write_text(
        "service: {name: api}\n"
        "log_sources:\n  logs: {type: file, path: app.jsonl}\n"
        "checks:\n  - {name: errors, kind: log_errors, source: logs}\n"
    )
    return config


async def test_nine_database_errors_are_critical_with_their_runbook(tmp_path: Path) -> None:
    _write_logs(tmp_path / "app.jsonl", [("ERROR", DB_LOST)] * 9)
    report = await run_report(load_config(_config(tmp_path)))
    [run] = report.checks
    assert run.status is Status.CRITICAL, run.result.summary
    assert "critical runbook" in run.result.summary
    [match, *_] = [f for f in report.runbooks if isinstance(f, RunbookMatch)]
    assert match.failing


async def test_one_unknown_error_reads_ok_with_the_reason_and_unreadable_lines(
    tmp_path: Path,
) -> None:
    logs = tmp_path / "app.jsonl"
    _write_logs(logs, [("ERROR", "ValueError: something odd")])
    with logs.open("a") as out:
        out.write("{not json\n")
    report = await run_report(load_config(_config(tmp_path)))
    [run] = report.checks
    assert run.status is Status.OK
    assert "too few entries to judge the rate: 1 < 10 (`min_entries`)" in run.result.summary
    assert "1 unreadable line(s) skipped" in run.result.summary


async def test_a_window_without_entries_is_unknown_unless_silence_is_allowed(
    tmp_path: Path,
) -> None:
    (tmp_path / "app.jsonl").write_text("")
    config = _config(tmp_path)
    [run] = (await run_report(load_config(config))).checks
    assert run.status is Status.UNKNOWN
    assert run.result.summary.startswith("no entries in scope in the last 1h; is the source right?")

    config.write_text(
        config.read_text().replace("source: logs}", "source: logs, allow_empty: true}")
    )
    [run] = (await run_report(load_config(config))).checks
    assert run.status is Status.OK
    assert run.result.summary == "no log entries in the last 1h"
