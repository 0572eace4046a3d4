"""``trace_latency``: judging routes (tables), thresholds per route, samples, params, the store."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from prodguardian.checks.trace_latency import (
    TraceLatencyCheck,
    TraceLatencyParams,
    judge,
    judge_route,
    route_matches,
    thresholds_for,
)
from prodguardian.config import load_config
from prodguardian.context import CheckContext, HttpClient
from prodguardian.errors import ConfigError, SourceError
from prodguardian.evidence import SlowRoute
from prodguardian.status import Status
from prodguardian.traces.model import RouteLatency, TraceExample
from prodguardian.traces.store import StoreLimits, TraceStore


def route(
    name: str = "GET /a",
    *,
    count: int = 100,
    errors: int = 0,
    p50: float = 20.0,
    p95: float = 200.0,
    p99: float = 400.0,
) -> RouteLatency:
    return RouteLatency(
        service="api",
        route=name,
        count=count,
        errors=errors,
        p50_ms=p50,
        p95_ms=p95,
        p99_ms=p99,
        max_ms=p99 * 2,
        examples=(TraceExample(trace_id="ab" * 16, duration_ms=p99 * 2),),
    )


def params(**kwargs: Any) -> TraceLatencyParams:
    return TraceLatencyParams(service="api", **kwargs)


@pytest.mark.parametrize(
    ("latency", "status", "reason"),
    [
        (route(p95=999.0), Status.OK, ""),
        (route(p95=1000.0), Status.OK, ""),  # "over 1,000 ms", so 1,000 itself is fine
        (route(p95=1001.0), Status.DEGRADED, "p95 1,001 ms > 1,000 ms"),
        (route(p95=3000.5), Status.CRITICAL, "p95 3,000 ms > 3,000 ms"),
        (route(errors=5), Status.OK, ""),
        (route(errors=6), Status.DEGRADED, "errors 6.0% > 5.0%"),
        (route(errors=26), Status.CRITICAL, "errors 26.0% > 25.0%"),
        (route(p95=1500.0, errors=30), Status.CRITICAL, "p95 1,500 ms > 1,000 ms; errors 30.0%"),
        (route(count=19, p95=9999.0), Status.OK, ""),  # too few samples: not judged
    ],
)
def test_route_verdicts_with_the_team_defaults(
    latency: RouteLatency, status: Status, reason: str
) -> None:
    verdict = judge_route(latency, params().thresholds, min_samples=20)
    assert verdict.status is status
    assert verdict.reason.startswith(reason)
    assert verdict.judged is (latency.count >= 20)


@pytest.mark.parametrize(
    ("pattern", "route_name", "matches"),
    [
        ("GET /a", "GET /a", True),
        ("/a", "GET /a", True),
        ("/a", "POST /a", True),
        ("POST /a", "GET /a", False),
        ("/a", "GET /ab", False),
        ("handler", "handler", True),
    ],
)
def test_route_patterns(pattern: str, route_name: str, matches: bool) -> None:
    assert route_matches(pattern, route_name) is matches


def test_route_overrides_inherit_what_they_do_not_set() -> None:
    p = params(
        thresholds={"percentile": "p99", "degraded_ms": 500, "critical_ms": 2000},
        routes={
            "POST /upload": {"degraded_ms": 5000, "critical_ms": 15000},
            "/report": {"error_ratio_degraded": None},
        },
    )
    upload = thresholds_for(p, "POST /upload")
    assert (upload.percentile, upload.degraded_ms, upload.critical_ms) == ("p99", 5000, 15000)
    assert thresholds_for(p, "GET /report").error_ratio_degraded is None
    assert thresholds_for(p, "GET /other").degraded_ms == 500


def test_a_slow_upload_route_within_its_own_threshold_is_ok() -> None:
    p = params(routes={"POST /upload": {"degraded_ms": 5000, "critical_ms": 15000}})
    result = judge([route("POST /upload", p95=4000.0), route("GET /a", p95=100.0)], p)
    assert result.status is Status.OK
    assert result.summary.startswith("all within thresholds; slowest POST /upload p95 4,000 ms")


def test_failing_routes_lead_the_evidence_with_trace_ids() -> None:
    p = params(show_routes=3)
    latencies = [
        route("GET /ok1", p95=900.0),
        route("GET /deg", p95=1500.0),
        route("GET /crit", p95=4000.0),
        route("GET /ok2", p95=10.0),
        route("GET /ok3", p95=5.0),
    ]
    result = judge(latencies, p)
    assert result.status is Status.CRITICAL
    assert result.summary.startswith("GET /crit: p95 4,000 ms > 3,000 ms (+1 more routes)")
    shown = [e for e in result.evidence if isinstance(e, SlowRoute)]
    assert [e.route for e in shown] == ["GET /crit", "GET /deg", "GET /ok1"]
    assert shown[0].example_trace_ids == ("ab" * 16,)
    assert result.metrics["worst_p95_ms"] == 4000.0


def test_no_spans_at_all_is_unknown_not_ok() -> None:
    result = judge([], params())
    assert result.status is Status.UNKNOWN
    assert "no server spans from service 'api' in the last 5m" in result.summary


def test_too_few_samples_everywhere_is_unknown_and_says_so() -> None:
    result = judge([route(count=3), route("GET /b", count=4)], params(min_samples=20))
    assert result.status is Status.UNKNOWN
    assert result.summary.startswith("not enough samples: 7 requests over 2 routes")


def test_unjudged_routes_are_counted_in_the_summary() -> None:
    result = judge([route(count=50), route("GET /rare", count=2, p95=9000.0)], params())
    assert result.status is Status.OK
    assert result.summary.endswith("1 routes with < 20 requests not judged")


def test_ignored_routes_are_left_out() -> None:
    result = judge([route("GET /healthz", p95=5000.0), route()], params(ignore_routes=["/healthz"]))
    assert result.status is Status.OK
    assert result.metrics["routes"] == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"thresholds": {"degraded_ms": 500, "critical_ms": 100}}, "critical_ms (100) is below"),
        ({"routes": {"/a": {"critical_ms": 10}}}, "routes./a: "),
        ({"thresholds": {"percentile": "p90"}}, "percentile"),
        ({"source": {"kind": "zipkin"}}, "unknown trace source kind 'zipkin'"),
        ({"source": {"kind": "jaeger", "url": "http://j:16686", "limt": 5}}, "limt"),
        ({"windw": "5m"}, "windw"),
        ({"window": "2h"}, "window: the receiver keeps 1h of latency data"),
    ],
)
def test_bad_params_say_what_to_fix(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        params(**kwargs)


def test_window_is_a_duration() -> None:
    assert params(window="15m").window == 900.0


async def test_the_check_reads_the_receiver_store() -> None:
    store = TraceStore()
    now = datetime.now(UTC)
    end = int(now.timestamp() * 1e9) - 1_000_000_000
    store.ingest([("api", "GET /a", end, 2_000_000_000, False, b"\x01" * 16)] * 30)
    check = TraceLatencyCheck(name="lat", kind="trace_latency", params=params())
    http = HttpClient()
    try:
        ctx = CheckContext(timeout_s=5, http=http, now=now, trace_store=store)
        result = await check.run(ctx)
    finally:
        await http.close()
    assert result.status is Status.DEGRADED
    assert result.summary.startswith("GET /a: p95 2,0")


async def test_a_window_longer_than_the_receiver_keeps_is_a_source_error_with_the_fix() -> None:
    check = TraceLatencyCheck(name="lat", kind="trace_latency", params=params(window="15m"))
    store = TraceStore(StoreLimits(latency_retention_s=600))  # an embedder's smaller store
    http = HttpClient()
    try:
        ctx = CheckContext(timeout_s=5, http=http, trace_store=store)
        with pytest.raises(SourceError, match="shorten the check's window"):
            await check.run(ctx)
    finally:
        await http.close()


def test_a_config_file_mistake_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "prodguardian.yaml"
    path.write_text(
        "checks:\n"
        "  - {name: lat, kind: trace_latency, service: api,\n"
        "     source: {kind: jaeger, url: 'http://jaeger:16686', limt: 3}}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "checks[0].source" in str(caught.value)
    assert "limt: Extra inputs are not permitted" in str(caught.value)


def test_a_config_file_with_both_trace_checks_loads(tmp_path: Path) -> None:
    path = tmp_path / "prodguardian.yaml"
    path.write_text(
        "checks:\n"
        "  - {name: lat, kind: trace_latency, service: api, window: 15m,\n"
        "     routes: {'POST /upload': {degraded_ms: 5000, critical_ms: 15000}}}\n"
        "  - {name: slo, kind: slo_burn, service: api, objective: 99.5, period: 28d}\n",
        encoding="utf-8",
    )
    latency, slo = load_config(path).checks
    assert isinstance(latency.params, TraceLatencyParams)
    assert latency.params.window == 900
    assert slo.params.objective == 99.5
