"""Group commit: concurrent writes share units of work, and a bad entry fails alone."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from prodguardian.store.database import Database
from prodguardian.store.group_commit import GroupCommit
from prodguardian.store.schema import FollowUpRow

NOW = datetime(2026, 1, 1, tzinfo=UTC)


async def add_reminders(session: AsyncSession, texts: Sequence[str]) -> list[int]:
    rows = []
    for text in texts:
        if not text:
            raise ValueError("an empty reminder")
        rows.append(FollowUpRow(text=text, kind="remind", created_at=NOW, state="open", runs=0))
    session.add_all(rows)
    await session.flush()
    return [row.id for row in rows]


async def stored(database: Database) -> list[str]:
    async def read(session: AsyncSession) -> list[str]:
        return list((await session.scalars(select(FollowUpRow.text))).all())

    return await database.run(read)


async def test_concurrent_writes_share_units_and_all_land(database: Database) -> None:
    group = GroupCommit(database, add_reminders, what="add reminders")

    ids = await asyncio.gather(*(group.write(f"r{i}") for i in range(200)))

    assert sorted(await stored(database)) == sorted(f"r{i}" for i in range(200))
    assert len(set(ids)) == 200
    assert group.units < 200


async def test_a_bad_entry_fails_alone(database: Database) -> None:
    group = GroupCommit(database, add_reminders, what="add reminders")

    results = await asyncio.gather(
        *(group.write(text) for text in ["a", "b", "", "c"]), return_exceptions=True
    )

    assert [type(r).__name__ for r in results] == ["int", "int", "ValueError", "int"]
    assert sorted(await stored(database)) == ["a", "b", "c"]


async def test_a_write_after_a_quiet_spell_is_committed(database: Database) -> None:
    group = GroupCommit(database, add_reminders, what="add reminders")

    await group.write("first")
    await asyncio.sleep(0)
    await group.write("second")

    async def count(session: AsyncSession) -> int:
        return int(await session.scalar(select(func.count()).select_from(FollowUpRow)) or 0)

    assert await database.run(count) == 2
    with pytest.raises(ValueError, match="empty"):
        await group.write("")
