"""In-memory OpenTelemetry providers, installed as ProdGuardian's instruments for one test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, NumberDataPoint
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from prodguardian.telemetry import instruments


@dataclass
class Captured:
    """What the instruments recorded during the test."""

    spans: InMemorySpanExporter
    metrics: InMemoryMetricReader

    def points(self, name: str) -> list[object]:
        data = self.metrics.get_metrics_data()
        if data is None:  # nothing recorded or observed yet
            return []
        return [
            point
            for rm in data.resource_metrics
            for sm in rm.scope_metrics
            for metric in sm.metrics
            if metric.name == name
            for point in metric.data.data_points
        ]

    def values(self, name: str) -> dict[tuple[tuple[str, object], ...], float]:
        found: dict[tuple[tuple[str, object], ...], float] = {}
        for point in self.points(name):
            assert isinstance(point, NumberDataPoint)
            found[tuple(sorted((point.attributes or {}).items()))] = point.value
        return found


@pytest.fixture(autouse=True)
def fresh_levels() -> Iterator[None]:
    """The state gauges' values are module-level: each test starts and ends with none set."""
    instruments.clear_levels()
    yield
    instruments.clear_levels()


@pytest.fixture
def captured() -> Iterator[Captured]:
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    previous = instruments.install(instruments.Instruments(tracer_provider, meter_provider))
    try:
        yield Captured(spans=spans, metrics=reader)
    finally:
        instruments.install(previous)
        tracer_provider.shutdown()
        meter_provider.shutdown()
