"""OTLP/HTTP trace payloads (protobuf or JSON) → the few facts the store keeps per server span.

Only what the latency and SLO checks need is read: the resource's ``service.name``, and per span
its kind, times, status, trace id and the ``http.route`` / method / status-code attributes. The
protobuf is parsed by the C (upb) parser against a trimmed schema (:mod:`.otlp_schema`) that
skips every other field, and attributes are matched by their raw key bytes: only the two or
three wanted values per span are ever decoded.

Which spans count: SERVER spans (``kind == SPAN_KIND_SERVER``), one per request handled. The route
is ``METHOD http.route`` when the span has ``http.route`` (``http.route`` alone without a method),
else the span name. A span is an error when its status is ERROR or its HTTP status code is 5xx.
"""

from __future__ import annotations

import binascii
import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from google.protobuf.message import DecodeError
from opentelemetry.proto.common.v1.common_pb2 import KeyValue

from prodguardian.traces.model import SpanPoint
from prodguardian.traces.otlp_schema import TrimmedExportRequest

UNKNOWN_SERVICE = "unknown_service"
SPAN_KIND_SERVER = 2
STATUS_CODE_ERROR = 2
MAX_ROUTE_CHARS = 200

_METHOD_KEYS = frozenset({"http.request.method", "http.method"})
_STATUS_KEYS = frozenset({"http.response.status_code", "http.status_code"})
_STATUS_KEYS_B = frozenset(k.encode() for k in _STATUS_KEYS)
_WANTED_KEYS = frozenset(k.encode() for k in {"http.route", *_METHOD_KEYS, *_STATUS_KEYS})
_WANTED_LENGTHS = frozenset(len(k) for k in _WANTED_KEYS)


class OtlpDecodeError(ValueError):
    """The payload is not a valid OTLP trace export request; the message says where."""


def decode_protobuf(body: bytes) -> tuple[list[SpanPoint], int]:
    """Server spans of a protobuf ``ExportTraceServiceRequest``, and how many spans it held."""
    request = TrimmedExportRequest()
    try:
        request.ParseFromString(body)
    except DecodeError as exc:
        raise OtlpDecodeError(f"not an OTLP ExportTraceServiceRequest protobuf: {exc}") from None
    try:
        return _server_spans(request)
    except IndexError:
        raise OtlpDecodeError("an attribute is not a valid KeyValue (truncated)") from None


def _server_spans(request: Any) -> tuple[list[SpanPoint], int]:
    points: list[SpanPoint] = []
    seen = 0
    append = points.append
    for resource_spans in request.resource_spans:
        service = UNKNOWN_SERVICE
        for raw in resource_spans.resource.attributes:
            if _key(raw) == b"service.name":
                service = _value(raw)[0] or UNKNOWN_SERVICE
                break
        for scope_spans in resource_spans.scope_spans:
            spans = scope_spans.spans
            seen += len(spans)
            for span in spans:
                if span.kind != SPAN_KIND_SERVER:
                    continue
                route = method = ""
                code = 0
                for raw in span.attributes:
                    # The key, read in place when it comes first (as official encoders write
                    # it); the length byte alone rules out most keys without a copy.
                    if raw[0] == 0x0A:
                        if raw[1] not in _WANTED_LENGTHS:
                            continue
                        key = raw[2 : raw[1] + 2]
                    else:
                        key = _key(raw)
                    if key not in _WANTED_KEYS:
                        continue
                    # The same few routes, methods and codes come in every batch: decode once.
                    value = _VALUES.get(raw)
                    if value is None:
                        value = _remember(raw)
                    text, number = value
                    if key == b"http.route":
                        route = text
                    elif key in _STATUS_KEYS_B:
                        code = number or _int_or_zero(text)
                    else:
                        method = text
                start = span.start_time_unix_nano
                end = span.end_time_unix_nano
                if end < start:
                    raise OtlpDecodeError(
                        f"span {span.span_id.hex()} of {service!r} ends before it starts"
                    )
                append(
                    (
                        service,
                        _route_key(route, method, span.name),
                        end,
                        end - start,
                        span.status.code == STATUS_CODE_ERROR or code >= 500,
                        span.trace_id,
                    )
                )
    return points, seen


#: Decoded values of wanted attributes by their raw bytes; cleared when full, so it stays small.
_VALUES: dict[bytes, tuple[str, int]] = {}
_VALUES_MAX = 20_000


def _remember(raw: bytes) -> tuple[str, int]:
    value = _value(raw)
    if len(_VALUES) >= _VALUES_MAX:
        _VALUES.clear()
    _VALUES[raw] = value
    return value


def _key(raw: bytes) -> bytes:
    """The key of a serialized ``KeyValue``: in place when it comes first, else by a full parse."""
    if len(raw) > 2 and raw[0] == 0x0A and raw[1] < 0x80:
        return raw[2 : raw[1] + 2]
    return _parse_key_value(raw).key.encode()


def _value(raw: bytes) -> tuple[str, int]:
    """(string value, int value) of a serialized ``KeyValue`` with a wanted key.

    The usual shape (short key, then a short string or a varint) is read in place; anything
    else goes through the real ``KeyValue`` parser.
    """
    if raw[0] == 0x0A and raw[1] < 0x80:
        p = raw[1] + 2
        if len(raw) > p + 3 and raw[p] == 0x12 and raw[p + 1] < 0x80:
            tag = raw[p + 2]
            if tag == 0x0A and raw[p + 3] < 0x80 and len(raw) == p + 4 + raw[p + 3]:
                return raw[p + 4 :].decode("utf-8", "replace"), 0
            if tag == 0x18:
                number, end = _varint(raw, p + 3)
                if end == len(raw):
                    return "", number
    value = _parse_key_value(raw).value
    return value.string_value, value.int_value


