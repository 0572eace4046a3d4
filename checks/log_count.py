"""The ``log_count`` check: how often a pattern occurs per hour, with thresholds.

``Database reconnected successfully`` < 5/h after the hotfix; no ``[PreferenceExtractor]
Cannot extract`` warning since the deploy. The rate is count ÷ hours, a period shorter than an
hour counting as one (a count over ten minutes says nothing about a full hour yet).
"""

from __future__ import annotations

import re
from collections import deque
from datetime import datetime
from typing import Self

from pydantic import Field, field_validator, model_validator

from prodguardian.check import Check
from prodguardian.checks.log_params import (
    LogCheckParams,
    SeverityName,
    deadline_of,
    format_window,
    log_source,
    severity_of,
    validate_regex,
)
from prodguardian.context import CheckContext
from prodguardian.deploy import ActiveDeploy
from prodguardian.evidence import Evidence, LogLine, Observation
from prodguardian.logs.entry import LogEntry, Severity
from prodguardian.logs.query import Interest, LogQuery
from prodguardian.result import CheckResult
from prodguardian.status import Status


class LogCountParams(LogCheckParams):
    """``kind: log_count``."""

    pattern: str
    """A regex on the message (RE2 syntax, so Cloud Logging can filter on it)."""
    min_severity: SeverityName | None = None
    """Count only entries at or above this severity (null: any)."""
    since_deploy: bool = False
    """Count only since the active deploy (its time, or its revision's entries)."""
    degraded_per_hour: float | None = Field(default=None, gt=0)
    """At or above this many per hour, DEGRADED."""
    critical_per_hour: float | None = Field(default=None, gt=0)
    """At or above this many per hour, CRITICAL."""
    samples: int = Field(default=3, ge=0, le=20)
    """How many of the latest matching entries the evidence shows."""

    @field_validator("pattern")
    @classmethod
    def _regex(cls, value: str) -> str:
        return validate_regex(value)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        d, c = self.degraded_per_hour, self.critical_per_hour
        if d is not None and c is not None and c < d:
            raise ValueError("critical_per_hour must be at least degraded_per_hour")
        return self


class PatternCounter:
    """The consumer of a ``log_count`` scan: counts matches, keeps the latest few."""

    def __init__(
        self,
        pattern: str,
        *,
        min_severity: Severity | None,
        deploy: ActiveDeploy | None,
        samples: int,
    ) -> None:
        self._pattern = re.compile(pattern)
        self._min = min_severity
        self._deploy = deploy
        self.count = 0
        self.first: datetime | None = None
        self.last: datetime | None = None
        self.samples: deque[LogEntry] = deque(maxlen=samples)

    def add(self, entry: LogEntry) -> None:
        if self._min is not None and entry.severity < self._min:
            return
        if not self._pattern.search(entry.text):
            return
        deploy = self._deploy
        if deploy is not None:
            if deploy.since is not None and entry.timestamp < deploy.since:
                return
            if deploy.revision and entry.revision and entry.revision != deploy.revision:
                return
        self.count += 1
        self.first = entry.timestamp if self.first is None else min(self.first, entry.timestamp)
        self.last = entry.timestamp if self.last is None else max(self.last, entry.timestamp)
        if self.samples.maxlen:
            self.samples.append(entry)


class LogCountCheck(Check[LogCountParams]):
    """How often a pattern occurs per hour."""

    Params = LogCountParams
    uses_log_source = True

    async def run(self, ctx: CheckContext) -> CheckResult:
        p = self.params
        source = log_source(ctx, p.source)
        window = p.window_at(ctx)
        deploy = ctx.deploy if p.since_deploy else None
        if deploy is not None and not (deploy.since or deploy.revision):
            deploy = None
        counter = PatternCounter(
            p.pattern, min_severity=severity_of(p.min_severity), deploy=deploy, samples=p.samples
        )
        query = LogQuery(
            window=window,
            scope=p.scope.to_scope(),
            interest=Interest(min_severity=None, min_http_status=None, text=p.pattern),
            count_all=False,
            split_at=deploy.since if deploy is not None else None,
        )
        traffic = await source.scan(query, counter, deadline=deadline_of(ctx))
        start = window.start
        if deploy is not None and deploy.since is not None and deploy.since > start:
            start = deploy.since
        elif deploy is not None and deploy.revision:
            slot = traffic.revisions.get(deploy.revision)
            if slot is not None and slot.first_seen is not None:
                start = max(start, slot.first_seen)
        hours = max((window.end - start).total_seconds() / 3600.0, 1.0)
        rate = counter.count / hours
        status = Status.OK
        if p.critical_per_hour is not None and rate >= p.critical_per_hour:
            status = Status.CRITICAL
        elif p.degraded_per_hour is not None and rate >= p.degraded_per_hour:
            status = Status.DEGRADED
        period = (
            f"since the deploy ({deploy.revision or deploy.since})"
            if deploy is not None
            else f"in the last {format_window(p.window)}"
        )
        summary = f"{counter.count} × /{p.pattern}/ {period}: {rate:.2f}/h"
        limit = p.critical_per_hour if status is Status.CRITICAL else p.degraded_per_hour
        if status is not Status.OK and limit is not None:
            summary += f" ≥ {limit:g}/h"
        elif p.degraded_per_hour is not None:
            summary += f" (< {p.degraded_per_hour:g}/h)"
        if p.since_deploy and deploy is None:
            summary += "; no active deploy known, counted the whole window"
        evidence: list[Evidence] = [
            LogLine(
                timestamp=e.timestamp,
                severity=e.severity.name,
                text=e.text[:2000],
                revision=e.revision,
            )
            for e in counter.samples
        ]
        if counter.first is not None and counter.last is not None:
            evidence.insert(
                0,
                Observation(
                    label="occurrences",
                    text=f"{counter.count} between {counter.first.isoformat()} and "
                    f"{counter.last.isoformat()}",
                ),
            )
        metrics = {
            "count": float(counter.count),
            "per_hour": round(rate, 4),
            "hours": hours,
            "window_s": self.params.window,
        }
        return CheckResult(
            status=status, summary=summary, metrics=metrics, evidence=tuple(evidence)
        )
