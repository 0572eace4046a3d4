"""Decoding OTLP trace payloads: protobuf (as the SDK encodes it) and JSON; refusing garbage."""

from __future__ import annotations

import json

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.trace import SpanKind

from prodguardian.traces.otlp_decode import (
    UNKNOWN_SERVICE,
    OtlpDecodeError,
    decode_json,
    decode_protobuf,
)
from tests.traces.otlp_payloads import Request, json_body, protobuf_body

REQUESTS = [
    Request("/items/{id}", 12.5),
    Request("/items/{id}", 900.0, status=503),
    Request("/upload", 40.0, method="POST"),
    Request("/outgoing", 5.0, kind=SpanKind.CLIENT),
    Request("/internal", 5.0, kind=SpanKind.INTERNAL),
]


@pytest.mark.parametrize("encode", [protobuf_body, json_body], ids=["protobuf", "json"])
def test_server_spans_become_points(encode: object) -> None:
    body = encode(REQUESTS, service="shop", end_ns=1_000_000_000_000)  # type: ignore[operator]
    decode = decode_protobuf if encode is protobuf_body else decode_json
    points, seen = decode(body)
    assert seen == 5
    summary = [(p[0], p[1], p[2], p[3], p[4]) for p in points]
    assert summary == [
        ("shop", "GET /items/{id}", 1_000_000_000_000, 12_500_000, False),
        ("shop", "GET /items/{id}", 1_000_000_000_000, 900_000_000, True),
        ("shop", "POST /upload", 1_000_000_000_000, 40_000_000, False),
    ]
    assert all(len(p[5]) == 16 for p in points)


def _request(*attributes: KeyValue, resource: tuple[KeyValue, ...] = ()) -> bytes:
    request = ExportTraceServiceRequest()
    spans = request.resource_spans.add()
    spans.resource.attributes.extend(resource)
    span = spans.scope_spans.add().spans.add()
    span.name = "handler"
    span.kind = 2
    span.start_time_unix_nano = 1
    span.end_time_unix_nano = 1 + 5_000_000
    span.attributes.extend(attributes)
    return bytes(request.SerializeToString())


def _kv(key: str, **value: object) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(**value))  # type: ignore[arg-type]


def test_span_name_is_the_route_without_http_route_and_service_defaults() -> None:
    (point,), _ = decode_protobuf(_request())
    assert point[:2] == (UNKNOWN_SERVICE, "handler")


def test_old_semantic_conventions_and_long_values_are_read() -> None:
    long_route = "/" + "x" * 150  # a length past one varint byte
    body = _request(
        _kv("http.method", string_value="DELETE"),
        _kv("http.route", string_value=long_route),
        _kv("http.status_code", int_value=502),
        resource=(_kv("service.name", string_value="legacy"),),
    )
    (point,), _ = decode_protobuf(body)
    assert point[:2] == ("legacy", f"DELETE {long_route}")
    assert point[4] is True


def test_a_status_code_sent_as_a_string_counts() -> None:
    (point,), _ = decode_protobuf(_request(_kv("http.response.status_code", string_value="500")))
    assert point[4] is True


def test_a_key_value_with_its_fields_in_another_order_is_still_read() -> None:
    value = AnyValue(string_value="/reordered").SerializeToString()
    # value (field 2) first, then key (field 1): legal protobuf that official encoders never write.
    raw = b"\x12" + bytes([len(value)]) + value + b"\x0a\x0ahttp.route"
    request = ExportTraceServiceRequest.FromString(_request())
    request.resource_spans[0].scope_spans[0].spans[0].attributes.add().MergeFromString(raw)
    (point,), _ = decode_protobuf(request.SerializeToString())
    assert point[1] == "/reordered"


@pytest.mark.parametrize(
    "body",
    [b"\xff\xff\xff\xff", b"\x0a\x05abc", b"not protobuf at all, just text \x00\x01"],
    ids=["bad-varint", "truncated", "text"],
)
def test_malformed_protobuf_is_refused(body: bytes) -> None:
    with pytest.raises(OtlpDecodeError):
        decode_protobuf(body)


def test_a_span_ending_before_it_starts_is_refused() -> None:
    request = ExportTraceServiceRequest.FromString(_request())
    request.resource_spans[0].scope_spans[0].spans[0].end_time_unix_nano = 0
    with pytest.raises(OtlpDecodeError, match="ends before it starts"):
        decode_protobuf(request.SerializeToString())


@pytest.mark.parametrize(
    ("doc", "where"),
    [
        ([], "the request body"),
        ({"resourceSpans": {}}, "resourceSpans"),
        (
            {"resourceSpans": [{"scopeSpans": [{"spans": [{"kind": 2, "endTimeUnixNano": "x"}]}]}]},
            "resourceSpans[0].scopeSpans[0].spans[0].endTimeUnixNano",
        ),
        (
            {"resourceSpans": [{"scopeSpans": [{"spans": [{"kind": 2, "traceId": "zz"}]}]}]},
            "traceId",
        ),
        (
            {
                "resourceSpans": [
                    {
                        "scopeSpans": [
                            {
                                "spans": [
                                    {"kind": 2, "startTimeUnixNano": "9", "endTimeUnixNano": "1"}
                                ]
                            }
                        ]
                    }
                ]
            },
            "ends before it starts",
        ),
    ],
)
def test_malformed_json_is_refused_naming_the_place(doc: object, where: str) -> None:
    with pytest.raises(OtlpDecodeError, match=where.replace("[", r"\[").replace("]", r"\]")):
        decode_json(json.dumps(doc).encode())


def test_json_that_is_not_json_is_refused() -> None:
    with pytest.raises(OtlpDecodeError, match="not JSON"):
        decode_json(b"{nope")


def test_json_enum_names_are_accepted() -> None:
    doc = {
        "resourceSpans": [
            {
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "kind": "SPAN_KIND_SERVER",
                                "name": "x",
                                "traceId": "",
                                "startTimeUnixNano": 1,
                                "endTimeUnixNano": 2,
                                "status": {"code": "STATUS_CODE_ERROR"},
                            }
                        ]
                    }
                ]
            }
        ]
    }
    (point,), _ = decode_json(json.dumps(doc).encode())
    assert point[1:5] == ("x", 2, 1, True)
