"""The JSON API beside Slack: deploy marks from CI pipelines, follow-ups for dashboards.

``POST /api/deploys`` always needs ``Authorization: Bearer $PRODGUARDIAN_API_TOKEN`` (a deploy
mark starts checklists: it is never open to anyone). The read-only routes need it too when the
variable is set.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from prodguardian.deploy import ActiveDeploy, DeploySource
from prodguardian.server.api_auth import refusal
from prodguardian.slack.commands import NOTE_LIMIT, REVISION_PATTERN
from prodguardian.slack.stores import Stores


class DeployRequest(BaseModel):
    """The body of ``POST /api/deploys``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    revision: str = Field(pattern=f"^{REVISION_PATTERN.pattern}$", max_length=128)
    service: str | None = Field(default=None, max_length=128)
    note: str | None = Field(default=None, max_length=NOTE_LIMIT)
    at: datetime | None = None
    """When it went live (default: now); ISO 8601 with a zone."""


def api_router(stores: Stores) -> APIRouter:
    """``POST /api/deploys`` and ``GET /api/followups``."""
    router = APIRouter(prefix="/api")

    @router.post("/deploys", status_code=201)
    async def mark_deploy(request: Request) -> Response:
        """Mark a deploy (JSON ``{revision, service?, note?, at?}``); starts its checklist."""
        refused = refusal(request, mutating=True)
        if refused is not None:
            return refused
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError as exc:
            return _error(422, f"the body is not JSON: {exc}", field=None)
        try:
            wanted = DeployRequest.model_validate(body)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or None
            message = "field required" if first["type"] == "missing" else first["msg"]
            return _error(422, f"{field or 'body'}: {message}", field=field)
        at = wanted.at or datetime.now(UTC)
        if at.tzinfo is None:
            return _error(422, "at: needs a time zone (write …Z for UTC)", field="at")
        deploy = ActiveDeploy(
            revision=wanted.revision, since=at, source=DeploySource.DEPLOY_MARK, note=wanted.note
        )
        await stores.deploys.record(deploy, by="api", service=wanted.service)
        marked = getattr(stores.deploys, "last_marked", None)
        checklist = list(marked.checklist) if marked is not None else []
        return JSONResponse(
            {"revision": wanted.revision, "since": at.isoformat(), "checklist": checklist},
            status_code=201,
        )

    @router.get("/followups")
    async def followups(request: Request) -> Response:
        """The open follow-ups: due time, source, done by whom."""
        refused = refusal(request, mutating=False)
        if refused is not None:
            return refused
        items = await stores.followups.pending()
        return JSONResponse({"followups": [i.model_dump(mode="json") for i in items]})

    return router


def _error(status: int, message: str, *, field: str | None) -> Response:
    body: dict[str, Any] = {"error": message}
    if field is not None:
        body["field"] = field
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)
