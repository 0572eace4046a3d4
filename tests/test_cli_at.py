"""``--at``: judge the window that ended at a past time (``check``, ``runbooks match``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from prodguardian.runbooks.entry_time import WindowFilter, entry_time
from tests.logs.incident_data import dataset
from tests.support.cli_process import prodguardian

INCIDENT_END = "2025-10-11T12:31:00Z"  # the end of incident-01-database.jsonl's hour


def _config(tmp_path: Path) -> Path:
    config = tmp_path / "pg.yaml"
    config.write_text(
        "service: {name: emergence-app}\n"
        f"log_sources:\n  logs: {{type: file, path: {dataset('incident-01-database.jsonl')}}}\n"
        "checks:\n  - {name: errors, kind: log_errors, source: logs, timeout: 20s}\n"
    )
    return config


def test_check_at_judges_the_hour_that_ended_then(tmp_path: Path) -> None:
    config = _config(tmp_path)
    now = prodguardian("check", "-c", str(config), "--json")
    assert now.returncode == 3, now.stderr  # nothing in the last hour: UNKNOWN
    past = prodguardian("check", "-c", str(config), "--json", "--at", INCIDENT_END)
    report = json.loads(past.stdout)
    assert past.returncode == 1, past.stdout  # 9 errors in 80 entries: DEGRADED
    assert report["at"].startswith("2025-10-11T12:31:00")
    [run] = report["checks"]
    assert run["result"]["metrics"]["entries"] == 80
    assert run["result"]["metrics"]["errors"] == 9
    assert report["runbooks"][0]["id"] == "db-connection-lost"
    table = prodguardian("check", "-c", str(config), "--at", INCIDENT_END)
    assert "windows ending 2025-10-11 12:31:00 UTC" in table.stdout


def test_a_bad_at_is_a_usage_error(tmp_path: Path) -> None:
    done = prodguardian("check", "-c", str(_config(tmp_path)), "--at", "last tuesday")
    assert done.returncode == 3
    assert "is not a time" in done.stderr


def test_runbooks_match_at_keeps_the_entries_of_that_window() -> None:
    log = str(dataset("incident-01-database.jsonl"))
    during = prodguardian("runbooks", "match", log, "--json", "--at", INCIDENT_END)
    findings = json.loads(during.stdout)
    assert findings[0]["id"] == "db-connection-lost"
    before = prodguardian("runbooks", "match", log, "--at", "2025-10-10T00:00:00Z")
    assert before.returncode == 1
    assert "left out 80 entries outside" in before.stderr
    assert "nothing to match" in before.stderr


def test_entry_time_reads_json_and_text_entries() -> None:
    assert entry_time('{"timestamp": "2025-10-11T12:20:05.5Z", "severity": "ERROR"}') == (
        datetime(2025, 10, 11, 12, 20, 5, 500000, tzinfo=UTC)
    )
    text = "2025-10-11 12:00:00,120 ERROR boom\nTraceback (most recent call last):"
    assert entry_time(text) == datetime(2025, 10, 11, 12, 0, 0, 120000, tzinfo=UTC)
    assert entry_time("Traceback (most recent call last):") is None
    window = WindowFilter(
        start=datetime(2025, 10, 11, 12, tzinfo=UTC), end=datetime(2025, 10, 11, 13, tzinfo=UTC)
    )
    kept = list(window.keep([text, "no time here", '{"timestamp": "2024-01-01T00:00:00Z"}']))
    assert kept == [text]
    assert (window.outside, window.timeless) == (1, 1)
