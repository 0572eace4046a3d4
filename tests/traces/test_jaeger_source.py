"""The ``jaeger`` trace source against a local stand-in of the Jaeger query API, faults included."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from prodguardian.context import CheckContext, HttpClient
from prodguardian.errors import SourceError
from prodguardian.runner import run_checks
from prodguardian.status import Status
from prodguardian.traces.jaeger_source import JaegerParams, JaegerSource
from prodguardian.traces.source import open_source
from tests.support.jaeger_standin import JaegerSpan, JaegerStandIn, serve_jaeger

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
NOW_US = int(NOW.timestamp() * 1_000_000)


def _spans() -> list[JaegerSpan]:
    spans = [
        JaegerSpan(
            f"{i:032x}", "api", "GET /fast", NOW_US - 60_000_000 - i, 20_000 + i, route="/fast"
        )
        for i in range(30)
    ]
    spans += [
        JaegerSpan(
            f"{100 + i:032x}",
            "api",
            "GET /slow",
            NOW_US - 30_000_000,
            2_000_000 + i * 1000,
            route="/slow",
            status=503 if i < 3 else 200,
        )
        for i in range(10)
    ]
    # Not counted: another service, a client span, a span outside the window.
    spans.append(JaegerSpan("f" * 32, "billing", "GET /fast", NOW_US - 1000, 99_000_000))
    spans.append(JaegerSpan("e" * 32, "api", "call db", NOW_US - 1000, 99_000_000, kind="client"))
    spans.append(
        JaegerSpan("d" * 32, "api", "GET /fast", NOW_US - 3600 * 10**6, 99_000_000, route="/fast")
    )
    return spans


@pytest.fixture
async def ctx() -> AsyncIterator[CheckContext]:
    http = HttpClient()
    yield CheckContext(timeout_s=2.0, http=http, now=NOW)
    await http.close()


def _source(url: str) -> JaegerSource:
    source = open_source({"kind": "jaeger", "url": url, "limit": 500})
    assert isinstance(source, JaegerSource)
    return source


async def test_latency_per_route_from_jaeger(ctx: CheckContext) -> None:
    state = JaegerStandIn(spans=_spans())
    async with serve_jaeger(state) as url:
        routes = await _source(url).route_latency(ctx, service="api", window_s=300)
    found = {r.route: r for r in routes}
    assert set(found) == {"GET /fast", "GET /slow"}
    slow = found["GET /slow"]
    assert (slow.count, slow.errors) == (10, 3)
    assert slow.p95_ms == pytest.approx(2009.0, rel=0.01)
    assert slow.examples[0].trace_id == f"{109:032x}"
    assert found["GET /fast"].count == 30
    (query,) = state.queries
    assert query == {
        "service": "api",
        "start": str(NOW_US - 300_000_000),
        "end": str(NOW_US),
        "limit": "500",
    }


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("500", "answered HTTP 500: internal error: storage unavailable"),
        ("garbage", "not JSON"),
        ("wrong-shape", "not in the expected shape"),
        ("errors", "Jaeger reported errors"),
        ("hang", "did not answer within"),
    ],
)
async def test_a_misbehaving_jaeger_is_a_source_error(
    ctx: CheckContext, mode: str, message: str
) -> None:
    ctx.timeout_s = 0.5
    async with serve_jaeger(JaegerStandIn(spans=_spans(), mode=mode)) as url:
        with pytest.raises(SourceError, match=message):
            await _source(url).route_latency(ctx, service="api", window_s=300)


async def test_a_jaeger_that_is_down_is_a_source_error(ctx: CheckContext) -> None:
    with socket.socket() as held:  # bound, not listening: connections are refused
        held.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{held.getsockname()[1]}"
        with pytest.raises(SourceError, match="cannot reach Jaeger"):
            await _source(url).route_latency(ctx, service="api", window_s=300)


async def test_the_check_says_unknown_with_the_reason_when_jaeger_fails() -> None:
    from prodguardian.checks.trace_latency import TraceLatencyCheck, TraceLatencyParams

    async with serve_jaeger(JaegerStandIn(mode="500")) as url:
        params = TraceLatencyParams(service="api", source={"kind": "jaeger", "url": url})
        check = TraceLatencyCheck(name="lat", kind="trace_latency", params=params, timeout_s=2)
        (run,) = await run_checks([check])
    assert run.status is Status.UNKNOWN
    assert "Jaeger at" in run.result.summary
    assert "HTTP 500" in run.result.summary


async def test_jaeger_cannot_count_requests(ctx: CheckContext) -> None:
    source = JaegerSource(JaegerParams(url="http://127.0.0.1:1"))
    with pytest.raises(SourceError, match="cannot count requests"):
        await source.request_counts(ctx, service="api", windows=[300])
