"""The values trace sources hand to checks: latency per route, and request counts per window."""

from __future__ import annotations

from dataclasses import dataclass

#: One server span as the receiver keeps it:
#: (service, route, end time in unix ns, duration in ns, is an error, trace id bytes).
SpanPoint = tuple[str, str, int, int, bool, bytes]


@dataclass(frozen=True, kw_only=True)
class TraceExample:
    """A trace worth opening: its id and how long its server span took."""

    trace_id: str
    duration_ms: float


@dataclass(frozen=True, kw_only=True)
class RouteLatency:
    """Latency and errors of one route of one service over a window.

    Percentiles are within the source's relative accuracy of the exact values (the receiver's
    sketches: 0.8 %); ``examples`` are the slowest traces seen, slowest first.
    """

    service: str
    route: str
    count: int
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    examples: tuple[TraceExample, ...] = ()

    @property
    def error_ratio(self) -> float:
        return self.errors / self.count if self.count else 0.0

    def percentile_ms(self, name: str) -> float:
        """``p50``, ``p95`` or ``p99`` by name."""
        value: float = getattr(self, f"{name}_ms")
        return value


@dataclass(frozen=True, kw_only=True)
class RequestCounts:
    """Requests and failed requests of a service over a window ending now.

    ``covered_s`` is how much of the window the source actually has data for (a receiver that
    started ten minutes ago covers ten minutes of a 30-day window).
    """

    window_s: float
    total: int
    errors: int
    covered_s: float

    @property
    def error_ratio(self) -> float:
        return self.errors / self.total if self.total else 0.0


def window_text(seconds: float) -> str:
    """A window as people write it: ``5m``, ``1h``, ``3d``, ``90s``."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"
