"""``GET /metrics``: the SDK's metrics for Prometheus, through the OpenTelemetry exporter.

Each :class:`PrometheusScrape` owns a ``prometheus_client.CollectorRegistry`` (never the global
``REGISTRY``: several apps, each with its own meter provider, may live in one process, and the
global registry would refuse the second one's collector or mix their metrics). Its
``PrometheusMetricReader`` registers into that registry and collects from the meter provider at
each scrape; ``generate_latest`` renders the text. The exporter names metrics by the
OpenTelemetry-to-Prometheus rules: dots become underscores, seconds get ``_seconds``, counters
``_total``, ``{annotation}`` units add nothing; ``target_info`` carries the resource
(``service_name``, ``service_version``...). Instrumentation-scope labels are left off, so each
series has only its own attributes as labels.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest


class PrometheusScrape:
    """A metric reader to give a meter provider, and the registry a scrape renders."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.reader = PrometheusMetricReader(scope_info_enabled=False, registry=self.registry)

    def text(self) -> bytes:
        """The exposition of everything the reader's meter provider holds now."""
        return generate_latest(self.registry)

    def router(self) -> APIRouter:
        """A router with ``GET /metrics`` collecting at each scrape."""
        router = APIRouter()

        # A plain (sync) endpoint: collection runs the observable gauges' callbacks, which
        # should never hold up the event loop.
        @router.get("/metrics", include_in_schema=False)
        def scrape() -> Response:
            return Response(self.text(), media_type=CONTENT_TYPE_LATEST)

        return router
