"""The Cloud Monitoring source through the real gRPC client against the local stand-in."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from prodguardian.logs.metrics_source import MetricsError, RequestCounts
from prodguardian.logs.query import LogScope, LogWindow
from prodguardian.logs.sources.cloud_monitoring import (
    CloudMonitoringConfig,
    CloudMonitoringSource,
)
from tests.logs.incident_data import NOW, PROJECT
from tests.logs.traffic_data import monitoring_source
from tests.support.cloud_monitoring_standin import CloudMonitoringStandIn, Hit

WINDOW = LogWindow(start=NOW - timedelta(hours=1), end=NOW)
OLD, NEW = "emergence-app-00041-rok", "emergence-app-00042-fix"


def hits() -> list[Hit]:
    """Per minute over the hour: 10 requests of the old revision, then 20 of the new one
    (from 20 minutes before NOW), one in ten of the old ones a 5xx."""
    out = []
    for minute in range(60):
        at = NOW - timedelta(minutes=minute, seconds=30)
        if minute < 20:
            out.append(Hit(at=at, count=20, revision=NEW))
        else:
            out += [Hit(at=at, count=9, revision=OLD), Hit(at=at, code_class="5xx", revision=OLD)]
    out.append(Hit(at=NOW - timedelta(minutes=5), count=7, service="another-service"))
    return out


@pytest.fixture
def standin() -> Iterator[CloudMonitoringStandIn]:
    with CloudMonitoringStandIn(hits()) as s:
        yield s


def counts(
    source: CloudMonitoringSource, scope: LogScope, *, split_at: datetime | None = None
) -> RequestCounts:
    return source.request_counts(scope, WINDOW, split_at=split_at, deadline=time.monotonic() + 10)


def test_one_call_gives_the_total_the_5xx_and_the_traffic_per_revision(
    standin: CloudMonitoringStandIn,
) -> None:
    found = counts(monitoring_source(standin.endpoint), LogScope(service="emergence-app"))
    assert found.traffic.total == 20 * 20 + 40 * 10
    assert found.http_5xx == 40
    assert found.traffic.revisions[NEW].count == 400
    first_new = found.traffic.revisions[NEW].first_seen
    assert first_new is not None
    assert first_new >= NOW - timedelta(minutes=20)
    assert len(standin.requests) == 1


def test_the_traffic_since_a_deploy_time_comes_from_the_per_minute_points(
    standin: CloudMonitoringStandIn,
) -> None:
    found = counts(
        monitoring_source(standin.endpoint),
        LogScope(service="emergence-app"),
        split_at=NOW - timedelta(minutes=20),
    )
    assert found.traffic.since_split == 400


def test_a_revision_scope_is_sent_as_a_resource_label(standin: CloudMonitoringStandIn) -> None:
    source = monitoring_source(standin.endpoint)
    found = counts(source, LogScope(service="emergence-app", revision=OLD))
    assert found.traffic.total == 400
    assert 'resource.labels.revision_name = "emergence-app-00041-rok"' in (source.last_filter or "")


def test_only_label_scopes_of_cloud_run_fit() -> None:
    source = monitoring_source("127.0.0.1:9")
    assert source.fits(LogScope(service="s", resource_labels={"location": "europe-west1"}))
    assert not source.fits(LogScope(service="s", text="WebSocket"))
    assert not source.fits(LogScope(url="/ws/"))
    assert not source.fits(LogScope(resource_type="k8s_container"))
    assert not source.fits(LogScope(resource_labels={"pod_name": "x"}))


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("403", r"\(403\): grant the caller roles/monitoring\.viewer"),
        ("429", r"rate-limiting this project \(429"),
        ("503", r"503"),
        ("unknown-metric", r"does not know metric 'run\.googleapis\.com/request_count'"),
    ],
)
def test_faults_say_what_to_fix(standin: CloudMonitoringStandIn, fault: str, expected: str) -> None:
    standin.faults.append(fault)
    with pytest.raises(MetricsError, match=expected):
        counts(monitoring_source(standin.endpoint), LogScope(service="emergence-app"))


def test_an_unreachable_endpoint_says_where_it_tried() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(MetricsError, match=f"cannot reach Cloud Monitoring at 127.0.0.1:{port}"):
        counts(monitoring_source(f"127.0.0.1:{port}"), LogScope(service="emergence-app"))


def test_without_credentials_the_message_says_how_to_get_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/key.json")
    source = CloudMonitoringSource(CloudMonitoringConfig(project=PROJECT))
    with pytest.raises(MetricsError, match="application-default login"):
        counts(source, LogScope(service="emergence-app"))
