"""The monitor applies the reports of jobs that finish together in one unit of work."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from prodguardian.config import load_config
from prodguardian.incidents.tracker import AlertPolicy, Applied
from prodguardian.report import Report, build_report
from prodguardian.result import CheckResult, CheckRun
from prodguardian.slack.memory_stores import MemoryDeployMarks
from prodguardian.slack.runs import ReportRuns
from prodguardian.status import Status
from prodguardian.store.database import Database
from prodguardian.store.migrate import upgrade
from prodguardian.store.schema import CheckRunRow
from prodguardian.watch.monitor import Monitor
from prodguardian.watch.plan import check_plans

T = TypeVar("T")
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
NAMES = [f"check-{i}" for i in range(5)]


class CountingDatabase(Database):
    """The store, counting its units of work."""

    units = 0

    async def run(self, work: Callable[[AsyncSession], Awaitable[T]], *, what: str = "") -> T:
        self.units += 1
        return await super().run(work, what=what)


@pytest.fixture
async def monitor(store_url: str, tmp_path: Path) -> AsyncIterator[Monitor]:
    """A monitor on an empty store, with the store up (as after start-up)."""
    checks = "\n".join(
        f"  - {{name: {n}, kind: http, url: 'http://127.0.0.1:9/{n}'}}" for n in NAMES
    )
    path = tmp_path / "watch.yaml"
    path.write_text(f"service: {{name: svc}}\nchecks:\n{checks}\n", encoding="utf-8")
    loaded = load_config(path)
    database = CountingDatabase(store_url, attempts=2, backoff_s=0.01)
    await upgrade(database)
    await database.ping()
    policy = AlertPolicy(channel=None, plans=check_plans(loaded.config))
    runs = ReportRuns(loaded, MemoryDeployMarks())
    watching = Monitor(loaded, database, runs, policy, gather_s=0.01)
    watching.store_ready = True
    database.units = 0
    try:
        yield watching
    finally:
        await runs.aclose()
        await database.dispose()


def report(name: str, at: datetime, status: Status = Status.CRITICAL) -> Report:
    run = CheckRun(
        name=name,
        kind="http",
        started_at=at,
        duration_s=0.01,
        result=CheckResult(status=status, summary=f"{name} is {status.value}"),
    )
    return build_report([run], service="svc", started_at=at, finished_at=at)


async def stored_runs(database: Database) -> int:
    async def count(session: AsyncSession) -> int:
        return int(await session.scalar(select(func.count()).select_from(CheckRunRow)) or 0)

    return await database.run(count)


async def test_reports_that_arrive_together_are_applied_in_one_unit_of_work(
    monitor: Monitor,
) -> None:
    first = [report(n, T0) for n in NAMES]
    second = [report(n, T0 + timedelta(seconds=10)) for n in NAMES]
    await asyncio.gather(*(monitor.apply(r) for r in first))
    applied = await asyncio.gather(*(monitor.apply(r) for r in second))

    assert isinstance(monitor.database, CountingDatabase)
    assert monitor.database.units == 2
    # Each caller hears what its own report did: the second failure in a row opens.
    assert applied == [Applied(opened=[n]) for n in NAMES]
    assert await stored_runs(monitor.database) == 10
    assert not monitor.owed


async def test_a_report_that_cannot_be_applied_is_skipped_alone(monitor: Monitor) -> None:
    broken = report(NAMES[2], T0.replace(tzinfo=None))  # a naive time: the store refuses it
    reports = [report(n, T0) for n in NAMES[:2]] + [broken] + [report(NAMES[3], T0)]

    applied = await asyncio.gather(*(monitor.apply(r) for r in reports))

    assert applied == [Applied(), Applied(), None, Applied()]
    assert await stored_runs(monitor.database) == 3
    assert not monitor.owed
