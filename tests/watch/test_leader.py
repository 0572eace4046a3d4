"""The leader lock: a PostgreSQL lease (takeover, pause, killed connection) and SQLite's flock."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from prodguardian.store.database import Database
from prodguardian.store.migrate import upgrade
from prodguardian.store.replicas import StaleTermError
from prodguardian.watch.leader import LeaderSettings, SoleInstance, leadership_for
from prodguardian.watch.pg_lease import LOCK_APPLICATION, PostgresLease
from tests.support.slack_standin import wait_until
from tests.support.state_stores import (
    create_postgres_database,
    drop_postgres_database,
    require_postgres,
)

pytestmark = pytest.mark.postgres

FAST = LeaderSettings(check_every_s=0.25, lease_s=1.5)


@pytest.fixture
def pg_url() -> Iterator[str]:
    require_postgres()
    url = create_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(url)


@pytest.fixture
async def pg_database(pg_url: str) -> AsyncIterator[Database]:
    database = Database(pg_url)
    await upgrade(database)
    try:
        yield database
    finally:
        await database.dispose()


@contextlib.asynccontextmanager
async def contending(lease: PostgresLease) -> AsyncIterator[PostgresLease]:
    task = asyncio.create_task(lease.run())
    try:
        yield lease
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await lease.release()


async def test_one_replica_leads_and_another_takes_over_with_a_higher_term(
    pg_database: Database,
) -> None:
    a = leadership_for(pg_database, replica_id="a", settings=FAST)
    b = leadership_for(pg_database, replica_id="b", settings=FAST)
    assert isinstance(a, PostgresLease)
    assert isinstance(b, PostgresLease)
    async with contending(a):
        await wait_until(a.holds, what="a leads")
        async with contending(b):
            await wait_until(lambda: b.state.leader_id == "a", what="b sees a lead")
            assert not b.holds()
            assert b.state.problem == f"replica a leads (term {a.state.term})"
            first_term = a.state.term
            assert first_term is not None
            await a.release()
            await wait_until(b.holds, timeout_s=10, what="b takes over")
            assert b.state.term == first_term + 1
            assert b.term() == first_term + 1


async def test_a_paused_leader_stops_at_once_and_its_lock_passes_on(
    pg_database: Database,
) -> None:
    a = PostgresLease(pg_database, "a", settings=FAST)
    b = PostgresLease(pg_database, "b", settings=FAST)
    async with contending(a):
        await wait_until(a.holds, what="a leads")
        async with contending(b):
            await wait_until(lambda: b.state.leader_id == "a", what="b follows a")
            await pause_then_check(pg_database, a, b)


async def pause_then_check(pg_database: Database, a: PostgresLease, b: PostgresLease) -> None:
    term = a.state.term
    # Block the event loop past the lease: what SIGSTOP or a long GC does to a leader.
    time.sleep(FAST.lease_s * 1.5)  # noqa: ASYNC251 (the point: nothing else runs)
    assert not a.holds(), "a leader that was paused must not act before re-checking"
    assert not a.is_leader
    async with pg_database.sessions() as session:
        with pytest.raises(StaleTermError):
            await a.fence(session)
    await wait_until(b.holds, timeout_s=10, what="b takes over")
    assert term is not None
    assert (b.state.term or 0) > term
    await wait_until(lambda: not a.state.leading, what="a steps down")


async def test_a_leader_whose_lock_connection_is_terminated_stops_without_waiting(
    pg_database: Database,
) -> None:
    # Checks an hour apart: only hearing the connection close can explain a quick step-down.
    slow = LeaderSettings(check_every_s=3600, lease_s=3 * 3600)
    a = PostgresLease(pg_database, "a", settings=slow)
    async with contending(a):
        await wait_until(a.holds, what="a leads")
        url = pg_database.url.set(drivername="postgresql")
        admin = await asyncpg.connect(url.render_as_string(hide_password=False), timeout=5)
        try:
            killed = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = $1",
                LOCK_APPLICATION + "a",
            )
        finally:
            await admin.close()
        assert killed == 1
        await wait_until(lambda: not a.state.leading, what="a steps down")
        assert a.state.problem == "the lock connection was closed"
        assert not a.holds()


async def test_a_second_process_on_one_sqlite_file_waits_for_the_lock(tmp_path: Path) -> None:
    lock = tmp_path / "state.db.lock"
    first = SoleInstance(lock, "first", retry_s=0.05)
    second = SoleInstance(lock, "second", retry_s=0.05)
    tasks = [asyncio.create_task(first.run())]
    try:
        await wait_until(first.holds, what="the first leads")
        tasks.append(asyncio.create_task(second.run()))
        await wait_until(
            lambda: second.state.problem is not None and "holds" in second.state.problem,
            what="the second sees the lock",
        )
        assert not second.holds()
        assert f"holds {lock}" in (second.state.problem or "")
        assert "(first)" in (second.state.problem or ""), "it names who holds the lock"
        assert first.term() is None
        await first.release()
        await wait_until(second.holds, what="the second takes over")
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await second.release()
