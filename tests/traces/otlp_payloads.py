"""OTLP trace payloads for tests, made by the real OpenTelemetry SDK and its OTLP encoder."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode


@dataclass(frozen=True)
class Request:
    """One request of the watched service, as its server span will say."""

    route: str
    ms: float
    status: int = 200
    method: str = "GET"
    kind: SpanKind = SpanKind.SERVER


def sdk_spans(
    requests: Sequence[Request], *, service: str = "api", end_ns: int | None = None
) -> list[ReadableSpan]:
    """Finished SDK spans for ``requests``, ending at ``end_ns`` (default: now)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("tests")
    end = end_ns if end_ns is not None else time.time_ns()
    for request in requests:
        span = tracer.start_span(
            f"{request.method} {request.route}",
            kind=request.kind,
            start_time=end - int(request.ms * 1_000_000),
            attributes={
                "http.request.method": request.method,
                "http.route": request.route,
                "http.response.status_code": request.status,
                "url.scheme": "http",
                "server.address": "127.0.0.1",
                "user_agent.original": "tests",
            },
        )
        if request.status >= 500:
            span.set_status(StatusCode.ERROR)
        span.end(end_time=end)
    provider.shutdown()
    return list(exporter.get_finished_spans())


def protobuf_body(requests: Sequence[Request], **kwargs: object) -> bytes:
    """The body an ``OTLPSpanExporter`` would POST for ``requests``."""
    return bytes(encode_spans(sdk_spans(requests, **kwargs)).SerializeToString())  # type: ignore[arg-type]


def json_body(
    requests: Sequence[Request], *, service: str = "api", end_ns: int | None = None
) -> bytes:
    """The same spans as OTLP/JSON (lowerCamelCase keys, hex ids, int64 as strings)."""
    end = end_ns if end_ns is not None else time.time_ns()
    spans = []
    for i, request in enumerate(requests):
        spans.append(
            {
                "traceId": f"{i + 1:032x}",
                "spanId": f"{i + 1:016x}",
                "name": f"{request.method} {request.route}",
                "kind": int(request.kind.value) + 1,  # OTLP numbers kinds from 1 (INTERNAL)
                "startTimeUnixNano": str(end - int(request.ms * 1_000_000)),
                "endTimeUnixNano": str(end),
                "attributes": [
                    {"key": "http.method", "value": {"stringValue": request.method}},
                    {"key": "http.route", "value": {"stringValue": request.route}},
                    {"key": "http.status_code", "value": {"intValue": str(request.status)}},
                ],
                "status": {"code": 2 if request.status >= 500 else 0},
            }
        )
    doc = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": service}}]
                },
                "scopeSpans": [{"scope": {"name": "tests"}, "spans": spans}],
            }
        ]
    }
    return json.dumps(doc).encode()
