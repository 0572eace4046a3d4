"""The seed incident's checklist, end to end on a fake clock, on SQLite and PostgreSQL.

Readiness fails and the logs show the database error; the incident opens with the runbook; the
hotfix is marked as deployed; the +30 min, +24 h and +7 d items post their verdicts, judged on
the log data of those moments, in the incident's thread.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prodguardian.config import load_config
from prodguardian.config.loader import LoadedConfig
from prodguardian.deploy import ActiveDeploy, DeploySource
from prodguardian.engine import run_report
from prodguardian.followups.runner import FollowUpRunner
from prodguardian.store.database import Database
from prodguardian.store.schema import FollowUpRow, IncidentRow, OutboxRow
from prodguardian.watch.service import WatchService
from tests.logs.incident_data import entries
from tests.support.http_targets import serve_app
from tests.support.slack_standin import wait_until

CHANNEL = "C0ALERTS"
OUTAGE_END = datetime(2025, 10, 11, 12, 20, tzinfo=UTC)
DEPLOY = datetime(2025, 10, 11, 12, 21, tzinfo=UTC)
NEW_REVISION = "emergence-app-00042-fix"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def entry(at: datetime, **fields: Any) -> dict[str, Any]:
    return {
        "timestamp": at.isoformat().replace("+00:00", "Z"),
        "severity": "INFO",
        "resource": {
            "type": "cloud_run_revision",
            "labels": {"service_name": "emergence-app", "revision_name": NEW_REVISION},
        },
        **fields,
    }


def write_logs(path: Path, *, reconnects_per_hour: int) -> None:
    """The hotfix hour of incident 1, then eight days of the fixed revision."""
    lines = list(entries("incident-01-hotfix.jsonl"))
    at = datetime(2025, 10, 11, 12, 32, tzinfo=UTC)
    while at < DEPLOY + timedelta(days=8):
        lines.append(
            entry(
                at,
                logName="projects/p/logs/run.googleapis.com%2Frequests",
                httpRequest={"requestMethod": "GET", "requestUrl": "/api/health", "status": 200},
            )
        )
        at += timedelta(minutes=3)
    step = timedelta(hours=1) / reconnects_per_hour
    at = DEPLOY + step / 2
    while at < DEPLOY + timedelta(days=8):
        lines.append(entry(at, textPayload="Database reconnected successfully"))
        at += step
    lines.sort(key=lambda e: str(e["timestamp"]))
    path.write_text("".join(json.dumps(e) + "\n" for e in lines))


class Readiness:
    def __init__(self) -> None:
        self.db_up = False

    def app(self) -> web.Application:
        async def ready(request: web.Request) -> web.Response:
            body = {"ok": self.db_up, "db": "up" if self.db_up else "down", "vector": "up"}
            return web.json_response(body, status=200 if self.db_up else 503)

        app = web.Application()
        app.router.add_get("/api/monitoring/health/readiness", ready)
        return app


@pytest.fixture
async def readiness() -> AsyncIterator[tuple[Readiness, str]]:
    target = Readiness()
    async with serve_app(target.app()) as url:
        yield target, url


def config(tmp_path: Path, store_url: str, url: str) -> LoadedConfig:
    path = tmp_path / "pg.yaml"
    path.write_text(
        f"""
service: {{name: emergence-app, region: europe-west1}}
slack: {{alerts_channel: {CHANNEL}}}
state: {{url: "{store_url}"}}
log_sources:
  logs: {{type: file, path: logs.jsonl, format: json}}
checks:
  - name: readiness
    kind: http
    url: {url}/api/monitoring/health/readiness
    expect: {{json: ['db == "up"']}}
  - name: errors
    kind: log_errors
    source: logs
    window: 1h
    scope: {{service: emergence-app}}
