"""Benchmark: 10,000 follow-ups falling due over one minute, and a SIGKILL in the middle of life.

Starts, all on 127.0.0.1: a healthy HTTP target, the Slack Web API stand-in, and
``prodguardian serve`` (a real subprocess) with a SQLite state store, an alerts channel and one
``http`` check against the target. Then writes 10,000 follow-up items straight into the store
(half ``verify: rerun the http check, expect OK``, half ``remind``), due over the next minute,
and measures at the stand-in

* late: when the item's message reached Slack − when it was due (goal p99 ≤ 2 s);
* duplicates: items whose message reached Slack more than once (goal 0).

Then ``serve`` is killed (SIGKILL), 1,000 more items come due while it is down, and it is
started again:

* restart_recover_s: restarted process spawned → the last of those 1,000 messages at the
  stand-in (goal ≤ 5 s);
* rss_mb: the peak resident memory of the first ``serve`` (VmHWM).

The last line of stdout is one JSON object with the figures.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import statistics
import sys
import tempfile
import time
from asyncio.subprocess import Process
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prodguardian.config.models import FollowUpsConfig
from prodguardian.followups.items import add_items
from prodguardian.runbooks.findings import PlannedFollowUp
from prodguardian.runbooks.model import Verification
from prodguardian.status import Status
from prodguardian.store.database import Database
from prodguardian.store.migrate import upgrade
from prodguardian.store.schema import OutboxRow
from tests.support.serve_process import start_serve, wait_ready
from tests.support.slack_standin import BOT_TOKEN, SIGNING_SECRET, SlackStandIn

ITEMS = 10_000
SPREAD_S = 60.0
LEAD_S = 3.0
"""Seconds between the end of the inserts and the first due time."""
DOWN_ITEMS = 1_000
DOWN_SPREAD_S = 2.0
BATCH = 1_000
CHANNEL = "C0BENCH"
DELIVERY_TIMEOUT_S = 180.0
ITEM_ID = re.compile(r"\bF-(\d+)\b")

_PROBES = [0]


@dataclass(frozen=True)
class Clocks:
    """One instant on both clocks: due times (UTC) become the stand-in's monotonic seconds."""

    wall: datetime
    mono: float

    @classmethod
    def now(cls) -> Clocks:
        return cls(datetime.now(UTC), time.monotonic())

    def monotonic(self, at: datetime) -> float:
        return self.mono + (at - self.wall).total_seconds()


async def healthy_target() -> tuple[web.AppRunner, str]:
    async def health(request: web.Request) -> web.Response:
        _PROBES[0] += 1
        return web.json_response({"ok": True, "status": "ok"})

    app = web.Application()
    app.router.add_get("/{path:.*}", health)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


def write_config(directory: Path, target: str, state_url: str) -> Path:
    path = directory / "bench.yaml"
    path.write_text(
        f"""service: {{name: bench}}
slack: {{alerts_channel: {CHANNEL}}}
state: {{url: "{state_url}"}}
monitoring: {{interval: 1h}}
checks:
  - {{name: api-health, kind: http, timeout: 5s, url: "{target}/health", expect: {{status: 200}}}}
""",
        encoding="utf-8",
    )
    return path


def specs(count: int, *, spread_s: float, first: int) -> list[PlannedFollowUp]:
    """Half verifications (re-run the http check, expect OK), half reminders, evenly due."""
    verify = Verification(rerun=("api-health",), expect=Status.OK)
    planned = []
    for index in range(count):
        after_s = spread_s * index / count
        if index % 2:
            planned.append(
                PlannedFollowUp(after=f"+{after_s:.3f}s", after_s=after_s, verify=verify)
            )
        else:
            planned.append(
                PlannedFollowUp(
                    after=f"+{after_s:.3f}s",
                    after_s=after_s,
                    remind=f"bench reminder {first + index}",
                )
            )
    return planned


async def insert(
    database: Database, planned: list[PlannedFollowUp], *, fixed_at: datetime
) -> dict[int, datetime]:
    """Write the items in batches (each its own unit of work); their ids and due times."""
    due: dict[int, datetime] = {}
    defaults = FollowUpsConfig()
    for start in range(0, len(planned), BATCH):
        batch = planned[start : start + BATCH]

        async def write(session: AsyncSession, batch: list[PlannedFollowUp] = batch) -> None:
            rows = await add_items(
                session,
                batch,
                source="bench",
                now=datetime.now(UTC),
                defaults=defaults,
                fixed_at=fixed_at,
            )
            for row in rows:
                assert row.due_at is not None
                due[row.id] = row.due_at

        await database.run(write, what="insert bench follow-ups")
    return due


def posted(slack: SlackStandIn, since: int = 0) -> list[tuple[int, float, str]]:
    """(item id, arrival on the monotonic clock, text) of the follow-up messages."""
    found = []
    for call in slack.calls[since:]:
        if call.method != "chat.postMessage" or not (call.answer or {}).get("ok"):
            continue
        text = str(call.args.get("text") or "")
        match = ITEM_ID.search(text)
        if match:
            found.append((int(match.group(1)), call.at, text))
    return found


async def wait_for_items(slack: SlackStandIn, ids: set[int], timeout_s: float) -> float | None:
    """Until a message of each item arrived; the monotonic time of the last, None on timeout."""
    deadline = time.monotonic() + timeout_s
    seen: dict[int, float] = {}
    checked = 0
    while time.monotonic() < deadline:
        calls = len(slack.calls)
        for item, at, _ in posted(slack, checked):
            if item in ids:
                seen.setdefault(item, at)
        checked = calls
        if len(seen) == len(ids):
            return max(seen.values())
        await asyncio.sleep(0.05)
    return None


