"""A trimmed view of the OTLP trace protobuf: only the fields the receiver reads.

The schema is wire-compatible with ``opentelemetry/proto/collector/trace/v1/trace_service.proto``
(same field numbers and wire types); every other field is skipped by the C parser, and attributes
stay raw ``bytes`` (one serialized ``KeyValue`` each) so that no Python object is built for the
many attributes nobody reads. :mod:`prodguardian.traces.otlp_decode` picks the few it needs.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_F = descriptor_pb2.FieldDescriptorProto
_REPEATED = _F.LABEL_REPEATED
_OPTIONAL = _F.LABEL_OPTIONAL

# (message, [(field, number, type, label, message type)])
_MESSAGES: list[tuple[str, list[tuple[str, int, int, int, str]]]] = [
    ("ExportRequest", [("resource_spans", 1, _F.TYPE_MESSAGE, _REPEATED, "ResourceSpans")]),
    (
        "ResourceSpans",
        [
            ("resource", 1, _F.TYPE_MESSAGE, _OPTIONAL, "Resource"),
            ("scope_spans", 2, _F.TYPE_MESSAGE, _REPEATED, "ScopeSpans"),
        ],
    ),
    ("Resource", [("attributes", 1, _F.TYPE_BYTES, _REPEATED, "")]),
    ("ScopeSpans", [("spans", 2, _F.TYPE_MESSAGE, _REPEATED, "Span")]),
    (
        "Span",
        [
            ("trace_id", 1, _F.TYPE_BYTES, _OPTIONAL, ""),
            ("span_id", 2, _F.TYPE_BYTES, _OPTIONAL, ""),
            ("name", 5, _F.TYPE_STRING, _OPTIONAL, ""),
            ("kind", 6, _F.TYPE_INT32, _OPTIONAL, ""),
            ("start_time_unix_nano", 7, _F.TYPE_FIXED64, _OPTIONAL, ""),
            ("end_time_unix_nano", 8, _F.TYPE_FIXED64, _OPTIONAL, ""),
            ("attributes", 9, _F.TYPE_BYTES, _REPEATED, ""),
            ("status", 15, _F.TYPE_MESSAGE, _OPTIONAL, "Status"),
        ],
    ),
    ("Status", [("code", 3, _F.TYPE_INT32, _OPTIONAL, "")]),
]

_PACKAGE = "prodguardian.otlp_trimmed"


def _build() -> Any:
    file = descriptor_pb2.FileDescriptorProto(
        name="prodguardian/otlp_trimmed.proto", package=_PACKAGE, syntax="proto3"
    )
    for name, fields in _MESSAGES:
        message = file.message_type.add(name=name)
        for field_name, number, kind, label, type_name in fields:
            field = message.field.add(name=field_name, number=number, type=kind, label=label)
            if type_name:
                field.type_name = f".{_PACKAGE}.{type_name}"
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.ExportRequest"))


#: The trimmed ``ExportTraceServiceRequest`` message class.
TrimmedExportRequest: Any = _build()
