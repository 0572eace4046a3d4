"""Check kinds found through the ``prodguardian.checks`` entry-point group.

A kind that is registered twice, does not subclass :class:`Check`, or has no ``Params`` model
stops start-up with a :class:`RegistryError` naming the plugin: a monitor that silently skips
a check looks healthy when it is not.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from importlib.metadata import EntryPoint
from typing import cast

from pydantic import BaseModel

from prodguardian.check import Check
from prodguardian.plugins import load_plugins, vet_all

ENTRY_POINT_GROUP = "prodguardian.checks"
WHAT = "check kind"

CheckClass = type[Check[BaseModel]]


class CheckRegistry:
    """The check kinds ProdGuardian can run, by kind name."""

    def __init__(self, kinds: Mapping[str, CheckClass]) -> None:
        vet_all(dict(kinds), what=WHAT, vet=vet_check_kind)
        self._kinds = dict(kinds)

    @classmethod
    def from_entry_points(cls, eps: Iterable[EntryPoint] | None = None) -> CheckRegistry:
        """Load every kind registered under :data:`ENTRY_POINT_GROUP`."""
        found = load_plugins(ENTRY_POINT_GROUP, what=WHAT, vet=vet_check_kind, eps=eps)
        return cls({name: cast(CheckClass, kind) for name, kind in found.items()})

    def kinds(self) -> list[str]:
        return sorted(self._kinds)

    def get(self, kind: str) -> CheckClass | None:
        return self._kinds.get(kind)


def vet_check_kind(obj: object) -> str | None:
    """What keeps ``obj`` from being a check kind, or None."""
    if not (inspect.isclass(obj) and issubclass(obj, Check)):
        return "is not a subclass of prodguardian.check.Check"
    if inspect.isabstract(obj):
        return "does not implement run()"
    params = getattr(obj, "Params", None)
    if not (inspect.isclass(params) and issubclass(params, BaseModel)):
        return "has no Params model (a pydantic BaseModel subclass)"
    if params.model_config.get("extra") != "forbid":
        return (
            "Params must forbid unknown keys (model_config = ConfigDict(extra='forbid')) "
            "so that typos are reported"
        )
    return None
