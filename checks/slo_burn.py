"""``slo_burn``: multi-window, multi-burn-rate alerting on an availability SLO (SRE workbook).

Config::

    - name: api-availability
      kind: slo_burn
      service: api
      objective: 99.9             # percent of requests that succeed, over `period`
      period: 30d
      # rules: the workbook's defaults, written out
      #   - {alert: page,   long: 1h, short: 5m,  burn_rate: 14.4}
      #   - {alert: page,   long: 6h, short: 30m, burn_rate: 6}
      #   - {alert: ticket, long: 3d, short: 6h,  burn_rate: 1}
      min_requests: 10            # a rule whose long window saw fewer is not judged

A request fails when its server span has status ERROR or a 5xx code. The burn rate of a window is
its error ratio divided by the error budget (``1 - objective``): 1× spends the budget exactly over
the period, 14.4× spends 2 % of a 30-day budget in one hour. A rule fires when *both* its windows
burn at least its rate (the long one proves it matters, the short one that it is still going on);
a firing ``page`` rule is CRITICAL, a firing ``ticket`` rule DEGRADED.

Requests come from spans (the receiver source: every request, not a sample). Request logs are
not a source: counting 30 days of them means reading every entry on every run (Cloud Logging
has no count API), the "download everything" the design rules out; a log-based metric would be
the way, and is not built.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from prodguardian.check import Check
from prodguardian.config.duration import Duration
from prodguardian.context import CheckContext
from prodguardian.evidence import BurnRate, Evidence, Observation
from prodguardian.result import CheckResult
from prodguardian.status import Status
from prodguardian.traces.model import RequestCounts, window_text
from prodguardian.traces.source import DEFAULT_SOURCE, open_source, validate_source_spec
from prodguardian.traces.store import StoreLimits


class BurnRule(BaseModel):
    """Fire when both windows burn the budget at least ``burn_rate`` times too fast."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    alert: Literal["page", "ticket"]
    """``page`` fires CRITICAL, ``ticket`` DEGRADED."""
    long: Duration
    """The long window (``1h``)."""
    short: Duration
    """The short window (``5m``), shorter than ``long``: it stops the alert soon after a fix."""
    burn_rate: float = Field(gt=0)
    """How many times faster than sustainable the budget must burn in both windows."""

    @model_validator(mode="after")
    def _short_is_shorter(self) -> BurnRule:
        if self.short >= self.long:
            raise ValueError(f"short window ({self.short:g} s) must be shorter than long")
        return self


DEFAULT_RULES: tuple[BurnRule, ...] = (
    BurnRule(alert="page", long=3600, short=300, burn_rate=14.4),
    BurnRule(alert="page", long=6 * 3600, short=1800, burn_rate=6.0),
    BurnRule(alert="ticket", long=3 * 86400, short=6 * 3600, burn_rate=1.0),
)


