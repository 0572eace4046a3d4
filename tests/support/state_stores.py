"""State-store backends for tests: a SQLite file, and a fresh PostgreSQL database per test.

``store_url`` is parametrised over both; PostgreSQL (127.0.0.1:5432, trust auth) is skipped
with a reason when absent, and fails instead when ``PRODGUARDIAN_REQUIRE_POSTGRES=1``.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_USER = os.environ.get("PRODGUARDIAN_TEST_PG_USER", "postgres")
PG_ADMIN_DB = "test"


def postgres_required() -> bool:
    return os.environ.get("PRODGUARDIAN_REQUIRE_POSTGRES") == "1"


async def _admin() -> asyncpg.Connection:
    return await asyncpg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, database=PG_ADMIN_DB, timeout=3
    )


def postgres_available() -> str | None:
    """None if PostgreSQL accepts connections; the reason otherwise (usable in any test)."""
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=2):
            pass
    except OSError as exc:
        return f"PostgreSQL at {PG_HOST}:{PG_PORT} is not available: {exc!r}"
    return None


def create_postgres_database() -> str:
    """A new empty database; its async SQLAlchemy URL."""
    name = f"pg_test_{uuid.uuid4().hex[:12]}"

    async def create() -> None:
        connection = await _admin()
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    asyncio.run(create())
    return f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


def drop_postgres_database(url: str) -> None:
    name = url.rsplit("/", 1)[-1]

    async def drop() -> None:
        connection = await _admin()
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    asyncio.run(drop())


def require_postgres() -> None:
    """Skip (or fail, when required) a test that needs PostgreSQL."""
    reason = postgres_available()
    if reason is None:
        return
    if postgres_required():
        pytest.fail(f"{reason} (PRODGUARDIAN_REQUIRE_POSTGRES=1)")
    pytest.skip(reason)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty state store: a SQLite file, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'state.db'}"
        return
    require_postgres()
    url = create_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(url)


@pytest.fixture
async def database(store_url: str) -> AsyncIterator[object]:
    """A migrated :class:`~prodguardian.store.database.Database` on ``store_url``."""
    from prodguardian.store.database import Database
    from prodguardian.store.migrate import upgrade

    db = Database(store_url, attempts=3, backoff_s=0.05, max_backoff_s=0.2)
    await upgrade(db)
    await db.ping()
    try:
        yield db
    finally:
        await db.dispose()
