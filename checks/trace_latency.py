"""``trace_latency``: p50/p95/p99 and error ratio per route from spans, with thresholds per route.

Config::

    - name: api-latency
      kind: trace_latency
      service: api                 # the service.name of the spans
      window: 5m                   # up to the receiver's 1 h latency retention
      min_samples: 20              # per route, before it is judged
      thresholds: {percentile: p95, degraded_ms: 1000, critical_ms: 3000}
      routes:                      # per-route overrides; unset keys inherit `thresholds`
        "POST /upload": {degraded_ms: 5000, critical_ms: 15000}
      ignore_routes: ["GET /healthz"]
      source: spans                # a name under trace_sources: (default: the receiver)

Not enough samples is said, never passed off as OK: a route with fewer than ``min_samples``
requests is not judged (the summary counts it), and when no route can be judged the check is
UNKNOWN ("not enough samples"), because nothing was verified.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from prodguardian.check import Check
from prodguardian.config.duration import Duration
from prodguardian.context import CheckContext
from prodguardian.evidence import Evidence, SlowRoute
from prodguardian.result import CheckResult
from prodguardian.status import Status, worst
from prodguardian.traces.model import RouteLatency, window_text
from prodguardian.traces.source import DEFAULT_SOURCE, open_source, validate_source_spec
from prodguardian.traces.store import StoreLimits

Percentile = Literal["p50", "p95", "p99"]


class Thresholds(BaseModel):
    """When a route is DEGRADED or CRITICAL. The team's default: p95 over 1 s / 3 s."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    percentile: Percentile = "p95"
    """The percentile of the route's latency that is judged."""
    degraded_ms: float = Field(default=1000.0, gt=0)
    """That percentile at or above this many milliseconds is DEGRADED."""
    critical_ms: float = Field(default=3000.0, gt=0)
    """… and at or above this many, CRITICAL."""
    error_ratio_degraded: float | None = Field(default=0.05, ge=0, le=1)
    """Share of failed requests (status ERROR or 5xx) that makes a route DEGRADED; null: never."""
    error_ratio_critical: float | None = Field(default=0.25, ge=0, le=1)
    """Share of failed requests that makes a route CRITICAL; null: never."""

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.critical_ms < self.degraded_ms:
            raise ValueError(
                f"critical_ms ({self.critical_ms:g}) is below degraded_ms ({self.degraded_ms:g})"
            )
        low, high = self.error_ratio_degraded, self.error_ratio_critical
        if low is not None and high is not None and high < low:
            raise ValueError("error_ratio_critical is below error_ratio_degraded")
        return self


class RouteThresholds(BaseModel):
    """A route's overrides; every key left out keeps the check's ``thresholds`` value."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    percentile: Percentile | None = None
    """Overrides ``thresholds.percentile``."""
    degraded_ms: float | None = Field(default=None, gt=0)
    """Overrides ``thresholds.degraded_ms``."""
    critical_ms: float | None = Field(default=None, gt=0)
    """Overrides ``thresholds.critical_ms``."""
    error_ratio_degraded: float | None = Field(default=None, ge=0, le=1)
    """Overrides ``thresholds.error_ratio_degraded``."""
    error_ratio_critical: float | None = Field(default=None, ge=0, le=1)
    """Overrides ``thresholds.error_ratio_critical``."""


class TraceLatencyParams(BaseModel):
    """``kind: trace_latency``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    service: str = Field(min_length=1)
    """The service whose spans are judged (the spans' ``service.name``)."""
    window: Duration = 300.0
    """How far back each run looks, ending now."""
    min_samples: int = Field(default=20, ge=1)
    """A route with fewer requests in the window is not judged (and says so)."""
    thresholds: Thresholds = Thresholds()
    """The thresholds of every route."""
    routes: dict[str, RouteThresholds] = Field(default_factory=dict)
    """Keyed by route as reported (``GET /items/{id}``) or by its path alone (``/items/{id}``)."""
    ignore_routes: tuple[str, ...] = ()
    """Routes never judged, written as in ``routes`` (``GET /healthz`` or ``/healthz``)."""
    show_routes: int = Field(default=5, ge=1, le=50)
    """How many routes the evidence lists (failing ones first, then the slowest)."""
    source: dict[str, Any] = Field(default_factory=lambda: dict(DEFAULT_SOURCE))
    """Where spans come from: the receiver at ``POST /v1/traces`` or a trace API."""

    @field_validator("source", mode="before")
    @classmethod
    def _known_source(cls, value: object) -> dict[str, Any]:
        return validate_source_spec(value)

    @model_validator(mode="after")
    def _routes_consistent(self) -> TraceLatencyParams:
        for route in self.routes:
            thresholds_for(self, route)  # raises on an inverted pair
        kept = StoreLimits().latency_retention_s
        if self.source["kind"] == "receiver" and self.window > kept:
            raise ValueError(
                f"window: the receiver keeps {window_text(kept)} of latency data; "
                f"use a window of at most {window_text(kept)}"
            )
        return self


def route_matches(pattern: str, route: str) -> bool:
    """``GET /a`` matches itself; ``/a`` matches the route under any method."""
    return pattern == route or route.split(" ", 1)[-1] == pattern


def thresholds_for(params: TraceLatencyParams, route: str) -> Thresholds:
    """The check's thresholds with the first matching route override applied."""
    for pattern, override in params.routes.items():
        if route_matches(pattern, route):
            merged = params.thresholds.model_dump() | override.model_dump(exclude_unset=True)
            try:
                return Thresholds.model_validate(merged)
            except ValueError as exc:
                raise ValueError(f"routes.{pattern}: {exc}") from None
    return params.thresholds


