"""Spans of the watched service: the OTLP/HTTP receiver, its rolling sketches, trace sources.

The receiver (FastAPI, the OTLP protobuf modules) is imported on first use of
:func:`traces_router` or :class:`ReceiverLimits`, so the checks that only read a source do not
load the server stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prodguardian.traces.model import RequestCounts, RouteLatency, SpanPoint, TraceExample
from prodguardian.traces.shared import shared_store
from prodguardian.traces.sketch import LogBucketSketch
from prodguardian.traces.source import TraceSource, open_source, source_kinds
from prodguardian.traces.store import IngestOutcome, StoreLimits, TraceStore

if TYPE_CHECKING:
    from prodguardian.traces.receiver import ReceiverLimits, traces_router, watched_services

__all__ = [
    "IngestOutcome",
    "LogBucketSketch",
    "ReceiverLimits",
    "RequestCounts",
    "RouteLatency",
    "SpanPoint",
    "StoreLimits",
    "TraceExample",
    "TraceSource",
    "TraceStore",
    "open_source",
    "shared_store",
    "source_kinds",
    "traces_router",
    "watched_services",
]

_LAZY = frozenset({"ReceiverLimits", "traces_router", "watched_services"})


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from prodguardian.traces import receiver

        return getattr(receiver, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
