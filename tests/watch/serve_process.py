"""Real-process fault tests of the watch loop: ``prodguardian serve`` as a subprocess.

* :class:`FlipTarget` is a local HTTP target whose checks' health the test flips (or scripts
  per request, for a flapping target).
* :func:`write_watch_config` writes a config with short intervals, the alerts channel and the
  state store under test.
* :class:`ServeProcess` starts ``serve`` on port 0 with its output in files (never a full
  pipe), SIGKILLs or stops it, and reads ``/readyz``.
* :class:`FaultySlack` is the Slack stand-in that can fail ``chat.postMessage`` until healed,
  or accept a message and never answer (a crash between sending and marking).
* :class:`StoreView` reads the state store the process writes, as the test's witness.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import yaml
from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from prodguardian.store.database import Database, StoreUnavailableError
from prodguardian.store.schema import CheckRunRow, IncidentRow, OutboxRow
from tests.support.http_targets import serve_app
from tests.support.slack_standin import (
    BOT_TOKEN,
    SIGNING_SECRET,
    Fault,
    SlackStandIn,
    _arguments,
    _Message,
    sign,
    slash_command_form,
)

T = TypeVar("T")

ALERTS = "C0ALERTS"
#: How long one wait of these tests may last before it fails (every wait is bounded).
WAIT_S = 60.0


async def eventually(
    probe: Callable[[], Awaitable[T | None]], *, what: str, timeout_s: float = WAIT_S
) -> T:
    """Poll ``probe`` until it returns something truthy; fail naming ``what`` at the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = await probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        await asyncio.sleep(0.1)


# --- the target -----------------------------------------------------------------------------


@dataclass
class FlipTarget:
    """``GET /health/NAME``: 200 while NAME is healthy, 503 otherwise.

    A script (one bool per request, then the last state) drives a flapping target by request
    count, not by time.
    """

    healthy: dict[str, bool] = field(default_factory=dict)
    scripts: dict[str, list[bool]] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    url: str = ""

    def set(self, *names: str, healthy: bool) -> None:
        for name in names:
            self.healthy[name] = healthy

    def script(self, name: str, answers: Sequence[bool]) -> None:
        self.scripts[name] = list(answers)

    def app(self) -> web.Application:
        async def health(request: web.Request) -> web.Response:
            name = request.match_info["name"]
            self.hits[name] += 1
            script = self.scripts.get(name)
            if script:
                self.healthy[name] = script.pop(0)
            ok = self.healthy.get(name, True)
            return web.json_response({"ok": ok}, status=200 if ok else 503)

        app = web.Application()
        app.router.add_get("/health/{name}", health)
        return app


@contextlib.asynccontextmanager
async def flip_target() -> AsyncIterator[FlipTarget]:
    target = FlipTarget()
    async with serve_app(target.app()) as url:
        target.url = url
        yield target


# --- Slack ----------------------------------------------------------------------------------


@dataclass
class FaultySlack(SlackStandIn):
    """The stand-in, plus faults that last until the test lifts them."""

    holding: bool = False
    """Accept ``chat.postMessage`` (the message lands) but never answer: the sender's process
    dies not knowing."""
    holding_replies: bool = False
    """The same, for thread replies only."""
    held: int = 0
    released: asyncio.Event = field(default_factory=asyncio.Event)
    """Set: the held calls answer after all (late, as after a network stall)."""

    def fail_posts(self) -> None:
        """Every ``chat.postMessage`` answers HTTP 500 until :meth:`heal`."""
        self.fail_next("chat.postMessage", Fault("server_error"), times=100_000)

    def heal(self) -> None:
        self._faults.clear()
        self.holding = self.holding_replies = False

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["method"] != "chat.postMessage":
            return await super()._handle(request)
        reply = "thread_ts" in (await _arguments(request))
        if not (self.holding or (self.holding_replies and reply)):
            return await super()._handle(request)
        answer = await super()._handle(request)
        self.held += 1
        await self.released.wait()  # until released, or cancelled when the client goes away
        return answer

    def top_level(self, channel: str = ALERTS) -> list[_Message]:
        """The channel's messages that are not thread replies, oldest first."""
        found = [m for m in self.channel_messages(channel) if m.thread_ts is None]
        return sorted(found, key=lambda m: float(m.ts))

    def thread(self, parent: _Message) -> list[_Message]:
        """The replies under ``parent``, oldest first."""
        found = [m for m in self.channel_messages(parent.channel) if m.thread_ts == parent.ts]
        return sorted(found, key=lambda m: float(m.ts))

    @staticmethod
    def shown(message: _Message) -> str:
        """Everything a reader sees of ``message``: its text and every block's text."""
        parts = [message.text]
        for block in message.blocks:
            if isinstance(block.get("text"), dict):
                parts.append(str(block["text"].get("text", "")))
            parts.extend(str(e.get("text", "")) for e in block.get("elements", []))
        return "\n".join(parts)

    def outbox_keys(self) -> Counter[str]:
        """How often each outbox key landed (each must land once)."""
        return Counter(
            str(((m.metadata or {}).get("event_payload") or {}).get("outbox_key"))
            for m in self.messages.values()
        )


def slack_env(slack: SlackStandIn) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.url,
    }


# --- config ---------------------------------------------------------------------------------


def http_check(target: FlipTarget, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "kind": "http",
        "timeout": "2s",
        "url": f"{target.url}/health/{name}",
        "expect": {"status": 200},
        **extra,
    }


