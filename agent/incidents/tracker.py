"""Applying a scheduled run to the store: runs recorded, incidents moved, alerts written.

One call of :func:`apply_report` is one unit of work: the run rows, the checks' tracks, the
incidents' changes and the outbox messages they cause are committed together, so a crash never
leaves an incident opened without its alert, or an alert without its incident. It re-reads what
it changes, so the store's retry may run it again safely.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prodguardian.config.models import FollowUpsConfig, MaintenanceWindow
from prodguardian.evidence import ErrorSignature
from prodguardian.followups import items as followup_items
from prodguardian.incidents import alert_messages as msg
from prodguardian.incidents.policy import (
    CheckTrack,
    IncidentKind,
    OpenIncident,
    Transition,
    judge,
    reminder_due,
)
from prodguardian.incidents.records import (
    add_event,
    incident_id,
    silences_in_force,
    to_incident,
)
from prodguardian.report import Report
from prodguardian.result import CheckRun
from prodguardian.runbooks.findings import RunbookMatch
from prodguardian.slack.blocks import SlackMessage
from prodguardian.slack.stores import Silence
from prodguardian.status import Status
from prodguardian.store.outbox import OutgoingMessage, enqueue
from prodguardian.store.schema import CheckRunRow, CheckStateRow, IncidentRow
from prodguardian.watch.plan import CheckPlan

#: An open incident's message is refreshed in place at most this often for new evidence alone.
UPDATE_EVERY_S = 300.0


@dataclass(frozen=True, kw_only=True)
class AlertPolicy:
    """Where alerts go and what holds them back."""

    channel: str | None
    """The alerts channel (None: incidents are kept but nothing is posted)."""
    plans: Mapping[str, CheckPlan]
    maintenance: Sequence[MaintenanceWindow] = ()
    update_every_s: float = UPDATE_EVERY_S
    followups: FollowUpsConfig = field(default_factory=FollowUpsConfig)
    """Defaults of the runbook follow-ups an opening incident brings."""


@dataclass
class Applied:
    """What one report changed: for logs, metrics and tests."""

    opened: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    messages: int = 0


def in_maintenance(policy: AlertPolicy, check: str, now: datetime) -> bool:
    """Whether a maintenance window covers ``check`` at ``now``."""
    return any(
        w.start <= now < w.end and (not w.checks or check in w.checks) for w in policy.maintenance
    )


async def apply_reports(
    session: AsyncSession, reports: Sequence[tuple[Report, datetime]], policy: AlertPolicy
) -> list[Applied]:
    """Apply each ``(report, now)`` in turn, all in the caller's one unit of work.

    The same as :func:`apply_report` on each in a unit of work of its own, with the tracks
    and open incidents read once for all: the schedule applies its reports in batches.
    """
    if not reports:
        return []
    loaded = await _load(session, [r for r, _ in reports], policy, min(now for _, now in reports))
    return [await apply_report(session, r, policy, now=now, loaded=loaded) for r, now in reports]


async def apply_report(
    session: AsyncSession,
    report: Report,
    policy: AlertPolicy,
    *,
    now: datetime,
    loaded: Loaded | None = None,
) -> Applied:
    """Record ``report``'s runs and move the incidents of its checks (one unit of work).

    ``loaded``: what :func:`apply_reports` read for a batch the report is part of.
    """
    applied = Applied()
    loaded = loaded or await _load(session, [report], policy, now)
    states, incidents = loaded.states, loaded.incidents
    # Read only when an alert is considered: most runs pass and have no incident.
    silenced: set[str] | None = None
    # Messages are written once every run of the report is in, so an incident that opens
    # together with its dependants' failures is posted once, with all of them.
    pending: list[tuple[IncidentRow, Transition, Status | None, CheckRun]] = []
    for run in report.checks:
        plan = policy.plans.get(run.name)
        if plan is None:
            continue  # a check no longer in the config
        _record_run(session, run, report)
        state = states.get(run.name)
        if state is None:
            state = states[run.name] = CheckStateRow(
                check_name=run.name,
                failures_in_row=0,
                unknown_in_row=0,
                ok_in_row=0,
                recent="",
                updated_at=now,
            )
            session.add(state)
        track = CheckTrack(
            state.failures_in_row, state.unknown_in_row, state.ok_in_row, state.recent
        )
        row = incidents.get(run.name)
        current = OpenIncident(IncidentKind(row.kind), Status(row.status)) if row else None
        dependency = _failing_dependency(plan, states, incidents)
        verdict = judge(track, run.status, current, plan, failing_dependency=dependency)
        _save_track(state, verdict.track, run, now)
        before = Status(row.status) if row else None
        if verdict.transition is Transition.OPEN:
            row = _open(session, run, verdict.kind, verdict.reason, now)
            await session.flush()
            incidents[run.name] = row
            add_event(session, row, "opened", at=now, detail=verdict.reason)
            await _add_runbook_followups(session, row, report, policy, now)
            applied.opened.append(run.name)
        elif verdict.transition is Transition.FOLD:
            # The dependency's incident tells the story; before it opens, nothing does.
            host = incidents.get(dependency or "")
            if host is not None:
                silenced = await loaded.silenced(session, now) if silenced is None else silenced
                await _fold(session, host, run.name, report, policy, silenced, now, applied)
            continue
        if row is None:
            continue
        _absorb(row, run, report, verdict.transition, verdict.kind, verdict.status, now)
        if verdict.transition is Transition.RESOLVE:
            add_event(session, row, "resolved", at=now, detail=verdict.reason)
            # No deploy was marked while it was open: its follow-ups count from now.
            await followup_items.schedule_waiting(
                session, incident_ids=[row.id], fixed_at=now, defaults=policy.followups
            )
            applied.resolved.append(run.name)
            del incidents[run.name]
        elif verdict.transition in (Transition.ESCALATE, Transition.DEESCALATE, Transition.CONVERT):
            add_event(session, row, verdict.transition.value, at=now, detail=run.status.value)
        pending.append((row, verdict.transition, before, run))
    if pending:
        silenced = await loaded.silenced(session, now) if silenced is None else silenced
    for row, transition, before, run in pending:
        assert silenced is not None
        await _notify(session, row, transition, before, run, policy, silenced, now, applied)
    return applied


@dataclass
class Loaded:
    """What applying a batch of reports reads once (and changes as it goes)."""

    states: dict[str, CheckStateRow]
    incidents: dict[str, IncidentRow]
    earliest: datetime
    """The earliest ``now`` of the batch."""
    silences: list[Silence] | None = None

    async def silenced(self, session: AsyncSession, now: datetime) -> set[str]:
        """The targets silenced at ``now``, read from the store when first asked."""
        if self.silences is None:
            self.silences = await silences_in_force(session, self.earliest)
        return {s.target for s in self.silences if s.until > now}


async def _load(
    session: AsyncSession, reports: Sequence[Report], policy: AlertPolicy, earliest: datetime
) -> Loaded:
    tracked = sorted({name for report in reports for name in _tracked(report, policy)})
    return Loaded(
        states=await _states(session, tracked),
        incidents=await _open_by_check(session, tracked),
        earliest=earliest,
    )


def _tracked(report: Report, policy: AlertPolicy) -> set[str]:
    """The checks whose tracks applying ``report`` reads: its own and their dependencies."""
    names = {r.name for r in report.checks}
    for run in report.checks:
        plan = policy.plans.get(run.name)
        if plan is not None:
            names.update(plan.depends_on)
    return names


async def _states(session: AsyncSession, names: Sequence[str]) -> dict[str, CheckStateRow]:
    # Only the tracks this report needs: loading every check's row (and its last run) per
    # job made each job cost O(checks).
    rows = (
        await session.scalars(select(CheckStateRow).where(CheckStateRow.check_name.in_(names)))
    ).all()
    return {r.check_name: r for r in rows}


async def _open_by_check(session: AsyncSession, names: Sequence[str]) -> dict[str, IncidentRow]:
    # An incident a failed follow-up reopened is the follow-up's to close, not the checks'.
    rows = (
        await session.scalars(
            select(IncidentRow).where(
                IncidentRow.resolved_at.is_(None),
                IncidentRow.check_name.in_(names),
                IncidentRow.kind != "followup",
            )
        )
    ).all()
    return {r.check_name: r for r in rows}


async def _add_runbook_followups(
    session: AsyncSession, row: IncidentRow, report: Report, policy: AlertPolicy, now: datetime
) -> None:
    """The matched runbooks' follow-ups become items of the incident, waiting for the fix."""
    for finding in report.runbooks:
        if not (isinstance(finding, RunbookMatch) and finding.failing):
            continue
        if row.check_name not in finding.checks or not finding.follow_ups:
            continue
        source = f"runbook {finding.id}"
        if await followup_items.has_open(session, source=source):
            continue  # another incident of the same failure already carries its checklist
        await followup_items.add_items(
            session,
            finding.follow_ups,
            source=source,
            now=now,
            defaults=policy.followups,
            incident_id=row.id,
        )


