"""The team's worst incident, told on the demo's accelerated clock.

The database connection is lost, WebSocket errors climb, the status turns DEGRADED, an incident
opens with the DB-reconnect runbook, someone acknowledges it, the hotfix is marked as deployed,
errors stop, the incident resolves, and its follow-ups run at +30 min and +24 h. Nothing waits
for real minutes: each beat moves the clock, sends the stand-in some traffic, and runs what the
schedule would have run by then (a check job, the due follow-ups, the outbox).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rich.console import Console
from rich.rule import Rule
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prodguardian.demo.clock import DemoClock
from prodguardian.demo.traffic import TRAFFIC, post_state, send_traffic
from prodguardian.deploy import ActiveDeploy, DeploySource
from prodguardian.runbooks.findings import RunbookMatch
from prodguardian.slack.render_report import ReportView, render_report
from prodguardian.status import Status
from prodguardian.store import outbox
from prodguardian.store.followup_items import followup_id
from prodguardian.store.migrate import upgrade
from prodguardian.store.schema import FollowUpRow
from prodguardian.watch.plan import job_plans
from prodguardian.watch.service import WatchService

HOTFIX_REVISION = "emergence-app-00043-fix"
ON_CALL = "alice"
DEPLOYER = "bob"
#: Requests of the quiet hour before the outage.
QUIET_TRAFFIC = 60
#: While the database is gone, one request in this many is a chat session load (and fails).
BROKEN_SESSIONS_EVERY = 12


@dataclass
class Told:
    """What the story saw, for its last line and the tests."""

    statuses: list[Status] = field(default_factory=list)
    incidents: list[str] = field(default_factory=list)
    runbooks: list[str] = field(default_factory=list)
    final: Status | None = None

    @property
    def as_it_should(self) -> bool:
        return (
            Status.DEGRADED in self.statuses
            and bool(self.incidents)
            and "db-connection-lost" in self.runbooks
            and self.final is Status.OK
        )


class Story:
    """Drives the watch loop's pieces through the incident, beat by beat."""

    def __init__(
        self,
        watch: WatchService,
        *,
        clock: DemoClock,
        target_url: str,
        console: Console,
        channel: str,
        pace_s: float = 1.0,
        after_traffic: Callable[[], object] | None = None,
    ) -> None:
        if watch.sender is None or watch.followups is None:
            raise ValueError("the story needs a watch service with a transport and follow-ups")
        self.watch = watch
        self.sender = watch.sender
        self.followups = watch.followups
        self.clock = clock
        self.url = target_url
        self.console = console
        self.channel = channel
        self.pace_s = pace_s
        self.after_traffic = after_traffic
        """Blocking work after each burst of traffic (the stand-in's spans sent)."""
        self.told = Told()
        self.jobs = job_plans(watch.loaded.config)

    async def tell(self) -> Told:
        await upgrade(self.watch.database)
        self.watch.monitor.store_ready = True

        await self._beat("all quiet: users chat, the checks pass")
        await self._traffic(requests=QUIET_TRAFFIC)
        await self._run_checks()

        await self._beat("the database connection is lost", after=timedelta(minutes=5))
        await self._state(db="down")
        await self._traffic(sessions_every=BROKEN_SESSIONS_EVERY)
        await self._run_checks()

        await self._beat("a minute later it is still lost", after=timedelta(minutes=1))
        await self._traffic(sessions_every=BROKEN_SESSIONS_EVERY)
        await self._run_checks()

        opened = await self.watch.stores.incidents.open()
        await self._beat(f"@{ON_CALL} acknowledges the incident", after=timedelta(minutes=3))
        for incident in opened:
            await self.watch.stores.incidents.acknowledge(
                incident.id, by=ON_CALL, at=self.clock.now()
            )
        await self._deliver()

        await self._beat(
            f"@{DEPLOYER} deploys the hotfix {HOTFIX_REVISION} and marks it",
            after=timedelta(minutes=11),
        )
        await self._state(db="up", revision=HOTFIX_REVISION, reconnects=True)
        deployed = self.clock.now()
        await self.watch.stores.deploys.record(
            ActiveDeploy(
                revision=HOTFIX_REVISION,
                since=deployed,
                source=DeploySource.DEPLOY_MARK,
                note="hotfix: reconnect the DB",
            ),
            by=DEPLOYER,
        )
        await self._deliver()

        for minute in (1, 2):
            await self._beat(f"{minute} min after the deploy", after=timedelta(minutes=1))
            await self._traffic()
            await self._run_checks()

        await self._beat("+30 min: the follow-ups come due", until=deployed + timedelta(minutes=30))
        await self._traffic()
        await self._run_checks()
        await self._follow_ups()
        await self._close_reminders()

        await self._beat("the day goes by; now and then the connection drops and comes back")
        moment = self.clock.now()
        while moment + timedelta(hours=3) < deployed + timedelta(hours=24):
            moment = self.clock.advance(timedelta(hours=3))
            await self._state(db="down")  # the hotfix opens a new one on the next request
            await self._traffic()
        await self._beat("+24 h: the day's verifications", until=deployed + timedelta(hours=24))
        await self._traffic()
        await self._run_checks()
        await self._follow_ups()

        await self._beat(f"the next day, @{ON_CALL} asks: /check_prod status")
        await self._status()
        return self.told

    async def _beat(
        self, what: str, *, after: timedelta | None = None, until: datetime | None = None
    ) -> None:
        if after is not None:
            self.clock.advance(after)
        elif until is not None:
            self.clock.advance(until - self.clock.now())
        if self.pace_s:
            await asyncio.sleep(self.pace_s)
        self.console.print(Rule(f"{self.clock.now():%a %H:%M} · {what}", align="left"))

    async def _state(self, **state: object) -> None:
        await asyncio.to_thread(post_state, self.url, **state)

    async def _traffic(self, *, requests: int = TRAFFIC, sessions_every: int = 4) -> None:
        await asyncio.to_thread(send_traffic, self.url, requests, sessions_every=sessions_every)
        if self.after_traffic is not None:
            await asyncio.to_thread(self.after_traffic)

    async def _run_checks(self) -> None:
        reports = [await self.watch.monitor.run_job(job) for job in self.jobs]
        for report in reports:
            self.told.runbooks += [
                f.id for f in report.runbooks if isinstance(f, RunbookMatch) and f.failing
            ]
        status = max((r.status for r in reports), key=_rank)
        self.told.statuses.append(status)
        summaries = "; ".join(r.summary for r in reports if r.status is not Status.OK)
        line = f"status [bold]{status.value}[/]" + (f": {summaries}" if summaries else "")
        self.console.print(line, highlight=False)
        for incident in await self.watch.stores.incidents.open():
            if incident.id not in self.told.incidents:
                self.told.incidents.append(incident.id)
        await self._deliver()

    async def _follow_ups(self) -> None:
        await self.followups.run_due()
        await self._deliver()

    async def _close_reminders(self) -> None:
        """Someone does what a reminder asked, and says so (``/check_prod done F-n``)."""

        async def reminded(session: AsyncSession) -> list[tuple[str, str]]:
            rows = await session.scalars(
                select(FollowUpRow).where(
                    FollowUpRow.state == "open", FollowUpRow.last_verdict == "reminded"
                )
            )
            return [(followup_id(r.id), r.text) for r in rows]

        for item, text in await self.watch.database.run(reminded, what="read reminders"):
            await self.watch.stores.followups.done(item, by=ON_CALL, at=self.clock.now())
            self.console.print(f"@{ON_CALL}: /check_prod done {item}  ({text})", highlight=False)

    async def _status(self) -> None:
        report = await self.watch.runs.run()
        self.told.final = report.status
        await self.watch.stores.history.record(report)
        view = ReportView(
            incidents=await self.watch.stores.incidents.open(),
            followups=await self.watch.stores.followups.pending(),
            title=f"{report.service} · /check_prod status",
        )
        message = render_report(report, view)
        await self.watch.database.run(
            lambda session: outbox.enqueue(
                session,
                outbox.OutgoingMessage(
                    group="status",
                    action="post",
                    channel=self.channel,
                    payload=message.payload(),
                ),
                now=self.clock.now(),
            ),
            what="write the status answer",
        )
        await self._deliver()

    async def _deliver(self) -> None:
        await self.sender.deliver_due()


def _rank(status: Status) -> int:
    return [Status.OK, Status.UNKNOWN, Status.DEGRADED, Status.CRITICAL].index(status)
