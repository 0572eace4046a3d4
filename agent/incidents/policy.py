"""When a check's runs open, change and resolve an incident: pure decisions, no I/O.

A check's recent outcomes are a :class:`CheckTrack`; :func:`judge` takes it, the new outcome,
the check's open incident (if any) and its thresholds, and says what happens. The tracker
(:mod:`prodguardian.incidents.tracker`) stores the result and writes the alerts.

* ``failure_threshold`` failing runs in a row (DEGRADED or CRITICAL), or ``flapping.failures``
  of the last ``flapping.of``, open a *failing* incident.
* ``failure_threshold`` runs in a row that could not verify (UNKNOWN) open a *cannot verify*
  incident of its own: a monitor that cannot see must say so, never leave a silent gap.
* A worse status escalates the open incident, a milder one de-escalates it.
* ``success_threshold`` passing runs in a row resolve it. UNKNOWN proves nothing either way: it
  neither resolves a failing incident nor counts towards its threshold.
* While a dependency is failing, a dependant's failures fold into the dependency's incident.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from prodguardian.status import Status
from prodguardian.watch.plan import CheckPlan

#: How many outcomes a track remembers (the longest ``flapping.of``).
TRACK_LENGTH = 100

_LETTER = {Status.OK: "O", Status.DEGRADED: "D", Status.CRITICAL: "C", Status.UNKNOWN: "U"}
_FAILING = (Status.DEGRADED, Status.CRITICAL)


class IncidentKind(enum.StrEnum):
    """Why an incident is open."""

    FAILING = "failing"
    CANNOT_VERIFY = "cannot_verify"


class Transition(enum.StrEnum):
    """What a new outcome does to the check's incident."""

    NONE = "none"
    OPEN = "open"
    ESCALATE = "escalate"
    DEESCALATE = "deescalate"
    CONVERT = "convert"
    """A *cannot verify* incident becomes a *failing* one (or back)."""
    RESOLVE = "resolve"
    FOLD = "fold"
    """The failure belongs to a failing dependency's incident."""


@dataclass(frozen=True)
class CheckTrack:
    """A check's recent outcomes, as kept between runs."""

    failures_in_row: int = 0
    unknown_in_row: int = 0
    ok_in_row: int = 0
    recent: str = ""
    """The last outcomes, oldest first, one letter each (O, D, C, U)."""

    def after(self, status: Status) -> CheckTrack:
        """The track once ``status`` is added."""
        recent = (self.recent + _LETTER[status])[-TRACK_LENGTH:]
        if status in _FAILING:
            return CheckTrack(self.failures_in_row + 1, 0, 0, recent)
        if status is Status.OK:
            return CheckTrack(0, 0, self.ok_in_row + 1, recent)
        return replace(self, unknown_in_row=self.unknown_in_row + 1, recent=recent)

    def failures_of_last(self, count: int) -> int:
        """How many of the last ``count`` outcomes failed."""
        return sum(1 for letter in self.recent[-count:] if letter in "DC")

    @property
    def failing(self) -> bool:
        """Whether the latest known outcome failed."""
        return self.failures_in_row > 0


@dataclass(frozen=True)
class OpenIncident:
    """What the policy needs to know of the check's open incident."""

    kind: IncidentKind
    status: Status


@dataclass(frozen=True)
class Verdict:
    """The outcome of :func:`judge`: the new track, and what happens to the incident."""

    track: CheckTrack
    transition: Transition
    kind: IncidentKind | None = None
    status: Status | None = None
    reason: str = ""


def judge(
    track: CheckTrack,
    status: Status,
    incident: OpenIncident | None,
    plan: CheckPlan,
    *,
    failing_dependency: str | None = None,
) -> Verdict:
    """What ``status`` does, given the check's ``track`` and open ``incident``."""
    new = track.after(status)
    if status in _FAILING:
        return _failing(new, status, incident, plan, failing_dependency)
    if status is Status.OK:
        if incident is not None and new.ok_in_row >= plan.success_threshold:
            return Verdict(new, Transition.RESOLVE, incident.kind, Status.OK, _ok_reason(new))
        return Verdict(new, Transition.NONE)
    return _unknown(new, incident, plan, failing_dependency)


def _failing(
    track: CheckTrack,
    status: Status,
    incident: OpenIncident | None,
    plan: CheckPlan,
    failing_dependency: str | None,
) -> Verdict:
    if incident is None:
        if failing_dependency is not None:
            return Verdict(
                track,
                Transition.FOLD,
                IncidentKind.FAILING,
                status,
                f"its dependency {failing_dependency} is failing",
            )
        if track.failures_in_row >= plan.failure_threshold:
            reason = f"{track.failures_in_row} failing runs in a row"
            return Verdict(track, Transition.OPEN, IncidentKind.FAILING, status, reason)
        flapping = plan.flapping
        if flapping is not None and track.failures_of_last(flapping.of) >= flapping.failures:
            reason = (
                f"flapping: {track.failures_of_last(flapping.of)} of the last "
                f"{min(flapping.of, len(track.recent))} runs failed"
            )
            return Verdict(track, Transition.OPEN, IncidentKind.FAILING, status, reason)
        return Verdict(track, Transition.NONE)
    if incident.kind is IncidentKind.CANNOT_VERIFY:
        return Verdict(
            track,
            Transition.CONVERT,
            IncidentKind.FAILING,
            status,
            "the check runs again and fails",
        )
    if status.severity > incident.status.severity:
        return Verdict(track, Transition.ESCALATE, incident.kind, status, "worse")
    if status.severity < incident.status.severity:
        return Verdict(track, Transition.DEESCALATE, incident.kind, status, "milder")
    return Verdict(track, Transition.NONE, incident.kind, status)


def _unknown(
    track: CheckTrack,
    incident: OpenIncident | None,
    plan: CheckPlan,
    failing_dependency: str | None,
) -> Verdict:
    if incident is not None:
        # A failing incident stays as it was: not being able to look proves nothing.
        return Verdict(track, Transition.NONE, incident.kind, incident.status)
    if failing_dependency is not None:
        return Verdict(
            track,
            Transition.FOLD,
            IncidentKind.CANNOT_VERIFY,
            Status.UNKNOWN,
            f"its dependency {failing_dependency} is failing",
        )
    if track.unknown_in_row >= plan.failure_threshold:
        reason = f"could not run {track.unknown_in_row} times in a row"
        return Verdict(track, Transition.OPEN, IncidentKind.CANNOT_VERIFY, Status.UNKNOWN, reason)
    return Verdict(track, Transition.NONE)


def _ok_reason(track: CheckTrack) -> str:
    return f"{track.ok_in_row} passing runs in a row"


def reminder_due(
    *,
    last_notified_s_ago: float | None,
    acknowledged: bool,
    held_back: bool,
    repeat_interval_s: float,
) -> bool:
    """Whether an open incident's thread should get a reminder now."""
    if acknowledged or held_back or last_notified_s_ago is None:
        return False
    return last_notified_s_ago >= repeat_interval_s
