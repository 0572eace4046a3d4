"""What the status page and ``/api/status`` show, gathered from the store and the schedule.

The 24-hour strip of each check is read as one grouped query (worst status per half hour), so
the page costs the same with a thousand checks running every ten seconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Integer, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from prodguardian.report import Report
from prodguardian.slack.stores import FollowUpItem, Incident
from prodguardian.status import Status
from prodguardian.store.schema import CheckRunRow, DeployMarkRow

#: The history strip: 48 half hours.
SLOTS = 48
SLOT = timedelta(minutes=30)


class CheckLine(BaseModel):
    """One check on the page: its latest result and its last 24 hours."""

    model_config = ConfigDict(frozen=True)

    name: str
    kind: str
    status: Status
    summary: str
    ran_at: datetime | None
    history: tuple[Status | None, ...]
    """Worst status of each half hour, oldest first (None: no run then)."""


class DeployLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    revision: str | None
    since: datetime | None
    note: str | None
    by: str


class StatusView(BaseModel):
    """Everything on the status page (and ``/api/status``)."""

    model_config = ConfigDict(frozen=True)

    service: str
    status: Status
    summary: str
    generated_at: datetime
    checks: tuple[CheckLine, ...]
    incidents: tuple[Incident, ...] = ()
    followups: tuple[FollowUpItem, ...] = ()
    deploys: tuple[DeployLine, ...] = ()
    problems: tuple[str, ...] = ()
    """What the page cannot vouch for (the store away, nothing run yet)."""


@dataclass(frozen=True)
class HistoryRow:
    check: str
    slot: int
    status: Status


def strips(
    rows: Iterable[HistoryRow], names: Sequence[str]
) -> dict[str, tuple[Status | None, ...]]:
    """The worst status per slot of each check (pure)."""
    worst: dict[str, list[Status | None]] = {n: [None] * SLOTS for n in names}
    for row in rows:
        strip = worst.get(row.check)
        if strip is None or not 0 <= row.slot < SLOTS:
            continue
        current = strip[row.slot]
        if current is None or _rank(row.status) > _rank(current):
            strip[row.slot] = row.status
    return {name: tuple(slots) for name, slots in worst.items()}


def _rank(status: Status) -> int:
    return {Status.OK: 0, Status.UNKNOWN: 1, Status.DEGRADED: 2, Status.CRITICAL: 3}[status]


async def history_rows(session: AsyncSession, *, now: datetime) -> list[HistoryRow]:
    """Each check's statuses per half hour of the last 24 hours (one grouped query)."""
    start = now - SLOTS * SLOT
    if session.get_bind().dialect.name == "sqlite":
        epoch = cast(func.strftime("%s", CheckRunRow.started_at), Integer)
    else:
        epoch = cast(func.extract("epoch", CheckRunRow.started_at), Integer)
    slot = (epoch - int(start.timestamp())) / int(SLOT.total_seconds())
    query = (
        select(CheckRunRow.check_name, cast(slot, Integer), CheckRunRow.status)
        .where(CheckRunRow.started_at >= start)
        .group_by(CheckRunRow.check_name, cast(slot, Integer), CheckRunRow.status)
    )
    rows = (await session.execute(query)).all()
    return [HistoryRow(check=r[0], slot=int(r[1]), status=Status(r[2])) for r in rows]


async def recent_deploys(session: AsyncSession, *, limit: int = 10) -> list[DeployLine]:
    rows = (
        await session.scalars(select(DeployMarkRow).order_by(DeployMarkRow.id.desc()).limit(limit))
    ).all()
    return [DeployLine(revision=r.revision, since=r.since, note=r.note, by=r.by) for r in rows]


def check_lines(
    report: Report | None,
    names: Sequence[tuple[str, str]],
    history: dict[str, tuple[Status | None, ...]],
) -> tuple[CheckLine, ...]:
    """A line per configured check, from the latest report (pure)."""
    runs = {r.name: r for r in report.checks} if report is not None else {}
    lines = []
    for name, kind in names:
        run = runs.get(name)
        lines.append(
            CheckLine(
                name=name,
                kind=kind,
                status=run.status if run else Status.UNKNOWN,
                summary=run.result.summary if run else "not run yet",
                ran_at=run.started_at if run else None,
                history=history.get(name, (None,) * SLOTS),
            )
        )
    return tuple(lines)
