"""The receiver's memory: per service and route, rolling time-bucketed latency sketches and counts.

Three rings of buckets per series (service + route), each slot tagged with the bucket it holds,
so a slot is reused (and its old content dropped) when its time comes round again. Expiry costs
nothing and memory never grows with time:

* latency: one :class:`LogBucketSketch` per minute for ``latency_retention_s`` (default 1 h), plus
  the slowest few trace ids of that minute;
* fine counts (requests, errors) per minute for ``fine_retention_s`` (default 6 h);
* coarse counts per hour for ``coarse_retention_s`` (default 31 days), for the long SLO windows.

Series are capped per service (further routes fold into ``(other routes)``) and services are
capped in number (spans of further services are rejected), so memory is bounded whatever the
traffic: at most ``max_services * (max_routes_per_service + 1)`` series, each at most
``latency slots * 2.5 KiB`` of sketch bins plus about 9 KiB of counters.
"""

from __future__ import annotations

import threading
import time
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from prodguardian.traces.model import RequestCounts, RouteLatency, SpanPoint, TraceExample
from prodguardian.traces.sketch import DEFAULT_RELATIVE_ACCURACY, LogBucketSketch

OTHER_ROUTES = "(other routes)"
MINUTE_NS = 60_000_000_000
_NS_PER_MS = 1_000_000.0
_SWEEP_EVERY_S = 60.0
#: Bins of a one-minute sketch: at 0.8 % accuracy, a 28,000× range before the lowest bins fold.
_MINUTE_SKETCH_BINS = 640


@dataclass(frozen=True, kw_only=True)
class StoreLimits:
    """How much the store keeps; every bound on its memory is here."""

    max_services: int = 20
    max_routes_per_service: int = 200
    latency_retention_s: int = 3600
    fine_retention_s: int = 6 * 3600
    coarse_retention_s: int = 31 * 86400
    max_future_skew_s: float = 300.0
    examples_per_minute: int = 3
    relative_accuracy: float = DEFAULT_RELATIVE_ACCURACY

    def __post_init__(self) -> None:
        if self.latency_retention_s > self.fine_retention_s:
            raise ValueError("latency_retention_s cannot exceed fine_retention_s")
        if self.fine_retention_s > self.coarse_retention_s:
            raise ValueError("fine_retention_s cannot exceed coarse_retention_s")


@dataclass(frozen=True, kw_only=True)
class IngestOutcome:
    """What became of a batch: spans kept, spans refused and why (for OTLP partial success)."""

    accepted: int
    rejected: int = 0
    reason: str = ""


class _Ring:
    """Slots tagged with the bucket number they hold; a stale slot reads as empty."""

    __slots__ = ("epochs", "errors", "size", "totals")

    def __init__(self, size: int) -> None:
        self.size = size
        self.epochs = array("q", [-1]) * size
        self.totals = array("Q", bytes(8 * size))
        self.errors = array("Q", bytes(8 * size))

    def add(self, bucket: int, total: int, errors: int) -> None:
        slot = bucket % self.size
        if self.epochs[slot] != bucket:
            self.epochs[slot] = bucket
            self.totals[slot] = 0
            self.errors[slot] = 0
        self.totals[slot] += total
        self.errors[slot] += errors

    def sum(self, first: int, last: int) -> tuple[int, int]:
        total = errors = 0
        for bucket in range(max(first, last - self.size + 1), last + 1):
            slot = bucket % self.size
            if self.epochs[slot] == bucket:
                total += self.totals[slot]
                errors += self.errors[slot]
        return total, errors


