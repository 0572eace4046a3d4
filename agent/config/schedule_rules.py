"""The schedule's rules that span several keys: intervals, dependencies, maintenance windows.

Each problem is a ``(key path, message)`` pair, so the loader reports them with every other
problem of the file at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from prodguardian.config.keypath import format_key_path
from prodguardian.config.models import MIN_INTERVAL_S, Config, MaintenanceWindow

Problem = tuple[str, str]


def schedule_problems(config: Config) -> list[Problem]:
    """Every problem of the schedule part of ``config`` (empty when it is sound)."""
    problems = _interval_problems(config)
    problems += _dependency_problems(config)
    problems += _maintenance_problems(config.maintenance, {c.name for c in config.checks})
    return problems


def _interval_problems(config: Config) -> list[Problem]:
    problems: list[Problem] = []
    if config.monitoring.interval < MIN_INTERVAL_S:
        problems.append(
            (
                "monitoring.interval",
                f"must be at least {MIN_INTERVAL_S:g}s, got {config.monitoring.interval:g}s",
            )
        )
    for index, spec in enumerate(config.checks):
        if spec.interval is not None and spec.interval < MIN_INTERVAL_S:
            problems.append(
                (
                    format_key_path(("checks", index, "interval")),
                    f"must be at least {MIN_INTERVAL_S:g}s, got {spec.interval:g}s "
                    f"(check {spec.name!r})",
                )
            )
    return problems


def _dependency_problems(config: Config) -> list[Problem]:
    names = [c.name for c in config.checks]
    known = set(names)
    problems: list[Problem] = []
    edges: dict[str, tuple[str, ...]] = {}
    for index, spec in enumerate(config.checks):
        for position, dependency in enumerate(spec.depends_on):
            key = format_key_path(("checks", index, "depends_on", position))
            if dependency not in known:
                problems.append(
                    (
                        key,
                        f"unknown check {dependency!r}; configured checks: "
                        f"{', '.join(sorted(known))}",
                    )
                )
            elif dependency == spec.name:
                problems.append((key, f"check {spec.name!r} cannot depend on itself"))
        edges[spec.name] = tuple(d for d in spec.depends_on if d in known and d != spec.name)
    cycle = find_cycle(edges)
    if cycle is not None:
        index = names.index(cycle[0])
        problems.append(
            (
                format_key_path(("checks", index, "depends_on")),
                "dependency cycle: " + " → ".join((*cycle, cycle[0])),
            )
        )
    return problems


def find_cycle(edges: Mapping[str, Sequence[str]]) -> tuple[str, ...] | None:
    """A cycle in the ``depends_on`` graph, as the names along it, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> tuple[str, ...] | None:
        state[node] = 1
        path.append(node)
        for nxt in edges.get(node, ()):
            if state.get(nxt) == 1:
                return tuple(path[path.index(nxt) :])
            if nxt not in state:
                found = visit(nxt)
                if found is not None:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in edges:
        if node not in state:
            found = visit(node)
            if found is not None:
                return found
    return None


def _maintenance_problems(windows: Sequence[MaintenanceWindow], known: set[str]) -> list[Problem]:
    problems: list[Problem] = []
    for index, window in enumerate(windows):
        at = ("maintenance", index)
        if window.start.tzinfo is None or window.end.tzinfo is None:
            problems.append(
                (format_key_path(at), "start and end need a time zone (write …Z for UTC)")
            )
            continue
        if window.end <= window.start:
            problems.append(
                (
                    format_key_path((*at, "end")),
                    f"ends ({window.end.isoformat()}) before it starts "
                    f"({window.start.isoformat()})",
                )
            )
        for position, name in enumerate(window.checks):
            if name not in known:
                problems.append(
                    (format_key_path((*at, "checks", position)), f"unknown check {name!r}")
                )
    for later in range(len(windows)):
        for earlier in range(later):
            a, b = windows[earlier], windows[later]
            if _aware(a) and _aware(b) and _overlap(a, b):
                problems.append(
                    (
                        format_key_path(("maintenance", later)),
                        f"overlaps maintenance[{earlier}] "
                        f"({a.start.isoformat()} – {a.end.isoformat()}); merge them into one "
                        "window",
                    )
                )
    return problems


def _aware(window: MaintenanceWindow) -> bool:
    return window.start.tzinfo is not None and window.end.tzinfo is not None


def _overlap(a: MaintenanceWindow, b: MaintenanceWindow) -> bool:
    shared = not a.checks or not b.checks or bool(set(a.checks) & set(b.checks))
    return shared and a.start < b.end and b.start < a.end and a.start < a.end and b.start < b.end
