"""Incidents as the commands see them (Slack, the CLI): listed, acknowledged, silenced.

Opening and resolving is the tracker's job (scheduled runs); here a person acts on them, and
the alert message follows: an acknowledgement updates it in place and says so in its thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from prodguardian.incidents import alert_messages as msg
from prodguardian.incidents.records import (
    add_event,
    incident_id,
    open_incident,
    open_incidents,
    silences_in_force,
    stored_report,
    to_incident,
    to_silence,
)
from prodguardian.report import Report
from prodguardian.slack.blocks import SlackMessage
from prodguardian.slack.stores import Incident, Silence, UnknownItemError
from prodguardian.store.database import Database, StoreUnavailableError
from prodguardian.store.outbox import OutgoingMessage, enqueue
from prodguardian.store.schema import IncidentRow, SilenceRow


class StoreIncidents:
    """The :class:`~prodguardian.slack.stores.Incidents` of the state store."""

    def __init__(self, database: Database, *, channel: str | None) -> None:
        self.database = database
        self.channel = channel

    async def observe(self, report: Report) -> Sequence[Incident]:
        """The open incidents of ``report``'s checks (runs on demand do not move incidents)."""
        names = [r.name for r in report.checks]

        async def read(session: AsyncSession) -> list[Incident]:
            return [to_incident(r) for r in await open_incidents(session, names)]

        try:
            return await self.database.run(read, what="read incidents")
        except StoreUnavailableError:
            return []

    async def open(self) -> Sequence[Incident]:
        async def read(session: AsyncSession) -> list[Incident]:
            return [to_incident(r) for r in await open_incidents(session)]

        return await self.database.run(read, what="read incidents")

    async def recent(self, limit: int = 20) -> Sequence[Incident]:
        """The latest incidents, open or resolved, newest first."""

        async def read(session: AsyncSession) -> list[Incident]:
            rows = (
                await session.scalars(
                    select(IncidentRow).order_by(IncidentRow.id.desc()).limit(limit)
                )
            ).all()
            return [to_incident(r) for r in rows]

        return await self.database.run(read, what="read incidents")

    async def acknowledge(self, incident_id_: str, *, by: str, at: datetime) -> Incident:
        async def ack(session: AsyncSession) -> Incident:
            row = await open_incident(session, incident_id_)
            if row.acknowledged_by is None:
                row.acknowledged_by, row.acknowledged_at = by, at
                add_event(session, row, "acknowledged", at=at, by=by)
                await tell_in_thread(
                    session, row, msg.ack_note(to_incident(row)), channel=self.channel, at=at
                )
            return to_incident(row)

        return await self.database.run(ack, what="acknowledge an incident")

    async def silence(self, target: str, *, until: datetime, by: str, at: datetime) -> Silence:
        async def write(session: AsyncSession) -> Silence:
            await _lift(session, target, at)
            row = SilenceRow(target=target, until=until, by=by, created_at=at)
            session.add(row)
            minutes = int((until - at).total_seconds() // 60)
            for incident in await _incidents_of(session, target):
                add_event(session, incident, "silenced", at=at, by=by, detail=f"{minutes} min")
                await tell_in_thread(
                    session,
                    incident,
                    msg.silence_note(target, minutes, by),
                    channel=self.channel,
                    at=at,
                )
            return to_silence(row)

        return await self.database.run(write, what="silence")

    async def silences(self, *, now: datetime) -> Sequence[Silence]:
        async def read(session: AsyncSession) -> list[Silence]:
            return await silences_in_force(session, now)

        return await self.database.run(read, what="read silences")

    async def unsilence(self, target: str, *, by: str, at: datetime) -> Silence:
        async def lift(session: AsyncSession) -> Silence:
            lifted = await _lift(session, target, at)
            if lifted is None:
                known = [s.target for s in await silences_in_force(session, at)]
                raise UnknownItemError(f"no silence in force for {target!r}", known=known)
            return lifted

        return await self.database.run(lift, what="lift a silence")


async def tell_in_thread(
    session: AsyncSession,
    row: IncidentRow,
    note: SlackMessage,
    *,
    channel: str | None,
    at: datetime,
) -> None:
    """Update the incident's alert in place and add ``note`` to its thread (in the outbox)."""
    if channel is None or row.root_outbox_id is None:
        return
    report = stored_report(row)
    group = f"incident:{row.id}"
    if report is not None:
        alert = msg.render_alert(to_incident(row), report)
        await enqueue(
            session,
            OutgoingMessage(
                group=group,
                action="update",
                channel=channel,
                payload=alert.payload(),
                parent_id=row.root_outbox_id,
            ),
            now=at,
        )
    await enqueue(
        session,
        OutgoingMessage(
            group=group,
            action="reply",
            channel=channel,
            payload=note.payload(),
            parent_id=row.root_outbox_id,
        ),
        now=at,
    )


async def _lift(session: AsyncSession, target: str, at: datetime) -> Silence | None:
    rows = (
        await session.scalars(
            select(SilenceRow).where(
                SilenceRow.target == target, SilenceRow.until > at, SilenceRow.lifted_at.is_(None)
            )
        )
    ).all()
    if not rows:
        return None
    await session.execute(
        update(SilenceRow).where(SilenceRow.id.in_([r.id for r in rows])).values(lifted_at=at)
    )
    return to_silence(rows[-1]).model_copy(update={"until": at})


async def _incidents_of(session: AsyncSession, target: str) -> list[IncidentRow]:
    rows = await open_incidents(session)
    return [r for r in rows if target in (r.check_name, incident_id(r.id))]
