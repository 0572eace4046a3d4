"""Follow-up items in the store: listed by ``/check_prod followups``, closed by ``done``."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prodguardian.runbooks.findings import PlannedFollowUp
from prodguardian.slack.stores import FollowUpItem, UnknownItemError
from prodguardian.store.database import Database, StoreUnavailableError
from prodguardian.store.schema import FollowUpRow

ID_PREFIX = "F-"


def followup_id(row_id: int) -> str:
    return f"{ID_PREFIX}{row_id}"


def parse_followup_id(value: str) -> int | None:
    text = value.strip().upper().removeprefix(ID_PREFIX)
    return int(text) if text.isdigit() else None


def to_item(row: FollowUpRow) -> FollowUpItem:
    return FollowUpItem(
        id=followup_id(row.id),
        text=row.text,
        due_at=row.due_at,
        created_at=row.created_at,
        source=row.source,
        done_by=row.done_by,
        done_at=row.done_at,
    )


class StoreFollowUps:
    """Follow-ups kept in the state store."""

    def __init__(self, database: Database, *, expire_after: timedelta = timedelta(days=7)) -> None:
        self.database = database
        self.expire_after = expire_after
        self._pending: list[FollowUpItem] = []
        """The open items last read, shown while the store is away."""

    async def add(
        self,
        text: str,
        *,
        created_at: datetime,
        due_at: datetime | None = None,
        source: str | None = None,
        incident_id: int | None = None,
    ) -> FollowUpItem:
        """Add an open reminder and return it with its id (``F-1`` …)."""

        async def write(session: AsyncSession) -> FollowUpItem:
            spec = PlannedFollowUp(after="now", after_s=0.0, remind=text)
            row = FollowUpRow(
                text=text,
                kind="remind",
                spec=spec.model_dump_json(),
                source=source,
                incident_id=incident_id,
                created_at=created_at,
                due_at=due_at,
                next_at=due_at,
                expires_at=(due_at + self.expire_after) if due_at is not None else None,
                state="open",
                runs=0,
            )
            session.add(row)
            await session.flush()
            return to_item(row)

        return await self.database.run(write, what="add a follow-up")

    async def remind(self, text: str, *, due_at: datetime, by: str, at: datetime) -> FollowUpItem:
        return await self.add(text, created_at=at, due_at=due_at, source=f"added by {by}")

    async def pending(self) -> Sequence[FollowUpItem]:
        async def read(session: AsyncSession) -> list[FollowUpItem]:
            rows = (
                await session.scalars(select(FollowUpRow).where(FollowUpRow.state == "open"))
            ).all()
            items = [to_item(r) for r in rows]
            return sorted(items, key=lambda i: (i.due_at is None, i.due_at or i.created_at))

        # While the store is away, the last list read: a report still renders.
        with contextlib.suppress(StoreUnavailableError):
            self._pending = await self.database.run(read, what="list follow-ups")
        return self._pending

    async def done(self, followup_id_: str, *, by: str, at: datetime) -> FollowUpItem:
        async def close(session: AsyncSession) -> FollowUpItem:
            number = parse_followup_id(followup_id_)
            row = await session.get(FollowUpRow, number) if number is not None else None
            if row is None or row.state != "open":
                open_rows = (
                    await session.scalars(select(FollowUpRow).where(FollowUpRow.state == "open"))
                ).all()
                raise UnknownItemError(
                    f"no open follow-up {followup_id_!r}",
                    known=[followup_id(r.id) for r in open_rows],
                )
            row.state, row.done_by, row.done_at = "done", by, at
            return to_item(row)

        return await self.database.run(close, what="close a follow-up")
