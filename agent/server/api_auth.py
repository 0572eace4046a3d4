"""Who may read the status page and the JSON API: the bearer token, or the cookie it sets.

With ``PRODGUARDIAN_API_TOKEN`` set, the page and ``/api/*`` need it: as
``Authorization: Bearer …`` (scripts, CI) or as the cookie the login form sets (people).
Without it they are open, except what changes state (``POST /api/deploys``), which is then
closed. ``/healthz``, ``/readyz`` and ``/slack/events`` never need it.
"""

from __future__ import annotations

import hmac
import os

from fastapi import Request, Response
from fastapi.responses import JSONResponse

TOKEN_VARIABLE = "PRODGUARDIAN_API_TOKEN"
COOKIE = "prodguardian_token"


def configured_token() -> str | None:
    return os.environ.get(TOKEN_VARIABLE) or None


def token_matches(sent: str | None) -> bool:
    token = configured_token()
    return token is not None and sent is not None and hmac.compare_digest(sent, token)


def presented_token(request: Request) -> str | None:
    """The token the request carries: bearer header first, then the login cookie."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(COOKIE)


def allowed(request: Request, *, mutating: bool) -> bool:
    """Whether ``request`` may go on."""
    if configured_token() is None:
        return not mutating
    return token_matches(presented_token(request))


def refusal(request: Request, *, mutating: bool) -> Response | None:
    """A 401 for a request that may not go on, or None."""
    if allowed(request, mutating=mutating):
        return None
    if configured_token() is None:
        message = (
            f"this API is disabled: set {TOKEN_VARIABLE} on the server and send it as a "
            "bearer token"
        )
    else:
        message = f"send Authorization: Bearer <{TOKEN_VARIABLE}>"
    return JSONResponse({"error": message}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
