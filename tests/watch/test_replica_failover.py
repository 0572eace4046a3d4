"""Three real ``serve`` processes on one PostgreSQL store, and two on one SQLite file: one
leads, every alert reaches Slack (the stand-in) once, through kills, pauses, a killed lock
connection and a rolling restart."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from prodguardian.watch.pg_lease import LOCK_APPLICATION
from tests.support.http_targets import serve_app
from tests.support.replica_cluster import (
    Cluster,
    Replica,
    Targets,
    cluster_config,
    eventually,
    running_cluster,
    store_counts,
)
from tests.support.slack_standin import SlackStandIn
from tests.support.state_stores import (
    create_postgres_database,
    drop_postgres_database,
    require_postgres,
)

CHECKS = [f"c{i:02d}" for i in range(8)]
#: The issue's promise: another replica leads within 15 s of losing the leader.
TAKEOVER_S = 15.0
SETTLE_S = 60.0


@pytest.fixture
def pg_url() -> Iterator[str]:
    require_postgres()
    url = create_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(url)


@pytest.fixture
async def targets() -> AsyncIterator[tuple[Targets, str]]:
    found = Targets()
    async with serve_app(found.app()) as url:
        yield found, url


async def all_alerted(cluster: Cluster, checks: list[str]) -> bool:
    return all(cluster.alerts_for(c) for c in checks)


async def settled(cluster: Cluster, store_url: str) -> bool:
    """Every incident resolved and every message sent."""
    counts = await store_counts(store_url)
    return counts == {"open_incidents": 0, "unsent": 0}


async def assert_each_alert_once(cluster: Cluster, store_url: str, checks: list[str]) -> None:
    await eventually(lambda: settled(cluster, store_url), timeout_s=SETTLE_S, what="settling")
    assert cluster.duplicates() == {}, "a message was posted twice"
    for check in checks:
        assert len(cluster.alerts_for(check)) == 1, f"{check}: one message per incident"
    resolved = [m for m in cluster.standin.channel_messages("C0ALERTS") if m.thread_ts]
    assert len(resolved) == len(checks), "one resolution reply per incident"


@pytest.mark.postgres
async def test_killing_the_leader_while_alerts_are_due_loses_and_repeats_nothing(
    tmp_path: Path, pg_url: str, targets: tuple[Targets, str], standin: SlackStandIn
) -> None:
    target, url = targets
    config = cluster_config(tmp_path / "c.yaml", target_url=url, store_url=pg_url, checks=CHECKS)
    async with running_cluster(config, standin, tmp_path, replicas=3) as cluster:
        leader, state = await cluster.wait_for_leader(timeout_s=30)
        target.failing.update(CHECKS)
        await eventually(
            lambda: asyncio.sleep(0, bool(standin.channel_messages("C0ALERTS"))),
            timeout_s=30,
            what="the first alert",
            every_s=0.02,
        )
        await leader.kill()
        await cluster.wait_for_leader(
            timeout_s=TAKEOVER_S, other_than=leader, above_term=state["term"]
        )
        await eventually(lambda: all_alerted(cluster, CHECKS), timeout_s=30, what="every alert")
        target.failing.clear()
        await assert_each_alert_once(cluster, pg_url, CHECKS)


@pytest.mark.postgres
async def test_a_leader_paused_past_the_takeover_sends_nothing_when_it_wakes(
    tmp_path: Path, pg_url: str, targets: tuple[Targets, str], standin: SlackStandIn
) -> None:
    target, url = targets
    config = cluster_config(tmp_path / "c.yaml", target_url=url, store_url=pg_url, checks=CHECKS)
    first, second, third = CHECKS[:3], CHECKS[3:6], CHECKS[6:]
    async with running_cluster(config, standin, tmp_path, replicas=3) as cluster:
        old, state = await cluster.wait_for_leader(timeout_s=30)
        target.failing.update(first)
        await eventually(lambda: all_alerted(cluster, first), timeout_s=30, what="the alerts")
        sent_by_old = await schedule_of(old)
        old.signal(signal.SIGSTOP)
        new, new_state = await cluster.wait_for_leader(
            timeout_s=TAKEOVER_S, other_than=old, above_term=state["term"]
        )
        # While the old leader sleeps, new work is due: its incidents, its messages.
        target.failing.update(second)
        await eventually(lambda: all_alerted(cluster, second), timeout_s=30, what="new alerts")
        old.signal(signal.SIGCONT)
        # Alerts due the instant it wakes: its own timers fire too, and must achieve nothing.
        target.failing.update(third)

        async def woke_as_follower() -> bool:
            body = await old.readyz()
            leader = (body or {}).get("leader", {})
            return leader.get("leading") is False and leader.get("leader") == new_state["replica"]

        await eventually(woke_as_follower, timeout_s=TAKEOVER_S, what="the old leader to follow")
        await eventually(lambda: all_alerted(cluster, third), timeout_s=30, what="late alerts")
        target.failing.clear()
        await assert_each_alert_once(cluster, pg_url, CHECKS)
        assert await schedule_of(old) == sent_by_old, "the woken leader sent something"
        leaders = await cluster.leaders()
        assert [r for r, _ in leaders] == [new]


async def schedule_of(replica: Replica) -> int:
    """``messages_sent`` of a replica's ``/api/schedule``."""
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http,
        http.get(f"{replica.url}/api/schedule") as resp,
    ):
        body = await resp.json()
    return int(body["messages_sent"])


