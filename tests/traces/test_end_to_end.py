"""A FastAPI service instrumented with the real SDK exports through the real ``OTLPSpanExporter``
to the receiver on uvicorn, and the ``trace_latency`` check then finds its slow route."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from prodguardian.checks.trace_latency import TraceLatencyCheck, TraceLatencyParams
from prodguardian.context import CheckContext, HttpClient
from prodguardian.evidence import SlowRoute
from prodguardian.runner import run_checks
from prodguardian.status import Status
from prodguardian.traces.receiver import traces_router
from prodguardian.traces.store import TraceStore
from tests.traces.uvicorn_server import serve_in_thread

SLOW_S = 0.15


def _service_app() -> FastAPI:
    app = FastAPI()

    @app.get("/fast")
    async def fast() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/slow/{item}")
    async def slow(item: str) -> dict[str, str]:
        await asyncio.sleep(SLOW_S)
        return {"item": item}

    @app.get("/broken")
    async def broken() -> None:
        raise RuntimeError("boom")

    return app


def _exercise(service_name: str, receiver_url: str) -> InMemorySpanExporter:
    """Run the instrumented service, send it traffic, export its spans; returns a copy of them."""
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    copy = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(copy))
    provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{receiver_url}/v1/traces", timeout=10))
    )
    app = _service_app()
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider)

    async def traffic(base: str) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            await asyncio.gather(*(client.get("/fast") for _ in range(25)))
            await asyncio.gather(*(client.get(f"/slow/{i}") for i in range(12)))
            await asyncio.gather(*(client.get("/broken") for _ in range(3)))

    with serve_in_thread(app) as base:
        asyncio.run(traffic(base))
    assert provider.force_flush(10_000)
    provider.shutdown()
    return copy


@pytest.fixture
def receiver() -> Iterator[tuple[str, TraceStore]]:
    store = TraceStore()
    app = FastAPI()
    app.include_router(traces_router(store))
    with serve_in_thread(app) as url:
        yield url, store


def _params(service: str) -> TraceLatencyParams:
    return TraceLatencyParams(
        service=service,
        window=300,
        min_samples=10,
        thresholds={"degraded_ms": SLOW_S * 1000 * 0.6, "critical_ms": 60_000},
    )


def test_the_check_finds_the_slow_route_of_an_instrumented_service(
    receiver: tuple[str, TraceStore],
) -> None:
    url, store = receiver
    exported = _exercise("shop", url)
    check = TraceLatencyCheck(name="latency", kind="trace_latency", params=_params("shop"))

    async def run() -> None:
        http = HttpClient()
        try:
            ctx = CheckContext(timeout_s=5, http=http, now=datetime.now(UTC), trace_store=store)
            result = await check.run(ctx)
        finally:
            await http.close()
        assert result.status is Status.DEGRADED, result.summary
        assert result.summary.startswith("GET /slow/{item}: p95")
        assert "1 routes with < 10 requests not judged" in result.summary  # /broken: 3 requests
        first = result.evidence[0]
        assert isinstance(first, SlowRoute)
        assert (first.route, first.count, first.status) == ("GET /slow/{item}", 12, Status.DEGRADED)
        assert first.p50_ms >= SLOW_S * 1000
        slow_traces = {
            f"{s.context.trace_id:032x}"
            for s in exported.get_finished_spans()
            if s.kind is SpanKind.SERVER and s.name.startswith("GET /slow")
        }
        assert first.example_trace_ids
        assert set(first.example_trace_ids) <= slow_traces
        assert result.metrics["requests"] == 40
        assert result.metrics["errors"] == 3

    asyncio.run(run())


def test_serve_wiring_the_default_router_feeds_the_default_receiver_source() -> None:
    """`serve` mounts traces_router() with no store; checks read the same shared store."""
    service = f"svc-{uuid.uuid4().hex[:8]}"
    app = FastAPI()
    app.include_router(traces_router())
    with serve_in_thread(app) as url:
        _exercise(service, url)
    check = TraceLatencyCheck(name="latency", kind="trace_latency", params=_params(service))
    (run,) = asyncio.run(run_checks([check]))
    assert run.status is Status.DEGRADED, run.result.summary