@dataclass(frozen=True)
class RouteVerdict:
    """One route judged against its thresholds."""

    latency: RouteLatency
    thresholds: Thresholds
    status: Status
    reason: str
    judged: bool

    @property
    def figure_ms(self) -> float:
        return self.latency.percentile_ms(self.thresholds.percentile)


def judge_route(latency: RouteLatency, thresholds: Thresholds, min_samples: int) -> RouteVerdict:
    """A route's status from its figures: latency and error ratio, the worse of the two."""
    if latency.count < min_samples:
        return RouteVerdict(latency, thresholds, Status.OK, "", judged=False)
    name = thresholds.percentile
    figure = latency.percentile_ms(name)
    reasons: list[tuple[Status, str]] = []
    if figure > thresholds.critical_ms:
        reasons.append(
            (Status.CRITICAL, f"{name} {figure:,.0f} ms > {thresholds.critical_ms:,g} ms")
        )
    elif figure > thresholds.degraded_ms:
        reasons.append(
            (Status.DEGRADED, f"{name} {figure:,.0f} ms > {thresholds.degraded_ms:,g} ms")
        )
    ratio = latency.error_ratio
    crit, degr = thresholds.error_ratio_critical, thresholds.error_ratio_degraded
    if crit is not None and ratio > crit:
        reasons.append((Status.CRITICAL, f"errors {ratio:.1%} > {crit:.1%}"))
    elif degr is not None and ratio > degr:
        reasons.append((Status.DEGRADED, f"errors {ratio:.1%} > {degr:.1%}"))
    status = worst(s for s, _ in reasons)
    return RouteVerdict(latency, thresholds, status, "; ".join(r for _, r in reasons), judged=True)


def judge(latencies: Sequence[RouteLatency], params: TraceLatencyParams) -> CheckResult:
    """The check's result from per-route figures (pure: the tests drive it with tables)."""
    window = window_text(params.window)
    kept = [
        r for r in latencies if not any(route_matches(p, r.route) for p in params.ignore_routes)
    ]
    if not kept:
        return CheckResult.unknown(
            f"no server spans from service {params.service!r} in the last {window}: "
            "is it sending traces (OTLP to /v1/traces), and is service.name right?"
        )
    verdicts = [judge_route(r, thresholds_for(params, r.route), params.min_samples) for r in kept]
    judged = [v for v in verdicts if v.judged]
    requests = sum(r.count for r in kept)
    skipped = len(verdicts) - len(judged)
    if not judged:
        return CheckResult(
            status=Status.UNKNOWN,
            summary=(
                f"not enough samples: {requests:,} requests over {len(kept)} routes in the last "
                f"{window}, none with the {params.min_samples} needed to judge a route"
            ),
            metrics={"requests": requests, "routes": len(kept), "routes_judged": 0},
        )
    status = worst(v.status for v in judged)
    failing = sorted(
        (v for v in judged if v.status is not Status.OK),
        key=lambda v: (-v.status.severity, -v.figure_ms),
    )
    summary = _summary(failing, judged, requests, window)
    if skipped:
        summary += f"; {skipped} routes with < {params.min_samples} requests not judged"
    errors = sum(r.errors for r in kept)
    return CheckResult(
        status=status,
        summary=summary,
        metrics={
            "requests": requests,
            "errors": errors,
            "error_ratio": errors / requests,
            "routes": len(kept),
            "routes_judged": len(judged),
            "worst_p95_ms": max(v.latency.p95_ms for v in judged),
            "worst_p99_ms": max(v.latency.p99_ms for v in judged),
        },
        evidence=_evidence(failing, judged, params),
    )


def _summary(
    failing: Sequence[RouteVerdict], judged: Sequence[RouteVerdict], requests: int, window: str
) -> str:
    scope = f"{len(judged)} routes, {requests:,} requests in the last {window}"
    if failing:
        head = failing[0]
        more = f" (+{len(failing) - 1} more routes)" if len(failing) > 1 else ""
        return f"{head.latency.route}: {head.reason}{more}; {scope}"
    slowest = max(judged, key=lambda v: v.figure_ms)
    return (
        f"all within thresholds; slowest {slowest.latency.route} "
        f"{slowest.thresholds.percentile} {slowest.figure_ms:,.0f} ms; {scope}"
    )


def _evidence(
    failing: Sequence[RouteVerdict], judged: Sequence[RouteVerdict], params: TraceLatencyParams
) -> tuple[Evidence, ...]:
    rest = sorted((v for v in judged if v.status is Status.OK), key=lambda v: -v.figure_ms)
    shown = [*failing, *rest][: params.show_routes]
    return tuple(
        SlowRoute(
            service=v.latency.service,
            route=v.latency.route,
            count=v.latency.count,
            errors=v.latency.errors,
            p50_ms=round(v.latency.p50_ms, 3),
            p95_ms=round(v.latency.p95_ms, 3),
            p99_ms=round(v.latency.p99_ms, 3),
            window_s=params.window,
            status=v.status,
            reason=v.reason,
            example_trace_ids=tuple(e.trace_id for e in v.latency.examples),
        )
        for v in shown
    )


class TraceLatencyCheck(Check[TraceLatencyParams]):
    """Latency and errors per route of a service, from its spans."""

    Params: ClassVar[type[BaseModel]] = TraceLatencyParams
    uses_trace_source: ClassVar[bool] = True

    async def run(self, ctx: CheckContext) -> CheckResult:
        params = self.params
        source = open_source(params.source)
        latencies = await source.route_latency(ctx, service=params.service, window_s=params.window)
        return judge(latencies, params)
