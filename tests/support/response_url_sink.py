"""A local ``response_url``: records every message posted to it, and fails on request.

Each slash command gets its own URL (``sink.url_for(key)``) so a test can wait for the answer
to exactly that command. Like Slack, it refuses a message over Slack's limits (HTTP 400
``invalid_blocks``), and it can answer 500 or 429 (with ``Retry-After``) a given number of times.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.support.slack_standin import LOCALHOST, limit_problems


@dataclass(frozen=True)
class Delivery:
    """One message posted to the sink."""

    key: str
    body: dict[str, Any]
    received_at: float
    """``time.perf_counter()`` when it arrived."""

    @property
    def text(self) -> str:
        return str(self.body.get("text", ""))

    @property
    def blocks(self) -> list[dict[str, Any]]:
        return list(self.body.get("blocks") or [])

    @property
    def all_text(self) -> str:
        """The fallback text and every text of every block, joined: what a reader sees."""
        parts = [self.text]
        for block in self.blocks:
            if "text" in block:
                parts.append(block["text"]["text"])
            for element in block.get("elements", []):
                text = element.get("text")
                parts.append(text["text"] if isinstance(text, dict) else str(text or ""))
        return "\n".join(parts)


@dataclass
class ResponseUrlSink:
    """Records posts to ``/hook/<key>``; ``failures`` answers the next posts with errors."""

    deliveries: dict[str, list[Delivery]] = field(default_factory=lambda: defaultdict(list))
    rejected: list[tuple[str, list[str]]] = field(default_factory=list)
    attempts: int = 0
    _failures: list[tuple[int, int]] = field(default_factory=list)
    _arrived: asyncio.Condition | None = None
    _runner: web.AppRunner | None = None
    base: str = ""

    async def start(self) -> str:
        self._arrived = asyncio.Condition()
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_post("/hook/{key}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, LOCALHOST, 0, backlog=1024)
        await site.start()
        self.base = f"http://{LOCALHOST}:{self._runner.addresses[0][1]}"
        return self.base

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> ResponseUrlSink:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def url_for(self, key: str) -> str:
        return f"{self.base}/hook/{key}"

    def fail_next(self, status: int, *, times: int = 1, retry_after_s: int = 1) -> None:
        """Answer the next ``times`` posts with ``status`` (429 carries ``Retry-After``)."""
        self._failures.extend([(status, retry_after_s)] * times)

    async def wait_for(
        self, key: str, *, count: int = 1, timeout_s: float = 10.0
    ) -> list[Delivery]:
        """The first ``count`` deliveries to ``key``, waiting up to ``timeout_s`` for them."""
        assert self._arrived is not None
        async with self._arrived:
            await asyncio.wait_for(
                self._arrived.wait_for(lambda: len(self.deliveries[key]) >= count), timeout_s
            )
        return self.deliveries[key][:count]

    async def _handle(self, request: web.Request) -> web.Response:
        self.attempts += 1
        key = request.match_info["key"]
        if self._failures:
            status, retry_after = self._failures.pop(0)
            headers = {"Retry-After": str(retry_after)} if status == 429 else {}
            return web.Response(status=status, text="failing on purpose", headers=headers)
        body = await request.json()
        problems = limit_problems(body)
        if problems:
            self.rejected.append((key, problems))
            return web.Response(status=400, text="invalid_blocks")
        delivery = Delivery(key=key, body=body, received_at=time.perf_counter())
        assert self._arrived is not None
        async with self._arrived:
            self.deliveries[key].append(delivery)
            self._arrived.notify_all()
        return web.Response(text="ok")
