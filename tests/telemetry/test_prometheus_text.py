"""Prometheus text at /metrics: names, types, labels, histograms; parsed by prometheus_client."""

from __future__ import annotations

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from prometheus_client.parser import text_string_to_metric_families

from prodguardian.telemetry.instruments import Instruments
from prodguardian.telemetry.prometheus_text import metric_name, render


def _families(text: str) -> dict[str, object]:
    return {f.name: f for f in text_string_to_metric_families(text)}


def test_the_instruments_render_as_valid_prometheus_text() -> None:
    reader = InMemoryMetricReader()
    tel = Instruments(meter_provider=MeterProvider(metric_readers=[reader]))
    labels = {"prodguardian.check.name": 'api "main"\nv2', "prodguardian.check.kind": "http"}
    tel.check_duration.record(0.2, {**labels, "prodguardian.check.status": "OK"})
    tel.check_duration.record(7.0, {**labels, "prodguardian.check.status": "OK"})
    tel.check_status.set(2, labels)
    tel.store_reconnects.add(3)
    text = render(reader.get_metrics_data())
    assert "# TYPE prodguardian_check_duration_seconds histogram" in text
    assert "# TYPE prodguardian_store_reconnects_total counter" in text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    duration = families["prodguardian_check_duration_seconds"]
    samples = {(s.name, s.labels.get("le")): s.value for s in duration.samples}
    assert samples[("prodguardian_check_duration_seconds_bucket", "0.25")] == 1
    assert samples[("prodguardian_check_duration_seconds_bucket", "10.0")] == 2
    assert samples[("prodguardian_check_duration_seconds_bucket", "+Inf")] == 2
    assert samples[("prodguardian_check_duration_seconds_count", None)] == 2
    assert samples[("prodguardian_check_duration_seconds_sum", None)] == 7.2
    (status,) = families["prodguardian_check_status"].samples
    assert status.value == 2
    assert status.labels["prodguardian_check_name"] == 'api "main"\nv2'
    # prometheus_client names a counter family without _total, its sample with it.
    (reconnects,) = families["prodguardian_store_reconnects"].samples
    assert (reconnects.name, reconnects.value) == ("prodguardian_store_reconnects_total", 3)


def test_nothing_recorded_renders_nothing() -> None:
    assert render(None) == ""
    reader = InMemoryMetricReader()
    Instruments(meter_provider=MeterProvider(metric_readers=[reader]))
    assert render(reader.get_metrics_data()) == ""


def test_metric_names_follow_the_otel_to_prometheus_rules() -> None:
    assert metric_name("http.server.duration", "s", counter=False) == "http_server_duration_seconds"
    assert metric_name("a.b", "ms", counter=False) == "a_b_milliseconds"
    assert metric_name("x.requests", "{request}", counter=True) == "x_requests_total"
    assert metric_name("9lives", "", counter=False) == "_9lives"
