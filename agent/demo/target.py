"""A small stand-in for the production service: the health endpoints of the real one.

Its state can be flipped at ``POST /_demo/state`` (``{"db": "down"}``, ``{"slow_ms": 1500}``), so
the demo and the tests can show ProdGuardian a healthy and a degraded service.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field


@dataclass
class TargetState:
    """What the stand-in pretends: is its database up, how slow is it."""

    db_up: bool = True
    slow_ms: int = 0


class StateChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    db: str | None = Field(default=None, pattern="^(up|down)$")
    slow_ms: int | None = Field(default=None, ge=0, le=60_000)


def create_target_app(state: TargetState | None = None) -> FastAPI:
    """The stand-in service's app, with the health endpoints of the real service."""
    state = state or TargetState()
    app = FastAPI(title="demo production service")

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

    @app.post("/_demo/state")
    async def change_state(change: StateChange) -> dict[str, Any]:
        if change.db is not None:
            state.db_up = change.db == "up"
        if change.slow_ms is not None:
            state.slow_ms = change.slow_ms
        return {"db": "up" if state.db_up else "down", "slow_ms": state.slow_ms}

    return app


class RunningTarget:
    """The stand-in served by uvicorn on 127.0.0.1 in a background thread."""

    def __init__(self, *, port: int = 0, state: TargetState | None = None) -> None:
        self.state = state or TargetState()
        config = uvicorn.Config(
            create_target_app(self.state),
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
