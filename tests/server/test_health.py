"""The agent's own health endpoints, and room for other routers."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from fastapi import APIRouter

from prodguardian.config import load_config
from prodguardian.server import create_app, running_server
from prodguardian.slack.runtime import SlackRuntime
from prodguardian.slack.settings import SlackSettings
from tests.server.harness import ServerHarness, write_config
from tests.support.slack_standin import SIGNING_SECRET, SlackStandIn


async def test_healthz_and_readyz(server: ServerHarness) -> None:
    async with server.http.get(f"{server.url}/healthz") as resp:
        assert resp.status == 200
        assert (await resp.json())["ok"] is True
    async with server.http.get(f"{server.url}/readyz") as resp:
        assert resp.status == 200
        body = await resp.json()
    assert body == {
        "ready": True,
        "checks": 2,
        "slack": "http",
        "slack_team": "Test Team",
        "slack_bot_user": "U0BOT",
    }


async def test_readyz_is_503_with_the_reason_when_the_token_is_refused(
    tmp_path: Path, target: str, standin: SlackStandIn
) -> None:
    loaded = load_config(write_config(tmp_path, target))
    settings = SlackSettings(
        bot_token="xoxb-revoked", signing_secret=SIGNING_SECRET, api_url=standin.url
    )
    runtime = SlackRuntime(loaded, settings)
    async with (
        running_server(create_app(runtime)) as url,
        aiohttp.ClientSession() as http,
        http.get(f"{url}/readyz") as resp,
    ):
        assert resp.status == 503
        body = await resp.json()
    assert body["ready"] is False
    assert body["problem"].startswith("Slack refused the bot token (auth.test: invalid_auth)")
    assert "set SLACK_BOT_TOKEN" in body["problem"]


async def test_extra_routers_are_mounted(
    tmp_path: Path, target: str, standin: SlackStandIn
) -> None:
    router = APIRouter()

    @router.get("/metrics")
    async def metrics() -> dict[str, int]:
        return {"up": 1}

    loaded = load_config(write_config(tmp_path, target))
    settings = SlackSettings(bot_token="x", signing_secret=SIGNING_SECRET, api_url=standin.url)
    app = create_app(SlackRuntime(loaded, settings), extra_routers=[router])
    async with (
        running_server(app) as url,
        aiohttp.ClientSession() as http,
        http.get(f"{url}/metrics") as resp,
    ):
        assert await resp.json() == {"up": 1}
