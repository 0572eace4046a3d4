"""The log source contract and its plugin registry (entry-point group ``prodguardian.log_sources``).

A source kind is a class with a pydantic ``Config`` model (unknown keys forbidden), a
``from_config(config, *, base_dir)`` constructor and an ``async scan(query, consumer,
deadline=...)``. A broken plugin stops start-up with a :class:`RegistryError` naming it.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any, ClassVar, Protocol, cast, runtime_checkable

from pydantic import BaseModel

from prodguardian.logs.query import LogQuery, Traffic
from prodguardian.logs.scan_sink import EntryConsumer
from prodguardian.plugins import load_plugins, vet_all

ENTRY_POINT_GROUP = "prodguardian.log_sources"
WHAT = "log source kind"


@runtime_checkable
class LogSource(Protocol):
    """Where log entries come from.

    ``scan`` reads every entry of ``query.window`` in ``query.scope``, hands those that
    ``query.interest`` wants to ``consumer`` (tracebacks joined), and returns the traffic it
    counted. It must finish by ``deadline`` (a ``time.monotonic()`` value) and raises
    :class:`~prodguardian.errors.SourceError`, saying what to fix, when it cannot read.
    """

    async def scan(self, query: LogQuery, consumer: EntryConsumer, *, deadline: float) -> Traffic:
        """Scan once; see the class docstring."""
        ...


class LogSourceKind(Protocol):
    """What a plugin registers: a config model and a constructor from it."""

    Config: ClassVar[type[BaseModel]]

    @classmethod
    def from_config(cls, config: Any, *, base_dir: Path) -> LogSource: ...


class LogSourceRegistry:
    """The installed log source kinds, by name (``file``, ``cloud_logging``...)."""

    def __init__(self, kinds: Mapping[str, type[LogSourceKind]]) -> None:
        vet_all(dict(kinds), what=WHAT, vet=vet_log_source_kind)
        self._kinds = dict(kinds)

    @classmethod
    def from_entry_points(cls, eps: Iterable[EntryPoint] | None = None) -> LogSourceRegistry:
        found = load_plugins(ENTRY_POINT_GROUP, what=WHAT, vet=vet_log_source_kind, eps=eps)
        return cls({name: cast(type[LogSourceKind], kind) for name, kind in found.items()})

    def kinds(self) -> list[str]:
        return sorted(self._kinds)

    def get(self, name: str) -> type[LogSourceKind] | None:
        return self._kinds.get(name)


def vet_log_source_kind(obj: object) -> str | None:
    """What keeps ``obj`` from being a log source kind, or None."""
    if not inspect.isclass(obj):
        return "is not a class"
    config = getattr(obj, "Config", None)
    if not (inspect.isclass(config) and issubclass(config, BaseModel)):
        return "has no Config model (a pydantic BaseModel)"
    if config.model_config.get("extra") != "forbid":
        return "Config must forbid unknown keys (model_config = ConfigDict(extra='forbid'))"
    if not callable(getattr(obj, "from_config", None)):
        return "has no from_config()"
    if not inspect.iscoroutinefunction(getattr(obj, "scan", None)):
        return "has no async scan()"
    return None
