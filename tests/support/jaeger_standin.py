"""A local stand-in for the Jaeger query service (``GET /api/traces``), for trace source tests.

It answers like Jaeger's HTTP query API (``{"data": [trace...], "errors": null, ...}``, spans
with ``traceID``, ``operationName``, ``startTime``/``duration`` in microseconds, ``tags`` and a
``processes`` map), filtering its traces by ``service``, ``start``/``end`` and ``limit``; and it
can misbehave on demand: ``mode`` = ``"500"``, ``"garbage"``, ``"wrong-shape"``, ``"errors"``,
``"hang"``. Every query it receives is kept in ``queries``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass(frozen=True)
class JaegerSpan:
    """One span as the stand-in will report it."""

    trace_id: str
    service: str
    operation: str
    start_us: int
    duration_us: int
    kind: str = "server"
    route: str | None = None
    method: str = "GET"
    status: int = 200


@dataclass
class JaegerStandIn:
    """The stand-in's state: its spans, its behaviour, and what it was asked."""

    spans: list[JaegerSpan] = field(default_factory=list)
    mode: str = "ok"
    queries: list[dict[str, str]] = field(default_factory=list)

    def answer(self, query: dict[str, str]) -> dict[str, Any]:
        start, end = int(query.get("start", 0)), int(query.get("end", 2**62))
        limit = int(query.get("limit", 20))
        traces: dict[str, list[JaegerSpan]] = {}
        for span in self.spans:
            if start <= span.start_us <= end:
                traces.setdefault(span.trace_id, []).append(span)
        wanted = [
            t
            for t, spans in traces.items()
            if any(s.service == query.get("service") for s in spans)
        ]
        return {
            "data": [_trace(t, traces[t]) for t in wanted[:limit]],
            "total": 0,
            "limit": 0,
            "offset": 0,
            "errors": None,
        }


def _trace(trace_id: str, spans: list[JaegerSpan]) -> dict[str, Any]:
    processes = {
        f"p{i}": {"serviceName": s, "tags": []}
        for i, s in enumerate(sorted({s.service for s in spans}))
    }
    by_service = {p["serviceName"]: key for key, p in processes.items()}
    return {
        "traceID": trace_id,
        "spans": [
            {
                "traceID": trace_id,
                "spanID": f"{n:016x}",
                "operationName": span.operation,
                "references": [],
                "startTime": span.start_us,
                "duration": span.duration_us,
                "tags": _tags(span),
                "logs": [],
                "processID": by_service[span.service],
                "warnings": None,
            }
            for n, span in enumerate(spans, 1)
        ],
        "processes": processes,
        "warnings": None,
    }


def _tags(span: JaegerSpan) -> list[dict[str, Any]]:
    tags: list[dict[str, Any]] = [
        {"key": "span.kind", "type": "string", "value": span.kind},
        {"key": "http.method", "type": "string", "value": span.method},
        {"key": "http.status_code", "type": "int64", "value": span.status},
    ]
    if span.route is not None:
        tags.append({"key": "http.route", "type": "string", "value": span.route})
    if span.status >= 500:
        tags.append({"key": "error", "type": "bool", "value": True})
    return tags


def jaeger_app(state: JaegerStandIn) -> web.Application:
    """The aiohttp app of the stand-in."""

    async def traces(request: web.Request) -> web.StreamResponse:
        state.queries.append(dict(request.query))
        if state.mode == "500":
            return web.Response(status=500, text="internal error: storage unavailable")
        if state.mode == "garbage":
            return web.Response(text="<html>this is the UI, not the API</html>")
        if state.mode == "wrong-shape":
            return web.json_response({"data": [{"spans": [{"duration": "long"}]}]})
        if state.mode == "errors":
            return web.json_response({"data": [], "errors": [{"code": 400, "msg": "bad start"}]})
        if state.mode == "hang":
            await asyncio.sleep(3600)
        return web.json_response(state.answer(dict(request.query)))

    app = web.Application()
    app.router.add_get("/api/traces", traces)
    return app


@asynccontextmanager
async def serve_jaeger(state: JaegerStandIn) -> AsyncIterator[str]:
    """Serve the stand-in on 127.0.0.1 at a free port; yields its base URL."""
    runner = web.AppRunner(jaeger_app(state), access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
