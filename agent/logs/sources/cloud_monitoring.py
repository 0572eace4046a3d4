"""The ``cloud_monitoring`` metrics source: Cloud Run request counts from Cloud Monitoring.

One ``timeSeries.list`` call per scan: ``run.googleapis.com/request_count`` over the window,
aligned per minute (``ALIGN_DELTA``), summed per response code class and revision. The total,
the 5xx count, the per-revision traffic and the traffic since a deploy all come from that one
answer. ``google-cloud-monitoring`` speaks gRPC only; ``anonymous: true`` opens a plaintext
channel to ``api_endpoint`` (a local stand-in), otherwise Application Default Credentials.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import grpc
from google.api_core import exceptions as api_errors
from google.auth import default as default_credentials
from google.auth import exceptions as auth_errors
from google.cloud import monitoring_v3
from google.cloud.monitoring_v3.services.metric_service.transports import (
    MetricServiceGrpcTransport,
)
from pydantic import BaseModel, ConfigDict, Field

from prodguardian.config.duration import Duration
from prodguardian.logs.cloud_filter import quote
from prodguardian.logs.metrics_source import MetricsError, RequestCounts
from prodguardian.logs.query import LogScope, LogWindow, RevisionTraffic, Traffic

SCOPES = ("https://www.googleapis.com/auth/monitoring.read",)
#: Resource labels of ``cloud_run_revision`` that the metric carries, so a scope may use them.
RUN_LABELS = frozenset(
    {"project_id", "service_name", "revision_name", "location", "configuration_name"}
)
GRANT = "roles/monitoring.viewer"


class CloudMonitoringConfig(BaseModel):
    """``type: cloud_monitoring`` options."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    project: str = Field(min_length=1)
    api_endpoint: str | None = None
    """Another gRPC endpoint, ``host:port`` (a local stand-in), instead of the real API."""
    anonymous: bool = False
    """No credentials and a plaintext channel (only for a stand-in)."""
    metric: str = "run.googleapis.com/request_count"
    resource_type: str = "cloud_run_revision"
    code_class_label: str = "response_code_class"
    """The metric label holding ``2xx``…``5xx``."""
    alignment: Duration = 60.0
    """Seconds per point: the resolution of the split at a deploy's time."""
    request_timeout: float = Field(default=10.0, gt=0, le=120)


