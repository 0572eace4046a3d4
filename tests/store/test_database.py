"""The store survives its connection going away: killed backends, locked files, bad URLs."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from prodguardian.errors import ConfigError
from prodguardian.store.database import Database, StoreUnavailableError, parse_state_url
from prodguardian.store.migrate import upgrade
from prodguardian.store.schema import SilenceRow
from tests.support.state_stores import PG_ADMIN_DB, PG_HOST, PG_PORT, PG_USER, require_postgres


async def count_silences(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(SilenceRow)) or 0)


async def add_silence(session: AsyncSession) -> int:
    now = datetime.now(UTC)
    session.add(SilenceRow(target="api", until=now, by="U0", created_at=now))
    await session.flush()
    return await count_silences(session)


async def test_a_killed_postgresql_backend_is_reconnected(store_url: str) -> None:
    if not store_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    require_postgres()
    db = Database(store_url, backoff_s=0.05)
    await upgrade(db)
    assert await db.run(count_silences) == 0
    name = store_url.rsplit("/", 1)[-1]
    admin = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database=PG_ADMIN_DB)
    try:
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1",
            name,
        )
    finally:
        await admin.close()
    assert killed >= 1
    # The pooled connection is dead; pre-ping and the retry make the next unit succeed.
    assert await db.run(count_silences) == 0
    assert db.health.up
    await db.dispose()


async def test_a_locked_sqlite_file_is_waited_for_then_reported(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'state.db'}"
    db = Database(url, attempts=2, backoff_s=0.05, max_backoff_s=0.05)
    await upgrade(db)
    await db.ping()
    release = threading.Event()
    locked = threading.Event()

    def hold_lock() -> None:
        other = sqlite3.connect(tmp_path / "state.db", isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        locked.set()
        release.wait(30)
        other.execute("ROLLBACK")
        other.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    locked.wait(5)
    try:
        # Readers are not blocked (WAL); a write waits, retries, then says the store is away.
        assert await db.run(count_silences) == 0
        with pytest.raises(StoreUnavailableError, match="locked"):
            await db.run(add_silence, what="add a silence")
        assert not db.health.up
        assert "locked" in (db.health.problem or "")
    finally:
        release.set()
        await asyncio.to_thread(holder.join)
    assert await db.run(add_silence) == 1
    assert db.health.up
    assert db.reconnects == 1
    await db.dispose()


async def test_an_unreachable_postgresql_is_unavailable_not_a_crash() -> None:
    db = Database("postgresql+asyncpg://nobody@127.0.0.1:1/none", attempts=2, backoff_s=0.01)
    with pytest.raises(StoreUnavailableError, match=r"127\.0\.0\.1:1"):
        await db.run(count_silences)
    assert not await db.ping()
    assert db.health.problem
    await db.dispose()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://x@y/z", "unsupported database 'mysql'"),
        ("not a url", "is not a database URL"),
        ("sqlite:////no/such/folder/x.db", "does not exist"),
    ],
)
def test_a_bad_state_url_names_the_key(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        parse_state_url(url, config_path=Path("/tmp/pg.yaml"))
    assert caught.value.key == "state.url"


def test_state_urls_get_their_async_drivers(tmp_path: Path) -> None:
    config = tmp_path / "pg.yaml"
    assert parse_state_url("postgresql://u@h/db").drivername == "postgresql+asyncpg"
    with pytest.raises(ConfigError):
        parse_state_url("sqlite:///state/x.db", config_path=config)  # folder missing
    (tmp_path / "state").mkdir()
    ok = parse_state_url("sqlite:///state/x.db", config_path=config)
    assert ok.drivername == "sqlite+aiosqlite"
    assert ok.database == str(tmp_path / "state" / "x.db")
