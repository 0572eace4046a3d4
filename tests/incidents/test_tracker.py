"""Incidents from scheduled runs, on SQLite and PostgreSQL, driven by a fake clock."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prodguardian.config.models import Config, MaintenanceWindow
from prodguardian.incidents.store_incidents import StoreIncidents
from prodguardian.incidents.tracker import AlertPolicy, Applied, apply_report
from prodguardian.report import Report, build_report
from prodguardian.result import CheckResult, CheckRun
from prodguardian.status import Status
from prodguardian.store.database import Database
from prodguardian.store.schema import IncidentEventRow, IncidentRow, OutboxRow
from prodguardian.watch.plan import check_plans

T0 = datetime(2025, 10, 11, 12, 0, tzinfo=UTC)
CHANNEL = "C0ALERTS"


def config(*checks: dict[str, Any], **extra: object) -> Config:
    entries = [{"kind": "http", **{k: v for k, v in c.items() if k != "url"}} for c in checks]
    return Config.model_validate({"checks": entries, **extra})


def policy(cfg: Config, **kw: object) -> AlertPolicy:
    return AlertPolicy(
        channel=CHANNEL,
        plans=check_plans(cfg),
        maintenance=kw.get("maintenance", cfg.maintenance),  # type: ignore[arg-type]
    )


def report(at: datetime, **statuses: Status) -> Report:
    runs = [
        CheckRun(
            name=name,
            kind="http",
            started_at=at,
            duration_s=0.01,
            result=CheckResult(status=status, summary=f"{name} is {status.value} at {at:%H:%M}"),
        )
        for name, status in statuses.items()
    ]
    return build_report(runs, service="svc", started_at=at, finished_at=at)


async def apply(db: Database, p: AlertPolicy, r: Report) -> Applied:
    return await db.run(lambda s: apply_report(s, r, p, now=r.finished_at))


async def outbox(db: Database) -> list[OutboxRow]:
    async def read(session: AsyncSession) -> list[OutboxRow]:
        return list((await session.scalars(select(OutboxRow).order_by(OutboxRow.id))).all())

    return await db.run(read)


def kinds(rows: Sequence[OutboxRow]) -> list[str]:
    return [r.action for r in rows]


def text(row: OutboxRow) -> str:
    payload = json.loads(row.payload)
    return str(payload["text"]) + json.dumps(payload["blocks"], ensure_ascii=False)


async def test_an_incident_opens_reminds_escalates_and_resolves(database: Database) -> None:
    cfg = config({"name": "api", "url": "http://x", "repeat_interval": "1h"})
    p = policy(cfg)
    assert (await apply(database, p, report(T0, api=Status.DEGRADED))).opened == []
    applied = await apply(database, p, report(T0 + timedelta(minutes=1), api=Status.DEGRADED))
    assert applied.opened == ["api"]
    rows = await outbox(database)
    assert kinds(rows) == ["post"]
    assert "INC-1" in text(rows[0])
    assert "Silence 1h" in text(rows[0])

    await apply(database, p, report(T0 + timedelta(minutes=2), api=Status.DEGRADED))
    assert kinds(await outbox(database)) == ["post"], "no message while nothing changed"

    await apply(database, p, report(T0 + timedelta(minutes=62), api=Status.DEGRADED))
    rows = await outbox(database)
    assert kinds(rows) == ["post", "update", "reply"]
    assert "still open after 61 min" in text(rows[-1])

    await apply(database, p, report(T0 + timedelta(minutes=63), api=Status.CRITICAL))
    rows = await outbox(database)
    assert kinds(rows)[-2:] == ["update", "reply"]
    assert "DEGRADED → 🔴 CRITICAL" in text(rows[-1])
    assert all(r.parent_id == rows[0].id for r in rows[1:])

    await apply(database, p, report(T0 + timedelta(minutes=64), api=Status.OK))
    applied = await apply(database, p, report(T0 + timedelta(minutes=65), api=Status.OK))
    assert applied.resolved == ["api"]
    rows = await outbox(database)
    assert "resolved" in text(rows[-1])
    assert "after 64 min" in text(rows[-1])
    assert "INC-1 · api · resolved" in text(rows[-2])


async def test_acknowledged_incidents_are_not_reminded(database: Database) -> None:
    cfg = config({"name": "api", "url": "http://x"})
    p = policy(cfg)
    for minute in (0, 1):
        await apply(database, p, report(T0 + timedelta(minutes=minute), api=Status.CRITICAL))
    store = StoreIncidents(database, channel=CHANNEL)
    incident = await store.acknowledge("inc-1", by="U0ALICE", at=T0 + timedelta(minutes=5))
    assert incident.acknowledged_by == "U0ALICE"
    rows = await outbox(database)
    assert kinds(rows) == ["post", "update", "reply"]
    assert "acknowledged by <@U0ALICE>" in text(rows[-1])
    await apply(database, p, report(T0 + timedelta(hours=3), api=Status.CRITICAL))
    # New evidence refreshes the message in place; no reminder pings the thread.
    assert kinds(await outbox(database))[3:] == ["update"]


async def test_a_silenced_check_alerts_only_once_the_silence_ends(database: Database) -> None:
    cfg = config({"name": "api", "url": "http://x"})
    p = policy(cfg)
    store = StoreIncidents(database, channel=CHANNEL)
    await store.silence("api", until=T0 + timedelta(minutes=30), by="U0BOB", at=T0)
    for minute in range(0, 30, 5):
        await apply(database, p, report(T0 + timedelta(minutes=minute), api=Status.CRITICAL))
    assert await outbox(database) == []
    await apply(database, p, report(T0 + timedelta(minutes=31), api=Status.CRITICAL))
    assert kinds(await outbox(database)) == ["post"]


async def test_alerts_wait_for_the_end_of_a_maintenance_window(database: Database) -> None:
    window = MaintenanceWindow(start=T0, end=T0 + timedelta(minutes=20), reason="db upgrade")
    cfg = config({"name": "api", "url": "http://x"}, maintenance=[window.model_dump()])
    p = policy(cfg)
    for minute in range(0, 20, 2):
        await apply(database, p, report(T0 + timedelta(minutes=minute), api=Status.CRITICAL))
    assert await outbox(database) == []
    # A problem that outlasts the window is alerted once it ends.
    await apply(database, p, report(T0 + timedelta(minutes=21), api=Status.CRITICAL))
    assert kinds(await outbox(database)) == ["post"]


async def test_a_problem_that_ends_within_the_window_is_never_posted(database: Database) -> None:
    window = MaintenanceWindow(start=T0, end=T0 + timedelta(minutes=20))
    cfg = config({"name": "api", "url": "http://x"}, maintenance=[window.model_dump()])
    p = policy(cfg)
    statuses = [Status.CRITICAL] * 3 + [Status.OK] * 2
    for minute, status in enumerate(statuses):
        await apply(database, p, report(T0 + timedelta(minutes=minute), api=status))
    assert await outbox(database) == []

    async def events(session: AsyncSession) -> list[str]:
        rows = await session.scalars(select(IncidentEventRow.kind))
        return list(rows.all())

    assert await database.run(events) == ["opened", "resolved"]


async def test_dependants_fold_into_their_dependency_incident(database: Database) -> None:
    cfg = config(
        {"name": "db-ready", "url": "http://x"},
        *({"name": f"svc-{i}", "url": "http://x", "depends_on": ["db-ready"]} for i in range(3)),
    )
    p = policy(cfg)
    failing = {"db-ready": Status.CRITICAL} | {f"svc-{i}": Status.CRITICAL for i in range(3)}
    for minute in range(4):
        await apply(database, p, report(T0 + timedelta(minutes=minute), **failing))
    rows = await outbox(database)
    assert kinds(rows).count("post") == 1

    async def incidents(session: AsyncSession) -> list[IncidentRow]:
        return list((await session.scalars(select(IncidentRow))).all())

    (incident,) = await database.run(incidents)
    assert incident.check_name == "db-ready"
    assert sorted(incident.affected) == ["svc-0", "svc-1", "svc-2"]


async def test_an_unverifiable_check_gets_its_own_incident(database: Database) -> None:
    cfg = config({"name": "logs", "url": "http://x"})
    p = policy(cfg)
    for minute in range(2):
        await apply(database, p, report(T0 + timedelta(minutes=minute), logs=Status.UNKNOWN))
    (row,) = await outbox(database)
    assert "cannot verify" in text(row)


async def test_without_an_alerts_channel_incidents_are_kept_and_nothing_is_posted(
    database: Database,
) -> None:
    cfg = config({"name": "api", "url": "http://x"})
    quiet = AlertPolicy(channel=None, plans=check_plans(cfg))
    for minute in range(3):
        await apply(database, quiet, report(T0 + timedelta(minutes=minute), api=Status.CRITICAL))
    assert await outbox(database) == []
    assert [i.check for i in await StoreIncidents(database, channel=None).open()] == ["api"]
