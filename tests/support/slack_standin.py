"""A local stand-in for Slack, on 127.0.0.1: the Web API the bot calls, and the signing Slack does.

* :class:`SlackStandIn` answers ``auth.test``, ``chat.postMessage``, ``chat.update``,
  ``chat.postEphemeral``, ``usergroups.users.list`` and ``apps.connections.open`` the way Slack
  does (``{"ok": true, ...}`` or ``{"ok": false, "error": ...}``), checks the bearer token,
  rejects blocks over Slack's limits with ``invalid_blocks`` as Slack would, records every
  call, and fails on request: 429 with ``Retry-After``, HTTP 500, ``invalid_auth``,
  ``not_in_channel``, or a dropped connection.
* Socket Mode: ``apps.connections.open`` hands out a ``ws://`` URL of the stand-in, which says
  ``hello`` and then delivers envelopes (:meth:`SlackStandIn.send_envelope`), returning the
  app's acknowledgement as Slack would receive it.
* :func:`sign` builds a request exactly as Slack sends it to an app: a form-encoded
  body, ``X-Slack-Request-Timestamp`` and the v0 HMAC-SHA256 ``X-Slack-Signature``;
  :func:`slash_command_form` and :func:`block_actions_form` build the bodies.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

LOCALHOST = "127.0.0.1"
BOT_TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-test-token"
SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
TEAM_ID = "T0TEST"
BOT_USER_ID = "U0BOT"

FaultKind = Literal["rate_limited", "server_error", "invalid_auth", "not_in_channel", "drop"]


@dataclass(frozen=True)
class Fault:
    """How the stand-in fails a call: Slack's own ways."""

    kind: FaultKind
    retry_after_s: int = 1


@dataclass(frozen=True)
class RecordedCall:
    """One Web API call as the stand-in received it (and what it answered)."""

    method: str
    args: dict[str, Any]
    token: str | None
    status: int
    answer: dict[str, Any] | None
    at: float


@dataclass
class _Message:
    channel: str
    ts: str
    text: str
    blocks: list[Any]
    thread_ts: str | None = None
    edits: int = 0
    metadata: dict[str, Any] | None = None


def limit_problems(payload: Mapping[str, Any]) -> list[str]:
    """What in ``payload`` (text + blocks) Slack would reject; empty if it would accept it."""
    problems: list[str] = []
    text = payload.get("text") or ""
    if len(text) > 40_000:
        problems.append(f"text is {len(text)} chars (> 40000)")
    blocks = payload.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    if len(blocks) > 50:
        problems.append(f"{len(blocks)} blocks (> 50)")
    total = 0
    for index, block in enumerate(blocks):
        kind = block.get("type")
        if kind == "section":
            size = len(block["text"]["text"])
            if size > 3000:
                problems.append(f"blocks[{index}] section text is {size} chars (> 3000)")
            total += size
        elif kind == "header":
            size = len(block["text"]["text"])
            if size > 150:
                problems.append(f"blocks[{index}] header is {size} chars (> 150)")
            total += size
        elif kind == "context":
            if len(block["elements"]) > 10:
                problems.append(f"blocks[{index}] context has > 10 elements")
            total += sum(len(e.get("text", "")) for e in block["elements"])
        elif kind == "actions":
            for element in block["elements"]:
                if len(element["text"]["text"]) > 75:
                    problems.append(f"blocks[{index}] button text > 75 chars")
                if len(element.get("value", "")) > 2000:
                    problems.append(f"blocks[{index}] button value > 2000 chars")
        elif kind != "divider":
            problems.append(f"blocks[{index}] has an unexpected type {kind!r}")
    if total > 40_000:
        problems.append(f"blocks carry {total} chars of text (> 40000)")
    return problems


