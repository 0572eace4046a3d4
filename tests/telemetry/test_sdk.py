"""Setting up the SDK from OTEL_* variables; ``serve`` exporting its own spans; /metrics."""

from __future__ import annotations

import asyncio
import re
import uuid

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from prodguardian.errors import ConfigError
from prodguardian.runner import run_checks
from prodguardian.telemetry import instruments, setup_telemetry
from prodguardian.telemetry.sdk import ExportPlan, export_plan
from prodguardian.traces.receiver import traces_router
from prodguardian.traces.store import TraceStore
from tests.telemetry.test_instruments import check
from tests.traces.uvicorn_server import serve_in_thread


@pytest.mark.parametrize(
    ("env", "plan"),
    [
        ({}, ExportPlan()),
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/"},
            ExportPlan(
                traces_endpoint="http://collector:4318/v1/traces",
                metrics_endpoint="http://collector:4318/v1/metrics",
            ),
        ),
        (
            {
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://t.example/custom",
                "OTEL_SERVICE_NAME": "pg-prod",
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            },
            ExportPlan(traces_endpoint="https://t.example/custom", service_name="pg-prod"),
        ),
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_METRICS_EXPORTER": "none"},
            ExportPlan(traces_endpoint="http://c:4318/v1/traces"),
        ),
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"},
            ExportPlan(),
        ),
    ],
    ids=["unset", "generic", "traces-only", "metrics-none", "disabled"],
)
def test_the_environment_decides_what_is_exported(env: dict[str, str], plan: ExportPlan) -> None:
    assert export_plan(env) == plan


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
            "OTLP protocol 'grpc' is not supported",
        ),
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER='zipkin' is not supported"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"}, "must be an http:// or https:// URL"),
    ],
)
def test_settings_that_cannot_work_are_config_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        export_plan(env)


def _serve_app() -> FastAPI:
    app = FastAPI()

    @app.get("/api/status")
    async def status() -> dict[str, str]:
        return {"status": "OK"}

    return app


def test_serve_exports_its_own_spans_over_otlp_and_answers_metrics() -> None:
    store = TraceStore()
    receiver = FastAPI()
    receiver.include_router(traces_router(store))
    name = f"prodguardian-{uuid.uuid4().hex[:6]}"
    with serve_in_thread(receiver) as receiver_url:
        app = _serve_app()
        telemetry = setup_telemetry(
            app,
            env={
                "OTEL_EXPORTER_OTLP_ENDPOINT": receiver_url,
                "OTEL_METRICS_EXPORTER": "none",
                "OTEL_SERVICE_NAME": name,
            },
            set_global=False,
        )
        try:
            app.include_router(telemetry.metrics_router())
            assert instruments.current() is telemetry.instruments
            with serve_in_thread(app) as url:
                for _ in range(3):
                    assert httpx.get(f"{url}/api/status").status_code == 200
                asyncio.run(run_checks([check("api")]))
                scrape = httpx.get(f"{url}/metrics")
            assert telemetry.force_flush()
        finally:
            telemetry.shutdown()
    assert instruments.current() is not telemetry.instruments  # back to no-ops
    counts = store.request_counts(name, 300)
    assert counts.total == 3  # /metrics is not traced, and the run spans are not server spans
    (route,) = store.route_latency(name, 300)
    assert route.route == "GET /api/status"
    assert scrape.status_code == 200
    assert scrape.headers["content-type"] == CONTENT_TYPE_LATEST
    families = {f.name: f for f in text_string_to_metric_families(scrape.text)}
    assert "prodguardian_check_duration_seconds" in families
    assert "prodguardian_check_status" in families
    assert any(n.startswith("http_server") for n in families)  # the FastAPI instrumentation's


def test_in_memory_exporters_can_be_added_and_nothing_leaves_without_an_endpoint() -> None:
    memory = InMemorySpanExporter()
    app = _serve_app()
    telemetry = setup_telemetry(app, env={}, span_exporters=[memory], set_global=False)
    try:
        assert telemetry.plan == ExportPlan()
        with serve_in_thread(app) as url:
            httpx.get(f"{url}/api/status")
        telemetry.force_flush()
    finally:
        telemetry.shutdown()
    (server,) = [s for s in memory.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert server.name == "GET /api/status"
    assert server.resource.attributes["service.name"] == "prodguardian"
    assert len(telemetry.processors) == 1  # only the in-memory one: no OTLP exporter
