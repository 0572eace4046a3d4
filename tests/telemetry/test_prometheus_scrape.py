"""``GET /metrics`` through the OpenTelemetry Prometheus exporter, scraped from a served app and
parsed by prometheus_client."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from prodguardian.telemetry import Telemetry, instruments, setup_telemetry
from tests.traces.uvicorn_server import serve_in_thread

STATE_GAUGES = (
    "prodguardian_store_up",
    "prodguardian_leader",
    "prodguardian_incidents_open",
    "prodguardian_outbox_backlog",
)


@contextmanager
def served(service: str = "prodguardian") -> Iterator[tuple[str, Telemetry]]:
    """An app with ``/metrics`` from its own telemetry, served on 127.0.0.1."""
    app = FastAPI()
    telemetry = setup_telemetry(app, env={"OTEL_SERVICE_NAME": service}, set_global=False)
    app.include_router(telemetry.metrics_router())
    try:
        with serve_in_thread(app) as url:
            yield url, telemetry
    finally:
        telemetry.shutdown()


def scrape(url: str) -> dict[str, Metric]:
    response = httpx.get(f"{url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == CONTENT_TYPE_LATEST
    return {f.name: f for f in text_string_to_metric_families(response.text)}


def test_the_instruments_are_served_under_their_prometheus_names() -> None:
    labels = {"prodguardian.check.name": 'api "main"\nv2', "prodguardian.check.kind": "http"}
    with served("pg-scrape") as (url, telemetry):
        tel = telemetry.instruments
        tel.check_duration.record(0.2, {**labels, "prodguardian.check.status": "OK"})
        tel.check_duration.record(7.0, {**labels, "prodguardian.check.status": "OK"})
        tel.check_status.set(2, labels)
        tel.store_reconnects.add(3)
        tel.runs.add(1, {"prodguardian.run.status": "DEGRADED"})
        families = scrape(url)
    duration = families["prodguardian_check_duration_seconds"]
    assert duration.type == "histogram"
    samples = {(s.name, s.labels.get("le")): s.value for s in duration.samples}
    buckets = {float(le): v for (name, le), v in samples.items() if name.endswith("_bucket") and le}
    assert buckets[0.25] == 1
    assert buckets[10.0] == 2
    assert buckets[float("inf")] == 2
    assert samples[("prodguardian_check_duration_seconds_count", None)] == 2
    assert samples[("prodguardian_check_duration_seconds_sum", None)] == 7.2
    (status,) = families["prodguardian_check_status"].samples
    assert status.value == 2
    assert status.labels == {
        "prodguardian_check_name": 'api "main"\nv2',
        "prodguardian_check_kind": "http",
    }  # the attributes only: no instrumentation-scope labels
    # prometheus_client names a counter family without _total, its sample with it.
    (reconnects,) = families["prodguardian_store_reconnects"].samples
    assert (reconnects.name, reconnects.value) == ("prodguardian_store_reconnects_total", 3)
    (runs,) = families["prodguardian_runs"].samples
    assert runs.labels == {"prodguardian_run_status": "DEGRADED"}
    (target,) = families["target_info"].samples  # the resource, as the exporter's target_info
    assert target.name == "target_info"
    assert target.labels["service_name"] == "pg-scrape"


def test_the_state_gauges_are_exported_once_reported_and_follow_each_change() -> None:
    with served() as (url, _telemetry):
        assert not set(STATE_GAUGES) & set(scrape(url))  # nobody reported yet: no made-up 0
        instruments.set_store_up(True)
        instruments.set_leader(False)
        instruments.set_incidents_open(3)
        instruments.set_outbox_backlog(12)
        first = scrape(url)
        instruments.set_store_up(False)
        instruments.set_incidents_open(0)
        second = scrape(url)
    values = {
        name: [(s.name, s.labels, s.value) for s in first[name].samples] for name in STATE_GAUGES
    }
    assert values == {
        "prodguardian_store_up": [("prodguardian_store_up", {}, 1)],
        "prodguardian_leader": [("prodguardian_leader", {}, 0)],
        "prodguardian_incidents_open": [("prodguardian_incidents_open", {}, 3)],
        "prodguardian_outbox_backlog": [("prodguardian_outbox_backlog", {}, 12)],
    }
    assert all(first[name].type == "gauge" for name in STATE_GAUGES)
    assert second["prodguardian_store_up"].samples[0].value == 0
    assert second["prodguardian_incidents_open"].samples[0].value == 0
    assert second["prodguardian_outbox_backlog"].samples[0].value == 12


def test_two_apps_in_one_process_keep_their_metrics_apart_and_off_the_global_registry() -> None:
    with served("pg-a") as (url_a, tel_a), served("pg-b") as (url_b, tel_b):
        tel_a.instruments.store_reconnects.add(1)
        tel_b.instruments.store_reconnects.add(5)
        a, b = scrape(url_a), scrape(url_b)
    assert a["prodguardian_store_reconnects"].samples[0].value == 1
    assert b["prodguardian_store_reconnects"].samples[0].value == 5
    assert a["target_info"].samples[0].labels["service_name"] == "pg-a"
    assert b"prodguardian_" not in generate_latest(REGISTRY)
    assert generate_latest(tel_a.scrape.registry) == b""  # shut down: the reader left it
