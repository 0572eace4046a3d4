"""Runs the follow-ups that are due: verifications by the bot, reminders for people.

Like the runner of checks, every outcome becomes a value: a verification whose source is down is
"could not verify" (⚪, retried), never ✅. Items due while ProdGuardian was stopped run at
start-up, soonest first, once each (see :mod:`prodguardian.followups.items` for the claim).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prodguardian.checks.log_count import LogCountCheck, LogCountParams
from prodguardian.config.loader import LoadedConfig
from prodguardian.followups import items as store
from prodguardian.followups import messages
from prodguardian.followups.plan import on_fail, repeat_after, retry_after, verification_source
from prodguardian.followups.verdicts import Outcome, Verdict, log_count_verdict, rerun_verdict
from prodguardian.incidents.records import add_event, incident_id
from prodguardian.incidents.store_incidents import tell_in_thread
from prodguardian.runbooks.findings import PlannedFollowUp
from prodguardian.runbooks.model import LogCountExpectation, Verification
from prodguardian.runner import run_checks
from prodguardian.slack.blocks import SlackMessage
from prodguardian.slack.runs import ReportRuns
from prodguardian.status import Status
from prodguardian.store import outbox
from prodguardian.store.database import Database, StoreUnavailableError
from prodguardian.store.followup_items import followup_id
from prodguardian.store.group_commit import GroupCommit
from prodguardian.store.outbox import OutgoingMessage
from prodguardian.store.schema import DeployMarkRow, FollowUpRow, IncidentRow

log = logging.getLogger("prodguardian.followups")

Clock = Callable[[], datetime]


def _real_clock() -> datetime:
    return datetime.now(UTC)


#: How long a verification may take.
VERIFY_TIMEOUT_S = 60.0


@dataclass(frozen=True, kw_only=True)
class _Ran:
    """An item's run, to record."""

    item: int
    spec: PlannedFollowUp
    verdict: Verdict
    now: datetime


