"""Local HTTP and TLS targets on 127.0.0.1 for tests (and demos) of anything that probes HTTP.

* :func:`serve_app` runs an ``aiohttp.web`` app on a free port (optionally over TLS) and yields
  its base URL; :func:`health_app` is a target with every behaviour a probe must survive:
  healthy and degraded readiness, slow answers, non-JSON and truncated JSON, a 50 MB streamed
  body, redirect loops and chains, header echo, 204.
* :func:`silent_server` accepts connections and never answers; :func:`refused_port` is a port
  where nothing listens (held bound, so no one else takes it meanwhile).
* :class:`LocalCA` issues certificates (valid, expired, near expiry) through ``trustme``;
  :func:`self_signed_context` serves a self-signed one.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import os
import socket
import ssl
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trustme
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from prodguardian.check import Check
from prodguardian.context import CheckContext, HttpClient
from prodguardian.result import CheckResult

__all__ = [
    "HEALTHY_BODY",
    "LOCALHOST",
    "TARGET_STATE",
    "LocalCA",
    "TargetState",
    "health_app",
    "raw_server",
    "refused_port",
    "run_check",
    "self_signed_context",
    "serve_app",
    "silent_server",
]

LOCALHOST = "127.0.0.1"

HEALTHY_BODY: dict[str, Any] = {
    "ok": True,
    "db": "up",
    "vector": "up",
    "uptime_s": 1234.5,
    "version": "2.4.1",
    "components": {"database": {"status": "up", "latency_ms": 3}},
    "items": [{"status": "up", "count": 3}, {"status": "degraded", "count": 0}],
    "maintenance": None,
}
DEGRADED_BODY: dict[str, Any] = {"ok": False, "db": "down"}
BIG_CHUNK = b"x" * (64 * 1024)


@contextlib.asynccontextmanager
async def serve_app(
    app: web.Application, *, ssl_context: ssl.SSLContext | None = None
) -> AsyncIterator[str]:
    """Serve ``app`` on 127.0.0.1 at a free port; yields ``http(s)://127.0.0.1:PORT``."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
    await runner.setup()
    site = web.TCPSite(runner, LOCALHOST, 0, ssl_context=ssl_context, backlog=1024)
    await site.start()
    port = runner.addresses[0][1]
    scheme = "https" if ssl_context is not None else "http"
    try:
        yield f"{scheme}://{LOCALHOST}:{port}"
    finally:
        await runner.cleanup()


@dataclass
class TargetState:
    """What a :func:`health_app` saw, for assertions: ``app[TARGET_STATE]``."""

    last_headers: dict[str, str] = field(default_factory=dict)
    """The headers ``/echo-headers`` last received."""
    big_bytes_sent: int = 0
    """How much of ``/big`` was sent before the client went away."""


TARGET_STATE = web.AppKey("target_state", TargetState)


def health_app() -> web.Application:
    """A health target with a route per behaviour (see the module docstring)."""
    app = web.Application()
    state = app[TARGET_STATE] = TargetState()

    async def ready(request: web.Request) -> web.Response:
        return web.json_response(HEALTHY_BODY)

    async def degraded(request: web.Request) -> web.Response:
        return web.json_response(DEGRADED_BODY, status=503)

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(int(request.query.get("ms", "500")) / 1000)
        return web.json_response(HEALTHY_BODY)

    async def text(request: web.Request) -> web.Response:
        return web.Response(
            text="<html><body>Service Unavailable\n\x1b[31m</body></html>", content_type="text/html"
        )

    async def truncated(request: web.Request) -> web.Response:
        return web.Response(body=b'{"ok": true, "db": "u', content_type="application/json")

    async def big(request: web.Request) -> web.StreamResponse:
        size = int(request.query.get("mb", "50")) * 1024 * 1024
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.content_length = size
        await response.prepare(request)
        sent = 0
        with contextlib.suppress(ConnectionError):
            while sent < size:
                await response.write(BIG_CHUNK[: size - sent])
                sent += min(len(BIG_CHUNK), size - sent)
                state.big_bytes_sent = sent
        return response

    async def loop(request: web.Request) -> web.Response:
        raise web.HTTPFound("/loop")

    async def chain(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"/chain/{int(request.match_info['n']) + 1}")

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query.get("to", "/ready"))

    async def echo_headers(request: web.Request) -> web.Response:
        state.last_headers = dict(request.headers)
        return web.json_response({"headers": dict(request.headers)})

    async def empty(request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def status(request: web.Request) -> web.Response:
        return web.json_response({"status": "x"}, status=int(request.match_info["code"]))

    app.router.add_get("/ready", ready)
    app.router.add_get("/degraded", degraded)
    app.router.add_get("/slow", slow)
    app.router.add_get("/text", text)
    app.router.add_get("/truncated", truncated)
    app.router.add_get("/big", big)
    app.router.add_get("/loop", loop)
    app.router.add_get("/chain/{n}", chain)
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/echo-headers", echo_headers)
    app.router.add_get("/empty", empty)
    app.router.add_get("/status/{code}", status)
    return app


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[str]:
    """A TCP server that accepts connections and never answers; yields ``http://HOST:PORT``."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, LOCALHOST, 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://{LOCALHOST}:{port}"
    finally:
        server.close()
        for writer in held:
            writer.close()
        await server.wait_closed()


@contextlib.asynccontextmanager
async def raw_server(answer: bytes) -> AsyncIterator[str]:
    """A TCP server that reads a request, writes ``answer`` verbatim and closes.

    ``b""`` drops the connection without a word; anything else that is not HTTP is garbage.
    """

    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(answer)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(reply, LOCALHOST, 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://{LOCALHOST}:{port}"
    finally:
        server.close()
        await server.wait_closed()


@contextlib.contextmanager
def refused_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections: bound (so it stays ours) but not listening."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((LOCALHOST, 0))
        yield sock.getsockname()[1]
    finally:
        sock.close()


class LocalCA:
    """A throw-away certificate authority for TLS targets on 127.0.0.1."""

    def __init__(self) -> None:
        self.ca = trustme.CA()

    def server_context(
        self, *, not_after: dt.datetime | None = None, host: str = LOCALHOST
    ) -> ssl.SSLContext:
        """A server context with a certificate for ``host`` valid until ``not_after``."""
        not_before = None
        if not_after is not None:
            not_before = min(dt.datetime.now(dt.UTC), not_after) - dt.timedelta(days=30)
        cert = self.ca.issue_cert(host, not_before=not_before, not_after=not_after)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        return context

    def write_ca_file(self, directory: Path) -> Path:
        """The CA certificate as a PEM file, for a client's ``ca_file``."""
        path = directory / "local-ca.pem"
        self.ca.cert_pem.write_to_path(str(path))
        return path


def self_signed_context(host: str = LOCALHOST) -> ssl.SSLContext:
    """A server context with a self-signed certificate for ``host`` (an IP address)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "self-signed.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    fd, path = tempfile.mkstemp(suffix=".pem")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        context.load_cert_chain(path)
    finally:
        os.unlink(path)
    return context


async def run_check(check: Check[Any], *, now: dt.datetime | None = None) -> CheckResult:
    """Run one check directly with a fresh HTTP client and its own timeout as the budget."""
    http = HttpClient()
    try:
        ctx = CheckContext(timeout_s=check.timeout_s, http=http, now=now or dt.datetime.now(dt.UTC))
        return await check.run(ctx)
    finally:
        await http.close()
