"""The incident policy: thresholds, flapping, unknown runs, escalation, dependencies."""

from __future__ import annotations

import pytest

from prodguardian.config.models import FlappingConfig
from prodguardian.incidents.policy import (
    CheckTrack,
    IncidentKind,
    OpenIncident,
    Transition,
    judge,
    reminder_due,
)
from prodguardian.status import Status
from prodguardian.watch.plan import CheckPlan

OK, DEG, CRIT, UNK = Status.OK, Status.DEGRADED, Status.CRITICAL, Status.UNKNOWN


def plan(**overrides: object) -> CheckPlan:
    values: dict[str, object] = {
        "name": "api",
        "interval_s": 60.0,
        "failure_threshold": 2,
        "success_threshold": 2,
        "repeat_interval_s": 3600.0,
    }
    values.update(overrides)
    return CheckPlan(**values)  # type: ignore[arg-type]


def replay(statuses: list[Status], p: CheckPlan) -> list[Transition]:
    """Feed outcomes through the policy as the tracker would; the transitions."""
    track = CheckTrack()
    incident: OpenIncident | None = None
    seen = []
    for status in statuses:
        verdict = judge(track, status, incident, p)
        track = verdict.track
        seen.append(verdict.transition)
        if verdict.transition in (Transition.OPEN, Transition.CONVERT):
            assert verdict.kind is not None
            assert verdict.status is not None
            incident = OpenIncident(verdict.kind, verdict.status)
        elif verdict.transition in (Transition.ESCALATE, Transition.DEESCALATE):
            assert incident is not None
            assert verdict.status is not None
            incident = OpenIncident(incident.kind, verdict.status)
        elif verdict.transition is Transition.RESOLVE:
            incident = None
    return seen


def test_one_failure_is_not_an_incident_two_in_a_row_are() -> None:
    assert replay([DEG, OK, DEG, OK], plan()) == [Transition.NONE] * 4
    assert replay([DEG, DEG], plan())[-1] is Transition.OPEN


def test_the_threshold_is_configurable() -> None:
    assert Transition.OPEN not in replay([CRIT, CRIT], plan(failure_threshold=3))
    assert replay([CRIT, CRIT, CRIT], plan(failure_threshold=3))[-1] is Transition.OPEN


def test_worse_escalates_milder_deescalates_and_passing_runs_resolve() -> None:
    seen = replay([DEG, DEG, CRIT, DEG, OK, OK], plan())
    assert seen == [
        Transition.NONE,
        Transition.OPEN,
        Transition.ESCALATE,
        Transition.DEESCALATE,
        Transition.NONE,
        Transition.RESOLVE,
    ]


def test_unknown_neither_resolves_nor_breaks_the_passing_streak() -> None:
    seen = replay([DEG, DEG, UNK, UNK, UNK, OK, UNK, OK], plan())
    assert seen[1] is Transition.OPEN
    assert Transition.RESOLVE not in seen[:7]
    assert seen[-1] is Transition.RESOLVE


def test_a_check_that_cannot_run_opens_a_cannot_verify_incident() -> None:
    track = CheckTrack()
    verdict = judge(track, UNK, None, plan())
    assert verdict.transition is Transition.NONE
    verdict = judge(verdict.track, UNK, None, plan())
    assert verdict.transition is Transition.OPEN
    assert verdict.kind is IncidentKind.CANNOT_VERIFY
    assert "could not run 2 times" in verdict.reason
    # It runs again and fails: the same incident becomes a failing one.
    converted = judge(verdict.track, CRIT, OpenIncident(IncidentKind.CANNOT_VERIFY, UNK), plan())
    assert converted.transition is Transition.CONVERT
    assert converted.kind is IncidentKind.FAILING


def test_flapping_opens_an_incident_without_two_in_a_row() -> None:
    flapping = plan(flapping=FlappingConfig(of=10, failures=4))
    seen = replay([DEG, OK, DEG, OK, DEG, OK, DEG], flapping)
    assert seen[-1] is Transition.OPEN
    assert (
        "flapping: 4 of the last 7 runs failed"
        in judge(CheckTrack(recent="DODODO", failures_in_row=0), DEG, None, flapping).reason
    )
    assert Transition.OPEN not in replay([DEG, OK, DEG, OK, DEG, OK, DEG], plan())


def test_a_failing_dependency_folds_the_dependants_failure() -> None:
    verdict = judge(CheckTrack(failures_in_row=5), DEG, None, plan(), failing_dependency="db")
    assert verdict.transition is Transition.FOLD
    assert "db" in verdict.reason


def test_the_track_remembers_a_bounded_history() -> None:
    track = CheckTrack()
    for _ in range(250):
        track = track.after(DEG)
    assert len(track.recent) == 100
    assert track.failures_of_last(10) == 10


@pytest.mark.parametrize(
    ("ago", "acknowledged", "held", "due"),
    [
        (3599.0, False, False, False),
        (3600.0, False, False, True),
        (7200.0, True, False, False),
        (7200.0, False, True, False),
        (None, False, False, False),
    ],
)
def test_reminders(ago: float | None, acknowledged: bool, held: bool, due: bool) -> None:
    assert (
        reminder_due(
            last_notified_s_ago=ago,
            acknowledged=acknowledged,
            held_back=held,
            repeat_interval_s=3600.0,
        )
        is due
    )
