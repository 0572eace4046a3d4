"""The ``jaeger`` trace source: the Jaeger query API (``GET /api/traces?service=...``).

Jaeger answers with at most ``limit`` traces of the window (the most recent ones), so latency
figures are those of a sample; it cannot count every request, so an SLO needs the receiver.
Server spans of the service are read (``span.kind = server``); the route is the ``http.route``
tag (with the method) or the operation name, and a span is an error when it carries
``error = true``, ``otel.status_code = ERROR`` or a 5xx status code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import aiohttp
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field

from prodguardian.context import CheckContext
from prodguardian.errors import SourceError
from prodguardian.traces.model import RouteLatency, TraceExample
from prodguardian.traces.sketch import LogBucketSketch
from prodguardian.traces.source import TraceSource

#: How much of a Jaeger answer is read; a bigger one is refused rather than buffered.
MAX_ANSWER_BYTES = 64 * 1024 * 1024
EXAMPLES_PER_ROUTE = 3


class JaegerParams(BaseModel):
    """Where the Jaeger query service is, and how many traces to ask for."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: AnyHttpUrl
    """The query service's base URL, e.g. ``http://jaeger-query:16686``."""
    limit: int = Field(default=1500, ge=1, le=50_000)
    """Traces asked for per query (Jaeger's ``limit``): the sample size."""
    headers: dict[str, str] = Field(default_factory=dict)
    """Extra request headers, e.g. an ``Authorization`` for a proxy in front of Jaeger."""


class JaegerSource(TraceSource):
    """Latency per route from the traces Jaeger returns for the window."""

    Params: ClassVar[type[BaseModel]] = JaegerParams
    counts_requests: ClassVar[bool] = False

    @property
    def kind(self) -> str:
        return "jaeger"

    async def route_latency(
        self, ctx: CheckContext, *, service: str, window_s: float
    ) -> list[RouteLatency]:
        params = self.params
        assert isinstance(params, JaegerParams)
        end_us = int(ctx.now.timestamp() * 1_000_000)
        query = {
            "service": service,
            "start": str(end_us - int(window_s * 1_000_000)),
            "end": str(end_us),
            "limit": str(params.limit),
        }
        doc = await _get_json(ctx, str(params.url).rstrip("/") + "/api/traces", query, params)
        return routes_from_answer(doc, service=service)


async def _get_json(
    ctx: CheckContext, url: str, query: Mapping[str, str], params: JaegerParams
) -> object:
    timeout = aiohttp.ClientTimeout(total=max(ctx.timeout_s * 0.9, 0.1))
    try:
        async with ctx.http.session().get(
            url, params=query, headers=params.headers, timeout=timeout
        ) as response:
            body = await response.content.read(MAX_ANSWER_BYTES + 1)
            if response.status != 200:
                snippet = body[:200].decode("utf-8", "replace").strip()
                raise SourceError(
                    f"Jaeger at {url} answered HTTP {response.status}"
                    + (f": {snippet}" if snippet else "")
                )
    except TimeoutError:
        raise SourceError(f"Jaeger at {url} did not answer within {timeout.total:.1f} s") from None
    except aiohttp.ClientError as exc:
        raise SourceError(f"cannot reach Jaeger at {url}: {exc}") from exc
    if len(body) > MAX_ANSWER_BYTES:
        raise SourceError(
            f"Jaeger's answer is over {MAX_ANSWER_BYTES // 1_000_000} MB; lower the source's limit"
        )
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise SourceError(
            f"Jaeger at {url} answered something that is not JSON "
            f"({body[:60]!r}); is the url the query service (port 16686)?"
        ) from None


def routes_from_answer(doc: object, *, service: str) -> list[RouteLatency]:
    """Latency per route from a ``/api/traces`` answer; SourceError if it is not one."""
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
        raise SourceError("Jaeger's answer has no 'data' list of traces; is this the query API?")
    errors = doc.get("errors")
    if errors:
        raise SourceError(f"Jaeger reported errors: {str(errors)[:300]}")
    sketches: dict[str, LogBucketSketch] = {}
    failures: dict[str, int] = {}
    slowest: dict[str, list[tuple[float, str]]] = {}
    try:
        for trace in doc["data"]:
            processes = trace["processes"]
            for span in trace["spans"]:
                if processes[span["processID"]]["serviceName"] != service:
                    continue
                tags = _tags(span.get("tags") or ())
                if tags.get("span.kind") != "server":
                    continue
                route = _route(tags, str(span.get("operationName", "")))
                duration_ms = float(span["duration"]) / 1000.0
                sketches.setdefault(route, LogBucketSketch()).add(duration_ms)
                failures[route] = failures.get(route, 0) + _is_error(tags)
                kept = slowest.setdefault(route, [])
                kept.append((duration_ms, str(span.get("traceID", ""))))
                kept.sort(reverse=True)
                del kept[EXAMPLES_PER_ROUTE:]
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise SourceError(f"Jaeger's answer is not in the expected shape: {exc!r}") from None
    return [
        RouteLatency(
            service=service,
            route=route,
            count=sketch.count,
            errors=failures[route],
            p50_ms=sketch.quantile(0.50) or 0.0,
            p95_ms=sketch.quantile(0.95) or 0.0,
            p99_ms=sketch.quantile(0.99) or 0.0,
            max_ms=sketch.max,
            examples=tuple(
                TraceExample(trace_id=t, duration_ms=round(d, 3)) for d, t in slowest[route] if t
            ),
        )
        for route, sketch in sketches.items()
    ]


def _tags(raw: Sequence[Any]) -> dict[str, object]:
    return {str(tag["key"]): tag.get("value") for tag in raw}


def _route(tags: Mapping[str, object], operation: str) -> str:
    route = tags.get("http.route")
    if not isinstance(route, str) or not route:
        return operation or "(unnamed)"
    method = tags.get("http.request.method") or tags.get("http.method")
    return f"{method} {route}" if isinstance(method, str) and method else route


def _is_error(tags: Mapping[str, object]) -> int:
    if tags.get("error") in (True, "true") or tags.get("otel.status_code") == "ERROR":
        return 1
    for key in ("http.response.status_code", "http.status_code"):
        code = tags.get(key)
        if isinstance(code, int | str) and str(code).isdigit() and int(code) >= 500:
            return 1
    return 0
