"""The FastAPI app: ``/healthz``, ``/readyz``, Slack at ``POST /slack/events``, and room for more.

Later parts add their routers (``POST /v1/traces``, ``/metrics``, ``/api/status``) through
``extra_routers``; nothing here needs to change for them.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler

from prodguardian import __version__
from prodguardian.server.api_routes import api_router
from prodguardian.server.status_page import status_router
from prodguardian.slack.runtime import SlackRuntime
from prodguardian.telemetry.sdk import setup_telemetry
from prodguardian.traces.receiver import ReceiverLimits, traces_router, watched_services
from prodguardian.watch.leader import LeaderState
from prodguardian.watch.service import WatchService

log = logging.getLogger("prodguardian.server")

SLACK_EVENTS_PATH = "/slack/events"


def create_app(
    runtime: SlackRuntime,
    *,
    extra_routers: Sequence[APIRouter] = (),
    watch: WatchService | None = None,
) -> FastAPI:
    """The server's app. ``runtime`` holds the Slack side and ``watch`` the background
    monitoring; their lifecycles follow the app's."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        if watch is not None:
            await watch.start()
        try:
            yield
        finally:
            try:
                if watch is not None:
                    await watch.stop()
                await runtime.aclose()
            finally:
                telemetry.shutdown()

    app = FastAPI(
        title="ProdGuardian",
        version=__version__,
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.runtime = runtime
    # Its own spans and metrics (exported per OTEL_*, and at /metrics), instrumented before
    # start-up; the routers are added last (below), so extra_routers can take their paths.
    telemetry = app.state.telemetry = setup_telemetry(app)

    @app.get("/healthz")
    async def healthz() -> dict[str, object]:
        """Liveness: the process answers."""
        return {"ok": True, "version": __version__}

    @app.get("/readyz")
    async def readyz() -> Response:
        """Readiness: the config is loaded, Slack accepted the bot token (auth.test), and the
        state store answers.

        Reads the verdict of the background token check (never calls Slack itself, except to
        wait a moment for the first check after start-up).
        """
        status = await runtime.token.current(wait_first_s=5.0)
        identity = status.identity
        body: dict[str, object] = {
            "ready": status.ready,
            "checks": len(runtime.loaded.checks),
            "slack": "socket mode" if runtime.socket_mode else "http",
        }
        ready = status.ready
        if identity is not None:
            body["slack_team"] = identity.team
            body["slack_bot_user"] = identity.user_id
        if status.problem is not None:
            body["problem" if not status.ready else "warning"] = status.problem
        if watch is not None:
            watching = watch.status()
            body["store"] = {
                "up": watching.store.up,
                "url": watch.database.display_url,
                "schema_ready": watching.schema_ready,
                "owed_reports": watching.owed_reports,
                **({"problem": watching.store.problem} if watching.store.problem else {}),
            }
            body["scheduling"] = watching.scheduling
            body["leader"] = leader_body(watching.leader)
            if watching.problem is not None:
                ready = False
                body["problem"] = "; ".join(
                    p for p in (str(body.get("problem") or ""), watching.problem) if p
                )
        body["ready"] = ready
        return JSONResponse(body, status_code=200 if ready else 503)

    if not runtime.socket_mode:
        handler = AsyncSlackRequestHandler(runtime.bolt)

        async def slack_events(request: Request) -> Response:
            """Slash commands and interactivity, verified by Bolt (bad signature → 401)."""
            return await handler.handle(request)

        # A plain Starlette route: Bolt reads the raw body itself, and skipping FastAPI's
        # parameter machinery keeps the ack path short.
        app.router.add_route(SLACK_EVENTS_PATH, slack_events, methods=["POST"])

    if watch is not None:
        app.include_router(status_router(watch))

        @app.get("/api/schedule")
        async def schedule() -> dict[str, object]:
            """The background schedule: jobs, start delays, store health."""
            status = watch.status()
            return {
                "jobs": len(watch.schedule.jobs),
                "scheduling": status.scheduling,
                "runs": watch.monitor.jobs_run,
                "owed_reports": status.owed_reports,
                "store_up": status.store.up,
                "messages_sent": watch.sender.sent if watch.sender else 0,
                "leading": status.leader.leading,
                **status.schedule,
            }

    app.include_router(api_router(runtime.stores))
    for router in extra_routers:
        app.include_router(router)
    app.include_router(telemetry.metrics_router())
    # The OTLP receiver feeding trace_latency and slo_burn; it takes the services they watch.
    watched = watched_services(runtime.loaded.checks)
    app.include_router(traces_router(limits=ReceiverLimits(services=watched)))
    return app


def leader_body(state: LeaderState) -> dict[str, object]:
    """What ``/readyz`` says about the leadership: whether this replica leads, since when
    (ISO 8601), its term (or the current one), and why it does not lead."""
    body: dict[str, object] = {
        "leading": state.leading,
        "replica": state.replica_id,
        "lock": state.mode,
        "since": datetime.fromtimestamp(state.since, UTC).isoformat(timespec="seconds"),
        "term": state.term,
    }
    if state.leader_id and not state.leading:
        body["leader"] = state.leader_id
    if state.problem and not state.leading:
        body["why_not"] = state.problem
    return body