@dataclass
class SlackStandIn:
    """The Slack Web API, locally. ``url`` is what SLACK_API_URL should be set to."""

    bot_token: str = BOT_TOKEN
    app_token: str = APP_TOKEN
    user_groups: dict[str, list[str]] = field(default_factory=dict)
    joined_channels: set[str] | None = None
    """Channels the bot is in (``None``: every channel)."""
    calls: list[RecordedCall] = field(default_factory=list)
    messages: dict[tuple[str, str], _Message] = field(default_factory=dict)
    _faults: dict[str, list[Fault]] = field(default_factory=dict)
    _ts = itertools.count(1)
    _runner: web.AppRunner | None = None
    url: str = ""
    _sockets: list[web.WebSocketResponse] = field(default_factory=list)
    _acks: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    _connected: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/link/", self._socket_mode)
        app.router.add_post("/api/{method}", self._handle)
        app.router.add_get("/api/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, LOCALHOST, 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://{LOCALHOST}:{port}/api/"
        return self.url

    async def stop(self) -> None:
        for socket in self._sockets:
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SlackStandIn:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def send_envelope(
        self, kind: str, payload: dict[str, Any], *, timeout_s: float = 10.0
    ) -> dict[str, Any]:
        """Deliver an envelope over Socket Mode; the app's acknowledgement (``payload`` too)."""
        await asyncio.wait_for(self._connected.wait(), timeout_s)
        envelope_id = f"env-{next(self._ts)}"
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._acks[envelope_id] = answer
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind in ("slash_commands", "interactive"),
        }
        await self._sockets[-1].send_str(json.dumps(envelope))
        return await asyncio.wait_for(answer, timeout_s)

    async def _socket_mode(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.append(socket)
        hello = {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0PG"}}
        await socket.send_str(json.dumps(hello))
        self._connected.set()
        async for message in socket:
            if message.type != web.WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            waiting = self._acks.pop(str(data.get("envelope_id")), None)
            if waiting is not None and not waiting.done():
                waiting.set_result(data)
        return socket

    def fail_next(self, method: str, fault: Fault, *, times: int = 1) -> None:
        """Fail the next ``times`` calls of ``method`` with ``fault``."""
        self._faults.setdefault(method, []).extend([fault] * times)

    def calls_to(self, method: str) -> list[RecordedCall]:
        return [c for c in self.calls if c.method == method]

    def channel_messages(self, channel: str) -> list[_Message]:
        return [m for m in self.messages.values() if m.channel == channel]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        args = await _arguments(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else args.get("token")
        faults = self._faults.get(method)
        fault = faults.pop(0) if faults else None
        if fault is not None and fault.kind == "drop":
            self._record(method, args, token, 0, None)
            assert request.transport is not None
            request.transport.close()
            raise ConnectionResetError("dropped on purpose")
        if fault is not None and fault.kind == "rate_limited":
            answer = {"ok": False, "error": "ratelimited"}
            self._record(method, args, token, 429, answer)
            return web.json_response(
                answer, status=429, headers={"Retry-After": str(fault.retry_after_s)}
            )
        if fault is not None and fault.kind == "server_error":
            self._record(method, args, token, 500, None)
            return web.Response(
                status=500, text="<html>internal error</html>", content_type="text/html"
            )
        if fault is not None:
            answer = {"ok": False, "error": fault.kind}
        else:
            answer = self._answer(method, args, token)
        self._record(method, args, token, 200, answer)
        return web.json_response(answer)

    def _record(
        self, method: str, args: dict[str, Any], token: str | None, status: int, answer: Any
    ) -> None:
        self.calls.append(RecordedCall(method, args, token, status, answer, time.monotonic()))

    def _answer(self, method: str, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        expected = self.app_token if method == "apps.connections.open" else self.bot_token
        if not token:
            return {"ok": False, "error": "not_authed"}
        if token != expected:
            return {"ok": False, "error": "invalid_auth"}
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://test.slack.com/",
                "team": "Test Team",
                "team_id": TEAM_ID,
                "user": "prodguardian",
                "user_id": BOT_USER_ID,
                "bot_id": "B0BOT",
                "is_enterprise_install": False,
            }
        if method == "apps.connections.open":
            base = self.url.removeprefix("http://").removesuffix("/api/")
            return {"ok": True, "url": f"ws://{base}/link/?ticket={next(self._ts)}"}
        if method == "usergroups.users.list":
            group = str(args.get("usergroup", ""))
            if group not in self.user_groups:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": list(self.user_groups[group])}
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            return self._chat(method, args)
        if method in ("conversations.history", "conversations.replies"):
            return self._history(method, args)
        return {"ok": False, "error": "unknown_method"}

    def _history(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        """Messages of a channel (newest first) or of a thread (parent first), as Slack lists
        them; metadata only with ``include_all_metadata``."""
        channel = str(args.get("channel", ""))
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        if method == "conversations.replies":
            parent = str(args.get("ts", ""))
            if (channel, parent) not in self.messages:
                return {"ok": False, "error": "thread_not_found"}
            found = [
                m
                for m in self.messages.values()
                if m.channel == channel and (m.ts == parent or m.thread_ts == parent)
            ]
            found.sort(key=lambda m: float(m.ts))
        else:
            oldest = float(args.get("oldest") or 0)
            found = [
                m
                for m in self.messages.values()
                if m.channel == channel and m.thread_ts is None and float(m.ts) >= oldest
            ]
            found.sort(key=lambda m: float(m.ts), reverse=True)
        limit = int(args.get("limit") or 100)
        listed = []
        for m in found[:limit]:
            item: dict[str, Any] = {"type": "message", "ts": m.ts, "text": m.text}
            if m.thread_ts:
                item["thread_ts"] = m.thread_ts
            if with_metadata and m.metadata:
                item["metadata"] = m.metadata
            listed.append(item)
        return {"ok": True, "messages": listed, "has_more": len(found) > limit}

    def _chat(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel", ""))
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if self.joined_channels is not None and channel not in self.joined_channels:
            return {"ok": False, "error": "not_in_channel"}
        if not args.get("text") and not args.get("blocks"):
            return {"ok": False, "error": "no_text"}
        problems = limit_problems(args)
        if problems:
            return {"ok": False, "error": "invalid_blocks", "errors": problems}
        blocks = args.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        text = str(args.get("text") or "")
        if method == "chat.update":
            message = self.messages.get((channel, str(args.get("ts"))))
            if message is None:
                return {"ok": False, "error": "message_not_found"}
            message.text, message.blocks = text, blocks
            message.edits += 1
            return {"ok": True, "channel": channel, "ts": message.ts, "text": text}
        ts = f"{time.time():.0f}.{next(self._ts):06d}"
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        thread = args.get("thread_ts")
        metadata = args.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        message = _Message(channel, ts, text, blocks, str(thread) if thread else None, 0, metadata)
        self.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": {"text": text, "ts": ts}}


async def _arguments(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        data = await request.json()
        return dict(data) if isinstance(data, dict) else {}
    form = await request.post()
    args: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    args.update({k: v for k, v in request.query.items()})
    return args


# --- requests as Slack sends them to the app ------------------------------------------------


def sign(
    body: bytes, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    """The headers Slack sends with ``body``: timestamp and v0 HMAC-SHA256 signature."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + ts.encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
    }


def slash_command_form(
    text: str,
    *,
    response_url: str,
    user_id: str = "U0ALICE",
    channel_id: str = "C0OPS",
    command: str = "/check_prod",
) -> bytes:
    """The form-encoded body of a slash command, with the fields Slack sends."""
    fields = {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "team_domain": "test",
        "channel_id": channel_id,
        "channel_name": "ops",
        "user_id": user_id,
        "user_name": user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": "A0PRODGUARD",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": f"{int(time.time())}.123.abc",
    }
    return urllib.parse.urlencode(fields).encode()


def block_actions_form(
    action_id: str,
    value: str,
    *,
    response_url: str,
    user_id: str = "U0ALICE",
    channel_id: str = "C0OPS",
) -> bytes:
    """The form-encoded body of a button press (``payload`` = block_actions JSON)."""
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "test"},
        "user": {"id": user_id, "username": user_id.lower(), "team_id": TEAM_ID},
        "api_app_id": "A0PRODGUARD",
        "token": "legacy-verification-token",
        "container": {"type": "message", "message_ts": "1.000001", "channel_id": channel_id},
        "trigger_id": f"{int(time.time())}.123.abc",
        "channel": {"id": channel_id, "name": "ops"},
        "message": {"ts": "1.000001", "text": "report"},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "prodguardian_report_actions",
                "value": value,
                "action_ts": str(time.time()),
                "text": {"type": "plain_text", "text": "button"},
            }
        ],
    }
    return urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()


async def wait_until(predicate: Any, *, timeout_s: float = 10.0, what: str = "condition") -> None:
    """Poll ``predicate()`` until it is true; fail with ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(0.02)