class FollowUpRunner:
    """Claims due items, runs them, records the verdict and the message in one unit."""

    def __init__(
        self,
        loaded: LoadedConfig,
        database: Database,
        runs: ReportRuns,
        *,
        channel: str | None,
        clock: Clock = _real_clock,
        term: Callable[[], int | None] = lambda: None,
        concurrency: int = 16,
        on_messages: Callable[[], None] = lambda: None,
    ) -> None:
        self.loaded = loaded
        self.database = database
        self.runs = runs
        self.channel = channel
        self.clock = clock
        self.term = term
        self.concurrency = concurrency
        self.on_messages = on_messages
        self.real_time = clock is _real_clock
        """On the real clock a re-run joins runs in flight; on another one it runs at its time."""
        self.ran = 0

    async def run_due(self) -> int:
        """Run every item due now (in due order); how many ran.

        The items due at one moment are claimed in one unit of work; their verdicts are
        recorded as they come in, those that finish together in one unit (see
        :class:`~prodguardian.store.group_commit.GroupCommit`).
        """
        ran = 0
        limit = asyncio.Semaphore(self.concurrency)
        recorder = GroupCommit(self.database, self._record_all, what="record follow-ups")
        while True:
            now = self.clock()
            rows = await self.database.run(
                partial(store.claim_due, now=now, term=self.term()), what="claim due follow-ups"
            )
            if not rows:
                return ran
            outcomes = await asyncio.gather(
                *(self._run(row, now, limit, recorder) for row in rows), return_exceptions=True
            )
            for row, outcome in zip(rows, outcomes, strict=True):
                if isinstance(outcome, BaseException):
                    # Still claimed: it runs again once the claim's lease is over.
                    log.error(
                        "follow-up %s could not be recorded: %s: %s",
                        followup_id(row.id),
                        type(outcome).__name__,
                        outcome,
                    )
                else:
                    ran += 1

    async def run_forever(self, every_s: float = 1.0) -> None:
        while True:
            with contextlib.suppress(StoreUnavailableError):
                try:
                    await self.run_due()
                except StoreUnavailableError:
                    raise
                except Exception:
                    log.exception("the follow-up runner failed; retrying")
            await asyncio.sleep(every_s)

    async def _run(
        self,
        row: FollowUpRow,
        now: datetime,
        limit: asyncio.Semaphore,
        recorder: GroupCommit[_Ran, None],
    ) -> None:
        spec = PlannedFollowUp.model_validate_json(row.spec or "{}")
        if row.expires_at is not None and now >= row.expires_at:
            verdict = Verdict(Outcome.EXPIRED, f"open since {row.due_at:%Y-%m-%d %H:%M} UTC")
        elif spec.verify is None:
            verdict = Verdict(Outcome.REMINDED, "")
        else:
            async with limit:
                verdict = await self._verify(spec.verify, now)
        await recorder.write(_Ran(item=row.id, spec=spec, verdict=verdict, now=now))
        self.ran += 1
        self.on_messages()
        log.info("follow-up %s: %s %s", followup_id(row.id), verdict.outcome.value, verdict.detail)

    async def _verify(self, verify: Verification, now: datetime) -> Verdict:
        try:
            if verify.log_count is not None:
                return await self._count(verify.log_count, now)
            names = self._rerun_names(verify.rerun)
            moment = None if self.real_time else now
            report = await asyncio.wait_for(self.runs.run(names, at=moment), VERIFY_TIMEOUT_S)
            return rerun_verdict(report, verify.expect)
        except Exception as exc:
            # A verification that cannot run says so; it is never taken as passed.
            return Verdict(Outcome.UNVERIFIED, f"could not verify: {type(exc).__name__}: {exc}")

    def _rerun_names(self, wanted: tuple[str, ...]) -> list[str]:
        checks = self.loaded.checks
        if "*" in wanted:
            return [c.name for c in checks]
        names = [c.name for c in checks if c.name in wanted or c.kind in wanted]
        if not names:
            raise LookupError(f"no check or kind named {', '.join(wanted)}")
        return names

    async def _count(self, expectation: LogCountExpectation, now: datetime) -> Verdict:
        source = verification_source(self.loaded.config)
        if source is None:
            return Verdict(Outcome.UNVERIFIED, "could not verify: no log source configured")
        params = LogCountParams(
            source=source, pattern=expectation.pattern, window=expectation.window
        )
        check = LogCountCheck(
            name="follow-up", kind="log_count", params=params, timeout_s=VERIFY_TIMEOUT_S
        )
        (run,) = await run_checks([check], log_sources=self.loaded.log_sources, now=now)
        return log_count_verdict(run, expectation)

    async def _record_all(self, session: AsyncSession, ran: Sequence[_Ran]) -> list[None]:
        # One read for all the rows; _record then finds each in the session's identity map
        # (which holds them weakly: ``loaded`` keeps them there).
        rows = await session.scalars(
            select(FollowUpRow).where(FollowUpRow.id.in_([r.item for r in ran]))
        )
        loaded = rows.all()
        for one in ran:
            await self._record(
                session, item=one.item, spec=one.spec, verdict=one.verdict, now=one.now
            )
        del loaded
        return [None] * len(ran)

    async def _record(
        self,
        session: AsyncSession,
        *,
        item: int,
        spec: PlannedFollowUp,
        verdict: Verdict,
        now: datetime,
    ) -> None:
        row = await session.get(FollowUpRow, item)
        assert row is not None
        defaults = self.loaded.config.followups
        row.claimed_at = None
        row.runs += 1
        row.last_verdict = verdict.outcome.value
        row.last_detail = verdict.detail[:2000]
        next_at: datetime | None = None
        if verdict.outcome is Outcome.PASSED:
            row.state, row.done_at, row.done_by = "passed", now, "prodguardian"
        elif verdict.outcome is Outcome.EXPIRED:
            row.state = "expired"
        elif verdict.outcome is Outcome.REMINDED:
            next_at = now + repeat_after(spec, defaults)
        else:
            next_at = now + retry_after(spec, defaults)
        row.next_at = next_at if next_at is not None else row.next_at
        label = followup_id(item)
        if verdict.outcome is Outcome.REMINDED:
            message = messages.reminder_message(
                label, row.text, runs=row.runs - 1, due_at=row.due_at
            )
        else:
            message = messages.verdict_message(label, row.text, verdict, next_at=next_at)
        await self._post(session, row, message, now=now)
        if verdict.outcome is Outcome.FAILED and on_fail(spec, defaults) == "reopen":
            await self._reopen(session, row, verdict, now=now)
        if verdict.outcome is Outcome.PASSED:
            await self._settle(session, row, now=now)

    async def _post(
        self, session: AsyncSession, row: FollowUpRow, message: SlackMessage, *, now: datetime
    ) -> None:
        if self.channel is None:
            return
        group, parent = await _thread_of(session, row)
        action = "reply" if parent is not None else "post"
        # Added, not flushed: the messages of a batch of verdicts are inserted together.
        outbox.add(
            session,
            OutgoingMessage(
                group=group,
                action=action,  # type: ignore[arg-type]
                channel=self.channel,
                payload=message.payload(),
                parent_id=parent,
            ),
            now=now,
        )

    async def _reopen(
        self, session: AsyncSession, row: FollowUpRow, verdict: Verdict, *, now: datetime
    ) -> None:
        """The item's incident is resolved but its follow-up fails: it is open again."""
        incident = await session.get(IncidentRow, row.incident_id) if row.incident_id else None
        if incident is None or incident.resolved_at is None:
            return
        incident.resolved_at = None
        incident.kind = "followup"
        incident.status = Status.DEGRADED.value
        incident.reason = f"follow-up {followup_id(row.id)} failed"
        incident.acknowledged_by = incident.acknowledged_at = None
        incident.last_notified_at = now
        add_event(session, incident, "reopened", at=now, detail=verdict.detail[:500])
        note = messages.reopened_note(incident_id(incident.id), followup_id(row.id), verdict.detail)
        await tell_in_thread(session, incident, note, channel=self.channel, at=now)

    async def _settle(self, session: AsyncSession, row: FollowUpRow, *, now: datetime) -> None:
        """A passing verification resolves the incident it had reopened."""
        incident = await session.get(IncidentRow, row.incident_id) if row.incident_id else None
        if incident is None or incident.resolved_at is not None or incident.kind != "followup":
            return
        if incident.reason != f"follow-up {followup_id(row.id)} failed":
            return
        incident.resolved_at = now
        incident.status = Status.OK.value
        add_event(session, incident, "resolved", at=now, detail=f"{followup_id(row.id)} verified")


async def _thread_of(session: AsyncSession, row: FollowUpRow) -> tuple[str, int | None]:
    """The outbox group and the message whose thread the item's messages go to."""
    if row.incident_id is not None:
        incident = await session.get(IncidentRow, row.incident_id)
        if incident is not None and incident.root_outbox_id is not None:
            return f"incident:{incident.id}", incident.root_outbox_id
    if row.deploy_id is not None:
        deploy = await session.get(DeployMarkRow, row.deploy_id)
        if deploy is not None and deploy.outbox_id is not None:
            return f"deploy:{deploy.id}", deploy.outbox_id
    return f"followup:{row.id}", None
