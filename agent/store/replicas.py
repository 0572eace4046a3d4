"""Replicas and leadership terms in the store: heartbeats, terms handed out, and fencing.

Contract:

* A replica writes its heartbeat row (``replicas``) every few seconds and deletes it when it
  stops cleanly; a row not seen for a while is a replica that died (``prodguardian status``
  shows it as gone, and rows a day old are deleted).
* A term is handed out (:func:`take_term`) only by the replica that holds the leader lock, so
  terms only grow; the highest row of ``leader_terms`` is the current term.
* **Fencing**: a claim made under a term (an outbox row, a follow-up, applying a report) only
  succeeds while that term is still the highest. A leader that was paused and woke up after
  another took over holds a stale term, and the store refuses its claims:
  :func:`term_is_current` goes into the claim's ``UPDATE … WHERE``, :func:`check_term` into a
  unit of work. ``term=None`` means a single instance (SQLite): no fencing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, literal, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from prodguardian.errors import ProdGuardianError
from prodguardian.store.schema import LeaderTermRow, ReplicaRow

#: Heartbeat rows older than this are deleted.
FORGET_AFTER = timedelta(days=1)


class StaleTermError(ProdGuardianError):
    """A unit of work under a leadership term that is no longer the current one."""


@dataclass(frozen=True, kw_only=True)
class ReplicaInfo:
    """A replica as its last heartbeat described it."""

    id: str
    host: str
    started_at: datetime
    seen_at: datetime
    leader: bool
    term: int | None


@dataclass(frozen=True, kw_only=True)
class TermInfo:
    """A leadership term: who took it, and when."""

    term: int
    replica_id: str
    started_at: datetime


def term_is_current(term: int | None) -> ColumnElement[bool]:
    """A WHERE clause true only while ``term`` is the highest term (always true for None)."""
    if term is None:
        return true()
    highest = select(func.max(LeaderTermRow.term)).scalar_subquery()
    return literal(term) == highest


async def current_term(session: AsyncSession) -> TermInfo | None:
    """The highest term handed out (None before any)."""
    row = await session.scalar(select(LeaderTermRow).order_by(LeaderTermRow.term.desc()).limit(1))
    if row is None:
        return None
    return TermInfo(term=row.term, replica_id=row.replica_id, started_at=row.started_at)


async def check_term(session: AsyncSession, term: int | None) -> None:
    """Raise :class:`StaleTermError` unless ``term`` is current (None: nothing to check)."""
    if term is None:
        return
    highest = await session.scalar(select(func.max(LeaderTermRow.term)))
    if highest != term:
        raise StaleTermError(f"leadership term {term} is over (the current term is {highest})")


async def take_term(session: AsyncSession, *, replica_id: str, now: datetime) -> int:
    """Hand out the next term to ``replica_id`` (the holder of the leader lock)."""
    highest = await session.scalar(select(func.max(LeaderTermRow.term)))
    term = int(highest or 0) + 1
    session.add(LeaderTermRow(term=term, replica_id=replica_id, started_at=now))
    await session.flush()
    return term


async def heartbeat(
    session: AsyncSession,
    *,
    replica_id: str,
    host: str,
    started_at: datetime,
    leader: bool,
    term: int | None,
    now: datetime,
) -> None:
    """Write this replica's heartbeat row (and forget rows a day old)."""
    row = await session.get(ReplicaRow, replica_id)
    if row is None:
        session.add(
            ReplicaRow(
                id=replica_id,
                host=host[:128],
                started_at=started_at,
                seen_at=now,
                leader=leader,
                term=term,
            )
        )
    else:
        row.seen_at = now
        row.leader = leader
        row.term = term
    await session.execute(delete(ReplicaRow).where(ReplicaRow.seen_at < now - FORGET_AFTER))


async def forget(session: AsyncSession, replica_id: str) -> None:
    """Delete this replica's heartbeat row (a clean stop)."""
    await session.execute(delete(ReplicaRow).where(ReplicaRow.id == replica_id))


async def replicas(session: AsyncSession) -> list[ReplicaInfo]:
    """Every replica that checked in, leaders first, then the most recently seen."""
    rows = (
        await session.scalars(
            select(ReplicaRow).order_by(ReplicaRow.leader.desc(), ReplicaRow.seen_at.desc())
        )
    ).all()
    return [
        ReplicaInfo(
            id=r.id,
            host=r.host,
            started_at=r.started_at,
            seen_at=r.seen_at,
            leader=r.leader,
            term=r.term,
        )
        for r in rows
    ]
