"""A local stand-in for the Cloud Logging API: ``POST /v2/entries:list`` on 127.0.0.1.

It serves entries from a list (the incident datasets), evaluates enough of the Logging filter
language to answer the queries ProdGuardian sends (:mod:`tests.support.logging_filter`, with
``sample(insertId, f)``), pages with ``nextPageToken``, records every
filter it got, and can be told to misbehave: ``"429"``, ``"500"``, ``"503"``, ``"401"``,
``"403"``, ``"garbage"``, ``"drop"`` or ``"hang"`` for the next requests, in order. A bare regex
gets the real API's "Unparseable filter" 400. Like the real API it allows
``quota_per_minute`` list calls a minute (60) and answers 429 RESOURCE_EXHAUSTED past that.

Large datasets (a busy hour) stay fast: entries are kept sorted by timestamp, a filter's
top-level ``timestamp`` bounds become a bisection, the rest is compiled to closures once, and
the selection of a filter is cached while ``entries`` only grows (use :meth:`add`).
"""

from __future__ import annotations

import bisect
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prodguardian.logs.entry import parse_timestamp
from tests.support.logging_filter import (
    Entry,
    UnparseableFilterError,
    compile_filter,
    matching,
    parse_filter,
    time_bounds,
)

__all__ = ["CloudLoggingStandIn", "UnparseableFilterError", "load_jsonl", "matching", "window_of"]


class CloudLoggingStandIn:
    """The stand-in server; use as a context manager, read ``endpoint``, ``filters``, ``faults``."""

    def __init__(
        self,
        entries: Sequence[Entry] = (),
        *,
        max_page_size: int = 1000,
        quota_per_minute: int | None = 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.entries: list[Entry] = []
        self._stamps: list[datetime] = []
        self._cache: dict[tuple[str, int], list[Entry]] = {}
        self.add(entries)
        self.max_page_size = max_page_size
        self.quota_per_minute = quota_per_minute
        self.clock = clock
        self._calls: deque[float] = deque()
        self.throttled = 0
        """List calls refused with 429 for the quota."""
        self.returned = 0
        """Entries handed out over all pages."""
        self.busy_s = 0.0
        """Time spent answering list calls (filtering, paging, encoding): the "server's" share
        of a benchmark's wall time, since the stand-in shares the process."""
        self.faults: deque[str] = deque()
        self.filters: list[str] = []
        self.requests: list[dict[str, Any]] = []
        self.hang_s = 30.0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def add(self, entries: Iterable[Entry]) -> None:
        """Add entries (late arrivals too), kept in timestamp order."""
        new = [(parse_timestamp(str(e.get("timestamp"))), e) for e in entries]
        if len(new) <= 16:
            for ts, entry in new:
                at = bisect.bisect_right(self._stamps, ts)
                self._stamps.insert(at, ts)
                self.entries.insert(at, entry)
        else:
            both = list(zip(self._stamps, self.entries, strict=True)) + new
            both.sort(key=lambda pair: pair[0])
            self._stamps = [ts for ts, _ in both]
            self.entries = [entry for _, entry in both]
        self._cache.clear()

    def select(self, filter_text: str) -> list[Entry]:
        """The entries ``filter_text`` selects, oldest first (cached per filter)."""
        key = (filter_text, len(self.entries))
        found = self._cache.get(key)
        if found is None:
            tree = parse_filter(filter_text)
            low, high, rest = time_bounds(tree)
            start = 0 if low is None else bisect.bisect_left(self._stamps, low)
            end = len(self._stamps) if high is None else bisect.bisect_right(self._stamps, high)
            check = compile_filter(rest) if rest[1] else None
            span = self.entries[start:end]
            found = span if check is None else [e for e in span if check(e)]
            if len(self._cache) > 64:
                self._cache.clear()
            self._cache[key] = found
        return found

    def _over_quota(self) -> bool:
        if self.quota_per_minute is None:
            return False
        now = self.clock()
        while self._calls and self._calls[0] <= now - 60.0:
            self._calls.popleft()
        if len(self._calls) >= self.quota_per_minute:
            self.throttled += 1
            return True
        self._calls.append(now)
        return False

    @property
    def endpoint(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> CloudLoggingStandIn:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                started = time.perf_counter()
                try:
                    standin._handle(self)
                finally:
                    standin.busy_s += time.perf_counter() - started

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _handle(self, req: BaseHTTPRequestHandler) -> None:
        length = int(req.headers.get("Content-Length") or 0)
        body = json.loads(req.rfile.read(length) or b"{}")
        self.requests.append(body)
        if req.path.split("?", 1)[0] != "/v2/entries:list":
            self._error(req, 404, "NOT_FOUND", f"no such method {req.path}")
            return
        if self._over_quota():
            self._error(
                req,
                429,
                "RESOURCE_EXHAUSTED",
                "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per "
                "minute' of service 'logging.googleapis.com'",
            )
            return
        fault = self.faults.popleft() if self.faults else None
        if fault is not None and self._fault(req, fault):
            return
        flt = str(body.get("filter", ""))
        self.filters.append(flt)
        try:
            selected = self.select(flt)
        except UnparseableFilterError as exc:
            self._error(req, 400, "INVALID_ARGUMENT", f"Unparseable filter: {exc}")
            return
        if "desc" in str(body.get("orderBy", "")):
            selected = selected[::-1]
        start = int(body.get("pageToken") or 0)
        size = min(int(body.get("pageSize") or self.max_page_size), self.max_page_size)
        page = selected[start : start + size]
        self.returned += len(page)
        answer: dict[str, Any] = {"entries": page}
        if start + size < len(selected):
            answer["nextPageToken"] = str(start + size)
        self._send(req, 200, json.dumps(answer).encode())

    def _fault(self, req: BaseHTTPRequestHandler, fault: str) -> bool:
        if fault in ("429", "500", "503", "401", "403"):
            status = {
                "429": "RESOURCE_EXHAUSTED",
                "500": "INTERNAL",
                "503": "UNAVAILABLE",
                "401": "UNAUTHENTICATED",
                "403": "PERMISSION_DENIED",
            }[fault]
            self._error(req, int(fault), status, f"stand-in fault {fault}")
            return True
        if fault == "garbage":
            self._send(req, 200, b"<html>502 Bad Gateway</html>", content_type="text/html")
            return True
        if fault == "drop":
            req.close_connection = True
            req.connection.close()
            return True
        if fault == "hang":
            self._stop.wait(self.hang_s)
            return True
        return False

    def _error(self, req: BaseHTTPRequestHandler, code: int, status: str, message: str) -> None:
        body = {"error": {"code": code, "message": message, "status": status}}
        self._send(req, code, json.dumps(body).encode())

    @staticmethod
    def _send(
        req: BaseHTTPRequestHandler,
        code: int,
        body: bytes,
        *,
        content_type: str = "application/json",
    ) -> None:
        req.send_response(code)
        req.send_header("Content-Type", content_type)
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body)


def load_jsonl(lines: Iterator[str] | Sequence[str]) -> list[dict[str, Any]]:
    """Entries from JSON lines (blank lines skipped)."""
    return [json.loads(line) for line in lines if line.strip()]


def window_of(entries: Sequence[Entry]) -> tuple[datetime, datetime]:
    """The first and last timestamps of a dataset."""
    stamps = [parse_timestamp(str(e["timestamp"])) for e in entries]
    return min(stamps), max(stamps)
