"""One scheduled job: run its checks, then record what they found and move the incidents.

Every outcome of a run becomes a value (the runner's rule); nothing raises past a job. While
the store is away the reports are owed, kept in order in memory, and applied when it is back,
with the times they were taken at: an outage delays alerts and loses none.

Reports are applied in batches, one unit of work each: a job's report waits up to
``gather_s`` for the reports of other jobs to join it. A thousand checks make a hundred
reports a second, and a transaction per report would cost a core's quarter.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prodguardian.config.loader import LoadedConfig
from prodguardian.engine import compose_report
from prodguardian.incidents.tracker import AlertPolicy, Applied, apply_reports
from prodguardian.report import Report
from prodguardian.result import CheckRun
from prodguardian.slack.runs import ReportRuns
from prodguardian.slack.stores import ReportHistory
from prodguardian.store.database import Database, StoreUnavailableError
from prodguardian.store.replicas import StaleTermError
from prodguardian.store.schema import CheckStateRow
from prodguardian.watch.plan import JobPlan

log = logging.getLogger("prodguardian.watch")

#: A check run inside a unit of work that raises StaleTermError unless this replica leads.
Fence = Callable[[AsyncSession], Awaitable[None]]
#: Reports kept while the store is away (the oldest are dropped past this, and logged).
MAX_OWED = 10_000
#: The combined report for ``status`` is stored at most this often.
HISTORY_EVERY_S = 15.0
#: How long a report waits for others to be applied with it in one unit of work.
GATHER_S = 0.3
#: The most reports applied in one unit of work.
BATCH = 50


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
        fence: Fence | None = None,
        gather_s: float = GATHER_S,
    ) -> None:
        self.loaded = loaded
        self.database = database
        self.runs = runs
        self.policy = policy
        self.history = history
        self.on_messages = on_messages
        self.fence = fence
        """Checked at the start and the end of applying a report: several replicas."""
        self.store_ready = False
        """Set once the schema is in place; until then reports are owed."""
        self.latest: dict[str, CheckRun] = {}
        self.owed: deque[Report] = deque()
        self.jobs_run = 0
        self.gather_s = gather_s
        self._apply_lock = asyncio.Lock()
        self._next_drain: asyncio.Task[None] | None = None
        self._drains: set[asyncio.Task[None]] = set()
        """Batches being applied (referenced so that they run to the end)."""
        self._waiting: dict[int, asyncio.Future[Applied | None]] = {}
        """What a caller of :meth:`apply` awaits, by ``id(report)``."""
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
        """Apply ``report`` (with the others owed by then), or owe it while the store is away.

        Returns what it changed once it is in the store; None if it is owed. A job never waits
        on a store that is down: the report is owed and the store probe flushes it when the
        store answers again.
        """
        self.owed.append(report)
        if len(self.owed) > MAX_OWED:
            dropped = self.owed.popleft()
            log.error("store away too long: dropped the report of %s", dropped.finished_at)
        if not self.store_ready or not self.database.health.up:
            return None
        done = self._waiting[id(report)] = asyncio.get_running_loop().create_future()
        if self._next_drain is None:
            self._next_drain = asyncio.create_task(self._drain_soon(), name="apply reports")
            self._drains.add(self._next_drain)
            self._next_drain.add_done_callback(self._drains.discard)
        # Shielded: a job cancelled while it waits leaves the batch to the others.
        return await asyncio.shield(done)

    async def _drain_soon(self) -> None:
        await asyncio.sleep(self.gather_s)
        self._next_drain = None  # reports owed from now on wait for the next batch
        try:
            async with self._apply_lock:
                await self._drain()
        except BaseException:
            self._settle_all()  # (stopping) nobody waits for a drain that will not come
            raise

    async def flush(self) -> int:
        """Apply what is owed (after the store came back); how many reports were applied."""
        async with self._apply_lock:
            before = len(self.owed)
            if self.store_ready:
                await self._drain()
            return before - len(self.owed)

    async def _drain(self) -> None:
        """Apply the owed reports in order, in batches of up to ``BATCH``."""
        size = BATCH
        while self.owed:
            batch = list(itertools.islice(self.owed, size))
            try:
                results = await self.database.run(
                    partial(_apply, batch=batch, policy=self.policy, fence=self.fence),
                    what="record runs",
                )
            except StaleTermError as exc:
                # Not the leader (yet): the reports wait. Losing the leadership for good drops
                # them (the new leader's own runs tell the story); leading again applies them.
                log.warning("%d report(s) not applied yet: %s", len(self.owed), exc)
                self._settle_all()
                return
            except StoreUnavailableError:
                if len(self.owed) == 1:
                    log.warning("state store away: %d report(s) owed", len(self.owed))
                self._settle_all()  # owed: written when the store is back
                return
            except Exception:
                if size > 1:
                    size = 1  # one at a time, to skip only the report that fails
                    continue
                # A bug, not an outage: retrying the same report would stall every later one.
                log.exception(
                    "applying the report of %s failed; it is skipped", batch[0].finished_at
                )
                self._settle(self.owed.popleft(), None)
                continue
            for report, applied in zip(batch, results, strict=True):
                self.owed.popleft()
                self._settle(report, applied)
                for name in applied.opened:
                    log.warning("incident opened for %s", name)
                for name in applied.resolved:
                    log.info("incident resolved for %s", name)
            if any(applied.messages for applied in results):
                self.on_messages()

    def _settle(self, report: Report, applied: Applied | None) -> None:
        waiting = self._waiting.pop(id(report), None)
        if waiting is not None and not waiting.done():
            waiting.set_result(applied)

    def _settle_all(self) -> None:
        for waiting in self._waiting.values():
            if not waiting.done():
                waiting.set_result(None)
        self._waiting.clear()

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
    session: AsyncSession,
    *,
    batch: list[Report],
    policy: AlertPolicy,
    fence: Fence | None = None,
) -> list[Applied]:
    if fence is not None:
        await fence(session)
    applied = await apply_reports(session, [(r, r.at or r.finished_at) for r in batch], policy)
    if fence is not None:
        # Again just before the commit: a leader paused mid-way must not commit stale news.
        await fence(session)
    return applied


def _now() -> datetime:
    return datetime.now(UTC)
