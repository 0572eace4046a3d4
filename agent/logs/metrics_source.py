"""Metrics sources: where a log check takes its request counts from instead of listing them.

A metrics source is named under the config's top-level ``metrics_sources:`` and a log source
refers to it (``metrics_source: run-requests``)::

    metrics_sources:
      run-requests: {type: cloud_monitoring, project: my-project}
    log_sources:
      prod-logs: {type: cloud_logging, project: my-project, metrics_source: run-requests}

A kind is a class registered under the entry-point group ``prodguardian.metrics_sources`` with a
pydantic ``Config`` (unknown keys forbidden), ``from_config(config, *, base_dir)``, and the two
methods of :class:`MetricsSource`. Its ``request_counts`` answers or raises
:class:`MetricsError` saying what to fix; it never answers a made-up zero.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import EntryPoint
from typing import Any, Protocol, cast, runtime_checkable

from pydantic import BaseModel

from prodguardian.errors import SourceError
from prodguardian.logs.query import LogScope, LogWindow, Traffic
from prodguardian.plugins import load_plugins, vet_all

ENTRY_POINT_GROUP = "prodguardian.metrics_sources"
WHAT = "metrics source kind"


class MetricsError(SourceError):
    """A metrics source could not answer; the message says what to fix (a role to grant...)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestCounts:
    """Requests in a window, per revision (``traffic``), and how many were answered 5xx."""

    traffic: Traffic
    http_5xx: int
    metric: str


@runtime_checkable
class MetricsSource(Protocol):
    """Request counts for a log scope, from a metric."""

    def fits(self, scope: LogScope) -> bool:
        """Whether the metric can count exactly the entries of ``scope`` (labels only)."""
        ...

    def request_counts(
        self, scope: LogScope, window: LogWindow, *, split_at: datetime | None, deadline: float
    ) -> RequestCounts:
        """Requests of ``scope`` in ``window`` (blocking; called from a worker thread),
        split at ``split_at``, by ``deadline`` (a ``time.monotonic()`` value)."""
        ...


class MetricsSourceRegistry:
    """The installed metrics source kinds by name (``cloud_monitoring``...)."""

    def __init__(self, kinds: Mapping[str, type[Any]]) -> None:
        vet_all(dict(kinds), what=WHAT, vet=vet_metrics_source_kind)
        self._kinds = dict(kinds)

    @classmethod
    def from_entry_points(cls, eps: Iterable[EntryPoint] | None = None) -> MetricsSourceRegistry:
        found = load_plugins(ENTRY_POINT_GROUP, what=WHAT, vet=vet_metrics_source_kind, eps=eps)
        return cls({name: cast(type[Any], kind) for name, kind in found.items()})

    def kinds(self) -> list[str]:
        return sorted(self._kinds)

    def get(self, name: str) -> type[Any] | None:
        return self._kinds.get(name)


def vet_metrics_source_kind(obj: object) -> str | None:
    """What keeps ``obj`` from being a metrics source kind, or None."""
    if not inspect.isclass(obj):
        return "is not a class"
    config = getattr(obj, "Config", None)
    if not (inspect.isclass(config) and issubclass(config, BaseModel)):
        return "has no Config model (a pydantic BaseModel)"
    if config.model_config.get("extra") != "forbid":
        return "Config must forbid unknown keys (model_config = ConfigDict(extra='forbid'))"
    for method in ("from_config", "fits", "request_counts"):
        if not callable(getattr(obj, method, None)):
            return f"has no {method}()"
    return None
