"""``GET /metrics``: the SDK's metrics in the Prometheus text exposition format (version 0.0.4).

The metrics are pulled from an SDK ``MetricReader`` at scrape time (cumulative temporality), and
named as the OpenTelemetry-to-Prometheus compatibility rules say: dots become underscores,
seconds get ``_seconds``, monotonic sums get ``_total``; histograms expose cumulative
``_bucket{le=...}``, ``_sum`` and ``_count``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

from fastapi import APIRouter, Response
from opentelemetry.sdk.metrics.export import (
    Gauge,
    Histogram,
    InMemoryMetricReader,
    Metric,
    MetricsData,
    Sum,
)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_INVALID = re.compile(r"[^a-zA-Z0-9_:]")
_UNIT_SUFFIX = {"s": "seconds", "ms": "milliseconds", "By": "bytes"}


def metrics_router(reader: InMemoryMetricReader) -> APIRouter:
    """A router with ``GET /metrics`` reading ``reader`` at each scrape."""
    router = APIRouter()

    @router.get("/metrics", include_in_schema=False)
    def scrape() -> Response:
        return Response(render(reader.get_metrics_data()), media_type=CONTENT_TYPE)

    return router


def render(data: MetricsData | None) -> str:
    """Prometheus text for ``data`` (an empty string when there is nothing yet)."""
    lines: list[str] = []
    if data is None:
        return ""
    for resource_metrics in data.resource_metrics:
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                lines.extend(_metric_lines(metric))
    return "\n".join(lines) + ("\n" if lines else "")


def metric_name(name: str, unit: str, *, counter: bool) -> str:
    """The Prometheus name of an OpenTelemetry metric."""
    base = _INVALID.sub("_", name)
    if base[:1].isdigit():
        base = "_" + base
    suffix = _UNIT_SUFFIX.get(unit)
    if suffix and not base.endswith(suffix):
        base += f"_{suffix}"
    if counter:
        base += "_total"
    return base


def _metric_lines(metric: Metric) -> Iterable[str]:
    data = metric.data
    if isinstance(data, Sum):
        counter = data.is_monotonic
        name = metric_name(metric.name, metric.unit or "", counter=counter)
        yield from _header(name, metric.description, "counter" if counter else "gauge")
        for sum_point in data.data_points:
            yield f"{name}{_labels(sum_point.attributes)} {_number(sum_point.value)}"
    elif isinstance(data, Gauge):
        name = metric_name(metric.name, metric.unit or "", counter=False)
        yield from _header(name, metric.description, "gauge")
        for gauge_point in data.data_points:
            yield f"{name}{_labels(gauge_point.attributes)} {_number(gauge_point.value)}"
    elif isinstance(data, Histogram):
        name = metric_name(metric.name, metric.unit or "", counter=False)
        yield from _header(name, metric.description, "histogram")
        for point in data.data_points:
            attrs = dict(point.attributes or {})
            running = 0
            for bound, count in zip(point.explicit_bounds, point.bucket_counts, strict=False):
                running += count
                yield f"{name}_bucket{_labels(attrs, le=_number(float(bound)))} {running}"
            yield f"{name}_bucket{_labels(attrs, le='+Inf')} {point.count}"
            yield f"{name}_sum{_labels(attrs)} {_number(point.sum)}"
            yield f"{name}_count{_labels(attrs)} {point.count}"


def _header(name: str, description: str | None, kind: str) -> Iterable[str]:
    if description:
        text = description.replace("\\", "\\\\").replace("\n", "\\n")
        yield f"# HELP {name} {text}"
    yield f"# TYPE {name} {kind}"


def _labels(attributes: Mapping[str, object] | None, *, le: str | None = None) -> str:
    pairs = [(_INVALID.sub("_", k), str(v)) for k, v in (attributes or {}).items()]
    if le is not None:
        pairs.append(("le", le))
    if not pairs:
        return ""
    body = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(pairs))
    return "{" + body + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))
