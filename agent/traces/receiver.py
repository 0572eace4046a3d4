"""``POST /v1/traces``: the OTLP/HTTP trace receiver, as a FastAPI router that ``serve`` mounts.

Accepts ``application/x-protobuf`` and ``application/json`` bodies, plain or gzip-compressed, as
the OTLP/HTTP specification describes; answers with an ``ExportTraceServiceResponse`` (with
``partial_success`` when the store refused some spans) in the request's encoding.

Refusals are 4xx with a ``google.rpc.Status`` body in the request's encoding, and store nothing:

* 415 for another content type or content encoding;
* 413 for a body over ``max_body_bytes`` (refused from its ``Content-Length`` before reading it,
  or as soon as a chunked body passes the limit) or a gzip body inflating past
  ``max_decompressed_bytes``;
* 400 for bad gzip, a payload that is not OTLP, or only spans of services not in ``services``
  (when that allow-list is set; ``serve`` sets it to the services its checks watch). A batch
  that mixes watched and other services (a collector's) keeps the watched spans and reports the
  others as rejected (``partial_success``).

A request is decoded whole before anything is stored, so a refused request leaves no trace.
"""

from __future__ import annotations

import asyncio
import json
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from fastapi import APIRouter, Request, Response
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceResponse,
)

from prodguardian.telemetry import instruments as telemetry
from prodguardian.traces.otlp_decode import OtlpDecodeError, decode_json, decode_protobuf
from prodguardian.traces.shared import shared_store
from prodguardian.traces.store import IngestOutcome, TraceStore

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
#: Bodies bigger than this are decoded in a worker thread so the event loop keeps serving.
_THREAD_THRESHOLD = 256 * 1024
# google.rpc.Code values used in error bodies.
_INVALID_ARGUMENT = 3
_RESOURCE_EXHAUSTED = 8


@dataclass(frozen=True, kw_only=True)
class ReceiverLimits:
    """What the receiver accepts."""

    max_body_bytes: int = 8 * 1024 * 1024
    max_decompressed_bytes: int = 32 * 1024 * 1024
    services: frozenset[str] | None = None
    """When set, only these ``service.name`` values are accepted; others are refused (400)."""


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def traces_router(
    store: TraceStore | None = None, *, limits: ReceiverLimits | None = None
) -> APIRouter:
    """A router with ``POST /v1/traces`` feeding ``store`` (default: the process's shared store)."""
    target = store if store is not None else shared_store()
    limits = limits or ReceiverLimits()
    router = APIRouter()

    @router.post("/v1/traces", include_in_schema=True, summary="OTLP/HTTP trace export")
    async def export_traces(request: Request) -> Response:
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        encoding = PROTOBUF if media == PROTOBUF else JSON
        tel = telemetry.current()
        try:
            body = await _read_body(request, media, limits)
            outcome = await _store(target, body, media, limits)
        except _Refused as refused:
            tel.requests_refused.add(1, {"http.response.status_code": refused.status})
            return _error(encoding, refused.status, refused.message)
        tel.spans_received.add(outcome.accepted, {"outcome": "accepted"})
        if outcome.rejected:
            tel.spans_received.add(outcome.rejected, {"outcome": "rejected"})
        return _success(encoding, outcome.rejected, outcome.reason)

    return router