class CloudMonitoringSource:
    """One Cloud Monitoring project; the gRPC client is opened on first use and kept."""

    Config: ClassVar[type[BaseModel]] = CloudMonitoringConfig

    def __init__(self, config: CloudMonitoringConfig) -> None:
        self.config = config
        self.calls = 0
        self.last_filter: str | None = None
        self._client: monitoring_v3.MetricServiceClient | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, config: CloudMonitoringConfig, *, base_dir: Path) -> CloudMonitoringSource:
        return cls(config)

    def __repr__(self) -> str:
        where = self.config.api_endpoint or "monitoring.googleapis.com"
        return f"<CloudMonitoringSource project={self.config.project!r} at {where}>"

    def fits(self, scope: LogScope) -> bool:
        """Label-only scopes of the metric's resource type; a text or URL scope does not fit."""
        if scope.text is not None or scope.url is not None:
            return False
        if scope.resource_type not in (None, self.config.resource_type):
            return False
        return set(scope.resource_labels) <= RUN_LABELS

    def request_counts(
        self, scope: LogScope, window: LogWindow, *, split_at: datetime | None, deadline: float
    ) -> RequestCounts:
        cfg = self.config
        flt = self.filter_for(scope)
        self.last_filter = flt
        step = int(max(cfg.alignment, 1))
        request = monitoring_v3.ListTimeSeriesRequest(
            name=f"projects/{cfg.project}",
            filter=flt,
            interval=monitoring_v3.TimeInterval(start_time=window.start, end_time=window.end),
            view=monitoring_v3.ListTimeSeriesRequest.TimeSeriesView.FULL,
            aggregation=monitoring_v3.Aggregation(
                alignment_period={"seconds": step},
                per_series_aligner=monitoring_v3.Aggregation.Aligner.ALIGN_DELTA,
                cross_series_reducer=monitoring_v3.Aggregation.Reducer.REDUCE_SUM,
                group_by_fields=[
                    f"metric.labels.{cfg.code_class_label}",
                    "resource.labels.revision_name",
                ],
            ),
        )
        remaining = deadline - time.monotonic()
        if remaining <= 0.05:
            raise MetricsError("no time left to ask Cloud Monitoring before the check's deadline")
        self.calls += 1
        try:
            pager = self._client_once().list_time_series(
                request=request, retry=None, timeout=min(cfg.request_timeout, remaining)
            )
            series = list(pager)
        except MetricsError:
            raise
        except Exception as exc:
            raise MetricsError(self._explain(exc)) from exc
        return _counts(series, cfg, window, split_at, step)

    def filter_for(self, scope: LogScope) -> str:
        cfg = self.config
        clauses = [
            f"metric.type = {quote(cfg.metric)}",
            f"resource.type = {quote(cfg.resource_type)}",
        ]
        labels = dict(scope.resource_labels)
        if scope.service is not None:
            labels["service_name"] = scope.service
        if scope.revision is not None:
            labels["revision_name"] = scope.revision
        clauses += [f"resource.labels.{k} = {quote(v)}" for k, v in sorted(labels.items())]
        return " AND ".join(clauses)

    def _client_once(self) -> monitoring_v3.MetricServiceClient:
        with self._lock:
            if self._client is None:
                self._client = self._open()
            return self._client

    def _open(self) -> monitoring_v3.MetricServiceClient:
        cfg = self.config
        if cfg.anonymous:
            if not cfg.api_endpoint:
                raise MetricsError("anonymous: true needs api_endpoint (host:port of a stand-in)")
            channel = grpc.insecure_channel(cfg.api_endpoint)
            return monitoring_v3.MetricServiceClient(
                transport=MetricServiceGrpcTransport(channel=channel)
            )
        try:
            credentials, _ = default_credentials(scopes=SCOPES)
        except auth_errors.DefaultCredentialsError as exc:
            raise MetricsError(
                "no Google credentials found for Cloud Monitoring: run `gcloud auth "
                "application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS"
            ) from exc
        options = {"api_endpoint": cfg.api_endpoint} if cfg.api_endpoint else None
        return monitoring_v3.MetricServiceClient(credentials=credentials, client_options=options)

    def _explain(self, exc: Exception) -> str:
        cfg = self.config
        where = cfg.api_endpoint or "monitoring.googleapis.com"
        if isinstance(exc, api_errors.PermissionDenied | api_errors.Forbidden):
            return (
                f"Cloud Monitoring refused to read {cfg.metric} of project {cfg.project!r} "
                f"(403): grant the caller {GRANT} on that project"
            )
        if isinstance(exc, api_errors.Unauthenticated | auth_errors.GoogleAuthError):
            return (
                "Cloud Monitoring rejected the credentials (401): refresh them with `gcloud auth "
                f"application-default login`, and grant {GRANT}"
            )
        if isinstance(exc, api_errors.NotFound | api_errors.InvalidArgument):
            return (
                f"Cloud Monitoring does not know metric {cfg.metric!r} for resource type "
                f"{cfg.resource_type!r} in project {cfg.project!r} ({exc.code}: "
                f"{_short(exc.message)}); check the metrics source's metric and resource_type"
            )
        if isinstance(exc, api_errors.TooManyRequests | api_errors.ResourceExhausted):
            return "Cloud Monitoring is rate-limiting this project (429 RESOURCE_EXHAUSTED)"
        if isinstance(exc, api_errors.DeadlineExceeded | api_errors.RetryError):
            return "Cloud Monitoring did not answer within the check's timeout"
        if isinstance(exc, api_errors.ServiceUnavailable) and "connect" in str(exc).lower():
            return f"cannot reach Cloud Monitoring at {where}: {_short(str(exc))}"
        if isinstance(exc, api_errors.GoogleAPICallError):
            return f"Cloud Monitoring failed ({exc.code}): {_short(exc.message or str(exc))}"
        return f"reading Cloud Monitoring failed: {type(exc).__name__}: {_short(str(exc))}"


def _counts(
    series: list[Any],
    cfg: CloudMonitoringConfig,
    window: LogWindow,
    split_at: datetime | None,
    step: int,
) -> RequestCounts:
    traffic = Traffic()
    http_5xx = 0
    for one in series:
        code_class = str(one.metric.labels.get(cfg.code_class_label, ""))
        revision = one.resource.labels.get("revision_name") or None
        for point in one.points:
            value = int(point.value.int64_value or point.value.double_value or 0)
            if value <= 0:
                continue
            end: datetime = point.interval.end_time
            start: datetime | None = point.interval.start_time or None
            began = start if start is not None and start < end else end - timedelta(seconds=step)
            began = max(began, window.start)
            after = split_at is not None and began >= split_at
            slot = traffic.revisions.setdefault(revision, RevisionTraffic())
            slot.add(began, after_split=after, n=value)
            if code_class.startswith("5"):
                http_5xx += value
    return RequestCounts(traffic=traffic, http_5xx=http_5xx, metric=cfg.metric)


def _short(text: str, limit: int = 240) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "…"
