"""The status page at ``/`` and its JSON beside it: ``/api/status``, ``/api/incidents``,
``/api/deploys``. Server-rendered (Jinja2, no front-end build), refreshing itself.

With ``PRODGUARDIAN_API_TOKEN`` set, both need it: a bearer token, or the cookie the login form
at ``/login`` sets.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession

from prodguardian.server.api_auth import COOKIE, allowed, configured_token, refusal, token_matches
from prodguardian.status import overall_status
from prodguardian.store.database import StoreUnavailableError
from prodguardian.watch.service import WatchService
from prodguardian.watch.status_view import (
    StatusView,
    check_lines,
    history_rows,
    recent_deploys,
    strips,
)

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(["html"]),
)
REFRESH_S = 30


async def gather_status(watch: WatchService, *, now: datetime | None = None) -> StatusView:
    """The page's content: the latest scheduled results, history, incidents, follow-ups."""
    now = now or datetime.now(UTC)
    loaded = watch.loaded
    report = watch.monitor.latest_report() or await watch.stores.history.last()
    problems: list[str] = []
    status_problem = watch.status().problem
    if status_problem:
        problems.append(status_problem)
    history: dict[str, Any] = {}
    incidents: tuple[Any, ...] = ()
    followups: tuple[Any, ...] = ()
    deploys: tuple[Any, ...] = ()
    names = [(c.name, c.kind) for c in loaded.checks]
    if watch.monitor.store_ready:
        try:

            async def read(session: AsyncSession) -> tuple[Any, Any]:
                return await history_rows(session, now=now), await recent_deploys(session)

            rows, deploy_lines = await watch.database.run(read, what="read the status page")
            history = strips(rows, [n for n, _ in names])
            deploys = tuple(deploy_lines)
            incidents = tuple(await watch.stores.incidents.open())
            followups = tuple(await watch.stores.followups.pending())
        except StoreUnavailableError as exc:
            problems.append(str(exc))
    lines = check_lines(report, names, history)
    status = overall_status(line.status for line in lines)
    summary = report.summary if report is not None else "no check has run yet"
    if report is None:
        problems.append("no scheduled run has finished yet")
    return StatusView(
        service=loaded.config.service.name,
        status=status,
        summary=summary,
        generated_at=now,
        checks=lines,
        incidents=incidents,
        followups=followups,
        deploys=deploys,
        problems=tuple(problems),
    )


def status_router(watch: WatchService) -> APIRouter:
    """``/``, ``/login`` and the read-only JSON API of the status."""
    router = APIRouter()

    @router.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page(request: Request) -> Response:
        if not allowed(request, mutating=False):
            return RedirectResponse("/login", status_code=303)
        view = await gather_status(watch)
        html = TEMPLATES.get_template("status.html").render(view=view, refresh_s=REFRESH_S)
        return HTMLResponse(html)

    @router.get("/login", response_class=HTMLResponse, include_in_schema=False)
    async def login_form() -> Response:
        return HTMLResponse(TEMPLATES.get_template("login.html").render(error=None))

    @router.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        # A one-field urlencoded form, read without a multipart parser.
        fields = parse_qs((await request.body()).decode("utf-8", "replace"))
        sent = (fields.get("token") or [""])[0]
        if configured_token() is None or not token_matches(sent):
            html = TEMPLATES.get_template("login.html").render(error="That is not the token.")
            return HTMLResponse(html, status_code=401)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            COOKIE, sent, httponly=True, samesite="strict", secure=request.url.scheme == "https"
        )
        return response

    @router.get("/api/status", response_model=StatusView)
    async def api_status(request: Request) -> Response:
        """The overall status, each check's latest result and 24 h history, incidents,
        follow-ups and deploys."""
        refused = refusal(request, mutating=False)
        if refused is not None:
            return refused
        view = await gather_status(watch)
        return JSONResponse(view.model_dump(mode="json"))

    @router.get("/api/incidents")
    async def api_incidents(request: Request, all: bool = False) -> Response:
        """Open incidents (``?all=true``: the latest 50, resolved too)."""
        refused = refusal(request, mutating=False)
        if refused is not None:
            return refused
        store = watch.stores.incidents
        found = await (store.recent(50) if all else store.open())  # type: ignore[attr-defined]
        return JSONResponse({"incidents": [i.model_dump(mode="json") for i in found]})

    @router.get("/api/deploys")
    async def api_deploys(request: Request) -> Response:
        """The latest deploy marks, newest first."""
        refused = refusal(request, mutating=False)
        if refused is not None:
            return refused
        deploys: list[Any] = []
        with contextlib.suppress(StoreUnavailableError):
            deploys = list(await watch.database.run(recent_deploys, what="read deploys"))
        return JSONResponse({"deploys": [d.model_dump(mode="json") for d in deploys]})

    return router
