"""Loading plugins from an entry-point group: the one place that finds, imports and vets them.

Check kinds, log sources and trace sources are all plugins. Whatever the group, a plugin that
is registered twice, fails to import, or does not follow its contract stops start-up with a
:class:`RegistryError` naming it and the package it came from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib.metadata import EntryPoint, entry_points

from prodguardian.errors import RegistryError

Vet = Callable[[object], str | None]
"""Says what is wrong with a loaded plugin (``"has no Params model"``), or None if nothing is."""


def load_plugins(
    group: str, *, what: str, vet: Vet, eps: Iterable[EntryPoint] | None = None
) -> dict[str, object]:
    """Every plugin of ``group`` by name, each imported and vetted; ``what`` names the kind."""
    found: dict[str, object] = {}
    origins: dict[str, str] = {}
    for ep in eps if eps is not None else entry_points(group=group):
        origin = plugin_origin(ep)
        if ep.name in found:
            raise RegistryError(
                f"{what} {ep.name!r} is registered twice: by {origins[ep.name]} "
                f"and by {origin}; uninstall one of them"
            )
        try:
            loaded = ep.load()
        except Exception as exc:
            raise RegistryError(
                f"{what} {ep.name!r} ({origin}) failed to import: {type(exc).__name__}: {exc}"
            ) from exc
        problem = vet(loaded)
        if problem is not None:
            raise RegistryError(f"{what} {ep.name!r} ({origin}) {problem}")
        found[ep.name] = loaded
        origins[ep.name] = origin
    return found


def vet_all(plugins: dict[str, object], *, what: str, vet: Vet) -> None:
    """Vet plugins handed over directly (tests, embedding) the same way as loaded ones."""
    for name, obj in plugins.items():
        problem = vet(obj)
        if problem is not None:
            origin = f"{getattr(obj, '__module__', '?')}:{getattr(obj, '__qualname__', obj)}"
            raise RegistryError(f"{what} {name!r} ({origin}) {problem}")


def plugin_origin(ep: EntryPoint) -> str:
    """Which package registered ``ep``, and its target: what a user uninstalls or fixes."""
    dist = getattr(ep, "dist", None)
    package = f"package {dist.name}, " if dist is not None else ""
    return f"{package}{ep.value}"
