"""The correlator: a report's failing evidence → the runbooks that apply, and what none covers.

Pure: it reads a report (or any list of observed failures) and a compiled matcher, and returns
findings; it never loads files or talks to anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from prodguardian.evidence import ErrorSignature, FailedCondition, LogLine, Observation
from prodguardian.logs.last_good import LAST_GOOD_LABEL
from prodguardian.runbooks.body import Step, fix_steps
from prodguardian.runbooks.findings import (
    Explanation,
    NoRunbook,
    PlannedFollowUp,
    RunbookFinding,
    RunbookMatch,
)
from prodguardian.runbooks.matcher import Candidate, RunbookMatcher
from prodguardian.runbooks.model import Runbook, format_offset
from prodguardian.runbooks.placeholders import fill, values_from_texts
from prodguardian.runbooks.ranking import Explained, rank
from prodguardian.runbooks.scaffold import scaffold, scaffold_command, suggested_id
from prodguardian.runbooks.subject import (
    MatchSubject,
    from_condition,
    from_log_line,
    from_signature,
    from_text,
)
from prodguardian.status import Status

if TYPE_CHECKING:
    from prodguardian.config.models import ServiceConfig
    from prodguardian.report import Report
    from prodguardian.result import CheckRun

#: Fix steps shown in a report; the runbook has all of them.
FIRST_STEPS = 3
#: Evidence descriptions kept per match, and failures without a runbook kept per report.
MAX_EVIDENCE = 5
MAX_NO_RUNBOOK = 5
#: Subjects per runbook whose texts fill placeholders (the first ones are enough).
MAX_VALUE_SUBJECTS = 20
#: A bare 5xx (a route, no message) seen this close to a failure a runbook matched in the same check
#: joins that match: the 500s on /api/threads during a cold start are the cold start's, and the
#: request log's 500 beside a traceback is that traceback's request, not a failure of its own.
SAME_WINDOW = timedelta(seconds=30)
MAX_PENDING_5XX = 50
#: A bare 5xx of a revision whose deciding signal a runbook explains (it cannot start, say)
#: joins that runbook whenever it happened: it follows from that failure.
SAME_REVISION_REASON = "a 5xx of the revision whose deciding failure this runbook explains"

_FAILING = (Status.DEGRADED, Status.CRITICAL)


@dataclass(frozen=True, slots=True)
class Observed:
    """One failure to correlate: the subject, and whether it deserves a runbook of its own."""

    subject: MatchSubject
    error_like: bool = True
    """An error signature or log line: reported as "no runbook" when nothing matches."""
    fingerprint: str | None = None
    failing: bool = True
    """Whether it comes from a DEGRADED or CRITICAL check (or a passing check's warnings)."""
    signal: bool = False
    """It decided its check's status by itself: the runbook explaining it ranks first."""


def correlate(
    report: Report,
    matcher: RunbookMatcher,
    *,
    service: ServiceConfig | None = None,
) -> tuple[RunbookFinding, ...]:
    """The runbook findings of ``report``'s failing checks, best match first."""
    values = service_values(service)
    deployed = report.deploy.revision if report.deploy else None
    fallback = {"revision": deployed} if deployed else {}
    last_good = last_good_of(report)
    if last_good is not None:
        fallback["last_good_revision"] = last_good
    return correlate_observed(report_failures(report), matcher, values, fallback=fallback)


def last_good_of(report: Report) -> str | None:
    """The revision a log check found serving without errors beside a failing one, if any."""
    for run in report.checks:
        for item in run.result.evidence:
            if isinstance(item, Observation) and item.label == LAST_GOOD_LABEL and item.value:
                return item.value
    return None


def service_values(service: ServiceConfig | None) -> dict[str, str]:
    """Placeholder values from the config's ``service`` section."""
    if service is None:
        return {}
    values = {"service": service.name}
    if service.region:
        values["region"] = service.region
    if service.project:
        values["project"] = service.project
    return values


def report_failures(report: Report) -> Iterator[Observed]:
    """The evidence of every DEGRADED or CRITICAL check, as match subjects.

    Error signatures from before the active deploy are skipped (they are what the deploy
    fixed) unless they still counted in the status: then they are what must be explained.
    A failing check without evidence is matched on its summary. Signatures that a passing check
    still reports (warnings below its thresholds, such as a 429 storm) are matched too, so a
    known failure is recognised before it trips a threshold.
    """
    for run in report.checks:
        if run.status in _FAILING:
            yield from _run_failures(run)
        elif run.status is Status.OK:
            yield from _known_in_passing(run)


def _known_in_passing(run: CheckRun) -> Iterator[Observed]:
    """Signatures of a passing check (warnings under thresholds): matched, never "no runbook"."""
    for item in run.result.evidence:
        if isinstance(item, ErrorSignature) and not item.before_deploy:
            subject = from_signature(item, check_kind=run.kind, check_name=run.name)
            yield Observed(subject, error_like=False, fingerprint=item.fingerprint, failing=False)


def _run_failures(run: CheckRun) -> Iterator[Observed]:
    kind, name = run.kind, run.name
    produced = False
    for item in run.result.evidence:
        if isinstance(item, ErrorSignature):
            if item.before_deploy and not item.before_deploy_counted:
                continue
            subject = from_signature(item, check_kind=kind, check_name=name)
            yield Observed(subject, fingerprint=item.fingerprint, signal=item.signal)
        elif isinstance(item, FailedCondition):
            subject = from_condition(item, check_kind=kind, check_name=name)
            yield Observed(subject, error_like=False)
        elif isinstance(item, LogLine):
            yield Observed(from_log_line(item, check_kind=kind, check_name=name))
        elif isinstance(item, Observation):
            subject = from_text(f"{item.label}: {item.text}", check_kind=kind, check_name=name)
            yield Observed(subject, error_like=False)
        else:  # latency and burn-rate evidence carry no text a runbook pattern could match
            continue
        produced = True
    if not produced:
        subject = from_text(run.result.summary, check_kind=kind, check_name=name)
        yield Observed(subject, error_like=False)


def correlate_observed(
    observed: Iterable[Observed],
    matcher: RunbookMatcher,
    values: Mapping[str, str],
    *,
    fallback: Mapping[str, str] | None = None,
) -> tuple[RunbookFinding, ...]:
    """Match each observed failure; group by runbook; add "no runbook" findings for the rest.

    Streams: memory stays bounded however many failures ``observed`` yields.
    """
    by_runbook: dict[str, _Accumulated] = {}
    unmatched: dict[str, Observed] = {}
    pending: list[Observed] = []
    total_errors = 0
    earliest: datetime | None = None
    for item in observed:
        if item.failing and item.error_like:
            total_errors += item.subject.occurrences
            first = item.subject.first_seen
            if first is not None and (earliest is None or first < earliest):
                earliest = first
        candidates = matcher.match(item.subject)
        if not candidates and item.error_like:
            if _bare_5xx(item.subject) and len(pending) < MAX_PENDING_5XX:
                pending.append(item)
            elif len(unmatched) < MAX_NO_RUNBOOK:
                unmatched.setdefault(item.fingerprint or item.subject.label, item)
        for candidate in candidates:
            key = candidate.runbook.id
            if key not in by_runbook:
                by_runbook[key] = _Accumulated(candidate, item.subject)
            by_runbook[key].add(candidate, item.subject, failing=item.failing, signal=item.signal)
    # A bare 5xx joins the match that explains most: a deciding signal, else the earliest.
    joinable = sorted(by_runbook.values(), key=_Accumulated.join_order)
    for item in pending:
        joined = next((a for a in joinable if a.same_revision(item.subject)), None)
        if joined is not None:
            joined.add_companion(item.subject, same_revision=True)
            continue
        joined = next((a for a in joinable if a.same_window(item.subject)), None)
        if joined is not None:
            joined.add_companion(item.subject)
        elif len(unmatched) < MAX_NO_RUNBOOK:
            unmatched.setdefault(item.fingerprint or item.subject.label, item)
    matches = [
        (acc.finding(matcher, fill_values(acc.subjects, values, fallback)), acc.explained())
        for acc in by_runbook.values()
    ]
    ranked = rank(matches, total_errors=total_errors, earliest=earliest)
    return (*ranked, *(_no_runbook(item) for item in unmatched.values()))


class _Accumulated:
    """Everything one runbook matched, kept small: the best match, counts, a few subjects."""

    def __init__(self, best: Candidate, subject: MatchSubject) -> None:
        self.best, self.best_subject = best, subject
        self.count = 0
        self.failing = False
        self.signal = False
        self.first_seen: datetime | None = None
        self.labels: dict[str, None] = {}
        self.checks: dict[str, None] = {}
        self.subjects: list[MatchSubject] = []
        self.windows: list[tuple[str, datetime, datetime]] = []
        self.companions: list[tuple[str, bool]] = []
        self.signal_revisions: set[tuple[str, str]] = set()

    def same_window(self, subject: MatchSubject) -> bool:
        """Whether ``subject`` happened while a failure this runbook matched was happening."""
        first, last = subject.first_seen, subject.last_seen or subject.first_seen
        if not self.failing or first is None or last is None:
            return False
        return any(
            check == subject.check_name
            and first <= end + SAME_WINDOW
            and last >= start - SAME_WINDOW
            for check, start, end in self.windows
        )

    def same_revision(self, subject: MatchSubject) -> bool:
        """Whether ``subject`` is a failure of a revision whose deciding signal this runbook
        explains (every 503 of a revision that cannot start follows from it)."""
        return bool(subject.revisions) and all(
            (subject.check_name, revision) in self.signal_revisions
            for revision in subject.revisions
        )

    def add_companion(self, subject: MatchSubject, *, same_revision: bool = False) -> None:
        """A bare 5xx explained by this runbook: same window, or same failing revision."""
        self.count += subject.occurrences
        if len(self.labels) < MAX_EVIDENCE:
            self.labels.setdefault(subject.label)
        if len(self.companions) < MAX_EVIDENCE:
            self.companions.append((subject.label, same_revision))

    def join_order(self) -> tuple[bool, datetime]:
        """Matches a bare 5xx prefers to join: a deciding signal first, then the earliest."""
        return (not self.signal, self.first_seen or datetime.max.replace(tzinfo=UTC))

    def explained(self) -> Explained:
        """What this runbook covers, for ranking."""
        return Explained(signal=self.signal, first_seen=self.first_seen, count=self.count)

    def add(
        self, candidate: Candidate, subject: MatchSubject, *, failing: bool, signal: bool = False
    ) -> None:
        self.failing = self.failing or failing
        self.signal = self.signal or (failing and signal)
        first = subject.first_seen
        if failing and first is not None and (self.first_seen is None or first < self.first_seen):
            self.first_seen = first
        if failing and signal and len(self.signal_revisions) < MAX_VALUE_SUBJECTS:
            self.signal_revisions.update((subject.check_name, r) for r in subject.revisions)
        if candidate.score > self.best.score:
            self.best, self.best_subject = candidate, subject
        self.count += subject.occurrences
        if len(self.labels) < MAX_EVIDENCE:
            self.labels.setdefault(subject.label)
        if subject.check_name:
            self.checks.setdefault(subject.check_name)
        if len(self.subjects) < MAX_VALUE_SUBJECTS:
            self.subjects.append(subject)
        start = subject.first_seen
        if failing and start and len(self.windows) < MAX_VALUE_SUBJECTS:
            self.windows.append((subject.check_name, start, subject.last_seen or start))

    def finding(self, matcher: RunbookMatcher, values: dict[str, str]) -> RunbookMatch:
        runbook = self.best.runbook
        return RunbookMatch(
            id=runbook.id,
            title=runbook.title,
            severity=runbook.severity,
            score=round(self.best.score, 2),
            checks=tuple(self.checks),
            evidence=tuple(self.labels),
            count=self.count,
            failing=self.failing,
            why=(*matcher.explain(self.best, self.best_subject), *self._companion_reasons()),
            first_steps=first_steps(runbook, values),
            follow_ups=planned_follow_ups(runbook, values),
            placeholders=values,
            source=runbook.source,
        )

    def _companion_reasons(self) -> tuple[Explanation, ...]:
        seconds = int(SAME_WINDOW.total_seconds())
        return tuple(
            Explanation(field="same_revision", pattern=SAME_REVISION_REASON, matched=label)
            if same_revision
            else Explanation(
                field="same_window",
                pattern=f"a 5xx within {seconds} s of a failure this runbook matched",
                matched=label,
            )
            for label, same_revision in self.companions
        )


def _bare_5xx(subject: MatchSubject) -> bool:
    """An HTTP 5xx with no exception of its own: nothing but its route to match on."""
    return (
        not subject.exception_type
        and subject.first_seen is not None
        and any(500 <= code <= 599 for code in subject.http_statuses)
    )


def fill_values(
    subjects: Iterable[MatchSubject],
    base: Mapping[str, str],
    fallback: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Placeholder values: the config's, then what the evidence says, then the fallbacks."""
    subjects = list(subjects)
    values = dict(base)
    values.update(values_from_texts(t for s in subjects for t in (s.message, s.text) if t))
    for subject in subjects:
        if subject.revisions and "revision" not in values:
            values["revision"] = subject.revisions[-1]
        if subject.check_name and "check" not in values:
            values["check"] = subject.check_name
    for key, value in (fallback or {}).items():
        values.setdefault(key, value)
    return values


def first_steps(runbook: Runbook, values: Mapping[str, str]) -> tuple[Step, ...]:
    """The first steps of the runbook's Fix section, placeholders filled."""
    return tuple(
        Step(text=fill(step.text, values), commands=tuple(fill(c, values) for c in step.commands))
        for step in fix_steps(runbook.body)[:FIRST_STEPS]
    )


def planned_follow_ups(runbook: Runbook, values: Mapping[str, str]) -> tuple[PlannedFollowUp, ...]:
    """The runbook's follow-ups with their reminders filled."""
    return tuple(
        PlannedFollowUp(
            after=format_offset(item.after),
            after_s=item.after.total_seconds(),
            remind=fill(item.remind, values) if item.remind is not None else None,
            verify=item.verify,
            retry_s=item.retry,
            repeat_s=item.repeat,
            expires_s=item.expires.total_seconds() if item.expires is not None else None,
            on_fail=item.on_fail,
        )
        for item in runbook.follow_ups
    )


def _no_runbook(item: Observed) -> NoRunbook:
    subject = item.subject
    return NoRunbook(
        check=subject.check_name,
        evidence=subject.label,
        count=subject.occurrences,
        fingerprint=item.fingerprint,
        suggested_id=suggested_id(subject),
        command=scaffold_command(subject),
        scaffold=scaffold(subject),
    )
