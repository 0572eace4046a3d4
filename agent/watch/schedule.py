"""The schedule: APScheduler 3 interval jobs built from the config at start-up.

The config is the truth for what runs: jobs live in memory (no pickled jobs), one per check or
``depends_on`` group, each at most once at a time, misfires coalesced into one run. Their first
runs are spread over the interval so that a thousand checks do not start in the same instant.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from prodguardian.watch.plan import JobPlan

log = logging.getLogger("prodguardian.watch")

#: Start delays kept for the figures (the newest).
LATENESS_KEPT = 100_000


@dataclass(frozen=True)
class Housekeeping:
    """A periodic chore beside the checks (pruning, store probes)."""

    name: str
    interval_s: float
    run: Callable[[], Awaitable[None]]


class Schedule:
    """Runs each job on its interval; records how late each run started."""

    def __init__(
        self,
        jobs: Sequence[JobPlan],
        run_job: Callable[[JobPlan], Awaitable[Any]],
        *,
        chores: Sequence[Housekeeping] = (),
    ) -> None:
        self.jobs = list(jobs)
        self.run_job = run_job
        self.chores = list(chores)
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.lateness_s: deque[float] = deque(maxlen=LATENESS_KEPT)
        self._starts: dict[str, datetime] = {}
        self.running = False
        self.skipped = 0
        """Runs of checks that did not happen: the previous run was still going, or the
        loop was too late by more than the grace time (start delays leave them out)."""

    def start(self) -> None:
        """Add the jobs and start (inside the running event loop)."""
        now = datetime.now(UTC)
        for job in self.jobs:
            first = now + timedelta(seconds=job.offset_s)
            self._starts[job.id] = first
            self.scheduler.add_job(
                self._run,
                IntervalTrigger(seconds=job.interval_s, start_date=first, timezone=UTC),
                args=[job],
                id=f"check:{job.id}",
                name=job.id,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=max(1, int(job.interval_s)),
                next_run_time=first,
            )
        for chore in self.chores:
            self.scheduler.add_job(
                self._chore,
                IntervalTrigger(seconds=chore.interval_s, timezone=UTC),
                args=[chore],
                id=f"chore:{chore.name}",
                max_instances=1,
                coalesce=True,
            )
        self.scheduler.add_listener(self._skip, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)
        self.scheduler.start()
        self.running = True
        log.info("schedule started: %d job(s)", len(self.jobs))

    def stop(self) -> None:
        if self.running:
            self.scheduler.shutdown(wait=False)
            self.running = False
            # A stopped APScheduler keeps its jobs; a fresh one lets start() run again (a
            # replica that leads again after losing the lock).
            self.scheduler = AsyncIOScheduler(timezone=UTC)

    def figures(self) -> dict[str, float]:
        """Start delays so far: count, p50 and p99 in seconds; runs skipped."""
        values = sorted(self.lateness_s)
        if not values:
            return {"runs": 0, "runs_skipped": self.skipped}
        return {
            "runs": len(values),
            "runs_skipped": self.skipped,
            "start_late_p50_s": _quantile(values, 0.5),
            "start_late_p99_s": _quantile(values, 0.99),
            "start_late_max_s": values[-1],
        }

    async def _run(self, job: JobPlan) -> None:
        self.lateness_s.append(self._late_by(job))
        try:
            await self.run_job(job)
        except Exception:
            # The boundary of a scheduled job: the next run must still happen.
            log.exception("scheduled job %s failed", job.id)

    def _skip(self, event: JobEvent) -> None:
        if event.job_id.startswith("check:"):
            self.skipped += 1

    async def _chore(self, chore: Housekeeping) -> None:
        try:
            await chore.run()
        except Exception:
            log.exception("housekeeping %s failed", chore.name)

    def _late_by(self, job: JobPlan) -> float:
        """Seconds between the planned start of this run and now."""
        first = self._starts[job.id].timestamp()
        now = time.time()
        planned = first + math.floor(max(now - first, 0) / job.interval_s) * job.interval_s
        return max(now - planned, 0.0)


def _quantile(values: Sequence[float], q: float) -> float:
    index = min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))
    return round(values[index], 4)
