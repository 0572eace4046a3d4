"""One scheduled job: run its checks, then record what they found and move the incidents.

Every outcome of a run becomes a value (the runner's rule); nothing raises past a job. While
the store is away the reports are owed, kept in order in memory, and applied when it is back,
with the times they were taken at: an outage delays alerts and loses none.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prodguardian.config.loader import LoadedConfig
from prodguardian.engine import compose_report
from prodguardian.incidents.tracker import AlertPolicy, Applied, apply_report
from prodguardian.report import Report
from prodguardian.result import CheckRun
from prodguardian.slack.runs import ReportRuns
from prodguardian.slack.stores import ReportHistory
from prodguardian.store.database import Database, StoreUnavailableError
from prodguardian.store.schema import CheckStateRow
from prodguardian.watch.plan import JobPlan

log = logging.getLogger("prodguardian.watch")

#: Reports kept while the store is away (the oldest are dropped past this, and logged).
MAX_OWED = 10_000
#: The combined report for ``status`` is stored at most this often.
HISTORY_EVERY_S = 15.0


class Monitor:
    """Runs jobs and applies their reports to the store."""

    def __init__(
        self,
        loaded: LoadedConfig,
        database: Database,
        runs: ReportRuns,
        policy: AlertPolicy,
        *,
        history: ReportHistory | None = None,
        on_messages: Callable[[], None] = lambda: None,
    ) -> None:
        self.loaded = loaded
        self.database = database
        self.runs = runs
        self.policy = policy
        self.history = history
        self.on_messages = on_messages
        self.store_ready = False
        """Set once the schema is in place; until then reports are owed."""
        self.latest: dict[str, CheckRun] = {}
        self.owed: deque[Report] = deque()
        self.jobs_run = 0
        self._apply_lock = asyncio.Lock()
        self._history_at = 0.0

    async def run_job(self, job: JobPlan) -> Report:
        """Run the job's checks (joining runs in flight) and apply the report."""
        report = await self.runs.run(job.checks)
        self.jobs_run += 1
        for run in report.checks:
            self.latest[run.name] = run
        await self.apply(report)
        await self._keep_history()
        return report

    async def apply(self, report: Report) -> Applied | None:
        """Apply ``report`` now, or owe it while the store is away.

        A job never waits on the store: while it is down the report is owed (the store probe
        flushes when it answers), and while another drain runs that drain takes it.
        """
        self.owed.append(report)
        if len(self.owed) > MAX_OWED:
            dropped = self.owed.popleft()
            log.error("store away too long: dropped the report of %s", dropped.finished_at)
        if not self.store_ready or not self.database.health.up or self._apply_lock.locked():
            return None
        async with self._apply_lock:
            return await self._drain()

    async def flush(self) -> int:
        """Apply what is owed (after the store came back); how many reports were applied."""
        async with self._apply_lock:
            before = len(self.owed)
            if self.store_ready:
                await self._drain()
            return before - len(self.owed)

    async def _drain(self) -> Applied | None:
        last: Applied | None = None
        while self.owed:
            report = self.owed[0]
            try:
                last = await self.database.run(
                    partial(_apply, report=report, policy=self.policy, now=report.finished_at),
                    what="record a run",
                )
            except StoreUnavailableError:
                if len(self.owed) == 1:
                    log.warning("state store away: %d report(s) owed", len(self.owed))
                return None
            except Exception:
                # A bug, not an outage: retrying the same report would stall every later one.
                log.exception("applying the report of %s failed; it is skipped", report.finished_at)
                self.owed.popleft()
                continue
            self.owed.popleft()
            for name in last.opened:
                log.warning("incident opened for %s", name)
            for name in last.resolved:
                log.info("incident resolved for %s", name)
            if last.messages:
                self.on_messages()
        return last

    async def load_latest(self) -> None:
        """The latest run of each check, from the store (after a restart)."""

        async def read(session: AsyncSession) -> dict[str, CheckRun]:
            rows = (await session.scalars(select(CheckStateRow))).all()
            return {
                r.check_name: CheckRun.model_validate_json(r.last_run) for r in rows if r.last_run
            }

        stored = await self.database.run(read, what="read the latest runs")
        known = {c.name for c in self.loaded.checks}
        for name, run in stored.items():
            if name in known:
                self.latest.setdefault(name, run)

    def latest_report(self) -> Report | None:
        """The combined report of every check's latest scheduled run."""
        runs = [self.latest[c.name] for c in self.loaded.checks if c.name in self.latest]
        if not runs:
            return None
        started = min(r.started_at for r in runs)
        return compose_report(self.loaded, runs, started_at=started, finished_at=_now())

    async def _keep_history(self) -> None:
        if self.history is None or time.monotonic() - self._history_at < HISTORY_EVERY_S:
            return
        if not self.database.health.up:
            return  # kept for when it is back: the next run records it
        if len(self.latest) < len(self.loaded.checks):
            return
        self._history_at = time.monotonic()
        report = self.latest_report()
        if report is None:
            return
        with contextlib.suppress(StoreUnavailableError):
            await self.history.record(report)


async def _apply(
    session: AsyncSession, *, report: Report, policy: AlertPolicy, now: datetime
) -> Applied:
    return await apply_report(session, report, policy, now=now)


def _now() -> datetime:
    return datetime.now(UTC)
