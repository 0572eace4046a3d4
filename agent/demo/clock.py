"""The demo's accelerated clock: a day of production told in under a minute.

The story moves it forward in steps; everything that takes a clock (the stand-in's logs, the
outbox sender, the follow-up runner, the report runs) reads it, so the windows of the checks
and the verifications end at the story's moment and the +24 h count is over real entries.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from prodguardian.config.loader import LoadedConfig
from prodguardian.engine import run_report
from prodguardian.report import Report
from prodguardian.slack.runs import Engine, ReportRuns
from prodguardian.slack.stores import DeployMarks


class DemoClock:
    """A time that moves only when told to (read from several threads)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = (start or datetime.now(UTC)).replace(microsecond=0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta``; the new time."""
        if delta < timedelta(0):
            raise ValueError(f"the demo's clock only moves forward, not by {delta}")
        with self._lock:
            self._now += delta
            return self._now


def clocked_engine(clock: DemoClock, engine: Engine = run_report) -> Engine:
    """``engine`` whose reports say they ran at the demo clock's time (their messages show it)."""

    async def run(*args: Any, **kwargs: Any) -> Report:
        report = await engine(*args, **kwargs)
        shift = clock.now() - report.started_at
        return report.model_copy(
            update={
                "started_at": report.started_at + shift,
                "finished_at": report.finished_at + shift,
            }
        )

    return run


class ClockedRuns(ReportRuns):
    """Report runs whose log and trace windows end at the demo clock's time, not now."""

    def __init__(
        self,
        loaded: LoadedConfig,
        deploys: DeployMarks,
        *,
        clock: DemoClock,
        engine: Engine = run_report,
    ) -> None:
        super().__init__(loaded, deploys, engine=clocked_engine(clock, engine))
        self.clock = clock

    async def run(self, names: Sequence[str] = (), *, at: datetime | None = None) -> Report:
        return await super().run(names, at=at or self.clock.now())
