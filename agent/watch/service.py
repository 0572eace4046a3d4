"""Watching on its own: the store, the schedule, the incidents and the outbox sender, together.

``serve`` runs it beside Slack, with Slack as the transport; ``watch`` runs it alone, printing
the alerts. Start-up never waits for the store: if it cannot be reached the schedule runs
anyway, ``/readyz`` says why, and the schema is migrated and the owed reports written as soon
as it answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete

from prodguardian.config.loader import LoadedConfig
from prodguardian.config.models import Config
from prodguardian.engine import run_report
from prodguardian.followups.runner import FollowUpRunner
from prodguardian.incidents.records import open_count
from prodguardian.incidents.store_incidents import StoreIncidents
from prodguardian.incidents.tracker import AlertPolicy
from prodguardian.slack.runs import Engine, ReportRuns
from prodguardian.slack.stores import Stores
from prodguardian.store import outbox
from prodguardian.store.database import (
    Database,
    StoreHealth,
    StoreUnavailableError,
    default_state_url,
    parse_state_url,
)
from prodguardian.store.deploy_marks import StoreDeployMarks
from prodguardian.store.followup_items import StoreFollowUps
from prodguardian.store.migrate import upgrade
from prodguardian.store.report_history import StoreReportHistory
from prodguardian.store.schema import CheckRunRow
from prodguardian.telemetry import instruments
from prodguardian.watch.duties import LeaderDuties
from prodguardian.watch.leader import (
    LeaderSettings,
    Leadership,
    LeaderState,
    leadership_for,
    new_replica_id,
)
from prodguardian.watch.monitor import Monitor
from prodguardian.watch.plan import check_plans, job_plans
from prodguardian.watch.schedule import Housekeeping, Schedule
from prodguardian.watch.sender import OutboxSender
from prodguardian.watch.transports import Transport

log = logging.getLogger("prodguardian.watch")

#: How often a store that is away is probed.
PROBE_EVERY_S = 2.0


def open_database(loaded: LoadedConfig) -> Database:
    """The store of ``state.url`` (default: SQLite beside the config); ConfigError if bad."""
    url = loaded.config.state.url or default_state_url(loaded.path)
    return Database(parse_state_url(url, config_path=loaded.path))


def store_backed(database: Database, *, config: Config, channel: str | None) -> Stores:
    """The stores the commands use, kept in ``database``."""
    return Stores(
        deploys=StoreDeployMarks(database, config=config, channel=channel),
        followups=StoreFollowUps(
            database, expire_after=timedelta(seconds=config.followups.expire_after)
        ),
        incidents=StoreIncidents(database, channel=channel),
        history=StoreReportHistory(database),
    )


@dataclass(frozen=True)
class WatchStatus:
    """What ``/readyz`` and ``status`` say about the background work."""

    store: StoreHealth
    schema_ready: bool
    scheduling: bool
    owed_reports: int
    schedule: dict[str, float]
    leader: LeaderState

    @property
    def problem(self) -> str | None:
        if not self.store.up:
            return f"state store unavailable: {self.store.problem}"
        if not self.schema_ready:
            return "state store schema not migrated yet"
        return None


class WatchService:
    """Everything that watches production in the background."""

    def __init__(
        self,
        loaded: LoadedConfig,
        database: Database,
        *,
        transport: Transport | None,
        channel: str | None,
        stores: Stores | None = None,
        runs: ReportRuns | None = None,
        engine: Engine = run_report,
        schedule: bool = True,
        leadership: Leadership | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.loaded = loaded
        self.database = database
        state = loaded.config.state
        self.leadership = leadership or leadership_for(
            database,
            replica_id=new_replica_id(),
            settings=LeaderSettings(
                check_every_s=state.leader_check_interval, lease_s=state.leader_lease
            ),
        )
        self.stores = stores or store_backed(database, config=loaded.config, channel=channel)
        self.runs = runs or ReportRuns(loaded, self.stores.deploys, engine=engine)
        self.policy = AlertPolicy(
            channel=channel if transport is not None else None,
            plans=check_plans(loaded.config),
            maintenance=loaded.config.maintenance,
            followups=loaded.config.followups,
        )
        # ``clock``: another time than the real one (the demo's accelerated story), by which
        # messages and follow-ups come due.
        timed: dict[str, Any] = {} if clock is None else {"clock": clock}
        self.sender = (
            OutboxSender(
                database,
                transport,
                term=self.leadership.term,
                may_send=self.leadership.holds,
                **timed,
            )
            if transport is not None
            else None
        )
        self.followups = (
            FollowUpRunner(
                loaded,
                database,
                self.runs,
                channel=self.policy.channel,
                on_messages=self._wake_sender,
                term=self.leadership.term,
                **timed,
            )
            if schedule
            else None
        )
        self.monitor = Monitor(
            loaded,
            database,
            self.runs,
            self.policy,
            history=self.stores.history,
            on_messages=self._wake_sender,
            fence=self.leadership.fence,
        )
        self.schedule = Schedule(
            job_plans(loaded.config) if schedule else [],
            self.monitor.run_job,
            chores=[
                Housekeeping("store-probe", PROBE_EVERY_S, self._probe),
                Housekeeping("prune-runs", 3600.0, self.prune),
                Housekeeping("gauges", 5.0, self._gauges),
            ],
        )
        self.duties = LeaderDuties(
            self.leadership,
            database,
            self.schedule,
            heartbeat_s=state.heartbeat_interval,
            on_lost=self.monitor.owed.clear,
        )
        if self.sender is not None:
            self.duties.add("outbox", self.sender.run_forever)
        if self.followups is not None:
            # Items that came due while stopped run when it leads, soonest first, once each.
            self.duties.add("followups", self.followups.run_forever)
        self._tasks: list[asyncio.Task[Any]] = []
        database.on_health.append(self._health_changed)

    async def start(self) -> None:
        """Connect to the store in the background and contend for the leadership: the
        schedule, the sender and the follow-up runner run while this replica leads."""
        instruments.set_store_up(self.database.health.up)
        instruments.set_outbox_backlog(0)
        instruments.set_incidents_open(0)
        self._tasks.append(asyncio.create_task(self._connect(), name="store:connect"))
        self.duties.start()

    async def stop(self) -> None:
        await self.duties.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.runs.aclose()
        await self.database.dispose()

    def status(self) -> WatchStatus:
        return WatchStatus(
            store=self.database.health,
            schema_ready=self.monitor.store_ready,
            scheduling=self.schedule.running,
            owed_reports=len(self.monitor.owed),
            schedule=self.schedule.figures(),
            leader=self.leadership.state,
        )

    async def prune(self) -> None:
        """Delete check runs older than ``state.keep_runs``."""
        cutoff = datetime.now(UTC) - timedelta(seconds=self.loaded.config.state.keep_runs)

        async def work(session: Any) -> None:
            await session.execute(delete(CheckRunRow).where(CheckRunRow.started_at < cutoff))

        with contextlib.suppress(StoreUnavailableError):
            await self.database.run(work, what="prune old runs")

    async def _connect(self) -> None:
        delay = 1.0
        while True:
            try:
                before = await upgrade(self.database)
                await self.database.ping()
                await self.monitor.load_latest()
            except Exception as exc:
                log.error(
                    "state store at %s cannot be opened yet (%s: %s); retrying in %.0f s",
                    self.database.display_url,
                    type(exc).__name__,
                    str(exc).splitlines()[0] if str(exc) else "",
                    delay,
                )
                self.database._set_health(False, f"{type(exc).__name__}: {exc}"[:300])
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            log.info("state store ready at %s (schema was %s)", self.database.display_url, before)
            self.monitor.store_ready = True
            self.duties.mark_store_ready()
            await self.monitor.flush()
            self._wake_sender()
            return

    async def _probe(self) -> None:
        if self.database.health.up or not self.monitor.store_ready:
            return
        if await self.database.ping():
            await self.monitor.flush()
            self._wake_sender()

    async def _gauges(self) -> None:
        if not self.monitor.store_ready:
            return
        with contextlib.suppress(StoreUnavailableError):
            count = await self.database.run(outbox.backlog, what="count the outbox")
            instruments.set_outbox_backlog(count)
            opened = await self.database.run(open_count, what="count incidents")
            instruments.set_incidents_open(opened)

    def _health_changed(self, health: StoreHealth) -> None:
        instruments.set_store_up(health.up)
        if health.up and self.database.reconnects:
            instruments.current().store_reconnects.add(1)

    def _wake_sender(self) -> None:
        if self.sender is not None:
            self.sender.wake.set()


def describe_state(loaded: LoadedConfig) -> str:
    """Where the state lives, for start-up messages."""
    url = loaded.config.state.url or default_state_url(loaded.path)
    return parse_state_url(url, config_path=loaded.path).render_as_string(hide_password=True)
