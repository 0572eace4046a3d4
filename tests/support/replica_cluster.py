"""Several real ``prodguardian serve`` processes on one state store, for replica tests and the
failover benchmark.

* :class:`Targets`: a local HTTP target with many health endpoints whose answer the test flips.
* :class:`Replica`: one ``serve`` subprocess on port 0, its log in a file (a pipe that nobody
  reads would stall it), with ``/readyz`` read with a short timeout (a SIGSTOPped replica does
  not answer).
* :class:`Cluster`: the replicas, who leads, and the messages Slack (the stand-in) received:
  each outbox key should have been posted once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web

from tests.support.slack_standin import BOT_TOKEN, SIGNING_SECRET, SlackStandIn

CHANNEL = "C0ALERTS"
START_TIMEOUT_S = 60.0


class Targets:
    """``/health/<name>`` endpoints: 200 while healthy, 503 once flipped."""

    def __init__(self) -> None:
        self.failing: set[str] = set()

    def app(self) -> web.Application:
        async def health(request: web.Request) -> web.Response:
            if request.match_info["name"] in self.failing:
                return web.json_response({"ok": False}, status=503)
            return web.json_response({"ok": True})

        app = web.Application()
        app.router.add_get("/health/{name}", health)
        return app


def cluster_config(
    path: Path,
    *,
    target_url: str,
    store_url: str,
    checks: Sequence[str],
    interval: str = "1s",
    leader_check: str = "1s",
    leader_lease: str = "5s",
) -> Path:
    """A config with one ``http`` check per name, alerts to :data:`CHANNEL`, short intervals."""
    lines = [
        "service: {name: shop}",
        f"slack: {{alerts_channel: {CHANNEL}}}",
        f'state: {{url: "{store_url}", leader_check_interval: {leader_check}, '
        f"leader_lease: {leader_lease}, heartbeat_interval: 1s}}",
        f"monitoring: {{interval: {interval}, failure_threshold: 1, success_threshold: 1, "
        "repeat_interval: 1d}",
        "checks:",
    ]
    for name in checks:
        lines.append(
            f"  - {{name: {name}, kind: http, url: '{target_url}/health/{name}', timeout: 2s}}"
        )
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass
class Replica:
    """One ``serve`` process."""

    process: asyncio.subprocess.Process
    log: Path
    url: str = ""
    stopped: bool = False

    @property
    def pid(self) -> int:
        return self.process.pid

    async def readyz(self, timeout_s: float = 1.0) -> dict[str, Any] | None:
        """``/readyz``'s body, or None if it does not answer in time."""
        if self.stopped or self.process.returncode is not None:
            return None
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as http,
                http.get(f"{self.url}/readyz") as resp,
            ):
                body: dict[str, Any] = await resp.json()
                return body
        except (aiohttp.ClientError, TimeoutError, json.JSONDecodeError):
            return None

    def signal(self, sig: signal.Signals) -> None:
        self.process.send_signal(sig)
        self.stopped = sig == signal.SIGSTOP

    async def terminate(self, timeout_s: float = 30.0) -> None:
        """SIGTERM and wait (SIGKILL if it does not exit in time)."""
        if self.process.returncode is not None:
            return
        if self.stopped:
            self.signal(signal.SIGCONT)
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), timeout_s)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()

    async def kill(self) -> None:
        self.process.kill()
        await self.process.wait()


