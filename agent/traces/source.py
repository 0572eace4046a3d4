"""Trace sources: where the latency and SLO checks read spans from. Plugins, like checks.

A source kind is a :class:`TraceSource` subclass registered under the entry-point group
``prodguardian.trace_sources``. Built-ins: ``receiver`` (the spans sent to ``POST /v1/traces``)
and ``jaeger`` (the Jaeger query API). The config names sources under ``trace_sources:`` and a
check refers to one by name (:mod:`prodguardian.traces.named_sources` turns the name into the
spec below; the older inline form still works, deprecated)::

    source: {kind: jaeger, url: "http://jaeger:16686"}

and the source's ``Params`` model validates the other keys, so a typo is a config error that
names the key.

Contract: a source answers or raises :class:`~prodguardian.errors.SourceError` with a message
that says what to fix (unreachable, refused, garbage); it never returns made-up numbers.
"""

from __future__ import annotations

import functools
import inspect
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from importlib.metadata import entry_points
from typing import Any, ClassVar, cast

from pydantic import BaseModel, ValidationError

from prodguardian.context import CheckContext
from prodguardian.errors import RegistryError, SourceError
from prodguardian.plugins import load_plugins
from prodguardian.traces.model import RequestCounts, RouteLatency

ENTRY_POINT_GROUP = "prodguardian.trace_sources"
DEFAULT_SOURCE: Mapping[str, Any] = {"kind": "receiver"}


class TraceSource(ABC):
    """Base class of every trace source kind."""

    Params: ClassVar[type[BaseModel]]
    """The source's own config keys (besides ``kind``); unknown keys must be forbidden."""

    counts_requests: ClassVar[bool] = False
    """True when :meth:`request_counts` sees every request (what an SLO needs), not a sample."""

    def __init__(self, params: BaseModel) -> None:
        self.params = params

    @abstractmethod
    async def route_latency(
        self, ctx: CheckContext, *, service: str, window_s: float
    ) -> list[RouteLatency]:
        """Latency and errors per route of ``service`` over the last ``window_s`` seconds."""

    async def request_counts(
        self, ctx: CheckContext, *, service: str, windows: Sequence[float]
    ) -> list[RequestCounts]:
        """Requests and errors of ``service`` over each window ending now, in the order given."""
        raise SourceError(
            f"the {self.kind} trace source cannot count requests; use the receiver source"
        )

    @property
    def kind(self) -> str:
        return type(self).__name__


def source_kinds() -> dict[str, type[TraceSource]]:
    """Installed source kinds by name; a broken plugin raises ValueError naming it."""
    return dict(_load_kinds())


@functools.cache
def _load_kinds() -> tuple[tuple[str, type[TraceSource]], ...]:
    # Cached: every check's params validation asks, and entry points do not change at run time.
    # Called from pydantic validators, so the registry's error is re-raised as a ValueError:
    # it then lands on the check's ``source`` key in the config error.
    try:
        found = load_plugins(
            ENTRY_POINT_GROUP,
            what="trace source",
            vet=vet_trace_source_kind,
            eps=entry_points(group=ENTRY_POINT_GROUP),
        )
    except RegistryError as exc:
        raise ValueError(str(exc)) from exc
    return tuple((name, cast(type[TraceSource], kind)) for name, kind in found.items())


def vet_trace_source_kind(obj: object) -> str | None:
    """What keeps ``obj`` from being a trace source kind, or None."""
    if not (inspect.isclass(obj) and issubclass(obj, TraceSource)):
        return "is not a TraceSource"
    if obj.Params.model_config.get("extra") != "forbid":
        return "Params must forbid unknown keys (model_config = ConfigDict(extra='forbid'))"
    return None


def validate_source_spec(spec: object, *, need_counts: bool = False) -> dict[str, Any]:
    """Check a ``source`` config value; return it normalised. Raises ValueError saying the fix.

    Meant for a pydantic ``field_validator``, so the message lands on the ``source`` key.
    """
    if not isinstance(spec, Mapping):
        raise ValueError("expected a mapping such as {kind: receiver}")
    kind = spec.get("kind")
    kinds = source_kinds()
    if not isinstance(kind, str) or kind not in kinds:
        raise ValueError(
            f"unknown trace source kind {kind!r}; installed: {', '.join(sorted(kinds)) or 'none'}"
        )
    cls = kinds[kind]
    if need_counts and not cls.counts_requests:
        raise ValueError(
            f"the {kind} trace source returns a sample of traces, not every request, so it "
            "cannot measure an SLO; use {kind: receiver}"
        )
    options = {k: v for k, v in spec.items() if k != "kind"}
    try:
        params = cls.Params.model_validate(options)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or kind}: {err['msg']}" for err in exc.errors()
        )
        raise ValueError(f"{kind} source: {problems}") from None
    return {"kind": kind, **params.model_dump(mode="json")}


def open_source(spec: Mapping[str, Any]) -> TraceSource:
    """The source a validated spec describes."""
    cls = source_kinds()[str(spec["kind"])]
    options = {k: v for k, v in spec.items() if k != "kind"}
    return cls(cls.Params.model_validate(options))
