"""The log source contract and its plugin registry (entry-point group ``prodguardian.log_sources``).

A source kind is a class with a pydantic ``Config`` model (unknown keys forbidden), a
``from_config(config, *, base_dir)`` constructor and an ``async scan(query, consumer,
deadline=...)``. A broken plugin stops start-up with a :class:`RegistryError` naming it.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel

from prodguardian.errors import RegistryError
from prodguardian.logs.query import LogQuery, Traffic
from prodguardian.logs.scan_sink import EntryConsumer

ENTRY_POINT_GROUP = "prodguardian.log_sources"


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
        for name, cls in kinds.items():
            _validate(name, cls, origin=f"{cls.__module__}:{cls.__qualname__}")
        self._kinds = dict(kinds)

    @classmethod
    def from_entry_points(cls, eps: Iterable[EntryPoint] | None = None) -> LogSourceRegistry:
        found: dict[str, type[LogSourceKind]] = {}
        for ep in eps if eps is not None else entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in found:
                raise RegistryError(
                    f"log source kind {ep.name!r} is registered twice ({ep.value}); "
                    "uninstall one of the packages that provide it"
                )
            try:
                loaded = ep.load()
            except Exception as exc:
                raise RegistryError(
                    f"log source kind {ep.name!r} ({ep.value}) failed to import: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            _validate(ep.name, loaded, origin=ep.value)
            found[ep.name] = loaded
        return cls(found)

    def kinds(self) -> list[str]:
        return sorted(self._kinds)

    def get(self, name: str) -> type[LogSourceKind] | None:
        return self._kinds.get(name)


def _validate(name: str, obj: object, *, origin: str) -> None:
    if not inspect.isclass(obj):
        raise RegistryError(f"log source kind {name!r} ({origin}) is not a class")
    config = getattr(obj, "Config", None)
    if not (inspect.isclass(config) and issubclass(config, BaseModel)):
        raise RegistryError(
            f"log source kind {name!r} ({origin}) has no Config model (a pydantic BaseModel)"
        )
    if config.model_config.get("extra") != "forbid":
        raise RegistryError(
            f"log source kind {name!r} ({origin}): Config must forbid unknown keys "
            "(model_config = ConfigDict(extra='forbid'))"
        )
    if not callable(getattr(obj, "from_config", None)):
        raise RegistryError(f"log source kind {name!r} ({origin}) has no from_config()")
    if not inspect.iscoroutinefunction(getattr(obj, "scan", None)):
        raise RegistryError(f"log source kind {name!r} ({origin}) has no async scan()")