async def _read_body(request: Request, media: str, limits: ReceiverLimits) -> bytes:
    if media not in (PROTOBUF, JSON):
        raise _Refused(
            415,
            f"unsupported content type {media or '(none)'!r}; send OTLP as {PROTOBUF} or {JSON}",
        )
    coding = request.headers.get("content-encoding", "identity").strip().lower()
    if coding not in ("identity", "gzip", ""):
        raise _Refused(415, f"unsupported content encoding {coding!r}; use gzip or none")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limits.max_body_bytes:
        raise _Refused(
            413, f"body of {declared} bytes is over the {limits.max_body_bytes}-byte limit"
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limits.max_body_bytes:
            raise _Refused(413, f"body is over the {limits.max_body_bytes}-byte limit")
        chunks.append(chunk)
    body = b"".join(chunks)
    return _gunzip(body, limits.max_decompressed_bytes) if coding == "gzip" else body


def _gunzip(body: bytes, limit: int) -> bytes:
    """Inflate every gzip member of ``body``, never more than ``limit`` bytes in all."""
    parts: list[bytes] = []
    size = 0
    rest = body
    while rest:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            data = inflater.decompress(rest, limit - size + 1)
        except zlib.error as exc:
            raise _Refused(400, f"the body is not valid gzip: {exc}") from None
        size += len(data)
        if size > limit or inflater.unconsumed_tail:
            raise _Refused(413, f"the gzip body inflates past the {limit}-byte limit")
        if not inflater.eof:
            raise _Refused(400, "the gzip body is truncated")
        parts.append(data)
        rest = inflater.unused_data
    return b"".join(parts)


async def _store(
    store: TraceStore, body: bytes, media: str, limits: ReceiverLimits
) -> IngestOutcome:
    decode = decode_protobuf if media == PROTOBUF else decode_json
    try:
        if len(body) > _THREAD_THRESHOLD:
            points, _ = await asyncio.to_thread(decode, body)
        else:
            points, _ = decode(body)
    except OtlpDecodeError as exc:
        raise _Refused(400, str(exc)) from None
    if limits.services is None:
        return store.ingest(points)
    allowed = limits.services
    unknown = sorted({p[0] for p in points} - allowed)
    if not unknown:
        return store.ingest(points)
    message = (
        f"unknown service {', '.join(map(repr, unknown))}; this receiver accepts "
        f"{', '.join(sorted(allowed)) or 'no service'} (the services its checks watch)"
    )
    kept = [p for p in points if p[0] in allowed]
    if not kept:
        raise _Refused(400, message)
    # A collector batches several services: keep the watched ones, report the rest.
    outcome = store.ingest(kept)
    dropped = len(points) - len(kept)
    reason = "; ".join(r for r in (message, outcome.reason) if r)
    return IngestOutcome(
        accepted=outcome.accepted, rejected=outcome.rejected + dropped, reason=reason
    )


def watched_services(checks: Iterable[object]) -> frozenset[str]:
    """The services that checks read from the receiver: what ``serve``'s receiver accepts."""
    found: set[str] = set()
    for check in checks:
        params = getattr(check, "params", None)
        service = getattr(params, "service", None)
        source = getattr(params, "source", None)
        is_receiver = isinstance(source, Mapping) and source.get("kind") == "receiver"
        if isinstance(service, str) and is_receiver:
            found.add(service)
    return frozenset(found)


def _success(encoding: str, rejected: int, reason: str) -> Response:
    if encoding == JSON:
        doc: dict[str, object] = {}
        if rejected:
            doc["partialSuccess"] = {"rejectedSpans": str(rejected), "errorMessage": reason}
        return Response(json.dumps(doc), media_type=JSON)
    answer = ExportTraceServiceResponse()
    if rejected:
        answer.partial_success.rejected_spans = rejected
        answer.partial_success.error_message = reason
    return Response(answer.SerializeToString(), media_type=PROTOBUF)


def _error(encoding: str, status: int, message: str) -> Response:
    code = _RESOURCE_EXHAUSTED if status == 413 else _INVALID_ARGUMENT
    if encoding == JSON:
        body = json.dumps({"code": code, "message": message}).encode()
    else:
        body = _rpc_status(code, message)
    # The client may still be sending a refused body: ask it to open a fresh connection.
    return Response(body, status_code=status, media_type=encoding, headers={"Connection": "close"})


def _rpc_status(code: int, message: str) -> bytes:
    """A ``google.rpc.Status`` (code = field 1, message = field 2) in protobuf wire format."""
    text = message.encode()
    return b"\x08" + _varint(code) + b"\x12" + _varint(len(text)) + text


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)