async def enqueued_at(database: Database) -> dict[int, datetime]:
    """When each item's (first) message was written to the outbox: the runner's share."""

    async def read(session: AsyncSession) -> dict[int, datetime]:
        rows = await session.execute(
            select(OutboxRow.payload, OutboxRow.created_at).order_by(OutboxRow.id)
        )
        found: dict[int, datetime] = {}
        for payload, created_at in rows:
            match = ITEM_ID.search(json.loads(payload).get("text", ""))
            if match:
                found.setdefault(int(match.group(1)), created_at)
        return found

    return await database.run(read, what="read the outbox")


def print_lateness_by_second(
    due: dict[int, datetime], arrived: dict[int, float], clocks: Clocks
) -> None:
    """On stderr: the worst lateness of the items due in each 5 s of the minute."""
    first = min(due.values())
    worst: dict[int, float] = {}
    for item, at in due.items():
        if item in arrived:
            slot = int((at - first).total_seconds() // 5) * 5
            worst[slot] = max(worst.get(slot, 0.0), arrived[item] - clocks.monotonic(at))
    print(
        "worst lateness by due second: "
        + " ".join(f"{slot}s:{late:.1f}" for slot, late in sorted(worst.items())),
        file=sys.stderr,
    )


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], pct: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1]


async def main() -> dict[str, float | int]:
    target_runner, target = await healthy_target()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        state_url = f"sqlite+aiosqlite:///{directory / 'state.db'}"
        log = Path(os.environ.get("BENCH_SERVE_LOG", directory / "serve.log"))
        config = write_config(directory, target, state_url)
        database = Database(state_url)
        await upgrade(database)
        try:
            async with SlackStandIn() as slack:
                return await measure(config, database, slack, log)
        finally:
            await database.dispose()
            await target_runner.cleanup()


async def serve(config: Path, slack: SlackStandIn, log: Path) -> tuple[Process, str]:
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.url,
    }
    serving = await start_serve(config, env, "--log-level", "warning")

    def to_log(line: str) -> None:
        with log.open("a", encoding="utf-8") as out:
            out.write(line)

    serving.drain(to_log)
    print(f"serve pid {serving.process.pid} at {serving.url}", file=sys.stderr)
    return serving.process, serving.url


async def measure(
    config: Path, database: Database, slack: SlackStandIn, log: Path
) -> dict[str, float | int]:
    process, url = await serve(config, slack, log)
    try:
        await wait_ready(url)
        inserting = Clocks.now()
        fixed_at = inserting.wall + timedelta(seconds=LEAD_S + 2.0)
        due = await insert(database, specs(ITEMS, spread_s=SPREAD_S, first=0), fixed_at=fixed_at)
        insert_s = time.monotonic() - inserting.mono
        last = await wait_for_items(slack, set(due), SPREAD_S + LEAD_S + DELIVERY_TIMEOUT_S)
        arrived: dict[int, float] = {}
        for item, at, _ in posted(slack):
            arrived.setdefault(item, at)
        late = [arrived[i] - inserting.monotonic(d) for i, d in due.items() if i in arrived]
        written = await enqueued_at(database)
        # Split the lateness: due → in the outbox (the runner), in the outbox → at Slack (sender).
        ran = [(written[i] - d).total_seconds() for i, d in due.items() if i in written]
        sent = [arrived[i] - inserting.monotonic(written[i]) for i in due if i in written]
        print_lateness_by_second(due, arrived, inserting)
        rss_mb = peak_rss_mb(process.pid)
    finally:
        process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(process.wait(), 30)

    # Down: 1,000 more items come due while nothing runs.
    planned = specs(DOWN_ITEMS, spread_s=DOWN_SPREAD_S, first=ITEMS)
    down = await insert(database, planned, fixed_at=datetime.now(UTC))
    await asyncio.sleep(DOWN_SPREAD_S + 0.5)
    spawned = time.monotonic()
    process, url = await serve(config, slack, log)
    try:
        listening_s = time.monotonic() - spawned
        recovered = await wait_for_items(slack, set(down), DELIVERY_TIMEOUT_S)
        # A moment for anything that would be sent twice to show up.
        await asyncio.sleep(2.0)
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 30)

    logged = await asyncio.to_thread(log.read_text, encoding="utf-8", errors="replace")
    messages = posted(slack)
    counts = Counter(item for item, _, _ in messages)
    expected = set(due) | set(down)
    verdicts = [text for item, _, text in messages if item in due and "re-run" in text]
    return {
        "items": ITEMS,
        "spread_s": SPREAD_S,
        "insert_s": round(insert_s, 2),
        "delivered": len(set(counts) & expected),
        "missing": len(expected - set(counts)),
        "verified_ok": sum(1 for t in verdicts if t.startswith("✅")),
        "verify_runs_probed": _PROBES[0],
        "late_p50_s": round(percentile(late, 50), 3),
        "late_p99_s": round(percentile(late, 99), 3),
        "late_max_s": round(max(late), 3) if late else float("nan"),
        "run_p99_s": round(percentile(ran, 99), 3),
        "send_p99_s": round(percentile(sent, 99), 3),
        "last_after_due_end_s": round(last - inserting.monotonic(max(due.values())), 3)
        if last is not None
        else float("nan"),
        "restart_listening_s": round(listening_s, 2),
        "restart_recover_s": round(recovered - spawned, 2)
        if recovered is not None
        else float("nan"),
        "store_retries": logged.count("retrying in"),
        "duplicates": sum(1 for n in counts.values() if n > 1),
        "rss_mb": round(rss_mb, 1),
    }


if __name__ == "__main__":
    figures = asyncio.run(main())
    print(json.dumps(figures))
