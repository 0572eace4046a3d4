"""Follow-ups across a SIGKILL: a real ``serve``, killed, and started again "10 minutes later".

Items that came due while it was down (written straight into the store, due up to ten minutes
ago) run once at start-up: one message each at the Slack stand-in, one run each in the store;
nothing that ran before the kill runs again. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import re
import signal
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prodguardian.config.models import FollowUpsConfig
from prodguardian.followups.items import add_items
from prodguardian.runbooks.findings import PlannedFollowUp
from prodguardian.runbooks.model import Verification
from prodguardian.store.database import Database
from prodguardian.store.schema import FollowUpRow
from tests.support.http_targets import serve_app
from tests.support.serve_process import start_serve, wait_ready
from tests.support.slack_standin import BOT_TOKEN, SIGNING_SECRET, SlackStandIn, wait_until

CHANNEL = "C0ALERTS"
ITEM_ID = re.compile(r"\bF-(\d+)\b")
#: Bound on every wait for messages (the test fails past it; nothing is timed).
WAIT_S = 60.0


@pytest.fixture
async def target() -> AsyncIterator[str]:
    async def health(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_get("/health", health)
    async with serve_app(app) as url:
        yield url


def write_config(tmp_path: Path, store_url: str, target: str) -> Path:
    path = tmp_path / "prodguardian.yaml"
    path.write_text(
        f"""service: {{name: emergence-app}}
slack: {{alerts_channel: {CHANNEL}}}
state: {{url: "{store_url}"}}
monitoring: {{interval: 1h}}
checks:
  - {{name: api-health, kind: http, url: "{target}/health", expect: {{status: 200}}}}
""",
        encoding="utf-8",
    )
    return path


def checklist(count: int, *, label: str, spread_s: float) -> list[PlannedFollowUp]:
    """Every other item verifies (re-run the http check, expect OK), the rest remind."""
    planned = []
    for index in range(count):
        after_s = spread_s * index / count
        if index % 2:
            verify = Verification(rerun=("api-health",))
            planned.append(PlannedFollowUp(after="+0m", after_s=after_s, verify=verify))
        else:
            text = f"{label} reminder {index}"
            planned.append(PlannedFollowUp(after="+0m", after_s=after_s, remind=text))
    return planned


async def insert(
    database: Database, planned: list[PlannedFollowUp], *, fixed_at: datetime
) -> list[int]:
    async def write(session: AsyncSession) -> list[int]:
        rows = await add_items(
            session,
            planned,
            source="test",
            now=datetime.now(UTC),
            defaults=FollowUpsConfig(),
            fixed_at=fixed_at,
        )
        return [row.id for row in rows]

    return await database.run(write)


def posted_ids(slack: SlackStandIn) -> Counter[int]:
    """How many times each follow-up's message reached Slack."""
    found: Counter[int] = Counter()
    for call in slack.calls_to("chat.postMessage"):
        match = ITEM_ID.search(str(call.args.get("text") or ""))
        if match and (call.answer or {}).get("ok"):
            found[int(match.group(1))] += 1
    return found


async def wait_for_messages(slack: SlackStandIn, ids: list[int]) -> None:
    await wait_until(
        lambda: set(ids) <= set(posted_ids(slack)),
        timeout_s=WAIT_S,
        what=f"the messages of {len(ids)} follow-ups",
    )


async def rows(database: Database, ids: list[int]) -> list[FollowUpRow]:
    async def read(session: AsyncSession) -> list[FollowUpRow]:
        found = await session.scalars(select(FollowUpRow).where(FollowUpRow.id.in_(ids)))
        return sorted(found.all(), key=lambda row: row.id)

    return await database.run(read)


async def test_items_due_while_killed_run_once_after_the_restart(
    tmp_path: Path, store_url: str, database: Database, target: str, standin: SlackStandIn
) -> None:
    config = write_config(tmp_path, store_url, target)
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": standin.url,
    }
    extra = ("--log-level", "warning")
    serving = await start_serve(config, env, *extra)
    serving.drain()
    process, url = serving.process, serving.url
    try:
        await wait_ready(url)
        before = await insert(
            database, checklist(6, label="before", spread_s=0), fixed_at=datetime.now(UTC)
        )
        await wait_for_messages(standin, before)
    finally:
        process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(process.wait(), 30)
    assert process.returncode == -signal.SIGKILL

    # While it is down, ten minutes pass in the store's terms: these came due meanwhile.
    down = await insert(
        database,
        checklist(10, label="down", spread_s=540),
        fixed_at=datetime.now(UTC) - timedelta(minutes=10),
    )
    assert not set(down) & set(posted_ids(standin))

    serving = await start_serve(config, env, *extra)
    serving.drain()
    process, url = serving.process, serving.url
    try:
        await wait_for_messages(standin, down)
        # Once everything due has run, a second pass of the runner finds nothing left to run.
        await wait_ready(url)
        await asyncio.sleep(2.5)
        after = posted_ids(standin)
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 30)

    assert {item: after[item] for item in before + down} == dict.fromkeys(before + down, 1)
    stored = await rows(database, down)
    assert [row.runs for row in stored] == [1] * len(down)
    assert all(row.claimed_at is None for row in stored)
    verified = [row for row in stored if row.kind == "verify"]
    assert {row.state for row in verified} == {"passed"}
    reminders = [row for row in stored if row.kind == "remind"]
    assert {row.state for row in reminders} == {"open"}
    for row in reminders:
        assert row.next_at is not None
        assert row.due_at is not None
        assert row.next_at > row.due_at
