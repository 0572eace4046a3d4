"""Busy datasets for the at-traffic tests: an incident scaled up, and a WebSocket hour."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from prodguardian.logs.sources.cloud_logging import CloudLoggingConfig, CloudLoggingSource
from prodguardian.logs.sources.cloud_monitoring import (
    CloudMonitoringConfig,
    CloudMonitoringSource,
)
from tests.logs.incident_data import INCIDENTS, PROJECT, entries
from tests.support.cloud_logging_standin import CloudLoggingStandIn
from tests.support.cloud_monitoring_standin import CloudMonitoringStandIn, hits_from_entries

RESOURCE = {
    "type": "cloud_run_revision",
    "labels": {
        "project_id": PROJECT,
        "service_name": "emergence-app",
        "revision_name": "emergence-app-00041-rok",
        "location": "europe-west1",
        "configuration_name": "emergence-app",
    },
}


LOG_NAME = f"projects/{PROJECT}/logs/run.googleapis.com%2Fstdout"


def stamp(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def scaled(name: str, times: int) -> list[dict[str, Any]]:
    """``times`` copies of a dataset, each entry its own (insertId, instance, a µs later)."""
    out = []
    for entry in entries(name):
        ts = datetime.fromisoformat(str(entry["timestamp"]).replace("Z", "+00:00"))
        labels = entry.get("labels", {})
        for k in range(times):
            copy = dict(entry)
            copy["insertId"] = f"{entry['insertId']}-{k}"
            copy["timestamp"] = stamp(ts + timedelta(microseconds=k))
            copy["labels"] = {**labels, "instanceId": f"{labels.get('instanceId', 'i')}-{k}"}
            out.append(copy)
    return out


def websocket_hour(
    seed: int, *, end: datetime, connects: int, errors: int, others: int
) -> list[dict[str, Any]]:
    """An hour of WebSocket connects (INFO), WebSocket errors (ERROR) and unrelated requests."""
    rng = random.Random(seed)

    def at() -> str:
        return stamp(end - timedelta(seconds=rng.uniform(0.001, 3599.999)))

    rows: list[dict[str, Any]] = []
    for n in range(connects):
        rows.append(
            {
                "insertId": f"{rng.getrandbits(64):016x}",
                "timestamp": at(),
                "severity": "INFO",
                "resource": RESOURCE,
                "logName": LOG_NAME,
                "textPayload": f"WebSocket /ws/chat [accepted] session {n}",
            }
        )
    for n in range(errors):
        rows.append(
            {
                "insertId": f"{rng.getrandbits(64):016x}",
                "timestamp": at(),
                "severity": "ERROR",
                "resource": RESOURCE,
                "logName": LOG_NAME,
                "textPayload": f"WebSocket error for session {n}: Database connection is not "
                "available.",
            }
        )
    for _ in range(others):
        rows.append(
            {
                "insertId": f"{rng.getrandbits(64):016x}",
                "timestamp": at(),
                "severity": "INFO",
                "resource": RESOURCE,
                "logName": LOG_NAME,
                "httpRequest": {"requestMethod": "GET", "requestUrl": "/api/health", "status": 200},
            }
        )
    return rows


def logging_source(endpoint: str, **options: Any) -> CloudLoggingSource:
    options.setdefault("backoff", 0.01)
    config = CloudLoggingConfig(project=PROJECT, api_endpoint=endpoint, anonymous=True, **options)
    return CloudLoggingSource.from_config(config, base_dir=INCIDENTS)


def monitoring_source(endpoint: str, **options: Any) -> CloudMonitoringSource:
    config = CloudMonitoringConfig(
        project=PROJECT, api_endpoint=endpoint, anonymous=True, **options
    )
    return CloudMonitoringSource(config)


@contextmanager
def with_metrics(
    rows: list[dict[str, Any]], **options: Any
) -> Iterator[tuple[CloudLoggingSource, CloudLoggingStandIn, CloudMonitoringStandIn]]:
    """A Cloud Logging source over ``rows`` taking its counts from Cloud Monitoring, where
    every row is one request (its class from ``httpRequest.status``)."""
    with (
        CloudLoggingStandIn(rows) as logs,
        CloudMonitoringStandIn(hits_from_entries(rows)) as metrics,
    ):
        source = logging_source(logs.endpoint, **options)
        source.use_metrics(monitoring_source(metrics.endpoint))
        yield source, logs, metrics
