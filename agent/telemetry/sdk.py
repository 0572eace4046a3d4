"""Setting up the OpenTelemetry SDK for ``serve`` from the standard ``OTEL_*`` variables.

* Traces are exported over OTLP/HTTP when ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` or
  ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (and ``OTEL_TRACES_EXPORTER`` is not ``none``); metrics
  likewise with ``..._METRICS_ENDPOINT`` / ``OTEL_METRICS_EXPORTER``. Nothing is exported when
  no endpoint is set, and nothing at all with ``OTEL_SDK_DISABLED=true``.
* Metrics are always readable as Prometheus text at ``/metrics`` (:meth:`Telemetry.metrics_router`,
  through the OpenTelemetry Prometheus exporter into a registry of this ``Telemetry`` alone).
* ``OTEL_SERVICE_NAME`` names the service (default ``prodguardian``); ``OTEL_RESOURCE_ATTRIBUTES``,
  ``OTEL_EXPORTER_OTLP_HEADERS``, timeouts and intervals are read by the SDK as usual.

Usage in an app factory (instrumented before start-up, so the middleware is in place)::

    telemetry = setup_telemetry(app)
    app.include_router(telemetry.metrics_router())
    app.include_router(traces_router())
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from fastapi import APIRouter, FastAPI
from opentelemetry import metrics, trace
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from prodguardian import __version__
from prodguardian.errors import ConfigError
from prodguardian.telemetry import instruments as instruments_module
from prodguardian.telemetry.instruments import Instruments
from prodguardian.telemetry.prometheus_scrape import PrometheusScrape

DEFAULT_SERVICE_NAME = "prodguardian"
#: Paths whose requests get no server span: scrapes, and the receiver (exporting our own spans
#: to our own receiver would otherwise make a span per export, forever).
EXCLUDED_URLS = "/metrics,/v1/traces"
_SUPPORTED_PROTOCOL = "http/protobuf"


@dataclass(frozen=True, kw_only=True)
class ExportPlan:
    """Where each signal goes, as the environment says (None: not exported)."""

    traces_endpoint: str | None = None
    metrics_endpoint: str | None = None
    service_name: str = DEFAULT_SERVICE_NAME


@dataclass(kw_only=True)
class Telemetry:
    """The SDK providers of this process and what reads them."""

    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    scrape: PrometheusScrape
    instruments: Instruments
    plan: ExportPlan
    processors: list[SpanProcessor] = field(default_factory=list)

    def metrics_router(self) -> APIRouter:
        """``GET /metrics`` in Prometheus text, read from this process's meters."""
        return self.scrape.router()

    def instrument_app(self, app: FastAPI) -> None:
        """Server spans and HTTP metrics for every request of ``app`` (call before start-up)."""
        FastAPIInstrumentor.instrument_app(
            app,
            tracer_provider=self.tracer_provider,
            meter_provider=self.meter_provider,
            excluded_urls=EXCLUDED_URLS,
        )

    def force_flush(self, timeout_ms: int = 10_000) -> bool:
        """Export what is buffered now (spans and metrics); True when everything went."""
        spans = self.tracer_provider.force_flush(timeout_ms)
        return self.meter_provider.force_flush(timeout_ms) and spans

    def shutdown(self) -> None:
        """Flush and stop the exporters; the instruments go back to no-ops."""
        if instruments_module.current() is self.instruments:
            instruments_module.install(Instruments())
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()


def export_plan(env: Mapping[str, str]) -> ExportPlan:
    """What the ``OTEL_*`` variables ask for; ConfigError names a variable that cannot work."""
    service = env.get("OTEL_SERVICE_NAME", "").strip() or DEFAULT_SERVICE_NAME
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return ExportPlan(service_name=service)
    return ExportPlan(
        traces_endpoint=_endpoint(env, "TRACES", "traces"),
        metrics_endpoint=_endpoint(env, "METRICS", "metrics"),
        service_name=service,
    )


def _endpoint(env: Mapping[str, str], signal: str, path: str) -> str | None:
    exporter = env.get(f"OTEL_{signal}_EXPORTER", "otlp").strip().lower()
    if exporter == "none":
        return None
    if exporter != "otlp":
        raise ConfigError(
            f"OTEL_{signal}_EXPORTER={exporter!r} is not supported; use 'otlp' or 'none'"
        )
    protocol = (
        env.get(f"OTEL_EXPORTER_OTLP_{signal}_PROTOCOL")
        or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or _SUPPORTED_PROTOCOL
    ).strip()
    if protocol != _SUPPORTED_PROTOCOL:
        raise ConfigError(
            f"OTLP protocol {protocol!r} is not supported; ProdGuardian exports OTLP over HTTP: "
            f"set OTEL_EXPORTER_OTLP_PROTOCOL={_SUPPORTED_PROTOCOL} (or leave it unset)"
        )
    specific = env.get(f"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT", "").strip()
    if specific:
        return _checked_url(specific, f"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT")
    generic = env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
    if generic:
        base = _checked_url(generic, "OTEL_EXPORTER_OTLP_ENDPOINT")
        return base.rstrip("/") + f"/v1/{path}"
    return None


def _checked_url(url: str, variable: str) -> str:
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"{variable}={url!r} must be an http:// or https:// URL")
    return url


def setup_telemetry(
    app: FastAPI | None = None,
    *,
    env: Mapping[str, str] | None = None,
    span_processors: Sequence[SpanProcessor] = (),
    span_exporters: Sequence[SpanExporter] = (),
    metric_readers: Sequence[MetricReader] = (),
    set_global: bool = True,
) -> Telemetry:
    """Build the providers from ``env`` (default ``os.environ``), install ProdGuardian's
    instruments, and instrument ``app`` when given.

    ``span_processors``/``span_exporters``/``metric_readers`` add to what the environment
    configures (tests pass in-memory ones). With ``set_global`` the providers also become the
    OpenTelemetry globals, so libraries that use them (and log correlation) see the same ones.
    """
    plan = export_plan(os.environ if env is None else env)
    resource = Resource.create({"service.name": plan.service_name, "service.version": __version__})
    tracer_provider = TracerProvider(resource=resource)
    processors: list[SpanProcessor] = list(span_processors)
    processors += [BatchSpanProcessor(e) for e in span_exporters]
    if plan.traces_endpoint is not None:
        processors.append(BatchSpanProcessor(OTLPSpanExporter(endpoint=plan.traces_endpoint)))
    for processor in processors:
        tracer_provider.add_span_processor(processor)
    scrape = PrometheusScrape()
    readers: list[MetricReader] = [scrape.reader, *metric_readers]
    if plan.metrics_endpoint is not None:
        readers.append(
            PeriodicExportingMetricReader(OTLPMetricExporter(endpoint=plan.metrics_endpoint))
        )
    meter_provider = MeterProvider(resource=resource, metric_readers=readers)
    if set_global:
        trace.set_tracer_provider(tracer_provider)
        metrics.set_meter_provider(meter_provider)
    telemetry = Telemetry(
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        scrape=scrape,
        instruments=Instruments(tracer_provider, meter_provider),
        plan=plan,
        processors=processors,
    )
    instruments_module.install(telemetry.instruments)
    if app is not None:
        telemetry.instrument_app(app)
    return telemetry
