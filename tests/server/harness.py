"""``serve``'s app under uvicorn on 127.0.0.1, wired to the Slack stand-in and a response_url sink.

:class:`ServerHarness` sends slash commands and button presses signed exactly as Slack signs
them, and waits for what the app posts back to the sink.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from prodguardian.config import load_config
from prodguardian.server import create_app, running_server
from prodguardian.server.connection_guard import ConnectionLimits
from prodguardian.slack.retry import BoundedRetryHandler
from prodguardian.slack.runtime import SlackRuntime
from prodguardian.slack.settings import SlackSettings
from prodguardian.slack.stores import Stores
from tests.support.response_url_sink import Delivery, ResponseUrlSink
from tests.support.slack_standin import (
    BOT_TOKEN,
    SIGNING_SECRET,
    SlackStandIn,
    block_actions_form,
    sign,
    slash_command_form,
)


@dataclass
class Answer:
    """The HTTP answer to a signed request (the ack)."""

    status: int
    body: dict[str, Any]
    raw: str

    @property
    def fallback(self) -> str:
        return str(self.body.get("text", ""))

    @property
    def text(self) -> str:
        """Every mrkdwn text of the blocks, joined: what the user reads."""
        parts = []
        for block in self.body.get("blocks") or []:
            if "text" in block:
                parts.append(block["text"]["text"])
            parts.extend(str(e.get("text", "")) for e in block.get("elements", []))
        return "\n".join(parts)


@dataclass
class ServerHarness:
    url: str
    runtime: SlackRuntime
    slack: SlackStandIn
    sink: ResponseUrlSink
    http: aiohttp.ClientSession
    _keys: itertools.count[int] = field(default_factory=itertools.count)

    def new_key(self) -> str:
        return f"cmd{next(self._keys)}"

    async def post_signed(self, body: bytes, headers: dict[str, str]) -> Answer:
        async with self.http.post(f"{self.url}/slack/events", data=body, headers=headers) as resp:
            raw = await resp.text()
            try:
                parsed = json.loads(raw) if raw else {}
            except json.JSONDecodeError:
                parsed = {}
            return Answer(resp.status, parsed if isinstance(parsed, dict) else {}, raw)

    async def command(
        self, text: str, *, user: str = "U0ALICE", channel: str = "C0OPS", key: str | None = None
    ) -> tuple[Answer, str]:
        """Send ``/check_prod text``; the ack, and the sink key its response_url posts to."""
        key = key or self.new_key()
        body = slash_command_form(
            text, response_url=self.sink.url_for(key), user_id=user, channel_id=channel
        )
        return await self.post_signed(body, sign(body)), key

    async def press(
        self, action_id: str, value: str, *, user: str = "U0ALICE", channel: str = "C0OPS"
    ) -> tuple[Answer, str]:
        key = self.new_key()
        body = block_actions_form(
            action_id, value, response_url=self.sink.url_for(key), user_id=user, channel_id=channel
        )
        return await self.post_signed(body, sign(body)), key

    async def report_for(self, key: str, *, count: int = 1) -> list[Delivery]:
        return await self.sink.wait_for(key, count=count, timeout_s=15)


def write_config(
    directory: Path, target: str, *, slack: str = "{allowed_users: [U0ALICE]}"
) -> Path:
    path = directory / "prodguardian.yaml"
    path.write_text(
        f"""
service: {{name: emergence-app}}
slack: {slack}
checks:
  - {{name: api-health, kind: http, timeout: 5s, url: "{target}/ready",
     expect: {{status: 200, json: ['db == "up"']}}}}
  - {{name: readiness, kind: http, timeout: 5s, url: "{target}/degraded",
     expect: {{status: 200}}}}
""",
        encoding="utf-8",
    )
    return path


@asynccontextmanager
async def serving(
    config: Path,
    slack: SlackStandIn,
    sink: ResponseUrlSink,
    *,
    stores: Stores | None = None,
    bot_token: str = BOT_TOKEN,
    token_recheck_s: float = 300.0,
    limits: ConnectionLimits | None = None,
) -> AsyncIterator[ServerHarness]:
    """The app of ``prodguardian serve -c config`` on 127.0.0.1:0, talking to the stand-ins."""
    loaded = load_config(config)
    settings = SlackSettings.from_env(
        {
            "SLACK_BOT_TOKEN": bot_token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.url,
        }
    )
    runtime = SlackRuntime(
        loaded,
        settings,
        retry=BoundedRetryHandler(max_retries=2, backoff_base_s=0.01),
        poster_backoff_s=0.01,
        stores=stores,
        token_recheck_s=token_recheck_s,
        token_retry_s=token_recheck_s,
    )
    app = create_app(runtime)
    async with running_server(app, limits=limits) as url, aiohttp.ClientSession() as http:
        yield ServerHarness(url=url, runtime=runtime, slack=slack, sink=sink, http=http)
