"""Check statuses, their order, and how several of them combine into one."""

from __future__ import annotations

import enum
from collections.abc import Iterable


class Status(enum.StrEnum):
    """The outcome of a check or a whole run.

    ``OK < DEGRADED < CRITICAL`` by severity; ``UNKNOWN`` means a check could not run
    (source unreachable, auth refused, timeout) and so proves nothing either way.
    """

    OK = "OK"
    DEGRADED = "DEGRADED"
    CRITICAL = "CRITICAL"
    UNKNOWN = "UNKNOWN"

    @property
    def exit_code(self) -> int:
        """The Nagios plugin convention: 0 OK, 1 DEGRADED, 2 CRITICAL, 3 UNKNOWN."""
        return _EXIT_CODES[self]

    @property
    def severity(self) -> int:
        """Rank of a known status; UNKNOWN ranks with OK here (see :func:`overall_status`)."""
        return _SEVERITY[self]


_EXIT_CODES = {Status.OK: 0, Status.DEGRADED: 1, Status.CRITICAL: 2, Status.UNKNOWN: 3}
_SEVERITY = {Status.OK: 0, Status.UNKNOWN: 0, Status.DEGRADED: 1, Status.CRITICAL: 2}


def worst(statuses: Iterable[Status]) -> Status:
    """The most severe of known statuses (OK for none); UNKNOWN entries are ignored."""
    known = [s for s in statuses if s is not Status.UNKNOWN]
    return max(known, key=lambda s: s.severity, default=Status.OK)


def overall_status(statuses: Iterable[Status]) -> Status:
    """The status of a run: the worst check, and never OK while something is unverified.

    A DEGRADED or CRITICAL finding is kept even when another check could not run, because
    it is what the team must act on; the unverified checks are listed beside it.
    """
    statuses = list(statuses)
    if not statuses:
        return Status.UNKNOWN
    found = worst(statuses)
    if found is Status.OK and Status.UNKNOWN in statuses:
        return Status.UNKNOWN
    return found
