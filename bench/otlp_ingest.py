"""Benchmark: OTLP span ingestion through the receiver's decode + store path, in one process.

Batches of 512 server spans over 200 routes (the attributes the FastAPI instrumentation sets),
encoded as OTLP protobuf, decoded by :func:`decode_protobuf` and recorded by
:meth:`TraceStore.ingest`, until 1,000,000 spans. Reports:

* ``spans_per_s``: spans decoded and stored per second on one core (goal ≥ 100,000);
* ``p99_rel_error``: the worst relative error over the routes of the store's p99 against the
  exact p99 of the same data (same rank rule; goal ≤ 0.01);
* ``rss_mb``: resident memory growth over the process baseline taken after the batches were
  built, after the 1,000,000 spans (goal ≤ 50 MB);
* ``compare``: one route's values added to our sketch and the ``ddsketch`` package's DDSketch,
  both at 1 % accuracy, and to HdrHistogram at 2 significant digits (when installed): ns per
  value, p99 relative error, and bytes held.

The last line of stdout is one JSON object with these figures.
"""

from __future__ import annotations

import gc
import json
import math
import os
import random
import sys
import time
from collections import Counter
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from prodguardian.traces.otlp_decode import decode_protobuf
from prodguardian.traces.store import TraceStore

BATCH = 512
ROUTES = 200
TOTAL_SPANS = 1_000_000
DISTINCT_BATCHES = 48
SERVICE = "shop"


def _kv(key: str, value: str | int) -> KeyValue:
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=value))


