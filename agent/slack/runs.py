"""Report runs for Slack: one run in flight per selection of checks, and background jobs.

When ten people type ``/check_prod`` during an incident, production gets probed once, not ten
times: a command that arrives while the same selection is already running joins that run
(it started after, or just before, the command, so its report is as fresh as any).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import datetime
from typing import Any

from prodguardian.check import Check
from prodguardian.config.loader import LoadedConfig
from prodguardian.context import HttpClient
from prodguardian.deploy import ActiveDeploy
from prodguardian.engine import compose_report, run_report
from prodguardian.report import Report
from prodguardian.slack.stores import DeployMarks

log = logging.getLogger("prodguardian.slack.runs")

Engine = Callable[..., Awaitable[Report]]
"""``prodguardian.engine.run_report`` or a function with its signature."""


class ReportRuns:
    """Runs reports through the engine, sharing each check's run while it is in flight.

    A request for checks that are already running (a scheduled run, another command) joins
    those runs and starts only the checks that are not; one HTTP client is kept across runs.
    """

    def __init__(
        self, loaded: LoadedConfig, deploys: DeployMarks, *, engine: Engine = run_report
    ) -> None:
        self.loaded = loaded
        self.deploys = deploys
        self.engine = engine
        self.http = HttpClient()
        self._in_flight: dict[str, asyncio.Future[Report]] = {}
        self.started = 0
        """How many runs were started (joined commands do not start one)."""

    async def run(self, names: Sequence[str] = (), *, at: datetime | None = None) -> Report:
        """The report of the named checks (all when empty), from runs in flight or a new one.

        With ``at`` (windows ending at another moment than now), a run of its own, joining
        nothing.
        """
        checks: Sequence[Check[Any]] = self.loaded.select(list(names))
        if at is not None:
            deploy = await self.deploys.active()
            return await self.engine(self.loaded, checks, deploy=deploy, http=self.http, at=at)
        wanted = [c.name for c in checks]
        joined = {n: self._in_flight[n] for n in wanted if n in self._in_flight}
        missing = [c for c in checks if c.name not in joined]
        if missing:
            future = asyncio.ensure_future(self._run(missing))
            keys = [c.name for c in missing]
            for name in keys:
                self._in_flight[name] = future
            future.add_done_callback(lambda done: self._forget(keys, done))
            self.started += 1
            joined.update(dict.fromkeys(keys, future))
        futures = list(dict.fromkeys(joined.values()))
        # Shielded: one caller giving up must not cancel the run the others wait for.
        reports = [await asyncio.shield(f) for f in futures]
        if len(reports) == 1 and [r.name for r in reports[0].checks] == wanted:
            return reports[0]
        by_name = {run.name: run for report in reports for run in report.checks}
        runs = [by_name[name] for name in wanted if name in by_name]
        return compose_report(
            self.loaded,
            runs,
            started_at=min(r.started_at for r in reports),
            finished_at=max(r.finished_at for r in reports),
            deploy=reports[-1].deploy,
        )

    async def _run(self, checks: Sequence[Check[Any]]) -> Report:
        deploy: ActiveDeploy | None = await self.deploys.active()
        return await self.engine(self.loaded, checks, deploy=deploy, http=self.http)

    def _forget(self, names: Sequence[str], done: asyncio.Future[Report]) -> None:
        for name in names:
            if self._in_flight.get(name) is done:
                del self._in_flight[name]

    async def aclose(self) -> None:
        """Close the kept HTTP client."""
        await self.http.close()


class BackgroundJobs:
    """Tasks started after an ack: tracked (so they are not garbage-collected mid-run),
    their failures logged, and cancelled when the server stops."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, job: Coroutine[Any, Any, None], *, name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(job, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def __len__(self) -> int:
        return len(self._tasks)

    async def wait(self, timeout_s: float) -> None:
        """Wait up to ``timeout_s`` for the running jobs (for an orderly shutdown or tests)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout_s)

    async def aclose(self, grace_s: float = 5.0) -> None:
        """Let running jobs finish for ``grace_s``, then cancel the rest."""
        await self.wait(grace_s)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=1.0)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            log.error("background job %s failed", task.get_name(), exc_info=error)
