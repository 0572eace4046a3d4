"""The migrations build exactly the tables the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from prodguardian.store.database import Database
from prodguardian.store.migrate import current_revision, head_revision, upgrade
from prodguardian.store.schema import Base


async def test_the_migrations_match_the_models(database: Database) -> None:
    def diff(connection: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))

    async with database.engine.connect() as connection:
        differences = await connection.run_sync(diff)
    assert differences == []
    assert await current_revision(database) == head_revision()


async def test_upgrading_twice_changes_nothing(database: Database) -> None:
    assert await upgrade(database) == head_revision()
    assert await current_revision(database) == head_revision()
