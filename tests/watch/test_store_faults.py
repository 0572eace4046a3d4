"""The store goes away under a running ``serve``: PostgreSQL backends killed or refused, a
SQLite file locked by another process. Checks keep running, ``/readyz`` says so while it
lasts, and the owed reports and alerts arrive once when the store is back."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from tests.support.response_url_sink import ResponseUrlSink
from tests.support.state_stores import (
    PG_ADMIN_DB,
    PG_HOST,
    PG_PORT,
    PG_USER,
)
from tests.watch.serve_process import (
    FaultySlack,
    FlipTarget,
    ServeProcess,
    StoreView,
    eventually,
    http_check,
    runs_advance,
    serving,
    store_view,
    write_watch_config,
)


@pytest.fixture
async def admin() -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, database=PG_ADMIN_DB, timeout=5
    )
    try:
        yield connection
    finally:
        await connection.close()


async def terminate_backends(admin: asyncpg.Connection, database: str) -> int:
    """``pg_terminate_backend`` of every connection to ``database``; how many were killed."""
    killed = await admin.fetch(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = $1 AND pid <> pg_backend_pid()",
        database,
    )
    return len(killed)


async def store_down(process: ServeProcess) -> bool:
    ready = await process.readyz()
    return ready.status == 503 and "state store" in str(ready.body.get("problem"))


async def store_back(process: ServeProcess) -> bool:
    ready = await process.readyz()
    return ready.status == 200 and ready.body["store"]["owed_reports"] == 0


@dataclass(frozen=True)
class WhileAway:
    """What was seen from the store's first reported problem until ``runs`` more reports were
    owed: ``/readyz``'s status codes, and how many scheduled runs were skipped meanwhile."""

    statuses: list[int]
    skipped_runs: int


async def while_away(process: ServeProcess, runs: int) -> WhileAway:
    await eventually(lambda: store_down(process), what="/readyz to report the store")
    seen: list[int] = []

    async def owing(count: int) -> tuple[int] | None:
        ready = await process.readyz()
        seen.append(ready.status)
        owed = int(ready.body["store"]["owed_reports"])
        return (owed,) if owed >= count else None

    # A run that began before the store was found down may still be waiting on it: count
    # from the first run owed after that.
    [found_down] = await eventually(lambda: owing(0), what="/readyz's count of owed reports")
    [owed] = await eventually(lambda: owing(found_down + 1), what="a run owed while away")
    skipped_before = skipped_runs(process)
    await eventually(lambda: owing(owed + runs), what=f"{runs} more runs owed")
    return WhileAway(seen, skipped_runs(process) - skipped_before)


def skipped_runs(process: ServeProcess) -> int:
    """Scheduled check runs skipped because the previous one still ran (a 1 s check that takes
    milliseconds only overlaps itself when something holds it up); chores are not counted."""
    lines = process.logs().splitlines()
    return sum("maximum number of running instances" in x and "_chore" not in x for x in lines)


async def answers_check_prod(process: ServeProcess, sink: ResponseUrlSink, key: str) -> None:
    """``/check_prod`` (every check: the report is recorded, incidents and follow-ups shown)
    is acknowledged and answered while the store is away."""
    status, _ = await process.command("", sink.url_for(key))
    assert status == 200
    deliveries = await sink.wait_for(key, timeout_s=30)
    assert "*api*" in deliveries[-1].all_text, deliveries[-1].all_text


async def one_alert(slack: FaultySlack, store: StoreView) -> bool:
    return bool(slack.top_level()) and bool(await store.incidents())


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
async def test_postgres_backends_killed_and_refused_mid_run(
    tmp_path: Path,
    store_url: str,
    admin: asyncpg.Connection,
    sink: ResponseUrlSink,
    slack: FaultySlack,
    target: FlipTarget,
) -> None:
    pg_url = store_url
    name = pg_url.rsplit("/", 1)[-1]
    config = write_watch_config(tmp_path, store_url=pg_url, checks=[http_check(target, "api")])
    async with store_view(pg_url) as store, serving(config, slack, tmp_path) as process:
        await runs_advance(store, "api", 2)
        target.set("api", healthy=False)
        for _ in range(3):  # killed again and again while the incident opens
            await eventually(lambda: terminate_backends(admin, name), what="a backend to kill")
            await runs_advance(store, "api", 1)
        await eventually(lambda: one_alert(slack, store), what="the alert after the kills")
        assert await process.readyz() is not None

        # Now the database refuses connections for a while: the store is down, not flaky.
        target.set("api", healthy=True)
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        try:
            await terminate_backends(admin, name)
            away = await while_away(process, 3)
            await answers_check_prod(process, sink, "pg-away")
        finally:
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        assert set(away.statuses) == {503}, f"ready while connections were refused: {away}"
        assert away.skipped_runs == 0, "runs waited on the store while it was known down"
        await eventually(lambda: store_back(process), what="/readyz ready with nothing owed")

        async def resolved() -> bool:
            incidents = await store.incidents()
            return bool(incidents) and incidents[0].resolved_at is not None

        await eventually(resolved, what="the resolution from the owed reports")
        [alert] = slack.top_level()
        await eventually(
            lambda: _async(any("resolved" in slack.shown(r) for r in slack.thread(alert))),
            what="the resolution in the alert's thread",
        )
    assert len(await _incidents(pg_url)) == 1
    assert len(slack.top_level()) == 1


async def test_sqlite_file_locked_by_another_process_mid_run(
    tmp_path: Path, slack: FaultySlack, target: FlipTarget, sink: ResponseUrlSink
) -> None:
    file = tmp_path / "state.db"
    url = f"sqlite+aiosqlite:///{file}"
    config = write_watch_config(tmp_path, store_url=url, checks=[http_check(target, "api")])
    async with store_view(url) as store, serving(config, slack, tmp_path) as process:
        await runs_advance(store, "api", 2)
        target.set("api", healthy=False)
        locker = await asyncio.to_thread(_lock, file)
        try:
            away = await while_away(process, 3)
            await answers_check_prod(process, sink, "sqlite-locked")
            assert slack.top_level() == []
        finally:
            await asyncio.to_thread(_unlock, locker)
        assert set(away.statuses) == {503}, f"ready while the file was locked: {away}"
        assert away.skipped_runs == 0, "runs waited on the store while it was known down"
        await eventually(lambda: store_back(process), what="/readyz ready with nothing owed")
        await eventually(lambda: one_alert(slack, store), what="the alert owed during the lock")
        await runs_advance(store, "api", 2)
        assert len(await store.incidents()) == 1
    assert len(slack.top_level()) == 1


def _lock(file: Path) -> sqlite3.Connection:
    """Another process's view of the file: ``BEGIN EXCLUSIVE``, held until :func:`_unlock`."""
    connection = sqlite3.connect(file, timeout=30, isolation_level=None, check_same_thread=False)
    connection.execute("BEGIN EXCLUSIVE")
    return connection


def _unlock(connection: sqlite3.Connection) -> None:
    connection.execute("ROLLBACK")
    connection.close()


async def _incidents(url: str) -> list[object]:
    async with store_view(url) as store:
        return list(await store.incidents())


async def _async(value: bool) -> bool:
    return value
