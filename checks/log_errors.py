"""The ``log_errors`` check: error rate and error signatures over a window of logs.

Status comes from the errors since the active deploy once enough traffic has been seen since it
(``min_entries_since_deploy``); errors from before it are still reported, marked
``before_deploy``. Warnings are reported as their own signatures and only drive the status when
``degraded_warnings`` is set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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
from prodguardian.evidence import ErrorSignature, Evidence, Observation
from prodguardian.logs.classify import BOT_SCAN_PATHS, Classifier, Level, Rule
from prodguardian.logs.deploy_split import DeploySplit, resolve_split
from prodguardian.logs.query import LogQuery, Traffic
from prodguardian.logs.tally import SignatureTally
from prodguardian.result import CheckResult
from prodguardian.status import Status, worst

DEFAULT_CRITICAL_PATTERNS = (
    r"Memory limit of \d+ \w+ exceeded",
    r"is not ready and cannot serve traffic",
)


class RuleParams(BaseModel):
    """What counts: a severity at or above, an HTTP status at or above, or listed statuses."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_severity: SeverityName | None = "ERROR"
    """Entries at or above this severity count (null: severity alone never does)."""
    http_status_at_least: int | None = Field(default=500, ge=100, le=599)
    """Request-log entries with an HTTP status at or above this count (null: none)."""
    http_statuses: tuple[int, ...] = ()
    """Request-log entries with one of these HTTP statuses count too."""

    def to_rule(self) -> Rule:
        return Rule(
            min_severity=severity_of(self.min_severity),
            min_http_status=self.http_status_at_least,
            http_statuses=frozenset(self.http_statuses),
        )


class WarningRuleParams(RuleParams):
    """What counts as a warning (when it is not an error): same keys, other defaults."""

    min_severity: SeverityName | None = "WARNING"
    http_status_at_least: int | None = Field(default=None, ge=100, le=599)
    http_statuses: tuple[int, ...] = (429,)


