"""Which matched runbook comes first: the one that explains the failure, not the busiest rule.

A revision that cannot start fails with an import error first, then Cloud Run says it is not
ready (the signal that made the check CRITICAL), then every route answers 503, static files
included. The liveness-probe runbook matches those 503s with a more specific rule than the
roll-back runbook's; ranking on rule specificity alone put the symptom first. So a match is
weighed by what it explains:

- the signal that decided a check's status by itself (a critical pattern, errors clustered at
  instance starts) — this outweighs everything else;
- the earliest failure of the run (causes come before their effects);
- the share of the failing errors it covers;
- and only then how specific its best rule is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from prodguardian.runbooks.findings import RunbookMatch

SIGNAL_WEIGHT = 5.0
EARLIEST_WEIGHT = 2.0
SHARE_WEIGHT = 2.0
#: Per point of rule score (a message pattern is 3): a tie-breaker between explanations.
SPECIFICITY_WEIGHT = 0.1
#: Failures this close to the earliest one count as the earliest too (one event, two lines).
EARLIEST_TOLERANCE = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class Explained:
    """What one runbook's matches cover in a run's failures."""

    signal: bool
    """It matched a signal that decided a check's status by itself."""
    first_seen: datetime | None
    """The earliest failure it matched in a failing check."""
    count: int
    """Occurrences it covers."""


def rank(
    matches: Sequence[tuple[RunbookMatch, Explained]],
    *,
    total_errors: int,
    earliest: datetime | None,
) -> list[RunbookMatch]:
    """``matches`` best first, each with ``explains`` saying what put it there.

    ``total_errors`` and ``earliest`` describe every failure of the failing checks (matched
    or not). Runbooks of failing checks come before heads-ups from passing ones; within each,
    by relevance, then severity, count and id.
    """
    weighed = []
    for match, explained in matches:
        value, reasons = _relevance(match, explained, earliest=earliest, total=total_errors)
        weighed.append((value, match.model_copy(update={"explains": reasons})))
    weighed.sort(
        key=lambda item: (
            not item[1].failing,
            -item[0],
            -item[1].severity.rank,
            -item[1].count,
            item[1].id,
        )
    )
    return [match for _, match in weighed]


def _relevance(
    match: RunbookMatch, explained: Explained, *, earliest: datetime | None, total: int
) -> tuple[float, tuple[str, ...]]:
    value = SPECIFICITY_WEIGHT * match.score
    reasons: list[str] = []
    if not match.failing:
        return value, ()
    if explained.signal:
        value += SIGNAL_WEIGHT
        reasons.append("the signal that decided the status")
    first = explained.first_seen
    if first is not None and earliest is not None and first - earliest <= EARLIEST_TOLERANCE:
        value += EARLIEST_WEIGHT
        reasons.append(f"the earliest failure ({first:%H:%M:%S} UTC)")
    if total > 0 and explained.count:
        share = min(explained.count / total, 1.0)
        value += SHARE_WEIGHT * share
        reasons.append(f"{min(explained.count, total)} of {total} failing entries")
    return value, tuple(reasons)
