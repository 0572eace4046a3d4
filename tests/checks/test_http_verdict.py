"""The ``http`` check's decisions, as pure functions of what a probe observed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from prodguardian.checks.http import request_budget
from prodguardian.checks.http_outcome import FailureKind, ProbeFailure, ProbeResponse
from prodguardian.checks.http_params import HttpParams
from prodguardian.checks.http_tls import CertInfo
from prodguardian.checks.http_verdict import excerpt, format_size, judge_failure, judge_response
from prodguardian.evidence import FailedCondition, Observation
from prodguardian.status import Status

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def params(**values: Any) -> HttpParams:
    return HttpParams.model_validate({"url": "https://api.example.test/health", **values})


def response(**values: Any) -> ProbeResponse:
    defaults: dict[str, Any] = {
        "status_code": 200,
        "reason": "OK",
        "url": "https://api.example.test/health",
        "body": b'{"ok": true, "db": "up"}',
        "content_type": "application/json",
        "headers_s": 0.010,
        "total_s": 0.012,
    }
    return ProbeResponse(**{**defaults, **values})


def cert(days_left: float) -> CertInfo:
    return CertInfo(
        subject="CN=api.example.test",
        issuer="CN=R3",
        not_before=NOW - dt.timedelta(days=60),
        not_after=NOW + dt.timedelta(days=days_left),
        self_signed=False,
    )


def test_ok_summary_and_metrics() -> None:
    result = judge_response(params(), response(cert=cert(45)), now=NOW)
    assert result.status is Status.OK
    assert result.summary == "HTTP 200 OK in 12 ms, certificate valid for 45 more days"
    assert result.metrics == {
        "response_time_ms": 12.0,
        "headers_ms": 10.0,
        "status_code": 200.0,
        "body_bytes": 24.0,
        "redirects": 0.0,
        "tls_days_left": 45.0,
    }


@pytest.mark.parametrize(
    ("total_s", "expected"),
    [(0.999, Status.OK), (1.0, Status.OK), (1.001, Status.DEGRADED), (3.5, Status.CRITICAL)],
)
def test_latency_thresholds_are_exclusive(total_s: float, expected: Status) -> None:
    p = params(latency={"degraded": "1s", "critical": "3s"})
    assert judge_response(p, response(total_s=total_s), now=NOW).status is expected


def test_latency_summary() -> None:
    p = params(latency={"degraded": "250ms"})
    result = judge_response(p, response(total_s=1.5), now=NOW)
    assert result.summary == "slow: response took 1.50 s (DEGRADED above 250 ms)"


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (30, Status.OK),
        (14.5, Status.OK),
        (14, Status.DEGRADED),
        (3.5, Status.DEGRADED),
        (3, Status.CRITICAL),
        (0.5, Status.CRITICAL),
        (-1, Status.CRITICAL),
    ],
)
def test_certificate_expiry_thresholds(days: float, expected: Status) -> None:
    result = judge_response(params(), response(cert=cert(days)), now=NOW)
    assert result.status is expected
    assert result.metrics["tls_days_left"] == days


def test_status_condition_uses_failure_status_and_shows_location() -> None:
    p = params(failure_status="DEGRADED", follow_redirects=False)
    result = judge_response(
        p, response(status_code=301, reason="Moved Permanently", location="/v2/health"), now=NOW
    )
    assert result.status is Status.DEGRADED
    assert result.summary == "HTTP 301 Moved Permanently → /v2/health (expected 200-299)"


def test_summary_puts_the_worst_first_and_counts_the_rest() -> None:
    p = params(
        expect={
            "json": [
                {"condition": "a exists", "status": "DEGRADED"},
                "b exists",
                "c exists",
                "d exists",
                "e exists",
            ]
        }
    )
    result = judge_response(p, response(), now=NOW)
    assert result.status is Status.CRITICAL
    assert result.summary == (
        "b exists failed (actual: missing); c exists failed (actual: missing); "
        "d exists failed (actual: missing); and 2 more"
    )
    assert len([e for e in result.evidence if isinstance(e, FailedCondition)]) == 5


def test_unreadable_json_takes_the_worst_status_of_the_conditions() -> None:
    p = params(expect={"json": [{"condition": "a exists", "status": "DEGRADED"}]})
    result = judge_response(p, response(body=b"<html>"), now=NOW)
    assert result.status is Status.DEGRADED
    assert result.summary == "body is not valid JSON (Expecting value at line 1 column 1): <html>"


def test_empty_body_is_not_json() -> None:
    result = judge_response(params(expect={"json": ["a exists"]}), response(body=b""), now=NOW)
    assert result.summary.startswith("body is not valid JSON (the body is empty)")


def test_body_in_another_charset() -> None:
    body = '{"db": "über"}'.encode("latin-1")
    p = params(expect={"json": ['db == "über"']})
    assert judge_response(p, response(body=body, charset="latin-1"), now=NOW).status is Status.OK
    bad = judge_response(p, response(body=body), now=NOW)
    assert bad.summary.startswith("body is not valid JSON (cannot decode it as utf-8")


def test_secrets_from_the_environment_are_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKEN_VAR", "tok-123456")
    p = params(headers_from_env={"X-Token": "TOKEN_VAR"}, expect={"json": ['echo == "something"']})
    result = judge_response(p, response(body=b'{"echo": "tok-123456"}'), now=NOW)
    dumped = result.model_dump_json()
    assert "tok-123456" not in dumped
    assert '"[redacted]"' in result.summary


def test_failure_result() -> None:
    failure = ProbeFailure(
        kind=FailureKind.REFUSED,
        summary="connection refused by 10.0.0.1:80 (nothing listening?)",
        condition="TCP connect to 10.0.0.1:80",
        expected="an accepted connection",
        actual="connection refused",
        elapsed_s=0.0021,
    )
    result = judge_failure(params(), failure, now=NOW)
    assert result.status is Status.CRITICAL
    assert result.summary == failure.summary
    assert result.metrics == {"elapsed_ms": 2.1}
    first = result.evidence[0]
    assert isinstance(first, FailedCondition)
    assert first.actual == "connection refused"
    assert Observation(label="request", text="GET https://api.example.test/health") in (
        result.evidence
    )


def test_excerpt_escapes_and_cuts() -> None:
    assert excerpt(b"line1\nline2\x1b[0m") == "line1\\nline2\\x1b[0m"
    assert excerpt(b"a" * 500, 10) == "a" * 10 + "…"
    assert excerpt(b"\xff\xfe") == "\ufffd\ufffd"


def test_format_size() -> None:
    assert format_size(1024 * 1024) == "1 MiB"
    assert format_size(512 * 1024) == "512 KiB"
    assert format_size(1536) == "1.5 KiB"
    assert format_size(300) == "300 B"


@pytest.mark.parametrize(
    ("timeout_s", "budget"), [(5.0, 4.5), (1.0, 0.9), (0.5, 0.4), (30.0, 29.0), (0.1, 0.05)]
)
def test_request_budget_leaves_room_under_the_timeout(timeout_s: float, budget: float) -> None:
    assert request_budget(timeout_s) == pytest.approx(budget)
