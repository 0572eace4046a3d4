"""Check kinds found through the ``prodguardian.checks`` entry-point group.

A kind that is registered twice, does not subclass :class:`Check`, or has no ``Params`` model
stops start-up with a :class:`RegistryError` naming the plugin: a monitor that silently skips
a check looks healthy when it is not.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from importlib.metadata import EntryPoint, entry_points

from pydantic import BaseModel

from prodguardian.check import Check
from prodguardian.errors import RegistryError

ENTRY_POINT_GROUP = "prodguardian.checks"

CheckClass = type[Check[BaseModel]]


class CheckRegistry:
    """The check kinds ProdGuardian can run, by kind name."""

    def __init__(self, kinds: Mapping[str, CheckClass]) -> None:
        for kind, cls in kinds.items():
            _validate_plugin(kind, cls, origin=f"{cls.__module__}:{cls.__qualname__}")
        self._kinds = dict(kinds)

    @classmethod
    def from_entry_points(cls, eps: Iterable[EntryPoint] | None = None) -> CheckRegistry:
        """Load every kind registered under :data:`ENTRY_POINT_GROUP`."""
        found: dict[str, CheckClass] = {}
        origins: dict[str, str] = {}
        for ep in eps if eps is not None else entry_points(group=ENTRY_POINT_GROUP):
            origin = _origin(ep)
            if ep.name in found:
                raise RegistryError(
                    f"check kind {ep.name!r} is registered twice: by {origins[ep.name]} "
                    f"and by {origin}; uninstall one of them"
                )
            try:
                loaded = ep.load()
            except Exception as exc:
                raise RegistryError(
                    f"check kind {ep.name!r} ({origin}) failed to import: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            _validate_plugin(ep.name, loaded, origin=origin)
            found[ep.name] = loaded
            origins[ep.name] = origin
        return cls(found)

    def kinds(self) -> list[str]:
        return sorted(self._kinds)

    def get(self, kind: str) -> CheckClass | None:
        return self._kinds.get(kind)


def _origin(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    package = f"package {dist.name}, " if dist is not None else ""
    return f"{package}{ep.value}"


def _validate_plugin(kind: str, obj: object, *, origin: str) -> None:
    if not (inspect.isclass(obj) and issubclass(obj, Check)):
        raise RegistryError(
            f"check kind {kind!r} ({origin}) is not a subclass of prodguardian.check.Check"
        )
    if inspect.isabstract(obj):
        raise RegistryError(f"check kind {kind!r} ({origin}) does not implement run()")
    params = getattr(obj, "Params", None)
    if not (inspect.isclass(params) and issubclass(params, BaseModel)):
        raise RegistryError(
            f"check kind {kind!r} ({origin}) has no Params model (a pydantic BaseModel subclass)"
        )
    if params.model_config.get("extra") != "forbid":
        raise RegistryError(
            f"check kind {kind!r} ({origin}): Params must forbid unknown keys "
            "(model_config = ConfigDict(extra='forbid')) so that typos are reported"
        )