@pytest.mark.postgres
async def test_terminating_the_lock_connection_hands_the_leadership_on(
    tmp_path: Path, pg_url: str, targets: tuple[Targets, str], standin: SlackStandIn
) -> None:
    target, url = targets
    config = cluster_config(tmp_path / "c.yaml", target_url=url, store_url=pg_url, checks=CHECKS)
    async with running_cluster(config, standin, tmp_path, replicas=3) as cluster:
        old, state = await cluster.wait_for_leader(timeout_s=30)
        admin = await asyncpg.connect(pg_url.replace("postgresql+asyncpg", "postgresql"))
        try:
            killed = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = $1",
                LOCK_APPLICATION + state["replica"],
            )
        finally:
            await admin.close()
        assert killed == 1
        target.failing.update(CHECKS)
        await cluster.wait_for_leader(timeout_s=TAKEOVER_S, above_term=state["term"])
        await eventually(
            lambda: asyncio.sleep(0, "no longer leads" in old.log.read_text()),
            timeout_s=10,
            what="the old leader to say it stepped down",
        )
        await eventually(lambda: all_alerted(cluster, CHECKS), timeout_s=30, what="every alert")
        target.failing.clear()
        await assert_each_alert_once(cluster, pg_url, CHECKS)


@pytest.mark.postgres
async def test_a_rolling_restart_of_all_three_keeps_one_leader_and_every_alert_once(
    tmp_path: Path, pg_url: str, targets: tuple[Targets, str], standin: SlackStandIn
) -> None:
    target, url = targets
    config = cluster_config(tmp_path / "c.yaml", target_url=url, store_url=pg_url, checks=CHECKS)
    async with running_cluster(config, standin, tmp_path, replicas=3) as cluster:
        await cluster.wait_for_leader(timeout_s=30)
        originals = list(cluster.replicas)
        for step, replica in enumerate(originals):
            # Something new is due at every step of the restart.
            target.failing.update(CHECKS[step * 2 : step * 2 + 2])
            await replica.terminate()
            await cluster.start_replica()
            await cluster.wait_for_leader(timeout_s=TAKEOVER_S)
        target.failing.update(CHECKS[6:])
        await eventually(lambda: all_alerted(cluster, CHECKS), timeout_s=30, what="every alert")
        assert not [r for r in originals if r in cluster.alive()]
        target.failing.clear()
        await assert_each_alert_once(cluster, pg_url, CHECKS)


async def test_two_serve_on_one_sqlite_file_schedule_and_send_once(
    tmp_path: Path, targets: tuple[Targets, str], standin: SlackStandIn
) -> None:
    target, url = targets
    store = f"sqlite+aiosqlite:///{tmp_path / 'state.db'}"
    config = cluster_config(tmp_path / "c.yaml", target_url=url, store_url=store, checks=CHECKS)
    cluster = Cluster(config, standin, tmp_path)
    try:
        first = await cluster.start_replica()
        leader, _ = await cluster.wait_for_leader(timeout_s=30)
        assert leader is first
        second = await cluster.start_replica()

        async def second_refuses() -> bool:
            body = await second.readyz()
            # Ready (it serves HTTP, its store answers) and saying why it does not lead.
            return body is not None and body["ready"] and "why_not" in body.get("leader", {})

        await eventually(second_refuses, timeout_s=30, what="the second to say why it waits")
        body = await second.readyz()
        assert body is not None
        assert body["ready"] is True, body
        assert body["scheduling"] is False
        assert f"{tmp_path / 'state.db'}.lock" in body["leader"]["why_not"]
        target.failing.update(CHECKS)
        await eventually(lambda: all_alerted(cluster, CHECKS), timeout_s=30, what="every alert")
        target.failing.clear()

        async def resolved() -> bool:
            replies = [m for m in standin.channel_messages("C0ALERTS") if m.thread_ts]
            return len(replies) >= len(CHECKS)

        await eventually(resolved, timeout_s=SETTLE_S, what="the resolutions")
        assert cluster.duplicates() == {}
        assert all(len(cluster.alerts_for(c)) == 1 for c in CHECKS)
        assert await schedule_of(second) == 0
        assert gauge(await scrape(first), "prodguardian_leader") == 1
        assert gauge(await scrape(second), "prodguardian_leader") == 0
        status = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "prodguardian.cli",
            "status",
            "-c",
            str(config),
            "--json",
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await asyncio.wait_for(status.communicate(), 60)
        assert status.returncode == 0
        shown = json.loads(out)
        states = {r["id"]: r["state"] for r in shown["replicas"]}
        first_id = (await first.readyz() or {})["leader"]["replica"]
        second_id = (await second.readyz() or {})["leader"]["replica"]
        assert states == {first_id: "leader", second_id: "follower"}
        assert shown["leader"] == first_id
        # The first one stops: the second takes the lock and carries on.
        await first.terminate()
        await cluster.wait_for_leader(timeout_s=TAKEOVER_S)
    finally:
        await cluster.stop()


async def scrape(replica: Replica) -> str:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http,
        http.get(f"{replica.url}/metrics") as resp,
    ):
        return await resp.text()


def gauge(text: str, name: str) -> float:
    """The value of an unlabelled (or resource-labelled) gauge in Prometheus text."""
    for line in text.splitlines():
        if re.match(rf"{name}(\{{[^}}]*\}})? ", line):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics:\n{text[:2000]}")