class _Series:
    __slots__ = ("coarse", "examples", "fine", "first_ns", "last_ns", "sketch_epochs", "sketches")

    def __init__(self, limits: StoreLimits) -> None:
        lat_slots = limits.latency_retention_s // 60 + 1
        self.sketch_epochs = array("q", [-1]) * lat_slots
        self.sketches: list[LogBucketSketch | None] = [None] * lat_slots
        self.examples: list[list[tuple[float, bytes]]] = [[] for _ in range(lat_slots)]
        self.fine = _Ring(limits.fine_retention_s // 60 + 1)
        self.coarse = _Ring(limits.coarse_retention_s // 3600 + 1)
        self.first_ns = 0
        self.last_ns = 0


class TraceStore:
    """Rolling latency sketches and request counts per service and route, bounded in memory.

    Thread-safe: the receiver may ingest from a worker thread while checks read.
    """

    def __init__(
        self, limits: StoreLimits | None = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.limits = limits or StoreLimits()
        self._clock = clock
        self._lock = threading.Lock()
        self._services: dict[str, dict[str, _Series]] = {}
        self._last_sweep = 0.0

    def ingest(self, points: Iterable[SpanPoint], *, now: float | None = None) -> IngestOutcome:
        """Record server spans; those too old, too far in the future or over a cap are refused."""
        now = self._clock() if now is None else now
        limits = self.limits
        now_min = int(now // 60)
        newest_ns = int((now + limits.max_future_skew_s) * 1e9)
        oldest_min = now_min - limits.coarse_retention_s // 60
        lat_oldest = now_min - limits.latency_retention_s // 60
        fine_oldest = now_min - limits.fine_retention_s // 60
        accuracy = limits.relative_accuracy
        keep = limits.examples_per_minute
        accepted = too_old = too_new = over_cap = 0
        with self._lock:
            cache_key: tuple[str, str] | None = None
            series: _Series | None = None
            for service, route, end_ns, duration_ns, is_error, trace_id in points:
                if end_ns > newest_ns:
                    too_new += 1
                    continue
                minute = end_ns // MINUTE_NS
                if minute <= oldest_min:
                    too_old += 1
                    continue
                if cache_key != (service, route) or series is None:
                    series = self._series(service, route)
                    if series is None:
                        over_cap += 1
                        continue
                    cache_key = (service, route)
                err = 1 if is_error else 0
                if minute > lat_oldest:
                    slot = minute % len(series.sketches)
                    sketch = series.sketches[slot]
                    if series.sketch_epochs[slot] != minute or sketch is None:
                        sketch = LogBucketSketch(accuracy, max_bins=_MINUTE_SKETCH_BINS)
                        series.sketches[slot] = sketch
                        series.sketch_epochs[slot] = minute
                        series.examples[slot] = []
                    duration_ms = duration_ns / _NS_PER_MS
                    sketch.add(duration_ms)
                    slowest = series.examples[slot]
                    if len(slowest) < keep or duration_ms > slowest[-1][0]:
                        slowest.append((duration_ms, trace_id))
                        slowest.sort(reverse=True)
                        del slowest[keep:]
                if minute > fine_oldest:
                    series.fine.add(minute, 1, err)
                series.coarse.add(minute // 60, 1, err)
                if series.first_ns == 0 or end_ns < series.first_ns:
                    series.first_ns = end_ns
                if end_ns > series.last_ns:
                    series.last_ns = end_ns
                accepted += 1
            if now - self._last_sweep > _SWEEP_EVERY_S:
                self._sweep(now)
        return _outcome(accepted, too_old, too_new, over_cap, limits)

    def _series(self, service: str, route: str) -> _Series | None:
        routes = self._services.get(service)
        if routes is None:
            if len(self._services) >= self.limits.max_services:
                return None
            routes = self._services[service] = {}
        series = routes.get(route)
        if series is None:
            named = len(routes) - (OTHER_ROUTES in routes)
            if named >= self.limits.max_routes_per_service and route != OTHER_ROUTES:
                return self._series(service, OTHER_ROUTES)
            series = routes[route] = _Series(self.limits)
        return series

    def _sweep(self, now: float) -> None:
        """Forget series that have been silent for longer than the longest retention."""
        self._last_sweep = now
        horizon_ns = int((now - self.limits.coarse_retention_s) * 1e9)
        for service in list(self._services):
            routes = self._services[service]
            for route in [r for r, s in routes.items() if s.last_ns < horizon_ns]:
                del routes[route]
            if not routes:
                del self._services[service]

    def services(self) -> list[str]:
        """The services the store has spans of."""
        with self._lock:
            return sorted(self._services)

    def route_latency(
        self, service: str, window_s: float, *, now: float | None = None
    ) -> list[RouteLatency]:
        """Latency per route over the last ``window_s``: the minute buckets that overlap it."""
        if window_s > self.limits.latency_retention_s:
            raise ValueError(
                f"a {window_s:g} s latency window is longer than the receiver keeps "
                f"({self.limits.latency_retention_s} s)"
            )
        now = self._clock() if now is None else now
        last = int(now // 60)
        first = int((now - window_s) // 60)
        found: list[RouteLatency] = []
        with self._lock:
            for route, series in self._services.get(service, {}).items():
                merged = LogBucketSketch(self.limits.relative_accuracy)
                slowest: list[tuple[float, bytes]] = []
                for minute in range(first, last + 1):
                    slot = minute % len(series.sketches)
                    sketch = series.sketches[slot]
                    if series.sketch_epochs[slot] == minute and sketch is not None:
                        merged.merge(sketch)
                        slowest.extend(series.examples[slot])
                if merged.count == 0:
                    continue
                _, errors = series.fine.sum(first, last)
                found.append(_route_latency(service, route, merged, errors, slowest, self.limits))
        return found

    def request_counts(
        self, service: str, window_s: float, *, now: float | None = None
    ) -> RequestCounts:
        """Requests and errors of ``service`` over the last ``window_s``.

        Windows up to ``fine_retention_s`` are summed from the minute buckets that overlap
        them, longer ones from hour buckets (so a window reads up to one bucket more).
        """
        if window_s > self.limits.coarse_retention_s:
            raise ValueError(
                f"a {window_s:g} s window is longer than the receiver keeps "
                f"({self.limits.coarse_retention_s} s)"
            )
        now = self._clock() if now is None else now
        total = errors = 0
        first_ns = 0
        with self._lock:
            for series in self._services.get(service, {}).values():
                if window_s <= self.limits.fine_retention_s:
                    t, e = series.fine.sum(int((now - window_s) // 60), int(now // 60))
                else:
                    t, e = series.coarse.sum(int((now - window_s) // 3600), int(now // 3600))
                total += t
                errors += e
                if series.first_ns and (first_ns == 0 or series.first_ns < first_ns):
                    first_ns = series.first_ns
        covered = 0.0 if first_ns == 0 else min(window_s, max(0.0, now - first_ns / 1e9))
        return RequestCounts(window_s=window_s, total=total, errors=errors, covered_s=covered)

    def memory_estimate(self) -> int:
        """Approximate bytes held by sketches and counters (for tests and the benchmark)."""
        with self._lock:
            size = 0
            for routes in self._services.values():
                for series in routes.values():
                    size += sum(s.bin_count * 4 + 200 for s in series.sketches if s is not None)
                    size += 24 * (series.fine.size + series.coarse.size + len(series.sketches))
            return size


def _route_latency(
    service: str,
    route: str,
    merged: LogBucketSketch,
    errors: int,
    slowest: list[tuple[float, bytes]],
    limits: StoreLimits,
) -> RouteLatency:
    slowest.sort(reverse=True)
    examples = tuple(
        TraceExample(trace_id=trace_id.hex(), duration_ms=round(duration, 3))
        for duration, trace_id in slowest[: limits.examples_per_minute]
        if trace_id
    )
    return RouteLatency(
        service=service,
        route=route,
        count=merged.count,
        errors=min(errors, merged.count),
        p50_ms=merged.quantile(0.50) or 0.0,
        p95_ms=merged.quantile(0.95) or 0.0,
        p99_ms=merged.quantile(0.99) or 0.0,
        max_ms=merged.max,
        examples=examples,
    )


def _outcome(
    accepted: int, too_old: int, too_new: int, over_cap: int, limits: StoreLimits
) -> IngestOutcome:
    reasons = []
    if too_old:
        reasons.append(f"{too_old} spans ended more than {limits.coarse_retention_s} s ago")
    if too_new:
        reasons.append(
            f"{too_new} spans end more than {limits.max_future_skew_s:g} s in the future "
            "(check the sender's clock)"
        )
    if over_cap:
        reasons.append(
            f"{over_cap} spans belong to services beyond the receiver's limit of "
            f"{limits.max_services} services"
        )
    rejected = too_old + too_new + over_cap
    return IngestOutcome(accepted=accepted, rejected=rejected, reason="; ".join(reasons))
