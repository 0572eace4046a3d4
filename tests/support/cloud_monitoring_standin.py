"""A local stand-in for Cloud Monitoring's ``ListTimeSeries``: a gRPC server on 127.0.0.1.

``google-cloud-monitoring`` speaks gRPC only, so this is a generic handler for
``google.monitoring.v3.MetricService/ListTimeSeries`` that (de)serializes with the library's own
message types. It holds requests as :class:`Hit` rows (a time, a count, a response code class,
service and revision), answers the filter ProdGuardian sends (``metric.type``,
``resource.type`` and ``resource.labels.*`` equalities joined by AND), aligns with
``ALIGN_DELTA`` into ``alignment_period`` buckets ending at the interval's end, and sums per
``group_by_fields``. Unknown metrics get NOT_FOUND, as from the real API. ``faults`` takes
``"403"``, ``"429"``, ``"500"``, ``"503"`` or ``"unknown-metric"`` for the next calls, in order.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
from google.cloud import monitoring_v3

from prodguardian.logs.entry import parse_timestamp

SERVICE = "google.monitoring.v3.MetricService"
REQUEST_COUNT = "run.googleapis.com/request_count"
_CLAUSE = re.compile(r'^\s*([\w.]+)\s*=\s*"((?:[^"\\]|\\.)*)"\s*$')
_FAULTS = {
    "403": (grpc.StatusCode.PERMISSION_DENIED, "The caller does not have permission"),
    "429": (
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "Quota exceeded for quota metric 'Time series queries'",
    ),
    "500": (grpc.StatusCode.INTERNAL, "Internal error encountered."),
    "503": (grpc.StatusCode.UNAVAILABLE, "The service is currently unavailable."),
}


@dataclass(frozen=True, slots=True)
class Hit:
    """``count`` requests at ``at`` answered with ``code_class`` by one revision."""

    at: datetime
    count: int = 1
    code_class: str = "2xx"
    service: str = "emergence-app"
    revision: str = "emergence-app-00041-rok"


def hits_from_entries(entries: Iterable[Mapping[str, Any]]) -> list[Hit]:
    """One request per log entry, its class from ``httpRequest.status`` (2xx when none)."""
    out = []
    for e in entries:
        labels = e.get("resource", {}).get("labels", {})
        status = (e.get("httpRequest") or {}).get("status")
        code = f"{int(status) // 100}xx" if status else "2xx"
        out.append(
            Hit(
                at=parse_timestamp(str(e["timestamp"])),
                code_class=code,
                service=labels.get("service_name", ""),
                revision=labels.get("revision_name", ""),
            )
        )
    return out


class CloudMonitoringStandIn:
    """The stand-in server; a context manager. Read ``endpoint``, ``requests``; set ``faults``."""

    def __init__(self, hits: Sequence[Hit] = (), *, metrics: Iterable[str] = (REQUEST_COUNT,)):
        self.hits = list(hits)
        self.metrics = set(metrics)
        self.faults: deque[str] = deque()
        self.requests: list[monitoring_v3.ListTimeSeriesRequest] = []
        self._server: grpc.Server | None = None
        self._port = 0
        self._lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self._port}"

    def __enter__(self) -> CloudMonitoringStandIn:
        handler = grpc.method_handlers_generic_handler(
            SERVICE,
            {
                "ListTimeSeries": grpc.unary_unary_rpc_method_handler(
                    self._list_time_series,
                    request_deserializer=monitoring_v3.ListTimeSeriesRequest.deserialize,
                    response_serializer=monitoring_v3.ListTimeSeriesResponse.serialize,
                )
            },
        )
        self._server = grpc.server(ThreadPoolExecutor(max_workers=4))
        self._server.add_generic_rpc_handlers((handler,))
        self._port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.stop(grace=None)

    def _list_time_series(
        self, request: monitoring_v3.ListTimeSeriesRequest, context: grpc.ServicerContext
    ) -> monitoring_v3.ListTimeSeriesResponse:
        with self._lock:
            self.requests.append(request)
            fault = self.faults.popleft() if self.faults else None
        if fault in _FAULTS:
            code, message = _FAULTS[fault]
            context.abort(code, message)
        wanted = _parse_filter(request.filter, context)
        metric = wanted.pop("metric.type", "")
        if fault == "unknown-metric" or metric not in self.metrics:
            context.abort(
                grpc.StatusCode.NOT_FOUND, f'Cannot find metric(s) that match type = "{metric}".'
            )
        return monitoring_v3.ListTimeSeriesResponse(time_series=self._series(request, wanted))

    def _series(
        self, request: monitoring_v3.ListTimeSeriesRequest, wanted: dict[str, str]
    ) -> list[monitoring_v3.TimeSeries]:
        start: datetime = request.interval.start_time
        end: datetime = request.interval.end_time
        step = timedelta(seconds=request.aggregation.alignment_period.total_seconds() or 60)
        groups = list(request.aggregation.group_by_fields)
        sums: dict[tuple[tuple[str, str], ...], dict[int, int]] = {}
        for hit in self.hits:
            if not start < hit.at <= end or not _selected(hit, wanted):
                continue
            key = tuple((g, _field(hit, g)) for g in groups)
            bucket = int((end - hit.at) / step)
            per = sums.setdefault(key, {})
            per[bucket] = per.get(bucket, 0) + hit.count
        out = []
        for key, buckets in sorted(sums.items()):
            points = [
                monitoring_v3.Point(
                    interval=monitoring_v3.TimeInterval(
                        start_time=max(end - step * (b + 1), start), end_time=end - step * b
                    ),
                    value=monitoring_v3.TypedValue(int64_value=n),
                )
                for b, n in sorted(buckets.items())  # newest first, as the real API
            ]
            labels = dict(key)
            out.append(
                monitoring_v3.TimeSeries(
                    metric={
                        "type": REQUEST_COUNT,
                        "labels": {
                            k.removeprefix("metric.labels."): v
                            for k, v in labels.items()
                            if k.startswith("metric.labels.")
                        },
                    },
                    resource={
                        "type": "cloud_run_revision",
                        "labels": {
                            k.removeprefix("resource.labels."): v
                            for k, v in labels.items()
                            if k.startswith("resource.labels.")
                        },
                    },
                    points=points,
                )
            )
        return out


def _parse_filter(text: str, context: grpc.ServicerContext) -> dict[str, str]:
    out: dict[str, str] = {}
    for clause in text.split(" AND "):
        m = _CLAUSE.match(clause)
        if m is None:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"Could not parse filter: {clause}")
            raise AssertionError("abort() raises")
        out[m.group(1)] = m.group(2)
    return out


def _field(hit: Hit, name: str) -> str:
    return {
        "metric.labels.response_code_class": hit.code_class,
        "resource.labels.service_name": hit.service,
        "resource.labels.revision_name": hit.revision,
    }.get(name, "")


def _selected(hit: Hit, wanted: Mapping[str, str]) -> bool:
    for key, value in wanted.items():
        if key == "resource.type":
            if value != "cloud_run_revision":
                return False
        elif _field(hit, key) != value:
            return False
    return True


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)
