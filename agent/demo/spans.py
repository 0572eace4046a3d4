"""The stand-in's traces: a SERVER span per request, sent to an OTLP receiver as OTLP/HTTP JSON.

As an instrumented service's exporter would, but sent when told (after each burst of the demo's
traffic), so the checks that read the receiver see every request of the moment they judge. The
spans are stamped by the demo's clock, like the logs.
"""

from __future__ import annotations

import json
import os
import threading
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from prodguardian.demo.service_log import SERVICE

#: OTLP's SPAN_KIND_SERVER and STATUS_CODE_ERROR.
_SERVER = 2
_ERROR = 2


class SpanRecorder:
    """Keeps the spans of the requests served until :meth:`send` posts them."""

    def __init__(self, *, clock: Callable[[], datetime] | None = None) -> None:
        self.clock = clock or (lambda: datetime.now(UTC))
        self._spans: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def record(self, *, method: str, route: str, status: int, duration_s: float) -> None:
        start_ns = int(self.clock().timestamp() * 1e9)
        attributes = [
            {"key": "http.request.method", "value": {"stringValue": method}},
            {"key": "http.route", "value": {"stringValue": route}},
            {"key": "http.response.status_code", "value": {"intValue": str(status)}},
        ]
        span = {
            "traceId": os.urandom(16).hex(),
            "spanId": os.urandom(8).hex(),
            "name": f"{method} {route}",
            "kind": _SERVER,
            "startTimeUnixNano": str(start_ns),
            "endTimeUnixNano": str(start_ns + int(duration_s * 1e9)),
            "attributes": attributes,
            "status": {"code": _ERROR} if status >= 500 else {},
        }
        with self._lock:
            self._spans.append(span)

    def send(self, endpoint: str) -> int:
        """POST the kept spans to ``endpoint`` (``…/v1/traces``); how many were sent."""
        with self._lock:
            spans, self._spans = self._spans, []
        if not spans:
            return 0
        body = {
            "resourceSpans": [
                {
                    "resource": {
                        "attributes": [{"key": "service.name", "value": {"stringValue": SERVICE}}]
                    },
                    "scopeSpans": [{"scope": {"name": "demo-stand-in"}, "spans": spans}],
                }
            ]
        }
        request = urllib.request.Request(
            endpoint,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
        return len(spans)
