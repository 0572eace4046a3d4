"""Follow-up items in the store: created, scheduled, claimed, closed.

Contract (what survives a crash, what may run twice):

* An item is *claimed* (``claimed_at`` set, with the leadership term) in its own committed unit
  of work before it runs; a claim older than :data:`CLAIM_LEASE` is taken to be from a process
  that died, and the item may run again. So an item due while ProdGuardian was stopped runs
  once at start-up, and one interrupted mid-run runs again after the lease.
* Its verdict, its next time and the message that tells it are written in one unit of work.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
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
        .where(
            FollowUpRow.state == OPEN,
            FollowUpRow.next_at.is_not(None),
            FollowUpRow.next_at <= now,
            or_(FollowUpRow.claimed_at.is_(None), FollowUpRow.claimed_at < now - CLAIM_LEASE),
        )
        .order_by(FollowUpRow.next_at, FollowUpRow.id)
        .limit(limit)
    )
    return list(rows.all())


async def claim(
    session: AsyncSession, item_id: int, *, now: datetime, term: int | None
) -> FollowUpRow | None:
    """Take the item for a run; None if it is no longer due or someone else holds it."""
    result = await session.execute(
        update(FollowUpRow)
        .where(
            FollowUpRow.id == item_id,
            FollowUpRow.state == OPEN,
            FollowUpRow.next_at <= now,
            or_(FollowUpRow.claimed_at.is_(None), FollowUpRow.claimed_at < now - CLAIM_LEASE),
            # A leader that was paused past a takeover claims nothing (several replicas).
            term_is_current(term),
        )
        .values(claimed_at=now, term=term)
    )
    if not getattr(result, "rowcount", 0):
        return None
    return await session.get(FollowUpRow, item_id)


async def has_open(session: AsyncSession, *, source: str) -> bool:
    """Whether an open item came from ``source`` (a runbook's checklist in progress)."""
    found = await session.scalar(
        select(FollowUpRow.id).where(FollowUpRow.source == source, FollowUpRow.state == OPEN)
    )
    return found is not None


async def open_items(session: AsyncSession) -> list[FollowUpRow]:
    rows = await session.scalars(select(FollowUpRow).where(FollowUpRow.state == OPEN))
    return list(rows.all())
