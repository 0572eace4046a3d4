"""Report runs for Slack: one run in flight per selection of checks, and background jobs.

When ten people type ``/check_prod`` during an incident, production gets probed once, not ten
times: a command that arrives while the same selection is already running joins that run
(it started after, or just before, the command, so its report is as fresh as any).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from prodguardian.check import Check
from prodguardian.config.loader import LoadedConfig
from prodguardian.deploy import ActiveDeploy
from prodguardian.engine import run_report
from prodguardian.report import Report
from prodguardian.slack.stores import DeployMarks

log = logging.getLogger("prodguardian.slack.runs")

Engine = Callable[..., Awaitable[Report]]
"""``prodguardian.engine.run_report`` or a function with its signature."""


class ReportRuns:
    """Runs reports through the engine, sharing one run per selection while it is in flight."""

    def __init__(
        self, loaded: LoadedConfig, deploys: DeployMarks, *, engine: Engine = run_report
    ) -> None:
        self.loaded = loaded
        self.deploys = deploys
        self.engine = engine
        self._in_flight: dict[tuple[str, ...], asyncio.Future[Report]] = {}
        self.started = 0
        """How many runs were started (joined commands do not start one)."""

    async def run(self, names: Sequence[str] = ()) -> Report:
        """The report of the named checks (all when empty), from a run in flight or a new one."""
        key = tuple(sorted(names))
        future = self._in_flight.get(key)
        if future is None:
            future = asyncio.ensure_future(self._run(key))
            self._in_flight[key] = future
            future.add_done_callback(lambda _: self._in_flight.pop(key, None))
            self.started += 1
        # Shielded: one caller giving up must not cancel the run the others wait for.
        return await asyncio.shield(future)

    async def _run(self, names: tuple[str, ...]) -> Report:
        checks: Sequence[Check[Any]] = self.loaded.select(list(names))
        deploy: ActiveDeploy | None = await self.deploys.active()
        return await self.engine(self.loaded, checks, deploy=deploy)


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
