"""``serve`` starts without its PostgreSQL store: ready to say why, retrying, and (when the
database appears) recovering with what it owes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from tests.support.http_targets import refused_port
from tests.support.state_stores import (
    PG_ADMIN_DB,
    PG_HOST,
    PG_PORT,
    PG_USER,
    drop_postgres_database,
    require_postgres,
)
from tests.watch.serve_process import (
    FaultySlack,
    FlipTarget,
    ServeProcess,
    eventually,
    http_check,
    serving,
    write_watch_config,
)

RETRYING = "cannot be opened yet"


async def not_ready_for_the_store(process: ServeProcess) -> dict[str, object] | None:
    ready = await process.readyz()
    if ready.status == 503 and "state store" in str(ready.body.get("problem")):
        return ready.body
    return None


async def test_unreachable_postgres_at_start_up(
    tmp_path: Path, slack: FaultySlack, target: FlipTarget
) -> None:
    with refused_port() as port:
        url = f"postgresql+asyncpg://{PG_USER}@127.0.0.1:{port}/prodguardian"
        config = write_watch_config(tmp_path, store_url=url, checks=[http_check(target, "api")])
        async with serving(config, slack, tmp_path) as process:
            body = await eventually(
                lambda: not_ready_for_the_store(process), what="/readyz naming the store"
            )
            assert f"127.0.0.1:{port}" in str(body["store"])

            async def retried_and_running() -> bool:
                ready = await process.readyz()
                return (
                    process.logs().count(RETRYING) >= 2
                    and int(ready.body["store"]["owed_reports"]) >= 2
                )

            await eventually(retried_and_running, what="retries while the checks run")
            assert (await process.readyz()).status == 503
    assert slack.top_level() == []


@pytest.fixture
def late_url() -> Iterator[str]:
    """The URL of a PostgreSQL database that does not exist yet (dropped after the test)."""
    require_postgres()
    name = f"pg_late_{uuid.uuid4().hex[:12]}"
    url = f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    try:
        yield url
    finally:
        drop_postgres_database(url)


async def test_postgres_database_created_while_serve_runs(
    tmp_path: Path, late_url: str, slack: FaultySlack, target: FlipTarget
) -> None:
    name = late_url.rsplit("/", 1)[-1]
    config = write_watch_config(tmp_path, store_url=late_url, checks=[http_check(target, "api")])
    target.set("api", healthy=False)
    async with serving(config, slack, tmp_path) as process:
        body = await eventually(
            lambda: not_ready_for_the_store(process), what="/readyz naming the store"
        )
        assert name in str(body)
        admin = await asyncpg.connect(
            host=PG_HOST, port=PG_PORT, user=PG_USER, database=PG_ADMIN_DB, timeout=5
        )
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()

        async def ready() -> bool:
            answer = await process.readyz()
            return answer.status == 200 and answer.body["store"]["owed_reports"] == 0

        await eventually(ready, what="/readyz ready once the database exists")
        # The runs made before the store existed opened the incident: one alert.
        await eventually(lambda: _alerted(slack), what="the incident's alert")
    [alert] = slack.top_level()
    assert "api" in slack.shown(alert)


async def _alerted(slack: FaultySlack) -> bool:
    return bool(slack.top_level())
