"""What the schedule runs: each check's interval and incident thresholds, resolved from config.

A check's own keys win over ``monitoring:``'s defaults. Checks linked by ``depends_on`` form a
group that runs as one job (dependencies first, at the shortest interval of the group), so a
dependant is never judged on a dependency's stale state.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from prodguardian.config.models import Config, FlappingConfig

#: The first runs of the checks are spread over at most this long by default.
DEFAULT_MAX_SPREAD_S = 10.0


@dataclass(frozen=True, kw_only=True)
class CheckPlan:
    """One check's schedule and incident thresholds."""

    name: str
    interval_s: float
    failure_threshold: int
    success_threshold: int
    repeat_interval_s: float
    flapping: FlappingConfig | None = None
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class JobPlan:
    """One scheduled job: the checks it runs (dependencies first) and how often."""

    id: str
    checks: tuple[str, ...]
    interval_s: float
    offset_s: float
    """Delay of the first run, spreading the jobs over the interval."""


def check_plans(config: Config) -> dict[str, CheckPlan]:
    """Every check's plan, by name, in config order."""
    defaults = config.monitoring
    return {
        spec.name: CheckPlan(
            name=spec.name,
            interval_s=spec.interval or defaults.interval,
            failure_threshold=spec.failure_threshold or defaults.failure_threshold,
            success_threshold=spec.success_threshold or defaults.success_threshold,
            repeat_interval_s=spec.repeat_interval or defaults.repeat_interval,
            flapping=spec.flapping or defaults.flapping,
            depends_on=spec.depends_on,
        )
        for spec in config.checks
    }


def job_plans(config: Config) -> list[JobPlan]:
    """The scheduler's jobs: one per check, or one per ``depends_on`` group."""
    plans = check_plans(config)
    jobs = []
    for group in dependency_groups(plans):
        interval = min(plans[name].interval_s for name in group)
        spread = config.monitoring.jitter
        if spread is None:
            spread = min(interval, DEFAULT_MAX_SPREAD_S)
        job_id = "+".join(group)
        jobs.append(
            JobPlan(
                id=job_id,
                checks=group,
                interval_s=interval,
                offset_s=min(spread, interval) * _fraction(job_id),
            )
        )
    return jobs


def dependency_groups(plans: Mapping[str, CheckPlan]) -> list[tuple[str, ...]]:
    """Connected groups of checks under ``depends_on``, each in dependency order."""
    parent = {name: name for name in plans}

    def root(name: str) -> str:
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    for plan in plans.values():
        for dependency in plan.depends_on:
            if dependency in parent:
                parent[root(plan.name)] = root(dependency)
    members: dict[str, list[str]] = {}
    for name in plans:
        members.setdefault(root(name), []).append(name)
    return [dependency_order(group, plans) for group in members.values()]


def dependency_order(names: Sequence[str], plans: Mapping[str, CheckPlan]) -> tuple[str, ...]:
    """``names`` with every dependency before its dependants (config order otherwise)."""
    placed: list[str] = []
    seen: set[str] = set()

    def place(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        for dependency in plans[name].depends_on:
            if dependency in plans:
                place(dependency)
        placed.append(name)

    for name in names:
        place(name)
    return tuple(placed)


def _fraction(key: str) -> float:
    """A stable number in [0, 1) from ``key``: the same spread on every start."""
    return zlib.crc32(key.encode()) / 2**32