class SloBurnParams(BaseModel):
    """``kind: slo_burn``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    service: str = Field(min_length=1)
    """The service whose requests are counted (the spans' ``service.name``)."""
    objective: float = Field(default=99.9, gt=0, lt=100)
    """Availability target in percent, e.g. 99.9."""
    period: Duration = 30 * 86400.0
    """The SLO's period: the error budget is ``100 - objective`` percent of its requests."""
    rules: tuple[BurnRule, ...] = DEFAULT_RULES
    """The burn-rate rules (default: the SRE workbook's 14.4× 1h/5m and 6× 6h/30m pages, 1×
    3d/6h ticket)."""
    min_requests: int = Field(default=10, ge=1)
    """A rule whose long window saw fewer requests is not judged (and says so)."""
    source: dict[str, Any] = Field(default_factory=lambda: dict(DEFAULT_SOURCE))
    """Where request counts come from: a source that sees every request (``receiver``)."""

    @field_validator("source", mode="before")
    @classmethod
    def _counting_source(cls, value: object) -> dict[str, Any]:
        return validate_source_spec(value, need_counts=True)

    @model_validator(mode="after")
    def _windows_fit(self) -> SloBurnParams:
        if not self.rules:
            raise ValueError("rules: give at least one rule (or leave the key out for defaults)")
        longest = max(r.long for r in self.rules)
        if longest > self.period:
            raise ValueError(f"a rule's long window ({longest:g} s) is longer than the period")
        kept = StoreLimits().coarse_retention_s
        if self.source["kind"] == "receiver" and self.period > kept:
            raise ValueError(
                f"period: the receiver keeps {window_text(kept)} of request counts; "
                f"use a period of at most {window_text(kept)}"
            )
        return self

    @property
    def budget(self) -> float:
        """The error budget as a ratio: 0.001 for 99.9 %."""
        return round(1.0 - self.objective / 100.0, 12)


@dataclass(frozen=True)
class RuleOutcome:
    """One rule evaluated: both windows' burn rates and whether it fires."""

    rule: BurnRule
    long: RequestCounts
    short: RequestCounts
    long_rate: float
    short_rate: float
    judged: bool
    firing: bool


def burn_rate(counts: RequestCounts, budget: float) -> float:
    """How many times faster than allowed the window spends the budget (0 with no requests)."""
    return counts.error_ratio / budget


def budget_remaining(period: RequestCounts, budget: float) -> float:
    """Share of the period's error budget left: 1 untouched, 0 spent, negative overspent."""
    if period.total == 0:
        return 1.0
    return 1.0 - period.errors / (budget * period.total)


def evaluate_rule(
    rule: BurnRule, counts: Mapping[float, RequestCounts], budget: float, min_requests: int
) -> RuleOutcome:
    """Whether ``rule`` fires on these counts (pure)."""
    long, short = counts[rule.long], counts[rule.short]
    long_rate, short_rate = burn_rate(long, budget), burn_rate(short, budget)
    judged = long.total >= min_requests and short.total > 0
    # "At least the rate", with room for float noise (0.0144 / 0.001 is 14.3999...).
    at_least = rule.burn_rate * (1 - 1e-9)
    firing = judged and long_rate >= at_least and short_rate >= at_least
    return RuleOutcome(rule, long, short, long_rate, short_rate, judged, firing)


def status_of(outcomes: Sequence[RuleOutcome]) -> Status:
    """CRITICAL when a page rule fires, DEGRADED when only a ticket rule does, else OK."""
    alerts = {o.rule.alert for o in outcomes if o.firing}
    if "page" in alerts:
        return Status.CRITICAL
    if "ticket" in alerts:
        return Status.DEGRADED
    return Status.OK


def windows_needed(params: SloBurnParams) -> list[float]:
    """Every window the rules and the budget read, each once, longest first."""
    return sorted(
        {params.period, *(w for r in params.rules for w in (r.long, r.short))}, reverse=True
    )


def judge(counts: Mapping[float, RequestCounts], params: SloBurnParams) -> CheckResult:
    """The check's result from request counts per window (pure: table-driven tests use it)."""
    period = counts[params.period]
    objective = f"{params.objective:g} %"
    if period.total == 0:
        return CheckResult.unknown(
            f"no requests from service {params.service!r} in the last "
            f"{window_text(params.period)}: cannot measure the {objective} SLO "
            "(is the service sending traces to /v1/traces?)"
        )
    budget = params.budget
    outcomes = [evaluate_rule(r, counts, budget, params.min_requests) for r in params.rules]
    status = status_of(outcomes)
    left = budget_remaining(period, budget)
    summary = _summary(outcomes, status, objective, left, params)
    if period.covered_s < params.period * 0.99:
        summary += f" (data for {_about(period.covered_s)} so far)"
    return CheckResult(
        status=status,
        summary=summary,
        metrics={
            "budget_remaining": left,
            "error_ratio": period.error_ratio,
            "requests": period.total,
            "errors": period.errors,
            **{f"burn_rate_{window_text(w)}": burn_rate(counts[w], budget) for w in counts},
        },
        evidence=_evidence(outcomes, period, left, params),
    )


def _summary(
    outcomes: Sequence[RuleOutcome],
    status: Status,
    objective: str,
    left: float,
    params: SloBurnParams,
) -> str:
    period = window_text(params.period)
    if left >= 0:
        budget_text = f"{left:.0%} of the {period} error budget left"
    else:
        budget_text = f"the {period} error budget is spent ({-left:.0%} over)"
    firing = [o for o in outcomes if o.firing]
    if firing:
        top = max(firing, key=lambda o: (o.rule.alert == "page", o.long_rate))
        return (
            f"burning the {objective} error budget {top.long_rate:.1f}× over "
            f"{window_text(top.rule.long)} and {top.short_rate:.1f}× over "
            f"{window_text(top.rule.short)} (≥ {top.rule.burn_rate:g}×: {top.rule.alert}); "
            f"{budget_text}"
        )
    unjudged = [o for o in outcomes if not o.judged]
    fastest = max(outcomes, key=lambda o: o.long_rate)
    text = (
        f"within the {objective} SLO: burn {fastest.long_rate:.2f}× over "
        f"{window_text(fastest.rule.long)}; {budget_text}"
    )
    if unjudged:
        text += (
            f"; {len(unjudged)} rules not judged (< {params.min_requests} requests "
            "in their long window)"
        )
    return text


def _about(seconds: float) -> str:
    """A rough duration: ``3d``, ``2.5h``, ``40m``, ``12s``."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{round(seconds / size, 1):g}{unit}"
    return f"{seconds:.0f}s"


def _evidence(
    outcomes: Sequence[RuleOutcome], period: RequestCounts, left: float, params: SloBurnParams
) -> tuple[Evidence, ...]:
    items: list[Evidence] = []
    for o in outcomes:
        for counts, rate in ((o.long, o.long_rate), (o.short, o.short_rate)):
            items.append(
                BurnRate(
                    window_s=counts.window_s,
                    requests=counts.total,
                    errors=counts.errors,
                    burn_rate=round(rate, 4),
                    threshold=o.rule.burn_rate,
                    alert=o.rule.alert,
                    firing=o.firing,
                    budget_remaining=round(left, 4),
                )
            )
    allowed = params.budget * period.total
    items.append(
        Observation(
            label="error budget",
            text=(
                f"{left:.1%} left of {window_text(params.period)} at {params.objective:g} %: "
                f"{period.errors:,} failed of {period.total:,} requests "
                f"({allowed:,.1f} failures allowed so far)"
            ),
        )
    )
    return tuple(items)


class SloBurnCheck(Check[SloBurnParams]):
    """Error-budget burn of an availability SLO, judged on several windows at once."""

    Params: ClassVar[type[BaseModel]] = SloBurnParams
    uses_trace_source: ClassVar[bool] = True

    async def run(self, ctx: CheckContext) -> CheckResult:
        params = self.params
        source = open_source(params.source)
        windows = windows_needed(params)
        found = await source.request_counts(ctx, service=params.service, windows=windows)
        return judge(dict(zip(windows, found, strict=True)), params)