def _failing_dependency(
    plan: CheckPlan, states: Mapping[str, CheckStateRow], incidents: Mapping[str, IncidentRow]
) -> str | None:
    """The first dependency that is failing now (with or without an incident yet)."""
    for dependency in plan.depends_on:
        state = states.get(dependency)
        open_row = incidents.get(dependency)
        if open_row is not None and open_row.kind == IncidentKind.FAILING:
            return dependency
        if state is not None and state.failures_in_row > 0:
            return dependency
    return None


def _record_run(session: AsyncSession, run: CheckRun, report: Report) -> None:
    session.add(
        CheckRunRow(
            check_name=run.name,
            status=run.status.value,
            started_at=run.started_at,
            duration_s=run.duration_s,
            summary=run.result.summary[:2000],
            signatures=_signatures(run)[:10],
            runbooks=_runbooks(report, run.name),
        )
    )


def _signatures(run: CheckRun) -> list[str]:
    return [
        ": ".join(x for x in (e.exception_type, e.message) if x)
        for e in run.result.evidence
        if isinstance(e, ErrorSignature)
    ]


def _runbooks(report: Report, check: str) -> list[str]:
    return [
        f.id
        for f in report.runbooks
        if isinstance(f, RunbookMatch) and f.failing and check in f.checks
    ]


