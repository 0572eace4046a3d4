"""Applying the Alembic migrations: at start-up, and from ``prodguardian db upgrade``.

Migrations run in one transaction on the store's own connection; two processes starting at
once on PostgreSQL serialise on an advisory lock, so the schema is upgraded exactly once.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from prodguardian.store.database import Database

MIGRATIONS = Path(__file__).with_name("migrations")
#: The advisory lock key that serialises migrations across replicas (PostgreSQL).
MIGRATION_LOCK_KEY = 7_261_001


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    """Alembic's config pointing at the packaged migrations (and ``connection`` if given)."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration's revision id."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


async def upgrade(database: Database) -> str | None:
    """Bring the store's schema to the newest revision; the revision it was at before."""

    def run(connection: Connection) -> str | None:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
        before = MigrationContext.configure(connection).get_current_revision()
        command.upgrade(alembic_config(connection), "head")
        return before

    async with database.engine.begin() as connection:
        return await connection.run_sync(run)


async def current_revision(database: Database) -> str | None:
    """The store's schema revision (None for an empty store)."""

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with database.engine.connect() as connection:
        return await connection.run_sync(read)
