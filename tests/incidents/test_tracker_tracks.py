"""Applying a report reads what it needs: its checks' tracks and incidents, their dependencies',
and the silences once an alert is considered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prodguardian.incidents.tracker import AlertPolicy, Applied, apply_report, apply_reports
from prodguardian.report import Report, build_report
from prodguardian.result import CheckResult, CheckRun
from prodguardian.status import Status
from prodguardian.store.database import Database
from prodguardian.store.migrate import upgrade
from prodguardian.store.schema import CheckStateRow, IncidentRow, OutboxRow, SilenceRow
from prodguardian.watch.plan import CheckPlan

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def plan(name: str, *depends_on: str) -> CheckPlan:
    return CheckPlan(
        name=name,
        interval_s=10,
        failure_threshold=2,
        success_threshold=2,
        repeat_interval_s=3600,
        depends_on=depends_on,
    )


PLANS = {"db": plan("db"), "api": plan("api", "db"), "web": plan("web")}
POLICY = AlertPolicy(channel=None, plans=PLANS)
ALERTING = AlertPolicy(channel="C0ALERTS", plans=PLANS)


def report(at: datetime, **statuses: Status) -> Report:
    runs = [
        CheckRun(
            name=name,
            kind="http",
            started_at=at,
            duration_s=0.01,
            result=CheckResult(status=status, summary=f"{name} is {status.value}"),
        )
        for name, status in statuses.items()
    ]
    return build_report(runs, service="svc", started_at=at, finished_at=at)


async def apply(
    database: Database, at: datetime, policy: AlertPolicy = POLICY, **statuses: Status
) -> Applied:
    async def work(session: AsyncSession) -> Applied:
        return await apply_report(session, report(at, **statuses), policy, now=at)

    return await database.run(work)


async def test_a_dependants_report_alone_sees_its_failing_dependency(database: Database) -> None:
    await apply(database, T0, db=Status.CRITICAL)

    first = await apply(database, T0 + timedelta(seconds=10), api=Status.CRITICAL)
    second = await apply(database, T0 + timedelta(seconds=20), api=Status.CRITICAL)

    # Two failures of api in a row would open its own incident, were db's failing track unseen.
    assert first.opened == second.opened == []

    async def incidents(session: AsyncSession) -> list[str]:
        return [r.check_name for r in (await session.scalars(select(IncidentRow))).all()]

    assert await database.run(incidents) == []


async def test_a_report_changes_only_its_own_checks_tracks(database: Database) -> None:
    await apply(database, T0, db=Status.OK, api=Status.OK)

    await apply(database, T0 + timedelta(seconds=10), api=Status.CRITICAL)

    async def tracks(session: AsyncSession) -> dict[str, str]:
        rows = (await session.scalars(select(CheckStateRow))).all()
        return {r.check_name: r.recent for r in rows}

    assert await database.run(tracks) == {"db": "O", "api": "OC"}


async def test_a_silenced_checks_incident_opens_without_a_message(database: Database) -> None:
    async def silence(session: AsyncSession) -> None:
        session.add(SilenceRow(target="web", until=T0 + timedelta(hours=1), by="U1", created_at=T0))

    await database.run(silence)
    await apply(database, T0, ALERTING, web=Status.CRITICAL, db=Status.CRITICAL)

    second = await apply(
        database, T0 + timedelta(seconds=10), ALERTING, web=Status.CRITICAL, db=Status.CRITICAL
    )

    assert second.opened == ["web", "db"]
    assert second.messages == 1  # db's alert; web's waits for its silence to end


#: A story over five runs: db breaks and api (its dependant) with it, web flaps, all recover.
STORY: list[dict[str, Status]] = [
    {"db": Status.OK, "api": Status.OK, "web": Status.OK},
    {"db": Status.CRITICAL, "api": Status.CRITICAL, "web": Status.DEGRADED},
    {"db": Status.CRITICAL, "api": Status.CRITICAL, "web": Status.OK},
    {"web": Status.CRITICAL},
    {"db": Status.CRITICAL, "web": Status.CRITICAL},
    {"web": Status.DEGRADED},
    {"db": Status.OK, "api": Status.OK, "web": Status.OK},
    {"db": Status.OK, "api": Status.OK, "web": Status.OK},
]


async def outcome(database: Database) -> dict[str, object]:
    """What the store holds after a story: tracks, incidents and the outbox's actions."""

    async def read(session: AsyncSession) -> dict[str, object]:
        tracks = {r.check_name: r.recent for r in (await session.scalars(select(CheckStateRow)))}
        incidents = [
            (r.check_name, r.status, r.kind, tuple(r.affected or ()), r.resolved_at is not None)
            for r in (await session.scalars(select(IncidentRow).order_by(IncidentRow.id)))
        ]
        messages = [
            (r.group_key, r.action)
            for r in (await session.scalars(select(OutboxRow).order_by(OutboxRow.id)))
        ]
        return {"tracks": tracks, "incidents": incidents, "messages": messages}

    return await database.run(read)


async def test_a_batch_decides_as_its_reports_one_by_one(
    database: Database, tmp_path: Path
) -> None:
    reports = [
        (report(T0 + timedelta(seconds=10 * i), **statuses), T0 + timedelta(seconds=10 * i))
        for i, statuses in enumerate(STORY)
    ]
    one_by_one = Database(f"sqlite+aiosqlite:///{tmp_path / 'one-by-one.db'}")
    await upgrade(one_by_one)
    try:
        each = [
            await one_by_one.run(partial(apply_report, report=r, policy=ALERTING, now=now))
            for r, now in reports
        ]
        batched = [
            applied
            for start in range(0, len(reports), 3)
            for applied in await database.run(
                partial(apply_reports, reports=reports[start : start + 3], policy=ALERTING)
            )
        ]

        assert batched == each
        assert await outcome(database) == await outcome(one_by_one)
        # The story is worth telling: two incidents open, change, fold and resolve.
        assert [a.opened for a in each if a.opened] == [["db"], ["web"]]
        assert each[-1].resolved == ["db", "web"]
    finally:
        await one_by_one.dispose()
