"""The stand-in service's logs, written as Cloud Run writes them to Cloud Logging (JSON lines).

A request log per answered request (``httpRequest``), and the application's own ERROR entry with
its traceback when it fails to load a session because its database is down, as in the real
incident; once the hotfix is out, an INFO ``Database reconnected successfully`` when it opens a
new connection instead. Entries are stamped by a clock (the demo's runs faster than real time).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SERVICE = "emergence-app"

_TRACEBACK = """Failed to load session {session}
Traceback (most recent call last):
  File "/app/backend/core/websocket.py", line 212, in websocket_endpoint
    session = await session_manager.load_session_from_db(session_id)
  File "/app/backend/core/session_manager.py", line 148, in load_session_from_db
    row = await self.db.fetch_one(query, (session_id,))
  File "/app/backend/core/database/manager.py", line 97, in fetch_one
    conn = await self._ensure_connection()
  File "/app/backend/core/database/manager.py", line 61, in _ensure_connection
    raise RuntimeError("Database connection is not available.")
RuntimeError: Database connection is not available."""


class ServiceLog:
    """Appends LogEntry-shaped JSON lines to a file, one complete line per write."""

    def __init__(self, path: Path, *, clock: Callable[[], datetime] | None = None) -> None:
        self.path = path
        self.clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()

    def request(
        self, *, revision: str, method: str, url: str, status: int, latency_s: float
    ) -> None:
        severity = "ERROR" if status >= 500 else "WARNING" if status >= 400 else "INFO"
        self._write(
            revision,
            severity,
            httpRequest={
                "requestMethod": method,
                "requestUrl": url,
                "status": status,
                "latency": f"{latency_s:.6f}s",
                "userAgent": "demo-traffic",
            },
            logName=f"projects/demo/logs/run.googleapis.com%2Frequests-{SERVICE}",
        )

    def session_load_failed(self, *, revision: str, session: str) -> None:
        self._write(
            revision,
            "ERROR",
            textPayload=_TRACEBACK.format(session=session),
            logName="projects/demo/logs/run.googleapis.com%2Fstderr",
        )

    def reconnected(self, *, revision: str) -> None:
        self._write(
            revision,
            "INFO",
            textPayload="Database reconnected successfully",
            logName="projects/demo/logs/run.googleapis.com%2Fstdout",
        )

    def _write(self, revision: str, severity: str, **fields: Any) -> None:
        entry = {
            "insertId": uuid.uuid4().hex[:12],
            "timestamp": self.clock().isoformat().replace("+00:00", "Z"),
            "severity": severity,
            "resource": {
                "type": "cloud_run_revision",
                "labels": {
                    "service_name": SERVICE,
                    "revision_name": revision,
                    "location": "europe-west1",
                },
            },
            **fields,
        }
        line = json.dumps(entry, separators=(",", ":")) + "\n"
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.write(line)
