"""Follow-up items in the store: created, scheduled, claimed, closed.

Contract (what survives a crash, what may run twice):

* An item is *claimed* (``claimed_at`` set, with the leadership term) in a committed unit of
  work before it runs (the items due at one moment are claimed together); a claim older than
  :data:`CLAIM_LEASE` is taken to be from a process that died, and the item may run again.
  So an item due while ProdGuardian was stopped runs once at start-up, and one interrupted
  mid-run runs again after the lease.
* Its verdict, its next time and the message that tells it are written in one unit of work
  (shared with other items' verdicts when they finish together; never split).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from prodguardian.config.models import FollowUpsConfig
from prodguardian.followups.plan import kind_of, timing
from prodguardian.runbooks.findings import PlannedFollowUp
from prodguardian.store.replicas import term_is_current
from prodguardian.store.schema import FollowUpRow

#: A claim older than this is from a process that died mid-run.
CLAIM_LEASE = timedelta(minutes=5)
OPEN = "open"


async def add_items(
    session: AsyncSession,
    specs: Sequence[PlannedFollowUp],
    *,
    source: str,
    now: datetime,
    defaults: FollowUpsConfig,
    fixed_at: datetime | None = None,
    incident_id: int | None = None,
    deploy_id: int | None = None,
) -> list[FollowUpRow]:
    """Add items; without ``fixed_at`` they wait for the fix (no due time yet)."""
    rows = []
    for spec in specs:
        row = FollowUpRow(
            text=spec.text,
            kind=kind_of(spec),
            spec=spec.model_dump_json(),
            source=source,
            incident_id=incident_id,
            deploy_id=deploy_id,
            created_at=now,
            state=OPEN,
            runs=0,
        )
        if fixed_at is not None:
            _schedule(row, spec, fixed_at, defaults)
        session.add(row)
        rows.append(row)
    await session.flush()
    return rows


async def schedule_waiting(
    session: AsyncSession,
    *,
    incident_ids: Sequence[int],
    fixed_at: datetime,
    defaults: FollowUpsConfig,
    deploy_id: int | None = None,
) -> int:
    """Start the clocks of the items waiting for these incidents' fix; how many."""
    if not incident_ids:
        return 0
    rows = (
        await session.scalars(
            select(FollowUpRow).where(
                FollowUpRow.incident_id.in_(list(incident_ids)),
                FollowUpRow.state == OPEN,
                FollowUpRow.due_at.is_(None),
            )
        )
    ).all()
    for row in rows:
        _schedule(row, PlannedFollowUp.model_validate_json(row.spec or "{}"), fixed_at, defaults)
        if deploy_id is not None:
            row.deploy_id = deploy_id
    return len(rows)


def _schedule(
    row: FollowUpRow, spec: PlannedFollowUp, fixed_at: datetime, defaults: FollowUpsConfig
) -> None:
    when = timing(spec, fixed_at=fixed_at, defaults=defaults)
    row.due_at = row.next_at = when.due_at
    row.expires_at = when.expires_at


async def due_ids(session: AsyncSession, *, now: datetime, limit: int = 500) -> list[int]:
    """Open items whose time has come and that nobody holds, soonest first."""
    rows = await session.scalars(
        select(FollowUpRow.id)
        .where(FollowUpRow.next_at.is_not(None), *_claimable(now))
        .order_by(FollowUpRow.next_at, FollowUpRow.id)
        .limit(limit)
    )
    return list(rows.all())


async def claim_due(
    session: AsyncSession, *, now: datetime, term: int | None, limit: int = 500
) -> list[FollowUpRow]:
    """Take the items due now that nobody holds, soonest first, in one statement.

    The update re-checks what :func:`due_ids` read, so an item another process claimed in
    between is not taken twice.
    """
    wanted = await due_ids(session, now=now, limit=limit)
    if not wanted:
        return []
    claimed = await session.scalars(
        update(FollowUpRow)
        .where(
            FollowUpRow.id.in_(wanted),
            *_claimable(now),
            # A leader that was paused past a takeover claims nothing (several replicas).
            term_is_current(term),
        )
        .values(claimed_at=now, term=term)
        .returning(FollowUpRow.id)
        .execution_options(synchronize_session=False)
    )
    ids = list(claimed.all())
    if not ids:
        return []
    rows = await session.scalars(
        select(FollowUpRow)
        .where(FollowUpRow.id.in_(ids))
        .order_by(FollowUpRow.next_at, FollowUpRow.id)
    )
    return list(rows.all())


def _claimable(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        FollowUpRow.state == OPEN,
        FollowUpRow.next_at <= now,
        or_(FollowUpRow.claimed_at.is_(None), FollowUpRow.claimed_at < now - CLAIM_LEASE),
    )


async def has_open(session: AsyncSession, *, source: str) -> bool:
    """Whether an open item came from ``source`` (a runbook's checklist in progress)."""
    found = await session.scalar(
        select(FollowUpRow.id).where(FollowUpRow.source == source, FollowUpRow.state == OPEN)
    )
    return found is not None


async def open_items(session: AsyncSession) -> list[FollowUpRow]:
    rows = await session.scalars(select(FollowUpRow).where(FollowUpRow.state == OPEN))
    return list(rows.all())