def _varint(raw: bytes, at: int) -> tuple[int, int]:
    """A protobuf int64 varint at ``at``: (value, index after it)."""
    number = shift = 0
    while True:
        byte = raw[at]
        at += 1
        number |= (byte & 0x7F) << shift
        if byte < 0x80:
            break
        shift += 7
    return (number - (1 << 64) if number >= 1 << 63 else number), at


def _parse_key_value(raw: bytes) -> KeyValue:
    try:
        parsed: KeyValue = KeyValue.FromString(raw)
    except DecodeError as exc:
        raise OtlpDecodeError(f"an attribute is not a valid KeyValue: {exc}") from None
    return parsed


def decode_json(body: bytes) -> tuple[list[SpanPoint], int]:
    """Server spans of an OTLP/JSON export request, and how many spans it held."""
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OtlpDecodeError(f"not JSON: {exc}") from None
    except RecursionError:
        # The parser's depth limit (the interpreter's recursion limit): a body nested this
        # deep is an attack or a bug, refused like any malformed body.
        raise OtlpDecodeError(
            f"the JSON nests deeper than {sys.getrecursionlimit()} levels (the depth limit); "
            "an OTLP export needs about ten"
        ) from None
    root = _mapping(doc, "the request body")
    points: list[SpanPoint] = []
    seen = 0
    for r, resource_spans in enumerate(_list(root, "resourceSpans", "")):
        where = f"resourceSpans[{r}]"
        resource_spans = _mapping(resource_spans, where)
        resource = _mapping(resource_spans.get("resource") or {}, f"{where}.resource")
        attrs = _attributes(resource, f"{where}.resource")
        service = _str(attrs.get("service.name")) or UNKNOWN_SERVICE
        for s, scope_spans in enumerate(_list(resource_spans, "scopeSpans", where)):
            at = f"{where}.scopeSpans[{s}]"
            spans = _list(_mapping(scope_spans, at), "spans", at)
            seen += len(spans)
            for i, raw in enumerate(spans):
                span_at = f"{at}.spans[{i}]"
                span = _mapping(raw, span_at)
                if _kind(span.get("kind", 0), span_at) != SPAN_KIND_SERVER:
                    continue
                start = _uint64(span.get("startTimeUnixNano", 0), f"{span_at}.startTimeUnixNano")
                end = _uint64(span.get("endTimeUnixNano", 0), f"{span_at}.endTimeUnixNano")
                if end < start:
                    raise OtlpDecodeError(f"{span_at}: the span ends before it starts")
                attrs = _attributes(span, span_at)
                code = max(_int(attrs.get(k)) for k in _STATUS_KEYS)
                method = next((_str(attrs.get(k)) for k in _METHOD_KEYS if k in attrs), "")
                status = _mapping(span.get("status") or {}, f"{span_at}.status")
                status_code = _kind(status.get("code", 0), f"{span_at}.status.code")
                name = span.get("name", "")
                if not isinstance(name, str):
                    raise OtlpDecodeError(f"{span_at}.name: expected a string")
                points.append(
                    (
                        service,
                        _route_key(_str(attrs.get("http.route")), method, name),
                        end,
                        end - start,
                        status_code == STATUS_CODE_ERROR or code >= 500,
                        _hex_id(span.get("traceId", ""), f"{span_at}.traceId"),
                    )
                )
    return points, seen


def _route_key(route: str, method: str, name: str) -> str:
    key = (f"{method} {route}" if method else route) if route else name
    return key[:MAX_ROUTE_CHARS] or "(unnamed)"


def _int_or_zero(text: str) -> int:
    return int(text) if text.isdigit() else 0


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise OtlpDecodeError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def _list(parent: Mapping[str, Any], key: str, where: str) -> Sequence[Any]:
    value = parent.get(key, [])
    if not isinstance(value, list):
        path = f"{where}.{key}" if where else key
        raise OtlpDecodeError(f"{path}: expected a list, got {type(value).__name__}")
    return value


_KINDS = {"SPAN_KIND_SERVER": 2, "STATUS_CODE_ERROR": 2}


def _kind(value: object, where: str) -> int:
    """An enum field: OTLP/JSON writes integers, some senders write the names."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _KINDS.get(value, 0)
    raise OtlpDecodeError(f"{where}: expected an enum number, got {value!r}")


def _uint64(value: object, where: str) -> int:
    """OTLP/JSON writes 64-bit integers as decimal strings (numbers are accepted too)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise OtlpDecodeError(f"{where}: expected a non-negative integer, got {value!r}")


def _hex_id(value: object, where: str) -> bytes:
    if not isinstance(value, str):
        raise OtlpDecodeError(f"{where}: expected a hex string")
    try:
        return binascii.unhexlify(value)
    except (binascii.Error, ValueError):
        raise OtlpDecodeError(f"{where}: {value!r} is not a hex trace id") from None


def _attributes(owner: Mapping[str, Any], where: str) -> dict[str, object]:
    """Only the scalar values of the attributes this module reads."""
    found: dict[str, object] = {}
    for n, kv in enumerate(_list(owner, "attributes", where)):
        kv = _mapping(kv, f"{where}.attributes[{n}]")
        key = kv.get("key")
        if key not in _WANTED:
            continue
        value = _mapping(kv.get("value") or {}, f"{where}.attributes[{n}].value")
        for field in ("stringValue", "intValue"):
            if field in value:
                found[key] = value[field]
    return found


_WANTED = frozenset({"service.name", "http.route", *_METHOD_KEYS, *_STATUS_KEYS})


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _int(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return 0