def _save_track(state: CheckStateRow, track: CheckTrack, run: CheckRun, now: datetime) -> None:
    state.failures_in_row = track.failures_in_row
    state.unknown_in_row = track.unknown_in_row
    state.ok_in_row = track.ok_in_row
    state.recent = track.recent
    state.last_run = run.model_dump_json()
    state.updated_at = now


def _open(
    session: AsyncSession, run: CheckRun, kind: IncidentKind | None, reason: str, now: datetime
) -> IncidentRow:
    row = IncidentRow(
        check_name=run.name,
        kind=(kind or IncidentKind.FAILING).value,
        status=run.status.value,
        opened_at=now,
        reason=reason,
        affected=[],
        runbooks=[],
        signatures=[],
        last_summary="",
    )
    session.add(row)
    return row


def _absorb(
    row: IncidentRow,
    run: CheckRun,
    report: Report,
    transition: Transition,
    kind: IncidentKind | None,
    status: Status | None,
    now: datetime,
) -> None:
    """The incident takes the run's latest evidence (and its new status)."""
    if transition is Transition.RESOLVE:
        row.resolved_at = now
    if status is not None:
        row.status = status.value
    if kind is not None:
        row.kind = kind.value
    row.report = _scoped(report, [row.check_name, *row.affected]).model_dump_json()
    row.runbooks = _runbooks(report, run.name) or list(row.runbooks or [])
    row.signatures = _signatures(run)[:10] or list(row.signatures or [])


def _scoped(report: Report, names: Sequence[str]) -> Report:
    return report.model_copy(update={"checks": tuple(r for r in report.checks if r.name in names)})