class LogErrorsParams(LogCheckParams):
    """``kind: log_errors``."""

    errors: RuleParams = RuleParams()
    """What counts as an error."""
    warnings: WarningRuleParams = WarningRuleParams()
    """What counts as a warning: reported as signatures, and in the status only through
    ``degraded_warnings``."""
    noise_paths: tuple[str, ...] = BOT_SCAN_PATHS
    """Request paths whose 4xx answers are bot scans, not findings (regexes)."""
    ignore_messages: tuple[str, ...] = ()
    """Messages that are never findings (regexes)."""
    degraded_rate: float = Field(default=5.0, ge=0, le=100)
    """Error rate (percent of in-scope entries) at or above which the check is DEGRADED."""
    critical_rate: float = Field(default=25.0, ge=0, le=100)
    """Error rate (percent) at or above which the check is CRITICAL."""
    degraded_count: int | None = Field(default=None, ge=1)
    """This many errors in the window make the check DEGRADED, whatever the rate."""
    critical_count: int | None = Field(default=None, ge=1)
    """This many errors in the window make the check CRITICAL, whatever the rate."""
    degraded_warnings: int | None = Field(default=None, ge=1)
    """This many warnings in the window make the check DEGRADED (null: warnings never do)."""
    critical_patterns: tuple[str, ...] = DEFAULT_CRITICAL_PATTERNS
    """Any error whose message matches one of these makes the check CRITICAL."""
    min_entries: int = Field(default=10, ge=1)
    """Rates are judged only over at least this many entries (counts always are)."""
    min_entries_since_deploy: int = Field(default=20, ge=1)
    """Entries needed since the deploy before its errors alone decide the status."""
    max_signatures: int = Field(default=10, ge=1, le=200)
    """How many error signatures the evidence lists (errors first, then warnings)."""

    @field_validator("noise_paths", "ignore_messages", "critical_patterns")
    @classmethod
    def _regexes(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(validate_regex(v) for v in values)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.critical_rate < self.degraded_rate:
            raise ValueError("critical_rate must be at least degraded_rate")
        if (
            self.degraded_count
            and self.critical_count
            and self.critical_count < self.degraded_count
        ):
            raise ValueError("critical_count must be at least degraded_count")
        return self


@dataclass(frozen=True, slots=True)
class Basis:
    """The entries the status is judged on: the whole window, or since the deploy."""

    label: str
    entries: int
    errors: int
    warnings: int
    signatures: tuple[ErrorSignature, ...]

    @property
    def rate(self) -> float:
        return 100.0 * self.errors / self.entries if self.entries else 0.0


def decide(params: LogErrorsParams, basis: Basis) -> tuple[Status, list[str]]:
    """The status of ``basis`` and the reasons for it (a pure function)."""
    status, reasons = Status.OK, []
    if basis.entries >= params.min_entries:
        if basis.errors and basis.rate >= params.critical_rate:
            status = Status.CRITICAL
            reasons.append(f"error rate {basis.rate:.2f} % ≥ {params.critical_rate:g} %")
        elif basis.errors and basis.rate >= params.degraded_rate:
            status = Status.DEGRADED
            reasons.append(f"error rate {basis.rate:.2f} % ≥ {params.degraded_rate:g} %")
    if params.critical_count and basis.errors >= params.critical_count:
        status = Status.CRITICAL
        reasons.append(f"{basis.errors} errors ≥ {params.critical_count}")
    elif params.degraded_count and basis.errors >= params.degraded_count:
        status = worst((status, Status.DEGRADED))
        reasons.append(f"{basis.errors} errors ≥ {params.degraded_count}")
    if params.degraded_warnings and basis.warnings >= params.degraded_warnings:
        status = worst((status, Status.DEGRADED))
        reasons.append(f"{basis.warnings} warnings ≥ {params.degraded_warnings}")
    patterns = [re.compile(p) for p in params.critical_patterns]
    for sig in basis.signatures:
        hit = next((p for p in patterns if p.search(sig.message) or p.search(sig.sample)), None)
        if hit is not None:
            status = Status.CRITICAL
            reasons.append(f"critical signal: {sig.message[:120]}")
            break
    return status, reasons


class LogErrorsCheck(Check[LogErrorsParams]):
    """Error rate, error signatures and the before/after-deploy split from a log source."""

    Params = LogErrorsParams
    uses_log_source = True

    async def run(self, ctx: CheckContext) -> CheckResult:
        p = self.params
        source = log_source(ctx, p.source)
        classifier = Classifier(
            errors=p.errors.to_rule(),
            warnings=p.warnings.to_rule(),
            noise_paths=p.noise_paths,
            noise_messages=p.ignore_messages,
        )
        split_at = ctx.deploy.since if ctx.deploy is not None else None
        query = LogQuery(
            window=p.window_at(ctx),
            scope=p.scope.to_scope(),
            interest=classifier.interest(),
            count_all=True,
            split_at=split_at,
        )
        tally = SignatureTally(classifier, split_at=split_at)
        traffic = await source.scan(query, tally, deadline=deadline_of(ctx))
        return self._result(tally, traffic, resolve_split(ctx.deploy, traffic))

    def _result(
        self, tally: SignatureTally, traffic: Traffic, split: DeploySplit | None
    ) -> CheckResult:
        p = self.params
        window = format_window(p.window)
        errors = tally.signatures(Level.ERROR, split)
        warnings = tally.signatures(Level.WARNING, split)
        total_errors = tally.count(Level.ERROR)
        whole = Basis(
            label=f"in the last {window}",
            entries=traffic.total,
            errors=total_errors,
            warnings=tally.count(Level.WARNING),
            signatures=tuple(errors),
        )
        basis, note = whole, ""
        metrics: dict[str, float] = {
            "entries": traffic.total,
            "errors": total_errors,
            "error_rate_pct": round(whole.rate, 4),
            "warnings": whole.warnings,
            "noise": tally.noise,
            "signatures": len({s.fingerprint for s in errors}),
            "warning_signatures": len({s.fingerprint for s in warnings}),
            "unreadable": traffic.unreadable,
            "window_s": self.params.window,
        }
        if split is not None:
            since = Basis(
                label=f"since the {split.describe()}",
                entries=split.traffic_since(traffic),
                errors=tally.count(Level.ERROR, split, after=True),
                warnings=tally.count(Level.WARNING, split, after=True),
                signatures=tuple(s for s in errors if not s.before_deploy),
            )
            metrics.update(
                entries_since_deploy=since.entries,
                errors_since_deploy=since.errors,
                error_rate_since_deploy_pct=round(since.rate, 4),
                errors_before_deploy=total_errors - since.errors,
            )
            if since.entries >= p.min_entries_since_deploy:
                basis = since
            else:
                note = (
                    f"only {since.entries} entries since the {split.describe()} "
                    f"(< {p.min_entries_since_deploy}), so the whole window decides"
                )
        status, reasons = decide(p, basis)
        summary = _summary(basis, status, reasons, whole if basis is not whole else None, note)
        evidence: list[Evidence] = []
        if split is not None:
            evidence.append(
                Observation(label="deploy", text=_deploy_text(split, basis, whole, note))
            )
        evidence += _pick(errors, warnings, p.max_signatures)
        return CheckResult(
            status=status, summary=summary, metrics=metrics, evidence=tuple(evidence)
        )


def _summary(
    basis: Basis, status: Status, reasons: list[str], whole: Basis | None, note: str
) -> str:
    head = (
        f"{basis.errors} of {basis.entries} entries are errors ({basis.rate:.2f} %) {basis.label}"
    )
    if basis.entries == 0:
        head = f"no log entries {basis.label}"
    parts = [head]
    if reasons:
        parts.append("; ".join(reasons))
    if basis.signatures:
        top = basis.signatures[0]
        name = f"{top.exception_type}: {top.message}" if top.exception_type else top.message
        parts.append(f"top: {name[:140]} (×{top.count})")
    if whole is not None and whole.errors > basis.errors:
        parts.append(f"{whole.errors - basis.errors} older errors before the deploy not counted")
    if note:
        parts.append(note)
    if basis.warnings:
        parts.append(f"{basis.warnings} warnings")
    return "; ".join(parts)


def _deploy_text(split: DeploySplit, basis: Basis, whole: Basis, note: str) -> str:
    if basis is whole:
        return f"{split.describe()}: {note}"
    return (
        f"status from {basis.entries} entries {basis.label} ({basis.errors} errors); "
        f"{whole.errors - basis.errors} errors in the window are from before it"
    )


def _pick(
    errors: list[ErrorSignature], warnings: list[ErrorSignature], limit: int
) -> list[ErrorSignature]:
    out: list[ErrorSignature] = []
    for group in (errors, warnings):
        for before in (False, True):
            out += [s for s in group if s.before_deploy is before][:limit]
    return out
