"""The rolling store: windows, expiry, caps, examples and bounded memory."""

from __future__ import annotations

import pytest

from prodguardian.traces.model import SpanPoint
from prodguardian.traces.store import OTHER_ROUTES, StoreLimits, TraceStore

NOW = 1_800_000_000.0  # a fixed "now" (2027-01-15), seconds
MS = 1_000_000  # ns


def span(
    route: str = "GET /a",
    *,
    ago_s: float = 1.0,
    ms: float = 10.0,
    error: bool = False,
    service: str = "api",
    trace_id: bytes = b"\x01" * 16,
) -> SpanPoint:
    return (service, route, int((NOW - ago_s) * 1e9), int(ms * MS), error, trace_id)


def test_latency_per_route_over_the_window() -> None:
    store = TraceStore()
    store.ingest([span("GET /a", ms=10.0)] * 90 + [span("GET /a", ms=900.0)] * 10, now=NOW)
    store.ingest([span("GET /b", ms=50.0, error=True)] * 4, now=NOW)
    found = {r.route: r for r in store.route_latency("api", 300, now=NOW)}
    a, b = found["GET /a"], found["GET /b"]
    assert (a.count, a.errors, b.count, b.errors) == (100, 0, 4, 4)
    assert a.p50_ms == pytest.approx(10.0, rel=0.01)
    assert a.p95_ms == pytest.approx(900.0, rel=0.01)
    assert a.max_ms == 900.0
    assert b.error_ratio == 1.0


def test_spans_outside_the_window_are_not_counted() -> None:
    store = TraceStore()
    store.ingest([span(ago_s=30 * 60, ms=5000.0)] * 5 + [span(ago_s=10, ms=20.0)] * 5, now=NOW)
    (recent,) = store.route_latency("api", 300, now=NOW)
    assert recent.count == 5
    assert recent.max_ms == 20.0
    (hour,) = store.route_latency("api", 3600, now=NOW)
    assert hour.count == 10


def test_examples_are_the_slowest_traces() -> None:
    store = TraceStore()
    points = [span(ms=float(i), trace_id=bytes([i]) * 16) for i in range(1, 50)]
    store.ingest(points, now=NOW)
    (route,) = store.route_latency("api", 60, now=NOW)
    assert [e.trace_id for e in route.examples] == [bytes([i]).hex() * 16 for i in (49, 48, 47)]
    assert route.examples[0].duration_ms == 49.0


def test_old_buckets_expire_as_time_moves_on() -> None:
    store = TraceStore()
    store.ingest([span(ms=100.0)] * 10, now=NOW)
    later = NOW + 2 * 3600  # past the 1 h latency retention
    assert store.route_latency("api", 3600, now=later) == []
    assert store.request_counts("api", 6 * 3600, now=later).total == 10
    # A new span in the slot the old minute used does not inherit its counts.
    store.ingest([(*span()[:2], int((later - 1) * 1e9), 5 * MS, False, b"")], now=later)
    (route,) = store.route_latency("api", 60, now=later)
    assert route.count == 1


def test_request_counts_use_minute_buckets_then_hour_buckets() -> None:
    store = TraceStore()
    points = [span(ago_s=60, error=True)] * 2 + [span(ago_s=60)] * 8
    points += [span(ago_s=2 * 86400, error=True)] * 5 + [span(ago_s=2 * 86400)] * 5
    store.ingest(points, now=NOW)
    five_min = store.request_counts("api", 300, now=NOW)
    assert (five_min.total, five_min.errors) == (10, 2)
    three_days = store.request_counts("api", 3 * 86400, now=NOW)
    assert (three_days.total, three_days.errors) == (20, 7)
    assert three_days.covered_s == pytest.approx(2 * 86400, abs=1)
    assert store.request_counts("other", 300, now=NOW).total == 0


def test_too_old_and_future_spans_are_refused_with_reasons() -> None:
    store = TraceStore()
    outcome = store.ingest([span(ago_s=40 * 86400), span(ago_s=-3600), span(ago_s=1)], now=NOW)
    assert (outcome.accepted, outcome.rejected) == (1, 2)
    assert "ago" in outcome.reason
    assert "future" in outcome.reason


def test_routes_past_the_cap_fold_into_other_routes() -> None:
    store = TraceStore(StoreLimits(max_routes_per_service=5))
    store.ingest([span(f"GET /user/{i}") for i in range(100)], now=NOW)
    routes = {r.route: r.count for r in store.route_latency("api", 60, now=NOW)}
    assert len(routes) == 6
    assert routes[OTHER_ROUTES] == 95


def test_services_past_the_cap_are_refused() -> None:
    store = TraceStore(StoreLimits(max_services=2))
    outcome = store.ingest([span(service=f"svc{i}") for i in range(4)], now=NOW)
    assert (outcome.accepted, outcome.rejected) == (2, 2)
    assert "limit of 2 services" in outcome.reason
    assert store.services() == ["svc0", "svc1"]


def test_memory_stays_bounded_under_a_flood_of_routes_and_minutes() -> None:
    limits = StoreLimits(
        max_services=2,
        max_routes_per_service=10,
        latency_retention_s=600,
        fine_retention_s=1200,
        coarse_retention_s=86400,
    )
    store = TraceStore(limits)
    for minute in range(0, 200, 7):
        at = NOW + minute * 60
        points = [
            ("svc", f"GET /r{i}", int((at - 1) * 1e9), int((1 + i * 37 % 5000) * MS), False, b"")
            for i in range(200)
        ]
        store.ingest(points, now=at)
    first = store.memory_estimate()
    for minute in range(200, 400, 7):
        at = NOW + minute * 60
        store.ingest(
            [
                ("svc", f"GET /z{i}", int((at - 1) * 1e9), (1 + i) * MS, False, b"")
                for i in range(200)
            ],
            now=at,
        )
    assert store.memory_estimate() <= first * 1.2


def test_windows_longer_than_the_retention_are_refused() -> None:
    store = TraceStore()
    with pytest.raises(ValueError, match="longer than the receiver keeps"):
        store.route_latency("api", 2 * 3600, now=NOW)
    with pytest.raises(ValueError, match="longer than the receiver keeps"):
        store.request_counts("api", 40 * 86400, now=NOW)


def test_inconsistent_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="latency_retention_s"):
        StoreLimits(latency_retention_s=7200, fine_retention_s=3600)


def test_silent_series_are_forgotten() -> None:
    limits = StoreLimits(latency_retention_s=60, fine_retention_s=120, coarse_retention_s=3600)
    store = TraceStore(limits)
    store.ingest([span(service="gone")], now=NOW)
    store.ingest([span(service="alive", ago_s=-7199)], now=NOW + 7200)
    assert store.services() == ["alive"]
