"""Benchmark: three ``serve`` replicas on PostgreSQL, the leader SIGKILLed every 20 s.

Starts, all on 127.0.0.1: a target with 200 health endpoints, the Slack Web API stand-in, a
fresh PostgreSQL database and three ``prodguardian serve`` processes (real subprocesses, the
shipped leader settings: lock checked every 2 s, lease 8 s) with 200 ``http`` checks every 10 s.
Every 10 s another 10 endpoints start failing for 30 s, so incidents keep opening and
resolving (an alert, then a resolution reply and an update, per incident). For two minutes the
leader is killed every 20 s (SIGKILL) and a fresh replica started in its place. Then everything
recovers and the store settles. Measured:

* ``failover_s``: kill → the next term taken (``leader_terms.started_at``); goal p99 ≤ 15 s;
* ``duplicates``: messages posted to Slack more than once (same outbox key); goal 0;
* ``lost``: alerts and replies written to the outbox that never reached Slack; goal 0;
* ``late_s``: an alert's outbox row written → Slack received it (alerts stand in for the
  follow-ups of issue 10 until they are on this branch: see FOLLOW-UPS below).

The last line of stdout is one JSON object with the figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.http_targets import serve_app
from tests.support.replica_cluster import Cluster, Targets, cluster_config, store_counts
from tests.support.slack_standin import SlackStandIn
from tests.support.state_stores import (
    create_postgres_database,
    drop_postgres_database,
    postgres_available,
)

CHECKS = [f"svc{i:03d}" for i in range(200)]
INTERVAL = "10s"
KILL_EVERY_S = 20.0
RUN_S = 120.0
FLIP_EVERY_S = 10.0
FLIP_COUNT = 10
FAIL_FOR_S = 30.0
SETTLE_TIMEOUT_S = 120.0


def quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))], 3)


async def flip(targets: Targets, stop: asyncio.Event) -> None:
    """Every FLIP_EVERY_S, FLIP_COUNT more endpoints fail for FAIL_FOR_S."""
    start = 0
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        names = CHECKS[start : start + FLIP_COUNT]
        start = (start + FLIP_COUNT) % len(CHECKS)
        targets.failing.update(names)
        loop.call_later(FAIL_FOR_S, targets.failing.difference_update, names)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), FLIP_EVERY_S)


async def kill_leaders(cluster: Cluster) -> list[float]:
    """Every KILL_EVERY_S for RUN_S: SIGKILL the leader, start a replacement; kill times."""
    kills: list[float] = []
    replacements: list[asyncio.Task[object]] = []
    started = time.monotonic()
    for n in range(1, int(RUN_S // KILL_EVERY_S) + 1):
        await asyncio.sleep(max(started + n * KILL_EVERY_S - time.monotonic(), 0))
        deadline = time.monotonic() + 30
        leaders = await cluster.leaders()
        while len(leaders) != 1 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            leaders = await cluster.leaders()
        if len(leaders) != 1:
            print(f"no single leader to kill: {leaders}", file=sys.stderr)
            continue
        leader, _ = leaders[0]
        kills.append(time.time())
        leader.process.send_signal(signal.SIGKILL)
        await leader.process.wait()
        print(f"killed the leader (pid {leader.pid}) at {kills[-1]:.1f}", file=sys.stderr)
        replacements.append(asyncio.create_task(cluster.start_replica()))
    await asyncio.gather(*replacements)
    return kills


async def read_store(store_url: str) -> tuple[list[float], list[tuple[str, str, str, float]]]:
    """Term start times, and every outbox row (key, action, state, created_at)."""
    connection = await asyncpg.connect(store_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        terms = await connection.fetch("SELECT started_at FROM leader_terms ORDER BY term")
        rows = await connection.fetch("SELECT key, action, state, created_at FROM outbox")
    finally:
        await connection.close()
    return (
        [_wall(r["started_at"]) for r in terms],
        [(r["key"], r["action"], r["state"], _wall(r["created_at"])) for r in rows],
    )


def _wall(naive_utc: datetime) -> float:
    return naive_utc.replace(tzinfo=UTC).timestamp()


async def main(store_url: str) -> dict[str, object]:
    targets = Targets()
    with tempfile.TemporaryDirectory() as workdir:
        async with SlackStandIn() as standin, serve_app(targets.app()) as target_url:
            config = cluster_config(
                Path(workdir) / "failover.yaml",
                target_url=target_url,
                store_url=store_url,
                checks=CHECKS,
                interval=INTERVAL,
                leader_check="2s",
                leader_lease="8s",
            )
            cluster = Cluster(config, standin, Path(workdir))
            try:
                await asyncio.gather(*(cluster.start_replica() for _ in range(3)))
                await cluster.wait_for_leader(timeout_s=60)
                stop = asyncio.Event()
                flipping = asyncio.create_task(flip(targets, stop))
                kills = await kill_leaders(cluster)
                stop.set()
                await flipping
                await asyncio.sleep(FAIL_FOR_S)  # the last failures end
                settled_at = time.monotonic() + SETTLE_TIMEOUT_S
                counts = await store_counts(store_url)
                while counts["open_incidents"] or counts["unsent"]:
                    if time.monotonic() > settled_at:
                        break
                    await asyncio.sleep(1)
                    counts = await store_counts(store_url)
                return await figures(cluster, standin, store_url, kills, counts)
            finally:
                await cluster.stop()


async def figures(
    cluster: Cluster,
    standin: SlackStandIn,
    store_url: str,
    kills: list[float],
    counts: dict[str, int],
) -> dict[str, object]:
    terms, rows = await read_store(store_url)
    failovers = []
    for kill in kills:
        after = [t for t in terms if t >= kill]
        failovers.append(round(min(after) - kill, 3) if after else float("inf"))
    posted = cluster.posted_keys()
    # Slack's receipt times, on the wall clock (the stand-in records monotonic times).
    offset = time.time() - time.monotonic()
    received: dict[str, float] = {}
    for call in standin.calls_to("chat.postMessage"):
        metadata = call.args.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        key = ((metadata or {}).get("event_payload") or {}).get("outbox_key")
        if key and (call.answer or {}).get("ok"):
            received.setdefault(key, call.at + offset)
    messages = [r for r in rows if r[1] in ("post", "reply")]
    lost = [r for r in messages if r[0] not in posted]
    late = [received[key] - created for key, action, _, created in rows if key in received]
    alerts_late = [
        received[key] - created
        for key, action, _, created in rows
        if action == "post" and key in received
    ]
    worst = sorted(
        (
            (received[key] - created, action, created)
            for key, action, _, created in rows
            if key in received
        ),
        reverse=True,
    )[:5]
    for delay, action, created in worst:
        since_kill = min((created - k for k in kills if k <= created), default=None)
        print(
            f"late {delay:.1f} s: {action} written {since_kill and round(since_kill, 1)} s "
            "after a kill",
            file=sys.stderr,
        )
    # FOLLOW-UPS (issue 10): once the follow-up runner is on this branch, schedule 1,000
    # follow-ups due over the run here and measure late_p99_s on them (due → delivered)
    # instead of on the alerts.
    return {
        "replicas": 3,
        "checks": len(CHECKS),
        "interval_s": 10,
        "kills": len(kills),
        "terms": len(terms),
        "failover_s": failovers,
        "failover_p50_s": quantile(failovers, 0.5),
        "failover_p99_s": quantile(failovers, 0.99),
        "failover_max_s": max(failovers) if failovers else None,
        "messages": len(messages),
        "alerts": sum(1 for r in rows if r[1] == "post"),
        "duplicates": sum(n - 1 for n in posted.values()),
        "lost": len(lost),
        "unsent_after_settle": counts["unsent"],
        "open_incidents_after_settle": counts["open_incidents"],
        "late_p50_s": quantile(late, 0.5),
        "late_p99_s": quantile(late, 0.99),
        "alert_late_p99_s": quantile(alerts_late, 0.99),
        "late_measured_on": "alerts and replies (follow-ups: issue 10)",
    }


if __name__ == "__main__":
    reason = postgres_available()
    if reason is not None:
        raise SystemExit(f"the failover benchmark needs PostgreSQL: {reason}")
    url = create_postgres_database()
    try:
        result = asyncio.run(main(url))
    finally:
        drop_postgres_database(url)
    print(json.dumps(result))