def write_watch_config(
    directory: Path,
    *,
    store_url: str,
    checks: Sequence[dict[str, Any]],
    monitoring: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """A config for ``serve``: 1 s checks, alerts to :data:`ALERTS`, state in ``store_url``."""
    config: dict[str, Any] = {
        "service": {"name": "fault-tests"},
        "slack": {"allowed_users": ["U0ALICE"], "alerts_channel": ALERTS},
        "monitoring": {
            "interval": "1s",
            "failure_threshold": 2,
            "success_threshold": 2,
            "repeat_interval": "1h",
            **(monitoring or {}),
        },
        "state": {"url": store_url},
        "checks": list(checks),
        **(extra or {}),
    }
    path = directory / "prodguardian.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


# --- the process ----------------------------------------------------------------------------


@dataclass
class Readiness:
    status: int
    body: dict[str, Any]


class ServeProcess:
    """One ``prodguardian serve`` process; its logs in ``log_dir``."""

    def __init__(self, config: Path, env: dict[str, str], log_dir: Path, name: str) -> None:
        self.config = config
        self.env = env
        self.out = log_dir / f"{name}.out"
        self.err = log_dir / f"{name}.err"
        self.process: asyncio.subprocess.Process | None = None
        self.url = ""

    async def start(self) -> ServeProcess:
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "prodguardian.cli",
                "serve",
                "-c",
                str(self.config),
                "--port",
                "0",
                env={**os.environ, **self.env},
                stdout=out,
                stderr=err,
            )
        self.url = await eventually(self._listening, what=f"serve to listen ({self.err})")
        return self

    async def _listening(self) -> str | None:
        assert self.process is not None
        text = self.err.read_text(encoding="utf-8", errors="replace")
        for line in text.splitlines():
            if "listening on " in line:
                return line.split("listening on ", 1)[1].split()[0].rstrip(",")
        if self.process.returncode is not None:
            raise AssertionError(f"serve exited {self.process.returncode}: {text}")
        return None

    def logs(self) -> str:
        return self.out.read_text(encoding="utf-8", errors="replace") + self.err.read_text(
            encoding="utf-8", errors="replace"
        )

    async def kill(self) -> None:
        """SIGKILL: no shutdown, no flush; what is committed is all that survives."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(self.process.wait(), 30)

    async def stop(self) -> None:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                await self.kill()

    async def command(self, text: str, response_url: str) -> tuple[int, str]:
        """A signed ``/check_prod text`` as Slack sends it; the ack's HTTP status and body."""
        body = slash_command_form(text, response_url=response_url)
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{self.url}/slack/events", data=body, headers=sign(body)) as resp,
        ):
            return resp.status, await resp.text()

    async def readyz(self) -> Readiness:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{self.url}/readyz", timeout=aiohttp.ClientTimeout(total=20)) as resp,
        ):
            return Readiness(resp.status, await resp.json())


@contextlib.asynccontextmanager
async def serving(
    config: Path, slack: SlackStandIn, log_dir: Path, name: str = "serve"
) -> AsyncIterator[ServeProcess]:
    """``serve`` running until the block ends (then stopped, or already killed)."""
    process = ServeProcess(config, slack_env(slack), log_dir, name)
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


async def cli(config: Path, *args: str) -> tuple[int, str]:
    """``prodguardian ARGS -c config``: exit code and combined output."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "prodguardian.cli",
        *args,
        "-c",
        str(config),
        env=dict(os.environ),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode()


# --- the store, as the test sees it ----------------------------------------------------------


class StoreView:
    """Reads of the store ``serve`` writes (its own connection, short-lived sessions)."""

    def __init__(self, url: str) -> None:
        self.database = Database(url, attempts=2, backoff_s=0.05)

    async def close(self) -> None:
        await self.database.dispose()

    async def _read(self, work: Callable[[Any], Awaitable[T]], empty: T) -> T:
        """``work``'s answer; ``empty`` while the tables are not there yet or the store is busy
        (the callers poll)."""
        try:
            found: T = await self.database.run(work)
        except StoreUnavailableError:
            return empty
        except DBAPIError as exc:
            if "does not exist" in str(exc):
                return empty
            raise
        return found

    async def incidents(self) -> list[IncidentRow]:
        async def read(session: Any) -> list[IncidentRow]:
            return list((await session.scalars(select(IncidentRow).order_by(IncidentRow.id))).all())

        return await self._read(read, [])

    async def outbox(self) -> list[OutboxRow]:
        async def read(session: Any) -> list[OutboxRow]:
            return list((await session.scalars(select(OutboxRow).order_by(OutboxRow.id))).all())

        return await self._read(read, [])

    async def runs(self, check: str | None = None) -> int:
        """How many check runs are recorded (of one check)."""

        async def count(session: Any) -> int:
            query = select(func.count()).select_from(CheckRunRow)
            if check is not None:
                query = query.where(CheckRunRow.check_name == check)
            return int(await session.scalar(query) or 0)

        return await self._read(count, 0)


@contextlib.asynccontextmanager
async def store_view(url: str) -> AsyncIterator[StoreView]:
    view = StoreView(url)
    try:
        yield view
    finally:
        await view.close()


async def runs_advance(store: StoreView, check: str, by: int) -> None:
    """Wait until ``by`` more runs of ``check`` are recorded (time passes in runs)."""
    start = await store.runs(check)

    async def advanced() -> bool:
        return await store.runs(check) >= start + by

    await eventually(advanced, what=f"{by} more runs of {check}")
