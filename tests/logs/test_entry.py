"""LogEntry from Cloud Logging's JSON shape; severities and timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from prodguardian.logs.entry import LogEntry, Severity, parse_timestamp


def test_severity_parses_names_aliases_and_numbers() -> None:
    assert Severity.parse("ERROR") is Severity.ERROR
    assert Severity.parse("warn") is Severity.WARNING
    assert Severity.parse(550) is Severity.ERROR
    assert Severity.parse(None) is Severity.DEFAULT
    assert Severity.parse("nonsense") is Severity.DEFAULT
    assert Severity.CRITICAL > Severity.ERROR > Severity.WARNING


def test_timestamps_keep_microseconds_of_nanosecond_stamps_and_offsets() -> None:
    assert parse_timestamp("2025-10-11T12:21:00.123456789Z") == datetime(
        2025, 10, 11, 12, 21, 0, 123456, tzinfo=UTC
    )
    assert parse_timestamp("2025-10-11T14:21:00.5+02:00") == datetime(
        2025, 10, 11, 12, 21, 0, 500000, tzinfo=UTC
    )
    assert parse_timestamp("2025-10-11T12:21:00").tzinfo is UTC
    with pytest.raises(ValueError, match="Invalid isoformat"):
        parse_timestamp("yesterday")


def test_from_json_reads_text_json_and_http_payloads() -> None:
    text = LogEntry.from_json(
        {
            "timestamp": "2025-10-11T12:00:00Z",
            "severity": "ERROR",
            "textPayload": "boom",
            "resource": {"type": "cloud_run_revision", "labels": {"revision_name": "r-1"}},
            "labels": {"instanceId": "i-1"},
        }
    )
    assert (text.text, text.revision, text.instance, text.severity) == (
        "boom",
        "r-1",
        "i-1",
        Severity.ERROR,
    )
    structured = LogEntry.from_json(
        {"timestamp": "2025-10-11T12:00:00Z", "jsonPayload": {"message": "hi", "stack_trace": "T"}}
    )
    assert structured.text == "hi\nT"
    request = LogEntry.from_json(
        {
            "timestamp": "2025-10-11T12:00:00Z",
            "httpRequest": {"requestMethod": "GET", "requestUrl": "https://h/a/b?q", "status": 503},
        }
    )
    assert request.http is not None
    assert (request.http.status, request.http.path) == (503, "/a/b")
    assert request.timestamp.tzinfo is not None
    assert request.timestamp - datetime(
        2025, 10, 11, 14, tzinfo=timezone(timedelta(hours=2))
    ) == timedelta(0)


def test_from_json_refuses_entries_without_a_timestamp() -> None:
    with pytest.raises(ValueError, match="timestamp"):
        LogEntry.from_json({"textPayload": "x"})
