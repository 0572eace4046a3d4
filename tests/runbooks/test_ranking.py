"""Ranking: the deciding signal, then the earliest failure, then the share, then specificity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prodguardian.runbooks.findings import RunbookMatch
from prodguardian.runbooks.model import Severity
from prodguardian.runbooks.ranking import Explained, rank

T0 = datetime(2025, 10, 11, 12, 0, tzinfo=UTC)


def match(id: str, score: float, count: int, *, failing: bool = True) -> RunbookMatch:
    return RunbookMatch(
        id=id,
        title=id,
        severity=Severity.HIGH,
        score=score,
        checks=("logs",),
        evidence=(),
        count=count,
        failing=failing,
        why=(),
        first_steps=(),
        follow_ups=(),
        source="test",
    )


def explained(count: int, *, signal: bool = False, after_s: float | None = 0) -> Explained:
    first = None if after_s is None else T0 + timedelta(seconds=after_s)
    return Explained(signal=signal, first_seen=first, count=count)


def ids(matches: list[RunbookMatch]) -> list[str]:
    return [m.id for m in matches]


def test_the_deciding_signal_outranks_a_busier_more_specific_symptom() -> None:
    ranked = rank(
        [
            (match("symptom", 4.5, 40), explained(40, after_s=30)),
            (match("cause", 3.5, 6), explained(6, signal=True, after_s=60)),
        ],
        total_errors=46,
        earliest=T0,
    )
    assert ids(ranked) == ["cause", "symptom"]
    assert ranked[0].explains == ("the signal that decided the status", "6 of 46 failing entries")


def test_without_a_signal_the_earliest_failure_comes_first() -> None:
    ranked = rank(
        [
            (match("symptom", 4.5, 40), explained(40, after_s=30)),
            (match("cause", 3.5, 6), explained(6, after_s=0.5)),
        ],
        total_errors=46,
        earliest=T0,
    )
    assert ids(ranked) == ["cause", "symptom"]
    assert ranked[0].explains[0] == "the earliest failure (12:00:00 UTC)"


def test_then_the_share_of_the_errors_then_specificity() -> None:
    ranked = rank(
        [
            (match("specific", 6.0, 2), explained(2, after_s=None)),
            (match("broad", 1.5, 30), explained(30, after_s=None)),
            (match("same-share-less-specific", 1.0, 30), explained(30, after_s=None)),
        ],
        total_errors=62,
        earliest=None,
    )
    assert ids(ranked) == ["broad", "same-share-less-specific", "specific"]


def test_heads_ups_from_passing_checks_come_last_and_explain_nothing() -> None:
    ranked = rank(
        [
            (match("heads-up", 9.0, 500, failing=False), explained(500, signal=True)),
            (match("failing", 1.0, 1), explained(1, after_s=10)),
        ],
        total_errors=1,
        earliest=T0,
    )
    assert ids(ranked) == ["failing", "heads-up"]
    assert ranked[1].explains == ()