def build_batches(now_ns: int) -> list[tuple[bytes, list[tuple[int, float]]]]:
    """Distinct encoded batches, each with its (route index, duration ms) list."""
    rng = random.Random(42)
    # Each route has its own latency profile: a lognormal body with a slow tail.
    profiles = [(rng.uniform(1.0, 5.0), rng.uniform(0.3, 1.2)) for _ in range(ROUTES)]
    batches = []
    for n in range(DISTINCT_BATCHES):
        # As a BatchSpanProcessor sends them: each batch holds a few seconds of requests, and
        # the batches together cover the last ten minutes.
        batch_end = now_ns - (DISTINCT_BATCHES - n) * (600 // DISTINCT_BATCHES) * 1_000_000_000
        request = ExportTraceServiceRequest()
        resource_spans = request.resource_spans.add()
        resource_spans.resource.attributes.extend(
            [
                _kv("service.name", SERVICE),
                _kv("telemetry.sdk.language", "python"),
                _kv("telemetry.sdk.name", "opentelemetry"),
                _kv("telemetry.sdk.version", "1.27.0"),
            ]
        )
        scope = resource_spans.scope_spans.add()
        scope.scope.name = "opentelemetry.instrumentation.fastapi"
        truth = []
        for _ in range(BATCH):
            r = rng.randrange(ROUTES)
            mu, sigma = profiles[r]
            ms = rng.lognormvariate(mu, sigma)
            span = scope.spans.add()
            span.trace_id = rng.randbytes(16)
            span.span_id = rng.randbytes(8)
            span.name = f"GET /api/v1/resource{r}/{{id}}"
            span.kind = 2
            end = batch_end - rng.randrange(5_000) * 1_000_000
            span.end_time_unix_nano = end
            span.start_time_unix_nano = end - int(ms * 1_000_000)
            span.attributes.extend(
                [
                    _kv("http.scheme", "http"),
                    _kv("http.host", "10.0.0.7:8080"),
                    _kv("net.host.port", 8080),
                    _kv("http.flavor", "1.1"),
                    _kv("http.target", f"/api/v1/resource{r}/123"),
                    _kv("http.url", f"http://10.0.0.7:8080/api/v1/resource{r}/123"),
                    _kv("http.method", "GET"),
                    _kv("http.server_name", "shop"),
                    _kv("http.user_agent", "Mozilla/5.0 (X11; Linux x86_64)"),
                    _kv("net.peer.ip", "10.0.0.1"),
                    _kv("net.peer.port", 53012),
                    _kv("http.route", f"/api/v1/resource{r}/{{id}}"),
                    _kv("http.status_code", 500 if rng.random() < 0.01 else 200),
                ]
            )
            # The store keeps what the span's nanosecond times say.
            truth.append((r, (span.end_time_unix_nano - span.start_time_unix_nano) / 1e6))
        batches.append((request.SerializeToString(), truth))
    return batches


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def exact_lower(values: list[float], q: float) -> float:
    """The value of rank floor(q * (n - 1)): the rank rule the sketch reads."""
    return sorted(values)[math.floor(q * (len(values) - 1))]


def ingest(batches: list[tuple[bytes, list[tuple[int, float]]]], now: float) -> dict[str, Any]:
    store = TraceStore()
    gc.collect()
    baseline = rss_bytes()
    used: Counter[int] = Counter()
    spans = 0
    start = time.perf_counter()
    i = 0
    while spans < TOTAL_SPANS:
        body, _ = batches[i % len(batches)]
        points, _ = decode_protobuf(body)
        outcome = store.ingest(points, now=now)
        spans += outcome.accepted
        used[i % len(batches)] += 1
        i += 1
    elapsed = time.perf_counter() - start
    gc.collect()
    growth = rss_bytes() - baseline
    by_route: dict[int, list[float]] = {}
    for index, times in used.items():
        for route, ms in batches[index][1]:
            by_route.setdefault(route, []).extend([ms] * times)
    found = {r.route: r for r in store.route_latency(SERVICE, 900, now=now)}
    worst = 0.0
    for route, values in by_route.items():
        exact = exact_lower(values, 0.99)
        got = found[f"GET /api/v1/resource{route}/{{id}}"].p99_ms
        worst = max(worst, abs(got - exact) / exact)
    return {
        "spans": spans,
        "seconds": round(elapsed, 3),
        "spans_per_s": round(spans / elapsed),
        "p99_rel_error": round(worst, 5),
        "rss_mb": round(growth / 1e6, 2),
        "store_estimate_mb": round(store.memory_estimate() / 1e6, 2),
    }


def compare(values: list[float]) -> dict[str, Any]:
    """Our sketch against ddsketch and HdrHistogram on one route's values."""
    from prodguardian.traces.sketch import LogBucketSketch

    exact = exact_lower(values, 0.99)
    results: dict[str, Any] = {}

    def measure(name: str, add: Any, p99: Any, size: Any) -> None:
        start = time.perf_counter()
        for v in values:
            add(v)
        ns = (time.perf_counter() - start) / len(values) * 1e9
        results[name] = {
            "ns_per_value": round(ns),
            "p99_rel_error": round(abs(p99() - exact) / exact, 5),
            "bytes": size(),
        }

    ours = LogBucketSketch(0.01)
    measure(
        "log_bucket_sketch", ours.add, lambda: ours.quantile(0.99), lambda: ours.bin_count * 4 + 120
    )
    try:
        from ddsketch import DDSketch

        dd = DDSketch(relative_accuracy=0.01)
        measure(
            "ddsketch",
            dd.add,
            lambda: dd.get_quantile_value(0.99),
            lambda: len(dd._store.bins) * 8 + 400,
        )
    except ImportError:
        results["ddsketch"] = "not installed"
    try:
        from hdrh.histogram import HdrHistogram

        # Microsecond integers, 1 µs .. 1 h, 2 significant digits (~1 % precision).
        hdr = HdrHistogram(1, 3_600_000_000, 2)
        measure(
            "hdrhistogram",
            lambda v: hdr.record_value(max(1, int(v * 1000))),
            lambda: hdr.get_value_at_percentile(99.0) / 1000,
            lambda: hdr.counts_len * 8,
        )
    except ImportError:
        results["hdrhistogram"] = "not installed"
    return results


def main() -> None:
    now = time.time()
    batches = build_batches(int(now * 1e9))
    figures = ingest(batches, now)
    one_route = [ms for _, truth in batches for r, ms in truth if r == 0] * 50
    figures["compare"] = compare(one_route)
    figures["goals"] = {"spans_per_s": ">= 100000", "p99_rel_error": "<= 0.01", "rss_mb": "<= 50"}
    print(
        f"ingested {figures['spans']:,} spans in {figures['seconds']} s "
        f"({figures['spans_per_s']:,}/s); p99 error {figures['p99_rel_error']:.4%}; "
        f"RSS +{figures['rss_mb']} MB",
        file=sys.stderr,
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
