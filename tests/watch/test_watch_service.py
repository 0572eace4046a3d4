"""The whole watch loop in one process: a target breaks and recovers; Slack hears it once."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from prodguardian.config import load_config
from prodguardian.slack.notifier import SlackNotifier, make_web_client
from prodguardian.slack.settings import SlackSettings
from prodguardian.store.database import Database
from prodguardian.watch.service import WatchService
from prodguardian.watch.transports import ConsoleTransport, SlackTransport
from tests.support.http_targets import serve_app
from tests.support.slack_standin import BOT_TOKEN, SlackStandIn, wait_until

CHANNEL = "C0ALERTS"


class Flip:
    """A health endpoint whose answer the test sets."""

    def __init__(self) -> None:
        self.healthy = True

    def app(self) -> web.Application:
        async def health(request: web.Request) -> web.Response:
            if self.healthy:
                return web.json_response({"ok": True, "db": "up"})
            return web.json_response({"ok": False, "db": "down"}, status=503)

        app = web.Application()
        app.router.add_get("/health", health)
        return app


@pytest.fixture
async def target() -> AsyncIterator[tuple[Flip, str]]:
    flip = Flip()
    async with serve_app(flip.app()) as url:
        yield flip, url


def write_config(tmp_path: Path, url: str, store_url: str) -> Path:
    path = tmp_path / "pg.yaml"
    path.write_text(
        f"""
service: {{name: shop}}
slack: {{alerts_channel: {CHANNEL}}}
state: {{url: "{store_url}"}}
monitoring: {{interval: 1s, failure_threshold: 2, success_threshold: 2, jitter: 0.1s}}
checks:
  - name: api-health
    kind: http
    url: {url}/health
    timeout: 2s
"""
    )
    return path


async def test_a_broken_target_opens_one_alert_and_its_recovery_resolves_it(
    tmp_path: Path, store_url: str, target: tuple[Flip, str], standin: SlackStandIn
) -> None:
    flip, url = target
    loaded = load_config(write_config(tmp_path, url, store_url))
    settings = SlackSettings(bot_token=BOT_TOKEN, signing_secret="s", api_url=standin.url)
    transport = SlackTransport(SlackNotifier(make_web_client(settings)))
    service = WatchService(loaded, Database(store_url), transport=transport, channel=CHANNEL)
    await service.start()
    try:
        await wait_until(lambda: service.monitor.jobs_run >= 2, what="two healthy runs")
        assert standin.channel_messages(CHANNEL) == []
        flip.healthy = False
        await wait_until(
            lambda: any(m.thread_ts is None for m in standin.channel_messages(CHANNEL)),
            what="the alert",
        )
        (alert,) = standin.channel_messages(CHANNEL)
        assert "INC-1 · api-health" in json.dumps(alert.blocks, ensure_ascii=False)
        assert alert.text.startswith("🔴 CRITICAL")
        flip.healthy = True
        await wait_until(
            lambda: any("resolved" in m.text for m in standin.channel_messages(CHANNEL)),
            what="the resolution",
        )
        top = [m for m in standin.channel_messages(CHANNEL) if m.thread_ts is None]
        assert len(top) == 1, "one message per incident"
        assert top[0].edits >= 1
        assert "resolved" in json.dumps(top[0].blocks, ensure_ascii=False)
        (reply,) = [m for m in standin.channel_messages(CHANNEL) if m.thread_ts]
        assert reply.thread_ts == top[0].ts
        status = service.status()
        assert status.store.up
        assert status.problem is None
        assert status.schedule["runs"] >= 4
    finally:
        await service.stop()


async def test_watch_prints_the_alerts_without_slack(
    tmp_path: Path, target: tuple[Flip, str]
) -> None:
    flip, url = target
    flip.healthy = False
    loaded = load_config(write_config(tmp_path, url, f"sqlite:///{tmp_path / 'w.db'}"))
    out = io.StringIO()
    service = WatchService(
        loaded,
        Database(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}"),
        transport=ConsoleTransport(out, as_json=True),
        channel="console",
    )
    await service.start()
    try:
        await wait_until(lambda: out.getvalue().count("\n") >= 1, what="a printed alert")
    finally:
        await service.stop()
    first = json.loads(out.getvalue().splitlines()[0])
    assert first["action"] == "post"
    assert first["text"].startswith("🔴 CRITICAL")
