"""Running the app: uvicorn on a socket we bind (port 0 works), optionally with Socket Mode."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI

from prodguardian.errors import ProdGuardianError
from prodguardian.server.connection_guard import ConnectionLimits, guarded_protocol

log = logging.getLogger("prodguardian.server")


class ServerStartError(ProdGuardianError):
    """The app could not start (its lifespan start-up failed)."""


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: the OS picks a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP spelled out: asyncio sets TCP_NODELAY only on sockets that say so, and
    # without it Nagle's algorithm and delayed ACKs add 40 ms to every keep-alive answer.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


class _Server(uvicorn.Server):
    """uvicorn's server, telling us when start-up (the app's lifespan included) is done."""

    def __init__(self, config: uvicorn.Config, on_started: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_started = on_started
        self.startup_failed = False

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets)
        except SystemExit:
            # uvicorn exits the process when the app's start-up fails (it has logged why);
            # we report it to our caller instead.
            self.startup_failed = True
            self.should_exit = True
            return
        if self.started:
            self._on_started()


def _server(
    app: FastAPI,
    *,
    access_log: bool,
    on_started: Callable[[], None],
    limits: ConnectionLimits,
) -> _Server:
    config = uvicorn.Config(
        app,
        http=guarded_protocol(limits),
        lifespan="on",
        access_log=access_log,
        log_config=None,
        timeout_graceful_shutdown=10,
        timeout_keep_alive=int(max(limits.keep_alive_s, 1)),
    )
    return _Server(config, on_started)


async def serve_forever(
    app: FastAPI,
    *,
    host: str,
    port: int,
    access_log: bool = False,
    on_listening: Callable[[str], None] | None = None,
    limits: ConnectionLimits | None = None,
) -> None:
    """Serve ``app`` until SIGINT/SIGTERM; ``on_listening`` gets the URL once it is ready.

    Raises :class:`ServerStartError` if the app's start-up fails (the log says why).
    """
    sock = bind_socket(host, port)
    url = _url(sock)

    def started() -> None:
        if on_listening is not None:
            on_listening(url)

    server = _server(
        app, access_log=access_log, on_started=started, limits=limits or ConnectionLimits()
    )
    try:
        await server.serve(sockets=[sock])
    finally:
        sock.close()
    if server.startup_failed:
        raise ServerStartError("the server's start-up failed; the log above says why")


@asynccontextmanager
async def running_server(
    app: FastAPI,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    limits: ConnectionLimits | None = None,
) -> AsyncIterator[str]:
    """Serve ``app`` in the current event loop for the duration of the block; yields its URL."""
    sock = bind_socket(host, port)
    ready = asyncio.Event()
    server = _server(
        app, access_log=False, on_started=ready.set, limits=limits or ConnectionLimits()
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        waiter = asyncio.create_task(ready.wait())
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if not ready.is_set():
            waiter.cancel()
            task.result()
            raise ServerStartError("the server's start-up failed; the log says why")
        yield _url(sock)
    finally:
        server.should_exit = True
        await asyncio.wait({task}, timeout=15)
        sock.close()


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"
