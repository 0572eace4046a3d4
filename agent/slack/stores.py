"""What the Slack commands read and change, as interfaces that later parts of ProdGuardian own.

Deploy marks, follow-ups and incidents get persistent, scheduled implementations later (the
monitoring and state issues); :mod:`prodguardian.slack.memory_stores` implements every interface
in memory now, so each subcommand already answers with the truth of this process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from prodguardian.deploy import ActiveDeploy
from prodguardian.errors import ProdGuardianError
from prodguardian.report import Report
from prodguardian.status import Status


class UnknownItemError(ProdGuardianError):
    """A follow-up or incident id that does not exist (or is already closed)."""

    def __init__(self, message: str, *, known: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.known = tuple(known)


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FollowUpItem(_Value):
    """Something to do or verify after a fix ("in 30 min re-run /check_prod")."""

    id: str
    text: str
    due_at: datetime | None = None
    created_at: datetime
    source: str | None = None
    """What it came from: a runbook id, a deploy mark."""
    done_by: str | None = None
    done_at: datetime | None = None


class Incident(_Value):
    """A check that is failing, from when it first failed until it is OK again."""

    id: str
    check: str
    status: Status
    opened_at: datetime
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    kind: str = "failing"
    """``failing``, or ``cannot_verify`` for a check that could not run."""
    reason: str = ""
    """Why it opened ("2 failing runs in a row")."""
    affected: tuple[str, ...] = ()
    """Dependants whose failures folded into this incident (``depends_on``)."""


class Silence(_Value):
    """Alerts for ``target`` (a check name or an incident id) are held back until ``until``."""

    target: str
    until: datetime
    by: str
    created_at: datetime


class DeployMarks(Protocol):
    """Deploy marks: "revision X went out now". The latest one is the reports' active deploy."""

    async def record(
        self, deploy: ActiveDeploy, *, by: str, service: str | None = None
    ) -> ActiveDeploy:
        """Record ``deploy`` as the active one and return it."""
        ...

    async def active(self) -> ActiveDeploy | None:
        """The deploy the next report splits before/after on, if any."""
        ...


class FollowUps(Protocol):
    """Follow-ups after fixes: listed by ``/check_prod followups``, closed by ``done``."""

    async def pending(self) -> Sequence[FollowUpItem]:
        """Open follow-ups, the soonest due first."""
        ...

    async def done(self, followup_id: str, *, by: str, at: datetime) -> FollowUpItem:
        """Close a follow-up; :class:`UnknownItemError` if no open one has that id."""
        ...

    async def remind(self, text: str, *, due_at: datetime, by: str, at: datetime) -> FollowUpItem:
        """Add a reminder for a person, due at ``due_at`` (``/check_prod followup add``)."""
        ...


class Incidents(Protocol):
    """Incidents opened and resolved from reports; acknowledged and silenced from Slack."""

    async def observe(self, report: Report) -> Sequence[Incident]:
        """Update incidents from ``report``; return the open ones of its checks."""
        ...

    async def open(self) -> Sequence[Incident]:
        """Every open incident, oldest first."""
        ...

    async def acknowledge(self, incident_id: str, *, by: str, at: datetime) -> Incident:
        """Mark an open incident as being handled; :class:`UnknownItemError` if there is none."""
        ...

    async def silence(self, target: str, *, until: datetime, by: str, at: datetime) -> Silence:
        """Hold back alerts for a check or incident until ``until``."""
        ...

    async def silences(self, *, now: datetime) -> Sequence[Silence]:
        """Silences still in force at ``now``."""
        ...

    async def unsilence(self, target: str, *, by: str, at: datetime) -> Silence:
        """Lift the silence of ``target``; :class:`UnknownItemError` if none is in force."""
        ...


class ReportHistory(Protocol):
    """The reports of past runs; ``/check_prod status`` shows the last one."""

    async def record(self, report: Report) -> None:
        """Keep ``report`` as the latest."""
        ...

    async def last(self) -> Report | None:
        """The latest full report, if any run has finished."""
        ...


@dataclass(frozen=True)
class Stores:
    """Every store the Slack commands use, handed to them as one value."""

    deploys: DeployMarks
    followups: FollowUps
    incidents: Incidents
    history: ReportHistory
