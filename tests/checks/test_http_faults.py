"""The ``http`` check against real local targets: every way a target fails is a precise result."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from prodguardian.checks.http import HttpCheck, request_budget
from prodguardian.checks.http_params import HttpParams
from prodguardian.evidence import FailedCondition, Observation
from prodguardian.result import CheckResult
from prodguardian.runner import run_checks
from prodguardian.status import Status
from tests.support.http_targets import (
    TARGET_STATE,
    health_app,
    raw_server,
    refused_port,
    run_check,
    serve_app,
    silent_server,
)

MiB = 1024 * 1024


def make_check(timeout_s: float = 5.0, **params: Any) -> HttpCheck:
    return HttpCheck(
        name="probe", kind="http", params=HttpParams.model_validate(params), timeout_s=timeout_s
    )


def failed(result: CheckResult) -> list[FailedCondition]:
    return [e for e in result.evidence if isinstance(e, FailedCondition)]


def observations(result: CheckResult) -> dict[str, str]:
    return {e.label: e.text for e in result.evidence if isinstance(e, Observation)}


@pytest.fixture
async def app() -> web.Application:
    return health_app()


@pytest.fixture
async def target(app: web.Application) -> AsyncIterator[str]:
    async with serve_app(app) as base:
        yield base


async def test_healthy_target_is_ok_with_metrics(target: str) -> None:
    result = await run_check(
        make_check(
            url=f"{target}/ready",
            expect={"json": ['db == "up"', 'components.database.status == "up"']},
        )
    )
    assert result.status is Status.OK, result.summary
    assert result.summary.startswith("HTTP 200 OK in ")
    assert result.metrics["status_code"] == 200
    assert result.metrics["body_bytes"] > 0
    assert result.metrics["response_time_ms"] > 0
    assert "tls_days_left" not in result.metrics
    assert result.evidence == ()


async def test_connection_refused() -> None:
    with refused_port() as port:
        result = await run_check(make_check(url=f"http://127.0.0.1:{port}/ready"))
    assert result.status is Status.CRITICAL
    assert result.summary.startswith(f"connection refused by 127.0.0.1:{port}")
    (condition,) = failed(result)
    assert condition.actual == "connection refused"
    assert condition.condition == f"TCP connect to 127.0.0.1:{port}"
    assert "elapsed_ms" in result.metrics


async def test_dns_failure_names_the_host() -> None:
    result = await run_check(make_check(url="http://prodguardian-probe.invalid/ready"))
    assert result.status is Status.CRITICAL
    assert result.summary.startswith("DNS lookup failed for prodguardian-probe.invalid")
    assert failed(result)[0].condition == "DNS lookup of prodguardian-probe.invalid"


async def test_server_that_never_answers_times_out_within_the_deadline() -> None:
    async with silent_server() as base:
        result = await run_check(make_check(timeout_s=1.0, url=f"{base}/ready"))
    assert result.status is Status.CRITICAL
    assert result.summary == f"no response within {request_budget(1.0):.3g} s"
    assert failed(result)[0].condition == "response within the timeout"


async def test_silent_server_through_the_runner_reports_the_check_own_timeout() -> None:
    async with silent_server() as base, serve_app(health_app()) as healthy:
        runs = await run_checks(
            [
                HttpCheck(
                    name="hung",
                    kind="http",
                    params=HttpParams(url=f"{base}/ready"),
                    timeout_s=1.0,
                ),
                HttpCheck(
                    name="fine", kind="http", params=HttpParams(url=f"{healthy}/ready"), timeout_s=5
                ),
            ]
        )
    hung, fine = runs
    assert hung.status is Status.CRITICAL
    assert hung.result.summary.startswith("no response within")  # not "abandoned" by the runner
    assert fine.status is Status.OK


async def test_body_that_stalls_says_how_far_it_got() -> None:
    app = web.Application()

    async def stall(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.content_length = 1000
        await response.prepare(request)
        await response.write(b"{" * 10)
        await never.wait()
        return response

    never = asyncio.Event()
    app.router.add_get("/stall", stall)
    async with serve_app(app) as base:
        result = await run_check(make_check(timeout_s=1.0, url=f"{base}/stall"))
    assert result.status is Status.CRITICAL
    assert result.summary.startswith("response body not complete within")
    assert "10 bytes of body read" in result.summary


@pytest.mark.parametrize(
    ("latency", "expected"),
    [
        ({"degraded": "50ms", "critical": "5s"}, Status.DEGRADED),
        ({"degraded": "20ms", "critical": "50ms"}, Status.CRITICAL),
        ({"critical": "5s"}, Status.OK),
    ],
)
async def test_slow_server_against_latency_thresholds(
    target: str, latency: dict[str, str], expected: Status
) -> None:
    result = await run_check(make_check(url=f"{target}/slow?ms=200", latency=latency))
    assert result.status is expected, result.summary
    assert result.metrics["response_time_ms"] >= 200
    if expected is not Status.OK:
        assert result.summary.startswith("slow: response took ")
        (condition,) = failed(result)
        assert condition.condition == "response time"
        assert condition.status is expected


async def test_503_with_degraded_readiness_body(target: str) -> None:
    result = await run_check(
        make_check(
            url=f"{target}/degraded",
            expect={
                "json": [
                    'db == "up"',
                    {"condition": "ok == true", "status": "DEGRADED"},
                    'vector == "up"',
                ]
            },
        )
    )
    assert result.status is Status.CRITICAL
    assert result.summary.startswith("HTTP 503 Service Unavailable (expected 200-299)")
    assert result.metrics["status_code"] == 503
    by_condition = {c.condition: c for c in failed(result)}
    assert by_condition["status in 200-299"].actual == "503 Service Unavailable"
    assert by_condition['db == "up"'].actual == '"down"'
    assert by_condition['db == "up"'].status is Status.CRITICAL
    assert by_condition["ok == true"].actual == "false"
    assert by_condition["ok == true"].status is Status.DEGRADED
    assert by_condition['vector == "up"'].actual == "missing"
    assert '"db": "down"' in observations(result)["response body"]


async def test_failure_status_degraded_applies_to_status_and_conditions(target: str) -> None:
    result = await run_check(
        make_check(
            url=f"{target}/degraded", failure_status="DEGRADED", expect={"json": ['db == "up"']}
        )
    )
    assert result.status is Status.DEGRADED
    assert {c.status for c in failed(result)} == {Status.DEGRADED}


async def test_5xx_without_conditions_is_critical(target: str) -> None:
    result = await run_check(make_check(url=f"{target}/status/500"))
    assert result.status is Status.CRITICAL
    assert result.summary == "HTTP 500 Internal Server Error (expected 200-299)"


async def test_expected_status_set_accepts_503(target: str) -> None:
    result = await run_check(make_check(url=f"{target}/degraded", expect={"status": [200, 503]}))
    assert result.status is Status.OK


async def test_non_json_body_with_json_conditions(target: str) -> None:
    result = await run_check(make_check(url=f"{target}/text", expect={"json": ['db == "up"']}))
    assert result.status is Status.CRITICAL
    assert result.summary.startswith("body is not valid JSON (Expecting value at line 1 column 1)")
    assert "<html><body>Service Unavailable" in result.summary
    assert "\x1b" not in result.summary
    assert "\\x1b" in failed(result)[0].actual
    assert "\n" not in result.summary


async def test_truncated_json(target: str) -> None:
    result = await run_check(make_check(url=f"{target}/truncated", expect={"json": ["ok == true"]}))
    assert result.status is Status.CRITICAL
    assert result.summary.startswith("body is not valid JSON (Unterminated string")
    assert failed(result)[0].condition == "body is JSON"


async def test_50_mb_body_stops_at_the_cap_with_json_conditions(
    target: str, app: web.Application
) -> None:
    result = await run_check(
        make_check(url=f"{target}/big?mb=50", max_body="1MiB", expect={"json": ["ok == true"]})
    )
    assert result.status is Status.CRITICAL
    assert result.summary.startswith("body cut at the 1 MiB cap (max_body)")
    assert result.metrics["body_bytes"] == MiB
    assert failed(result)[0].condition == "body is complete JSON"


async def test_50_mb_body_without_conditions_is_read_only_to_the_cap(target: str) -> None:
    result = await run_check(make_check(url=f"{target}/big?mb=50", max_body="256KiB"))
    assert result.status is Status.OK
    assert result.metrics["body_bytes"] == 256 * 1024


async def test_body_contains(target: str) -> None:
    ok = await run_check(make_check(url=f"{target}/ready", expect={"body_contains": '"db"'}))
    assert ok.status is Status.OK
    missing = await run_check(make_check(url=f"{target}/ready", expect={"body_contains": "zzz"}))
    assert missing.status is Status.CRITICAL
    assert missing.summary == "body does not contain 'zzz'"
    assert failed(missing)[0].actual.startswith("not found in the ")


async def test_redirect_loop(target: str) -> None:
    result = await run_check(make_check(url=f"{target}/loop", max_redirects=3))
    assert result.status is Status.CRITICAL
    assert result.summary == f"redirect loop: more than 3 redirects (last: {target}/loop)"
    assert failed(result)[0].actual == f"redirect loop: {target}/loop → {target}/loop"


async def test_long_redirect_chain_is_not_called_a_loop(target: str) -> None:
    result = await run_check(make_check(url=f"{target}/chain/0", max_redirects=2))
    assert result.status is Status.CRITICAL
    assert result.summary == f"too many redirects: more than 2 redirects (last: {target}/chain/1)"


async def test_redirect_followed_and_recorded(target: str) -> None:
    result = await run_check(make_check(url=f"{target}/redirect?to=/ready"))
    assert result.status is Status.OK
    assert result.metrics["redirects"] == 1
    assert result.summary.startswith("HTTP 200")


async def test_redirect_not_followed_is_judged_by_status(target: str) -> None:
    result = await run_check(make_check(url=f"{target}/redirect?to=/ready", follow_redirects=False))
    assert result.status is Status.CRITICAL
    assert result.summary == "HTTP 302 Found → /ready (expected 200-299)"


async def test_garbage_answer() -> None:
    async with raw_server(b"SSH-2.0-OpenSSH_9.6\r\n\r\n") as base:
        result = await run_check(make_check(url=f"{base}/ready"))
    assert result.status is Status.CRITICAL
    assert result.summary.startswith("not a valid HTTP response: Bad status line")
    assert "SSH-2.0-OpenSSH_9.6" in result.summary
    assert "\n" not in result.summary


async def test_dropped_connection() -> None:
    async with raw_server(b"") as base:
        result = await run_check(make_check(url=f"{base}/ready"))
    assert result.status is Status.CRITICAL
    assert result.summary.startswith("the server closed the connection without a response")


async def test_body_that_breaks_off() -> None:
    answer = (
        b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\nContent-Type: application/json\r\n\r\n{"ok"'
    )
    async with raw_server(answer) as base:
        result = await run_check(make_check(url=f"{base}/ready", expect={"json": ["ok == true"]}))
    assert result.status is Status.CRITICAL
    assert result.summary == (
        "the response body broke off: "
        "Not enough data to satisfy content length header (received 5 of 100 bytes)"
    )
    assert failed(result)[0].condition == "HTTP response body"


async def test_head_request_reads_no_body(target: str) -> None:
    result = await run_check(make_check(url=f"{target}/ready", method="HEAD"))
    assert result.status is Status.OK
    assert result.metrics["body_bytes"] == 0


async def test_every_operator_against_a_real_body(target: str) -> None:
    conditions = [
        'db == "up"',
        'db != "down"',
        "uptime_s > 1000",
        "uptime_s >= 1234.5",
        "components.database.latency_ms < 10",
        "items[0].count <= 3",
        'items[-1].status == "degraded"',
        "maintenance == null",
        "maintenance exists",
        "components.database",
        'version >= "2.4"',
    ]
    result = await run_check(make_check(url=f"{target}/ready", expect={"json": conditions}))
    assert result.status is Status.OK, result.summary
    failing = [c.replace("==", "!=", 1) if "==" in c else c + " == 1" for c in conditions[:1]]
    failing += ["uptime_s < 1000", "items[5].status exists", 'ok > "a"', "ok <= 1"]
    result = await run_check(make_check(url=f"{target}/ready", expect={"json": failing}))
    actual = {c.condition: c.actual for c in failed(result)}
    assert actual == {
        'db != "up"': '"up"',
        "uptime_s < 1000": "1234.5",
        "items[5].status exists": "missing",
        'ok > "a"': "true (a boolean, not comparable with a string)",
        "ok <= 1": "true (a boolean, not comparable with a number)",
    }
    assert result.summary.endswith("and 2 more")


async def test_secret_header_is_sent_and_never_shown(
    target: str, app: web.Application, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "Bearer s3cret-token-9f1c"
    monkeypatch.setenv("PROBE_AUTH_HEADER", secret)
    check = make_check(
        url=f"{target}/echo-headers",
        headers={"Accept": "application/json"},
        headers_from_env={"Authorization": "PROBE_AUTH_HEADER"},
        expect={"json": ["headers.Missing exists"]},
    )
    result = await run_check(check)
    assert app[TARGET_STATE].last_headers["Authorization"] == secret
    assert app[TARGET_STATE].last_headers["Accept"] == "application/json"
    assert app[TARGET_STATE].last_headers["User-Agent"].startswith("ProdGuardian/")
    assert result.status is Status.CRITICAL  # a failing result that shows the body excerpt
    shown = [
        repr(check),
        repr(check.params),
        str(check.params),
        check.params.model_dump_json(),
        str(check.params.model_dump()),
    ]
    assert all(secret not in text for text in shown)
    assert "PROBE_AUTH_HEADER" in check.params.model_dump_json()
    # The target echoed the secret back; the evidence shows the body with it redacted.
    assert secret not in result.model_dump_json()
    assert "[redacted]" in observations(result)["response body"]
