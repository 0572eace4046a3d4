"""A small stand-in for the production service: the health endpoints of the real one.

Its state can be flipped at ``POST /_demo/state`` (``{"db": "down"}``, ``{"slow_ms": 1500}``,
``{"revision": "emergence-app-00043-fix"}``, ``{"reconnects": true}``: the hotfix, which opens a
new database connection when it finds the old one gone), so the demo and the tests can show
ProdGuardian a healthy and a degraded service. Given a log file, it writes its logs there as
Cloud Run would; given a span recorder, it records a server span per request.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from prodguardian.demo.service_log import ServiceLog
from prodguardian.demo.spans import SpanRecorder

FIRST_REVISION = "emergence-app-00042-dem"


@dataclass
class TargetState:
    """What the stand-in pretends: is its database up, how slow is it."""

    db_up: bool = True
    slow_ms: int = 0
    revision: str = FIRST_REVISION
    reconnects: bool = False
    """The hotfix: a lost connection is opened again on the next request that needs it."""


class StateChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    db: str | None = Field(default=None, pattern="^(up|down)$")
    slow_ms: int | None = Field(default=None, ge=0, le=60_000)
    revision: str | None = Field(default=None, pattern="^[a-z0-9-]{1,63}$")
    reconnects: bool | None = None


def create_target_app(
    state: TargetState | None = None,
    log: ServiceLog | None = None,
    spans: SpanRecorder | None = None,
) -> FastAPI:
    """The stand-in service's app, with the health endpoints of the real service."""
    state = state or TargetState()
    app = FastAPI(title="demo production service")

    if log is not None or spans is not None:

        @app.middleware("http")
        async def log_request(
            request: Request, call_next: Callable[[Request], Awaitable[Response]]
        ) -> Response:
            started = time.perf_counter()
            response = await call_next(request)
            if request.url.path.startswith("/_demo/"):
                return response
            took = time.perf_counter() - started
            if log is not None:
                log.request(
                    revision=state.revision,
                    method=request.method,
                    url=str(request.url),
                    status=response.status_code,
                    latency_s=took,
                )
            if spans is not None:
                route = getattr(request.scope.get("route"), "path", request.url.path)
                spans.record(
                    method=request.method,
                    route=str(route),
                    status=response.status_code,
                    duration_s=took,
                )
            return response

    async def pause() -> None:
        if state.slow_ms:
            await asyncio.sleep(state.slow_ms / 1000)

    @app.get("/api/health")
    async def api_health() -> dict[str, str]:
        await pause()
        return {"status": "ok", "message": "emergence-app is running"}

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        await pause()
        return {"ok": True, "status": "ready", "db": state.db_up}

    @app.get("/ready")
    async def ready() -> JSONResponse:
        await pause()
        body = {"ok": state.db_up, "db": "up" if state.db_up else "down", "vector": "ready"}
        return JSONResponse(body, status_code=200 if state.db_up else 503)

    @app.get("/api/monitoring/health/readiness")
    async def readiness() -> JSONResponse:
        await pause()
        body = {"ok": state.db_up, "db": "up" if state.db_up else "down", "vector": "up"}
        return JSONResponse(body, status_code=200 if state.db_up else 503)

    @app.get("/api/sessions/{session_id}")
    async def load_session(session_id: str) -> JSONResponse:
        await pause()
        if not state.db_up and state.reconnects:
            state.db_up = True
            if log is not None:
                log.reconnected(revision=state.revision)
        if not state.db_up:
            if log is not None:
                log.session_load_failed(revision=state.revision, session=session_id)
            return JSONResponse({"detail": "Internal Server Error"}, status_code=500)
        return JSONResponse({"id": session_id, "messages": []})

    @app.post("/_demo/state")
    async def change_state(change: StateChange) -> dict[str, Any]:
        if change.db is not None:
            state.db_up = change.db == "up"
        if change.slow_ms is not None:
            state.slow_ms = change.slow_ms
        if change.revision is not None:
            state.revision = change.revision
        if change.reconnects is not None:
            state.reconnects = change.reconnects
        return {
            "db": "up" if state.db_up else "down",
            "slow_ms": state.slow_ms,
            "revision": state.revision,
            "reconnects": state.reconnects,
        }

    return app


class RunningTarget:
    """The stand-in served by uvicorn on 127.0.0.1 in a background thread."""

    def __init__(
        self,
        *,
        port: int = 0,
        state: TargetState | None = None,
        log_path: Path | None = None,
        clock: Callable[[], datetime] | None = None,
        spans: SpanRecorder | None = None,
    ) -> None:
        self.state = state or TargetState()
        log = ServiceLog(log_path, clock=clock) if log_path is not None else None
        config = uvicorn.Config(
            create_target_app(self.state, log, spans),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="demo-target", daemon=True)

    @property
    def url(self) -> str:
        sockets = self._server.servers[0].sockets
        host, port = sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    def start(self, timeout_s: float = 10.0) -> RunningTarget:
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the demo target did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)

    def __enter__(self) -> RunningTarget:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
