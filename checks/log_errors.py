"""The ``log_errors`` check: error rate and error signatures over a window of logs.

Status comes from the errors since the active deploy once enough traffic has been seen since it
(``min_entries_since_deploy``); errors from before it are still reported, marked
``before_deploy``. Warnings are reported as their own signatures and only drive the status when
``degraded_warnings`` is set.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from prodguardian.check import Check
from prodguardian.checks.log_counts import report_counts
from prodguardian.checks.log_params import (
    LogCheckParams,
    SeverityName,
    deadline_of,
    format_window,
    log_source,
    severity_of,
    validate_regex,
)
from prodguardian.checks.log_verdict import (
    ColdStartParams,
    DeployBasis,
    RefusedParams,
    cold_start_reason,
    cold_start_signature,
    count_refused,
    critical_signal,
    deploy_basis,
    deployed_at,
    mark_signatures,
    old_errors_go_on,
    recovering_note,
    refused_phrase,
    window_note,
    within,
)
from prodguardian.context import CheckContext
from prodguardian.evidence import ErrorSignature, Evidence, Observation
from prodguardian.logs.classify import BOT_SCAN_PATHS, Classifier, Level, Rule
from prodguardian.logs.cold_start import ColdStartErrors, ColdStartWatch, find_cold_start_errors
from prodguardian.logs.deploy_split import DeploySplit, resolve_split
from prodguardian.logs.fan_out import FanOut
from prodguardian.logs.last_good import last_good_revision
from prodguardian.logs.query import LogQuery, Traffic
from prodguardian.logs.tally import SignatureTally
from prodguardian.result import CheckResult
from prodguardian.status import Status, worst

if TYPE_CHECKING:
    from prodguardian.runbooks.critical import CriticalRunbookOf

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
    """Rates are judged only over at least this many entries (counts always are). Below it the
    check still fails on errors a critical runbook covers, or on errors that would pass
    ``critical_rate`` even over ``min_entries`` entries; otherwise the summary says so."""
    min_entries_since_deploy: int = Field(default=20, ge=1)
    """Entries needed since the deploy before its errors alone decide the status."""
    max_signatures: int = Field(default=10, ge=1, le=200)
    """How many error signatures the evidence lists (errors first, then warnings)."""
    allow_empty: bool = False
    """A window without a single entry in scope is OK instead of UNKNOWN (a service that may
    be silent for the whole window)."""
    refused: RefusedParams = RefusedParams()
    """HTTP 429 and "no available instance" answers: failed requests (or warnings)."""
    cold_start: ColdStartParams = ColdStartParams()
    """5xx clustered within seconds of an instance start on the same instance."""

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


def decide(
    params: LogErrorsParams, basis: Basis, critical_runbooks: Mapping[str, str] | None = None
) -> tuple[Status, list[str]]:
    """The status of ``basis`` and the reasons for it (a pure function).

    ``critical_runbooks`` maps the fingerprints of ``basis``'s signatures that a critical
    runbook covers to that runbook's id (used below ``min_entries``).
    """
    status, reasons = Status.OK, []
    if basis.entries >= params.min_entries:
        if basis.errors and basis.rate >= params.critical_rate:
            status = Status.CRITICAL
            reasons.append(f"error rate {basis.rate:.2f} % ≥ {params.critical_rate:g} %")
        elif basis.errors and basis.rate >= params.degraded_rate:
            status = Status.DEGRADED
            reasons.append(f"error rate {basis.rate:.2f} % ≥ {params.degraded_rate:g} %")
    elif basis.entries:
        status, reasons = judge_few_entries(params, basis, critical_runbooks or {})
    if params.critical_count and basis.errors >= params.critical_count:
        status = Status.CRITICAL
        reasons.append(f"{basis.errors} errors ≥ {params.critical_count}")
    elif params.degraded_count and basis.errors >= params.degraded_count:
        status = worst((status, Status.DEGRADED))
        reasons.append(f"{basis.errors} errors ≥ {params.degraded_count}")
    if params.degraded_warnings and basis.warnings >= params.degraded_warnings:
        status = worst((status, Status.DEGRADED))
        reasons.append(f"{basis.warnings} warnings ≥ {params.degraded_warnings}")
    signal = critical_signal(basis.signatures, _critical_patterns(params))
    if signal is not None:
        status = Status.CRITICAL
        reasons.append(f"critical signal: {signal.message[:120]}")
    return status, reasons


def _critical_patterns(params: LogErrorsParams) -> list[re.Pattern[str]]:
    return [re.compile(p) for p in params.critical_patterns]


def _error_rule(params: LogErrorsParams) -> Rule:
    """The errors rule, with refused statuses added when they count as failed requests."""
    rule = params.errors.to_rule()
    if params.refused.count_as != "errors":
        return rule
    return dataclasses.replace(
        rule, http_statuses=rule.http_statuses | frozenset(params.refused.http_statuses)
    )


def judge_few_entries(
    params: LogErrorsParams, basis: Basis, critical_runbooks: Mapping[str, str]
) -> tuple[Status, list[str]]:
    """Below ``min_entries`` a rate is too noisy to judge, except for what cannot wait: errors a
    critical runbook covers, and errors that pass ``critical_rate`` even if the window had
    held ``min_entries`` entries. Otherwise OK, saying that no rate verdict was given."""
    covered = [s for s in basis.signatures if s.fingerprint in critical_runbooks]
    if covered:
        runbook = critical_runbooks[covered[0].fingerprint]
        count = sum(s.count for s in covered)
        return Status.CRITICAL, [
            f"{count} error(s) that the critical runbook {runbook} covers, although only "
            f"{basis.entries} entries < {params.min_entries} (`min_entries`)"
        ]
    at_least = 100.0 * basis.errors / params.min_entries
    if basis.errors and at_least >= params.critical_rate:
        return Status.CRITICAL, [
            f"{basis.errors} errors in only {basis.entries} entries: at least {at_least:.0f} % "
            f"even over {params.min_entries} entries (≥ {params.critical_rate:g} %)"
        ]
    return Status.OK, [
        f"too few entries to judge the rate: {basis.entries} < {params.min_entries} (`min_entries`)"
    ]


def silent_window(window: str, unreadable: int) -> CheckResult:
    """UNKNOWN for a window without one entry in scope: a monitor that sees nothing says so."""
    skipped = f" ({unreadable} unreadable line(s) skipped)" if unreadable else ""
    return CheckResult(
        status=Status.UNKNOWN,
        summary=(
            f"no entries in scope in the last {window}{skipped}; is the source right? (logs "
            "not shipping, a wrong scope, a file no longer written; set allow_empty: true if "
            "silence is normal)"
        ),
        metrics={"entries": 0.0, "unreadable": float(unreadable)},
    )


def critical_runbooks_of(
    signatures: Iterable[ErrorSignature], find: CriticalRunbookOf | None, kind: str, name: str
) -> dict[str, str]:
    """Fingerprint → critical runbook id, for the signatures such a runbook covers."""
    if find is None:
        return {}
    found = {}
    for sig in signatures:
        runbook = find(sig, kind, name)
        if runbook is not None:
            found[sig.fingerprint] = runbook
    return found


class LogErrorsCheck(Check[LogErrorsParams]):
    """Error rate, error signatures and the before/after-deploy split from a log source."""

    Params = LogErrorsParams
    uses_log_source = True

    async def run(self, ctx: CheckContext) -> CheckResult:
        p = self.params
        source = log_source(ctx, p.source)
        classifier = Classifier(
            errors=_error_rule(p),
            warnings=p.warnings.to_rule(),
            noise_paths=p.noise_paths,
            noise_messages=p.ignore_messages,
        )
        split_at = ctx.deploy.since if ctx.deploy is not None else None
        interest = classifier.interest()
        if p.cold_start.enabled:  # the instance-start lines are INFO: ask for them by text
            interest = dataclasses.replace(interest, text=p.cold_start.start_pattern)
        query = LogQuery(
            window=p.window_at(ctx),
            scope=p.scope.to_scope(),
            interest=interest,
            count_all=True,
            split_at=split_at,
        )
        tally = SignatureTally(classifier, split_at=split_at)
        watch = ColdStartWatch(p.cold_start.start_pattern)
        consumer = FanOut(tally, watch) if p.cold_start.enabled else tally
        traffic = await source.scan(query, consumer, deadline=deadline_of(ctx))
        return self._result(tally, traffic, resolve_split(ctx.deploy, traffic), watch, ctx)

    def _result(
        self,
        tally: SignatureTally,
        traffic: Traffic,
        split: DeploySplit | None,
        watch: ColdStartWatch | None = None,
        ctx: CheckContext | None = None,
    ) -> CheckResult:
        p = self.params
        window = format_window(p.window)
        # No entry at all proves nothing (logs may have stopped shipping), unless the request
        # metric says in so many words that nothing was served.
        measured_idle = traffic.counting is not None and traffic.counting.method == "metric"
        if traffic.total == 0 and not p.allow_empty and not measured_idle:
            return silent_window(window, traffic.unreadable)
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
            going_on = old_errors_go_on(errors, deployed_at(split, traffic))
            judged = deploy_basis(
                since.entries, since.errors, p.min_entries_since_deploy, old_errors_go_on=going_on
            )
            if judged is DeployBasis.SINCE:
                basis = since
            elif judged is DeployBasis.RECOVERING:
                basis, note = since, recovering_note(since.entries, p.min_entries_since_deploy)
                metrics["recovering"] = 1
            else:
                note = window_note(
                    since.entries,
                    since.errors,
                    p.min_entries_since_deploy,
                    split.describe(),
                    old_errors_go_on=going_on,
                )
        covered: dict[str, str] = {}
        if basis.entries < p.min_entries and ctx is not None:
            covered = critical_runbooks_of(
                basis.signatures, ctx.critical_runbook, self.kind, self.name
            )
        status, reasons = decide(p, basis, covered)
        cold = self._cold_start(watch, split if basis is not whole else None)
        status = self._beyond_rates(status, reasons, metrics, basis, cold)
        counts = report_counts(
            traffic.counting,
            errors=total_errors,
            thresholds={"degraded_rate": p.degraded_rate, "critical_rate": p.critical_rate},
        )
        metrics.update(counts.metrics)
        reasons += counts.warnings
        summary = _summary(basis, status, reasons, whole if basis is not whole else None, note)
        summary = counts.applied_to(summary)
        current = sum(1 for s in errors if not s.before_deploy)
        summary += _caps_note(traffic.unreadable, current, p.max_signatures)
        evidence: list[Evidence] = [counts.evidence] if counts.evidence else []
        if split is not None:
            evidence.append(
                Observation(label="deploy", text=_deploy_text(split, basis, whole, note))
            )
        if cold is not None:
            evidence.append(cold_start_signature(cold))
        signal = critical_signal(basis.signatures, _critical_patterns(p))
        errors = mark_signatures(
            errors, signal=signal, window_decides=split is not None and basis is whole
        )
        last_good = last_good_revision(traffic, tally.errors_by_revision())
        if last_good is not None:
            evidence.append(last_good)
        evidence += _pick(errors, warnings, p.max_signatures)
        return CheckResult(
            status=status, summary=summary, metrics=metrics, evidence=tuple(evidence)
        )

    def _beyond_rates(
        self,
        status: Status,
        reasons: list[str],
        metrics: dict[str, float],
        basis: Basis,
        cold: ColdStartErrors | None,
    ) -> Status:
        """The cold-start pattern and refused requests: the status, reasons and metrics."""
        p = self.params
        if cold is not None:
            status = worst((status, Status[p.cold_start.status]))
            reasons.append(cold_start_reason(cold))
            metrics["cold_start_errors"] = len(cold.clustered)
        refused = count_refused(basis.signatures, p.refused)
        if refused.count:
            metrics["refused"] = refused.count
            reasons.append(refused_phrase(refused, p.refused.count_as))
        return status

    def _cold_start(
        self, watch: ColdStartWatch | None, split: DeploySplit | None
    ) -> ColdStartErrors | None:
        """The cold-start pattern among the entries that decide, when it is there."""
        rules = self.params.cold_start
        if watch is None or not rules.enabled:
            return None
        found = find_cold_start_errors(
            watch.starts,
            watch.failures,
            within=within(rules),
            counts=split.after if split is not None else lambda revision, at: True,
        )
        return found if rules.triggered(found) else None


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
        top = max(basis.signatures, key=lambda s: s.count)  # the first of the most frequent
        name = f"{top.exception_type}: {top.message}" if top.exception_type else top.message
        parts.append(f"top: {name[:140]} (×{top.count})")
    if whole is not None and whole.errors > basis.errors:
        parts.append(f"{whole.errors - basis.errors} older errors before the deploy not counted")
    if note:
        parts.append(note)
    if basis.warnings:
        parts.append(f"{basis.warnings} warnings")
    return "; ".join(parts)


def _caps_note(unreadable: int, signatures: int, shown: int) -> str:
    """What the summary must not hide: lines skipped as unreadable, signatures left out."""
    parts = []
    if unreadable:
        parts.append(f"{unreadable} unreadable line(s) skipped")
    if signatures > shown:
        parts.append(f"{shown} of {signatures} error signatures shown (`max_signatures`)")
    return "".join(f"; {part}" for part in parts)


def _deploy_text(split: DeploySplit, basis: Basis, whole: Basis, note: str) -> str:
    if basis is whole:
        return f"{split.describe()}: {note}"
    text = (
        f"status from {basis.entries} entries {basis.label} ({basis.errors} errors); "
        f"{whole.errors - basis.errors} errors in the window are from before it"
    )
    return f"{text}; {note}" if note else text


def _pick(
    errors: list[ErrorSignature], warnings: list[ErrorSignature], limit: int
) -> list[ErrorSignature]:
    out: list[ErrorSignature] = []
    for group in (errors, warnings):
        for before in (False, True):
            out += [s for s in group if s.before_deploy is before][:limit]
    return out
