"""What the demo's users do to the stand-in: page loads and chat sessions (blocking HTTP)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid

#: Requests per burst of traffic.
TRAFFIC = 40


def send_traffic(url: str, requests: int = TRAFFIC, *, sessions_every: int = 4) -> None:
    """Mostly health and page loads; one in ``sessions_every`` a WebSocket chat session load."""
    for i in range(requests):
        path = f"/api/sessions/{uuid.uuid4()}" if i % sessions_every == 0 else "/api/health"
        try:
            with urllib.request.urlopen(f"{url}{path}", timeout=5) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            exc.read()


def post_state(url: str, **state: object) -> None:
    """Flip the stand-in's state (``db="down"``, ``revision=…``, ``reconnects=True``)."""
    request = urllib.request.Request(
        f"{url}/_demo/state",
        data=json.dumps(state).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        response.read()