"""
    )
    return load_config(path)


async def thread_texts(db: Database, incident: int) -> list[str]:
    async def read(session: AsyncSession) -> list[str]:
        rows = await session.scalars(
            select(OutboxRow)
            .where(OutboxRow.group_key == f"incident:{incident}")
            .order_by(OutboxRow.id)
        )
        return [json.loads(r.payload)["text"] for r in rows if r.action == "reply"]

    return await db.run(read)


async def items(db: Database) -> list[FollowUpRow]:
    async def read(session: AsyncSession) -> list[FollowUpRow]:
        return list((await session.scalars(select(FollowUpRow).order_by(FollowUpRow.id))).all())

    return await db.run(read)


@pytest.mark.parametrize(("rate", "passes"), [(3, True), (7, False)])
async def test_the_seed_checklist_runs_itself_after_the_hotfix(
    tmp_path: Path,
    store_url: str,
    readiness: tuple[Readiness, str],
    rate: int,
    passes: bool,
) -> None:
    target, url = readiness
    write_logs(tmp_path / "logs.jsonl", reconnects_per_hour=rate)
    loaded = config(tmp_path, store_url, url)
    db = Database(store_url)
    service = WatchService(loaded, db, transport=None, channel=None, schedule=False)
    # The store is what serve would use; the alerts go to the outbox (no sender here).
    service.policy = service.policy.__class__(
        channel=CHANNEL, plans=service.policy.plans, followups=loaded.config.followups
    )
    service.monitor.policy = service.policy
    await service.start()
    await wait_until(
        lambda: service.monitor.store_ready and service.leadership.holds(), what="leading"
    )
    try:
        # The outage: two scheduled runs at 12:19 and 12:20 open the incident with the runbook.
        for minute in (19, 20):
            at = OUTAGE_END.replace(minute=minute)
            report = await run_report(loaded, at=at)
            await service.monitor.apply(report)

        async def incident_rows(session: AsyncSession) -> list[IncidentRow]:
            return list((await session.scalars(select(IncidentRow))).all())

        opened = {r.check_name: r for r in await db.run(incident_rows)}
        assert set(opened) == {"readiness", "errors"}
        assert "db-connection-lost" in opened["errors"].runbooks
        waiting = await items(db)
        assert len(waiting) == 5, "one checklist for the failure, not one per incident"
        assert all(r.due_at is None and r.source == "runbook db-connection-lost" for r in waiting)
        incident = next(i for i in opened.values() if i.id == waiting[0].incident_id)

        # The hotfix goes out.
        target.db_up = True
        await service.stores.deploys.record(
            ActiveDeploy(revision=NEW_REVISION, since=DEPLOY, source=DeploySource.DEPLOY_MARK),
            by="U0ALICE",
        )
        due = sorted((r.due_at - DEPLOY) for r in await items(db) if r.due_at is not None)
        assert due == [timedelta(minutes=30)] * 2 + [timedelta(hours=24)] * 2 + [timedelta(days=7)]

        clock = Clock(DEPLOY + timedelta(minutes=30))
        runner = FollowUpRunner(loaded, db, service.runs, channel=CHANNEL, clock=clock)
        assert await runner.run_due() == 2
        # The reminder repeats (every 4 h by default) until someone marks it done.
        clock.now = DEPLOY + timedelta(hours=4, minutes=30)
        assert await runner.run_due() == 1
        (reminder,) = [r for r in await items(db) if r.kind == "remind"]
        assert reminder.runs == 2
        await service.stores.followups.done(f"F-{reminder.id}", by="U0BOB", at=clock.now)
        clock.now = DEPLOY + timedelta(hours=24)
        assert await runner.run_due() == 2
        clock.now = DEPLOY + timedelta(days=7)
        # A failed verification is retried (every hour by default) until it passes or expires.
        assert await runner.run_due() == (1 if passes else 2)
        assert await runner.run_due() == 0, "nothing runs twice"

        texts = await thread_texts(db, incident.id)
        verdicts = [t for t in texts if t.startswith(("✅", "❌", "⚪", "⏰"))]
        (rerun,) = [t for t in verdicts if "re-run every check" in t]
        assert rerun.startswith("✅"), rerun
        reminders = [t for t in verdicts if t.startswith("⏰")]
        assert len(reminders) == 2
        assert all("WebSocket" in t for t in reminders)
        assert len(verdicts) == 2 + 4 + (0 if passes else 1), (
            "each verification posts once in the incident's thread"
        )
        by_text = {r.text: r for r in await items(db)}
        errors_item = next(r for t, r in by_text.items() if "connection is not available" in t)
        assert errors_item.last_verdict == "passed"
        assert "0 × 'Database connection is not available' in 1 d" in (
            errors_item.last_detail or ""
        )
        reconnects = [r for t, r in by_text.items() if "reconnected" in t]
        assert len(reconnects) == 2
        for row in reconnects:
            assert row.last_verdict == ("passed" if passes else "failed")
            assert re.search(rf": {rate}\.\d\d/h \(expected < 5/h\)", row.last_detail or "")
            if not passes:
                assert row.state == "open"
                assert row.next_at == clock.now + timedelta(hours=1) or row.next_at == (
                    DEPLOY + timedelta(hours=25)
                )
    finally:
        await service.stop()


async def test_two_runners_run_each_due_item_once(tmp_path: Path, store_url: str) -> None:
    from prodguardian.followups.items import add_items
    from prodguardian.runbooks.findings import PlannedFollowUp

    path = tmp_path / "pg.yaml"
    path.write_text(
        f'state: {{url: "{store_url}"}}\n'
        "checks: [{name: api, kind: http, url: 'http://127.0.0.1:1/'}]\n"
    )
    loaded = load_config(path)
    db = Database(store_url)
    service = WatchService(loaded, db, transport=None, channel=None, schedule=False)
    await service.start()
    await wait_until(
        lambda: service.monitor.store_ready and service.leadership.holds(), what="leading"
    )
    specs = [PlannedFollowUp(after="+1m", after_s=60.0, remind=f"item {i}") for i in range(40)]

    async def add(session: AsyncSession) -> None:
        await add_items(
            session,
            specs,
            source="test",
            now=DEPLOY,
            defaults=loaded.config.followups,
            fixed_at=DEPLOY,
        )

    await db.run(add)
    clock = Clock(DEPLOY + timedelta(minutes=5))
    first = FollowUpRunner(loaded, db, service.runs, channel=CHANNEL, clock=clock)
    second = FollowUpRunner(loaded, db, service.runs, channel=CHANNEL, clock=clock)
    try:
        ran = await asyncio.gather(first.run_due(), second.run_due())
        assert sum(ran) == 40
        assert {r.runs for r in await items(db)} == {1}
    finally:
        await service.stop()