@dataclass
class Cluster:
    """The replicas of one store and the Slack stand-in they post to."""

    config: Path
    standin: SlackStandIn
    workdir: Path
    replicas: list[Replica] = field(default_factory=list)
    extra_env: dict[str, str] = field(default_factory=dict)
    _started: int = 0

    async def start_replica(self) -> Replica:
        """Start one more ``serve`` and wait until it listens."""
        self._started += 1
        log = self.workdir / f"replica-{self._started}.log"
        handle = log.open("wb")
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": self.standin.url,
            **self.extra_env,
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "prodguardian.cli",
            "serve",
            "-c",
            str(self.config),
            "--port",
            "0",
            "--log-format",
            "text",
            "--log-level",
            "warning",
            env=env,
            stdout=handle,
            stderr=handle,
        )
        handle.close()
        replica = Replica(process, log)
        self.replicas.append(replica)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            text = log.read_text(errors="replace")
            if "listening on " in text:
                replica.url = text.split("listening on ", 1)[1].split()[0].rstrip(",")
                return replica
            if process.returncode is not None or time.monotonic() > deadline:
                raise AssertionError(f"serve did not start:\n{text[-3000:]}")
            await asyncio.sleep(0.1)

    def alive(self) -> list[Replica]:
        return [r for r in self.replicas if r.process.returncode is None]

    async def leaders(self) -> list[tuple[Replica, dict[str, Any]]]:
        """The replicas whose ``/readyz`` says they lead, with their leader section."""
        bodies = await asyncio.gather(*(r.readyz() for r in self.alive()))
        return [
            (replica, body["leader"])
            for replica, body in zip(self.alive(), bodies, strict=True)
            if body is not None and body.get("leader", {}).get("leading")
        ]

    async def wait_for_leader(
        self, *, timeout_s: float, other_than: Replica | None = None, above_term: int = -1
    ) -> tuple[Replica, dict[str, Any]]:
        """Poll until exactly one replica leads (not ``other_than``, term > ``above_term``)."""
        deadline = time.monotonic() + timeout_s
        seen: list[tuple[Replica, dict[str, Any]]] = []
        while time.monotonic() < deadline:
            seen = await self.leaders()
            if len(seen) == 1:
                replica, leader = seen[0]
                if replica is not other_than and (leader.get("term") or 0) > above_term:
                    return replica, leader
            await asyncio.sleep(0.2)
        raise AssertionError(
            f"no single new leader within {timeout_s} s: {[b for _, b in seen]}\n"
            + self.logs_tail()
        )

    def logs_tail(self, chars: int = 1500) -> str:
        return "\n".join(
            f"--- {r.log.name} (pid {r.pid}):\n{r.log.read_text(errors='replace')[-chars:]}"
            for r in self.replicas
        )

    def posted_keys(self) -> Counter[str]:
        """How many times each outbox key was posted (chat.postMessage answered ok)."""
        keys: Counter[str] = Counter()
        for call in self.standin.calls_to("chat.postMessage"):
            if not (call.answer or {}).get("ok"):
                continue
            metadata = call.args.get("metadata")
            if isinstance(metadata, str):
                metadata = json.loads(metadata)
            key = ((metadata or {}).get("event_payload") or {}).get("outbox_key")
            if key:
                keys[key] += 1
        return keys

    def duplicates(self) -> dict[str, int]:
        return {key: n for key, n in self.posted_keys().items() if n > 1}

    def alerts_for(self, check: str) -> list[Any]:
        """Top-level messages (one per incident) that name ``check``."""
        return [
            m
            for m in self.standin.channel_messages(CHANNEL)
            if m.thread_ts is None and f"· {check}" in json.dumps(m.blocks, ensure_ascii=False)
        ]

    async def stop(self) -> None:
        await asyncio.gather(*(r.terminate() for r in self.replicas), return_exceptions=True)


async def eventually(
    predicate: Callable[[], Awaitable[bool]], *, timeout_s: float, what: str, every_s: float = 0.2
) -> None:
    """Poll the async ``predicate`` until true; fail naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(every_s)


async def store_counts(store_url: str) -> dict[str, int]:
    """Open incidents and unsent outbox rows in a PostgreSQL store (read with asyncpg)."""
    dsn = store_url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        open_incidents = await connection.fetchval(
            "SELECT count(*) FROM incidents WHERE resolved_at IS NULL"
        )
        unsent = await connection.fetchval(
            "SELECT count(*) FROM outbox WHERE state IN ('pending', 'sending')"
        )
    finally:
        await connection.close()
    return {"open_incidents": int(open_incidents), "unsent": int(unsent)}


@asynccontextmanager
async def running_cluster(
    config: Path, standin: SlackStandIn, workdir: Path, *, replicas: int
) -> AsyncIterator[Cluster]:
    """``replicas`` serve processes on ``config``; all stopped at the end."""
    cluster = Cluster(config, standin, workdir)
    try:
        await asyncio.gather(*(cluster.start_replica() for _ in range(replicas)))
        yield cluster
    finally:
        with contextlib.suppress(Exception):
            await cluster.stop()