async def _fold(
    session: AsyncSession,
    row: IncidentRow,
    dependant: str,
    report: Report,
    policy: AlertPolicy,
    silenced: set[str],
    now: datetime,
    applied: Applied,
) -> None:
    if dependant in (row.affected or []):
        return
    row.affected = [*(row.affected or []), dependant]
    add_event(session, row, "folded", at=now, detail=dependant)
    if row.report:
        old = Report.model_validate_json(row.report)
        runs = {r.name: r for r in (*old.checks, *report.checks)}
        merged = [runs[n] for n in (row.check_name, *row.affected) if n in runs]
        row.report = old.model_copy(update={"checks": tuple(merged)}).model_dump_json()
    if row.root_outbox_id is None or _held_back(row, policy, silenced, now):
        return
    incident = to_incident(row)
    await _send(
        session,
        row,
        policy,
        applied,
        now,
        update=_render(row),
        reply=msg.folded_note(incident, [dependant]),
    )


async def _notify(
    session: AsyncSession,
    row: IncidentRow,
    transition: Transition,
    before: Status | None,
    run: CheckRun,
    policy: AlertPolicy,
    silenced: set[str],
    now: datetime,
    applied: Applied,
) -> None:
    if policy.channel is None:
        return
    held = _held_back(row, policy, silenced, now)
    incident = to_incident(row)
    if row.root_outbox_id is None:
        if row.resolved_at is None and not held:
            post = OutgoingMessage(
                group=_group(row),
                action="post",
                channel=policy.channel,
                payload=_render(row).payload(),
            )
            row.root_outbox_id = await enqueue(session, post, now=now)
            row.last_notified_at = row.last_updated_at = now
            row.last_summary = run.result.summary
            applied.messages += 1
        return
    minutes = int((now - row.opened_at).total_seconds() // 60)
    if transition is Transition.RESOLVE:
        reply = None if held else msg.resolved_note(incident, open_minutes=minutes)
        await _send(session, row, policy, applied, now, update=_render(row), reply=reply)
        return
    if held:
        return
    if transition in (Transition.ESCALATE, Transition.DEESCALATE, Transition.CONVERT):
        change = msg.change_note(before or Status.UNKNOWN, incident, run.result.summary)
        await _send(session, row, policy, applied, now, update=_render(row), reply=change)
        return
    plan = policy.plans[row.check_name]
    since = (now - row.last_notified_at).total_seconds() if row.last_notified_at else None
    if reminder_due(
        last_notified_s_ago=since,
        acknowledged=row.acknowledged_by is not None,
        held_back=held,
        repeat_interval_s=plan.repeat_interval_s,
    ):
        reminder = msg.reminder_note(incident, open_minutes=minutes)
        await _send(session, row, policy, applied, now, update=_render(row), reply=reminder)
        row.last_notified_at = now
        return
    stale = row.last_updated_at is None or (
        (now - row.last_updated_at).total_seconds() >= policy.update_every_s
    )
    if run.result.summary != row.last_summary and stale:
        await _send(session, row, policy, applied, now, update=_render(row), reply=None)


async def _send(
    session: AsyncSession,
    row: IncidentRow,
    policy: AlertPolicy,
    applied: Applied,
    now: datetime,
    *,
    update: SlackMessage | None,
    reply: SlackMessage | None,
) -> None:
    """Write an in-place update and/or a thread reply of the incident's alert."""
    assert policy.channel is not None
    for action, message in (("update", update), ("reply", reply)):
        if message is None:
            continue
        outgoing = OutgoingMessage(
            group=_group(row),
            action=action,  # type: ignore[arg-type]
            channel=policy.channel,
            payload=message.payload(),
            parent_id=row.root_outbox_id,
        )
        await enqueue(session, outgoing, now=now)
        applied.messages += 1
    row.last_updated_at = now
    if row.report:
        row.last_summary = _latest_summary(row)


def _latest_summary(row: IncidentRow) -> str:
    report = Report.model_validate_json(row.report or "")
    for run in report.checks:
        if run.name == row.check_name:
            return run.result.summary
    return row.last_summary


def _render(row: IncidentRow) -> SlackMessage:
    report = Report.model_validate_json(row.report or "")
    return msg.render_alert(to_incident(row), report)


def _held_back(row: IncidentRow, policy: AlertPolicy, silenced: set[str], now: datetime) -> bool:
    return (
        row.check_name in silenced
        or incident_id(row.id) in silenced
        or in_maintenance(policy, row.check_name, now)
    )


def _group(row: IncidentRow) -> str:
    return f"incident:{row.id}"
