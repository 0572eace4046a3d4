"""Errors clustered at instance starts: traffic served by an instance before it is warm.

Cloud Run logs ``Starting new instance. Reason: AUTOSCALING …`` in the system log of the
instance it starts. A few 5xx within seconds of such a line, on that same instance, are a
pattern of their own even when the service's overall error rate is low: every cold start
fails its first requests. :class:`ColdStartWatch` collects starts and 5xx responses during a
scan (memory bounded); :func:`find_cold_start_errors` decides, purely, which 5xx belong to a
start.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from prodguardian.logs.entry import LogEntry
from prodguardian.logs.normalise import normalise_route

#: Cloud Run's system-log line when it starts an instance (any reason: AUTOSCALING, DEPLOYMENT…).
START_PATTERN = r"Starting new instance"
#: Starts and 5xx kept per scan; past these the oldest part of the picture is what is judged.
MAX_STARTS = 10_000
MAX_FAILURES = 50_000


@dataclass(frozen=True, slots=True)
class InstanceStart:
    """One ``Starting new instance`` line: which instance, when, and what it said."""

    instance: str
    at: datetime
    revision: str | None
    text: str


@dataclass(frozen=True, slots=True)
class FailedResponse:
    """One 5xx of the request log, on the instance that served it."""

    instance: str
    at: datetime
    revision: str | None
    status: int
    route: str
    """``GET /api/threads/{id}``: method and normalised path."""


class ColdStartWatch:
    """A scan consumer that keeps instance starts and 5xx responses that name their instance."""

    def __init__(self, start_pattern: str = START_PATTERN) -> None:
        self._start = re.compile(start_pattern)
        self.starts: list[InstanceStart] = []
        self.failures: list[FailedResponse] = []

    def add(self, entry: LogEntry) -> None:
        instance = entry.instance
        if not instance:
            return
        http = entry.http
        if http is not None and http.status is not None and http.status >= 500:
            if len(self.failures) < MAX_FAILURES:
                route = f"{(http.method or 'GET').upper()} {normalise_route(http.path or '/')}"
                self.failures.append(
                    FailedResponse(instance, entry.timestamp, entry.revision, http.status, route)
                )
        elif len(self.starts) < MAX_STARTS and self._start.search(entry.text):
            first_line = entry.text.strip().split("\n", 1)[0]
            self.starts.append(InstanceStart(instance, entry.timestamp, entry.revision, first_line))


@dataclass(frozen=True, slots=True)
class ColdStartErrors:
    """Which 5xx came within ``within`` of a start of their own instance."""

    within: timedelta
    failures: int
    """5xx responses judged (those that name their instance)."""
    clustered: tuple[FailedResponse, ...]
    starts: tuple[InstanceStart, ...]
    """The starts that were followed by at least one clustered 5xx, earliest first."""
    all_starts: int

    @property
    def share(self) -> float:
        """Percent of the judged 5xx that are clustered at a start."""
        return 100.0 * len(self.clustered) / self.failures if self.failures else 0.0


def find_cold_start_errors(
    starts: Sequence[InstanceStart],
    failures: Sequence[FailedResponse],
    *,
    within: timedelta,
    counts: Callable[[str | None, datetime], bool] = lambda revision, at: True,
) -> ColdStartErrors:
    """The 5xx (of those ``counts`` keeps) that happened at most ``within`` after a start of
    the instance that answered them. A pure function of its inputs, in any order."""
    by_instance: dict[str, list[datetime]] = {}
    for start in starts:
        by_instance.setdefault(start.instance, []).append(start.at)
    for times in by_instance.values():
        times.sort()
    judged = [f for f in failures if counts(f.revision, f.at)]
    clustered: list[FailedResponse] = []
    hit: set[tuple[str, datetime]] = set()
    for failure in judged:
        started = by_instance.get(failure.instance)
        if not started:
            continue
        index = bisect_right(started, failure.at) - 1
        if index >= 0 and failure.at - started[index] <= within:
            clustered.append(failure)
            hit.add((failure.instance, started[index]))
    followed = sorted(
        (s for s in starts if (s.instance, s.at) in hit), key=lambda s: (s.at, s.instance)
    )
    return ColdStartErrors(
        within=within,
        failures=len(judged),
        clustered=tuple(sorted(clustered, key=lambda f: f.at)),
        starts=tuple(followed),
        all_starts=len(starts),
    )
