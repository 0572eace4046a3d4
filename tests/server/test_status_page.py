"""The status page in headless Chromium: the right status for a healthy and a degraded target."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from playwright.async_api import async_playwright

from prodguardian.config import load_config
from prodguardian.server import create_app, running_server
from prodguardian.slack.runtime import SlackRuntime
from prodguardian.slack.settings import SlackSettings
from prodguardian.store.database import Database
from prodguardian.watch.service import WatchService, store_backed
from tests.support.chromium import CHROMIUM_ARGS
from tests.support.http_targets import serve_app
from tests.support.slack_standin import BOT_TOKEN, SIGNING_SECRET, SlackStandIn, wait_until

BUILD = Path(__file__).resolve().parents[2] / "build"


class Target:
    def __init__(self) -> None:
        self.db_up = True

    def app(self) -> web.Application:
        async def ready(request: web.Request) -> web.Response:
            body = {"ok": self.db_up, "db": "up" if self.db_up else "down"}
            return web.json_response(body, status=200)

        app = web.Application()
        app.router.add_get("/ready", ready)
        return app


@pytest.fixture
async def server(
    tmp_path: Path, standin: SlackStandIn
) -> AsyncIterator[tuple[str, Target, WatchService]]:
    target = Target()
    async with serve_app(target.app()) as url:
        config = tmp_path / "pg.yaml"
        config.write_text(
            f"""
service: {{name: emergence-app}}
state: {{url: "sqlite:///{tmp_path / "state.db"}"}}
monitoring: {{interval: 1s, jitter: 0.1s}}
checks:
  - {{name: readiness, kind: http, url: "{url}/ready", expect: {{json: ['db == "up"']}},
     failure_status: DEGRADED}}
"""
        )
        loaded = load_config(config)
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'state.db'}")
        stores = store_backed(database, config=loaded.config, channel=None)
        settings = SlackSettings(
            bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, api_url=standin.url
        )
        runtime = SlackRuntime(loaded, settings, stores=stores)
        watch = WatchService(
            loaded, database, transport=None, channel=None, stores=stores, runs=runtime.runs
        )
        app = create_app(runtime, watch=watch)
        async with running_server(app) as base:
            yield base, target, watch


async def test_the_page_shows_a_healthy_then_a_degraded_target(
    server: tuple[str, Target, WatchService], chromium: str
) -> None:
    base, target, watch = server
    await wait_until(lambda: "readiness" in watch.monitor.latest, what="a first run")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            await page.goto(base + "/")
            assert await page.get_attribute("#overall", "data-status") == "OK"
            assert "OK — emergence-app" in await page.inner_text("h1")

            target.db_up = False
            for _ in range(100):
                await page.goto(base + "/")
                if await page.locator(".strip span.DEGRADED").count():
                    break
                await page.wait_for_timeout(100)
            assert await page.get_attribute("#overall", "data-status") == "DEGRADED"
            row = page.locator('tr.check[data-check="readiness"]')
            assert await row.get_attribute("data-status") == "DEGRADED"
            assert await row.locator(".strip span.DEGRADED").count() == 1
            BUILD.mkdir(exist_ok=True)
            await page.screenshot(path=str(BUILD / "status-page.png"), full_page=True)
        finally:
            await browser.close()
    assert (BUILD / "status-page.png").stat().st_size > 1000


async def test_the_token_guards_the_page_and_the_api(
    server: tuple[str, Target, WatchService], chromium: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, _, _ = server
    monkeypatch.setenv("PRODGUARDIAN_API_TOKEN", "page-token")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            response = await page.goto(base + "/api/status")
            assert response is not None
            assert response.status == 401
            await page.goto(base + "/")
            assert page.url.endswith("/login")
            await page.fill("input[name=token]", "wrong")
            await page.click("button[type=submit]")
            assert "not the token" in await page.content()
            await page.fill("input[name=token]", "page-token")
            await page.click("button[type=submit]")
            await page.wait_for_selector("#overall")
            response = await page.goto(base + "/api/status")
            assert response is not None
            assert response.status == 200
            health = await page.goto(base + "/healthz")
            assert health is not None
            assert health.status == 200
        finally:
            await browser.close()
