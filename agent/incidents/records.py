"""Reading and writing incident rows: the conversions both the tracker and the commands use."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from prodguardian.report import Report
from prodguardian.slack.stores import Incident, Silence, UnknownItemError
from prodguardian.status import Status
from prodguardian.store.schema import IncidentEventRow, IncidentRow, SilenceRow

ID_PREFIX = "INC-"


def incident_id(row_id: int) -> str:
    return f"{ID_PREFIX}{row_id}"


def parse_incident_id(value: str) -> int | None:
    """``INC-12`` (or ``12``) → 12; None if it is not an incident id."""
    text = value.strip().upper().removeprefix(ID_PREFIX)
    return int(text) if text.isdigit() else None


def to_incident(row: IncidentRow) -> Incident:
    """The incident value of a row."""
    return Incident(
        id=incident_id(row.id),
        check=row.check_name,
        status=Status(row.status),
        opened_at=row.opened_at,
        acknowledged_by=row.acknowledged_by,
        acknowledged_at=row.acknowledged_at,
        resolved_at=row.resolved_at,
        kind=row.kind,
        reason=row.reason,
        affected=tuple(row.affected or ()),
    )


def stored_report(row: IncidentRow) -> Report | None:
    """The latest report of the incident's checks, if one was stored."""
    return Report.model_validate_json(row.report) if row.report else None


async def open_incidents(
    session: AsyncSession, checks: Sequence[str] | None = None
) -> list[IncidentRow]:
    """Open incident rows (of ``checks``), oldest first."""
    query = select(IncidentRow).where(IncidentRow.resolved_at.is_(None)).order_by(IncidentRow.id)
    if checks is not None:
        query = query.where(IncidentRow.check_name.in_(list(checks)))
    return list((await session.scalars(query)).all())


async def open_count(session: AsyncSession) -> int:
    """How many incidents are open."""
    count = await session.scalar(
        select(func.count()).select_from(IncidentRow).where(IncidentRow.resolved_at.is_(None))
    )
    return int(count or 0)


async def open_incident(session: AsyncSession, value: str) -> IncidentRow:
    """The open incident ``value`` names; :class:`UnknownItemError` listing the open ones."""
    number = parse_incident_id(value)
    row = await session.get(IncidentRow, number) if number is not None else None
    if row is None or row.resolved_at is not None:
        known = [incident_id(r.id) for r in await open_incidents(session)]
        raise UnknownItemError(f"no open incident {value!r}", known=known)
    return row


def add_event(
    session: AsyncSession,
    row: IncidentRow,
    kind: str,
    *,
    at: datetime,
    detail: str = "",
    by: str | None = None,
) -> None:
    session.add(IncidentEventRow(incident_id=row.id, at=at, kind=kind, detail=detail, by=by))


async def silences_in_force(session: AsyncSession, now: datetime) -> list[Silence]:
    rows = (
        await session.scalars(
            select(SilenceRow)
            .where(SilenceRow.until > now, SilenceRow.lifted_at.is_(None))
            .order_by(SilenceRow.id)
        )
    ).all()
    return [to_silence(r) for r in rows]


def to_silence(row: SilenceRow) -> Silence:
    return Silence(target=row.target, until=row.until, by=row.by, created_at=row.created_at)
