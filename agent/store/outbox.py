"""The outbox: every message to Slack is a row before it is sent, and marked after.

Contract (what survives a crash, what may happen twice):

* :func:`enqueue` runs inside the unit of work that decided the message (an incident opening),
  so a decision and its message are committed together or not at all.
* The sender marks a row ``sending`` (committed) before it calls Slack and ``sent`` with Slack's
  ``ts`` after. A row found ``sending`` later (a crash, a timeout) has an unknown fate: the
  sender looks for its ``key`` in the channel before sending it again.
* Rows of one group (an incident) go out in id order; an ``update`` superseded by a newer
  update of the same message is skipped.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from prodguardian.store.replicas import term_is_current
from prodguardian.store.schema import OutboxRow

Action = Literal["post", "reply", "update"]
UNSENT = ("pending", "sending")


@dataclass(frozen=True, kw_only=True)
class OutgoingMessage:
    """A message to write to the outbox."""

    group: str
    action: Action
    channel: str
    payload: dict[str, Any]
    """``text`` and ``blocks`` as Slack takes them."""
    parent_id: int | None = None
    """The outbox row of the message to reply to or update."""


@dataclass(frozen=True, kw_only=True)
class QueuedMessage:
    """An outbox row as the sender handles it."""

    id: int
    key: str
    group: str
    action: Action
    channel: str
    payload: dict[str, Any]
    parent_id: int | None
    state: str
    attempts: int
    created_at: datetime


@dataclass(frozen=True)
class SentRef:
    """Where a message landed in Slack."""

    channel: str
    ts: str


async def enqueue(session: AsyncSession, message: OutgoingMessage, *, now: datetime) -> int:
    """Write ``message`` (in the caller's transaction); its row id."""
    row = add(session, message, now=now)
    await session.flush()
    return row.id


def add(session: AsyncSession, message: OutgoingMessage, *, now: datetime) -> OutboxRow:
    """Add ``message`` to the caller's transaction without writing it yet: rows added this way
    are inserted together (in the order they were added) when the unit of work flushes or
    commits, and get their ids then."""
    row = OutboxRow(
        key=uuid.uuid4().hex,
        group_key=message.group,
        action=message.action,
        channel=message.channel,
        parent_id=message.parent_id,
        payload=json.dumps(message.payload, separators=(",", ":")),
        state="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    return row


async def due_messages(
    session: AsyncSession, *, now: datetime, limit: int = 200
) -> list[QueuedMessage]:
    """The next message of each group that may go now, oldest first.

    An ``update`` with a newer update of the same message behind it is marked superseded.
    """
    rows = (
        await session.scalars(
            select(OutboxRow)
            .where(OutboxRow.state.in_(UNSENT))
            .order_by(OutboxRow.id)
            .limit(limit * 5)
        )
    ).all()
    by_group: dict[str, list[OutboxRow]] = {}
    for row in rows:
        by_group.setdefault(row.group_key, []).append(row)
    due: list[QueuedMessage] = []
    for queue in by_group.values():
        head = _skip_superseded(queue)
        if head is not None and head.next_attempt_at <= now:
            due.append(_queued(head))
    due.sort(key=lambda m: m.id)
    return due[:limit]


def _skip_superseded(queue: list[OutboxRow]) -> OutboxRow | None:
    for index, row in enumerate(queue):
        later = queue[index + 1] if index + 1 < len(queue) else None
        if (
            row.action == "update"
            and row.state == "pending"
            and later is not None
            and later.action == "update"
            and later.parent_id == row.parent_id
        ):
            row.state = "superseded"
            continue
        return row
    return None


async def mark_sending(
    session: AsyncSession, message_ids: Sequence[int], *, term: int | None
) -> set[int]:
    """Claim rows for their sends; those still unsent (another sender took the others). None
    is claimed once ``term`` is no longer the current leadership term (a leader that woke up
    too late)."""
    if not message_ids:
        return set()
    claimed = await session.scalars(
        update(OutboxRow)
        .where(
            OutboxRow.id.in_(list(message_ids)),
            OutboxRow.state.in_(UNSENT),
            term_is_current(term),
        )
        .values(state="sending", attempts=OutboxRow.attempts + 1, term=term)
        .returning(OutboxRow.id)
        .execution_options(synchronize_session=False)
    )
    return set(claimed.all())


@dataclass(frozen=True)
class Delivered:
    """A row's message reached Slack: where, and when."""

    id: int
    ref: SentRef
    at: datetime


async def mark_sent(session: AsyncSession, delivered: Sequence[Delivered]) -> None:
    """Record Slack's answers for rows (one statement for all)."""
    if not delivered:
        return
    await session.execute(
        update(OutboxRow),
        [
            {
                "id": one.id,
                "state": "sent",
                "ts": one.ref.ts,
                "sent_channel": one.ref.channel,
                "sent_at": one.at,
                "last_error": None,
            }
            for one in delivered
        ],
    )


async def mark_failed(
    session: AsyncSession,
    message_id: int,
    *,
    error: str,
    retry_at: datetime,
    uncertain: bool,
) -> None:
    """A send failed: try again at ``retry_at``; ``uncertain`` if it may have got through."""
    await session.execute(
        update(OutboxRow)
        .where(OutboxRow.id == message_id)
        .values(
            state="sending" if uncertain else "pending",
            last_error=error[:2000],
            next_attempt_at=retry_at,
        )
    )


async def sent_ref(session: AsyncSession, message_id: int) -> SentRef | None:
    """Where the row's message landed, if it was sent."""
    row = await session.get(OutboxRow, message_id)
    if row is None or row.ts is None:
        return None
    return SentRef(channel=row.sent_channel or row.channel, ts=row.ts)


async def backlog(session: AsyncSession) -> int:
    """How many messages wait to be sent."""
    count = await session.scalar(
        select(func.count()).select_from(OutboxRow).where(OutboxRow.state.in_(UNSENT))
    )
    return int(count or 0)


async def sent_messages(session: AsyncSession, *, group: str | None = None) -> Sequence[OutboxRow]:
    """The sent rows (of one group), oldest first."""
    query = select(OutboxRow).where(OutboxRow.state == "sent").order_by(OutboxRow.id)
    if group is not None:
        query = query.where(OutboxRow.group_key == group)
    return (await session.scalars(query)).all()


def backoff(attempts: int, *, base_s: float = 2.0, cap_s: float = 300.0) -> timedelta:
    """How long to wait after the ``attempts``-th failed send."""
    return timedelta(seconds=min(base_s * 2 ** max(attempts - 1, 0), cap_s))


def _queued(row: OutboxRow) -> QueuedMessage:
    action: Action = row.action  # type: ignore[assignment]
    return QueuedMessage(
        id=row.id,
        key=row.key,
        group=row.group_key,
        action=action,
        channel=row.channel,
        payload=json.loads(row.payload),
        parent_id=row.parent_id,
        state=row.state,
        attempts=row.attempts,
        created_at=row.created_at,
    )
