"""In-memory implementations of the stores: true for this process, forgotten on restart."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

from prodguardian.deploy import ActiveDeploy
from prodguardian.report import Report
from prodguardian.slack.stores import (
    FollowUpItem,
    Incident,
    Silence,
    Stores,
    UnknownItemError,
)
from prodguardian.status import Status

_FAILING = (Status.DEGRADED, Status.CRITICAL)


class MemoryDeployMarks:
    """Deploy marks kept in memory; the latest is the active deploy."""

    def __init__(self) -> None:
        self._marks: list[ActiveDeploy] = []

    async def record(
        self, deploy: ActiveDeploy, *, by: str, service: str | None = None
    ) -> ActiveDeploy:
        self._marks.append(deploy)
        return deploy

    async def active(self) -> ActiveDeploy | None:
        return self._marks[-1] if self._marks else None


class MemoryFollowUps:
    """Follow-ups kept in memory. :meth:`add` is how runbooks and deploy marks will fill it."""

    def __init__(self) -> None:
        self._items: dict[str, FollowUpItem] = {}
        self._next = 1

    def add(
        self,
        text: str,
        *,
        created_at: datetime,
        due_at: datetime | None = None,
        source: str | None = None,
    ) -> FollowUpItem:
        """Add an open follow-up and return it with its new id (``F-1``, ``F-2`` …)."""
        item = FollowUpItem(
            id=f"F-{self._next}", text=text, created_at=created_at, due_at=due_at, source=source
        )
        self._next += 1
        self._items[item.id] = item
        return item

    async def remind(self, text: str, *, due_at: datetime, by: str, at: datetime) -> FollowUpItem:
        return self.add(text, created_at=at, due_at=due_at, source=f"added by {by}")

    async def pending(self) -> Sequence[FollowUpItem]:
        open_items = [i for i in self._items.values() if i.done_at is None]
        return sorted(open_items, key=lambda i: (i.due_at is None, i.due_at or i.created_at))

    async def done(self, followup_id: str, *, by: str, at: datetime) -> FollowUpItem:
        item = self._items.get(followup_id.upper())
        if item is None or item.done_at is not None:
            known = [i.id for i in await self.pending()]
            raise UnknownItemError(f"no open follow-up {followup_id!r}", known=known)
        closed = item.model_copy(update={"done_by": by, "done_at": at})
        self._items[item.id] = closed
        return closed


class MemoryIncidents:
    """One incident per failing check, opened and resolved by the reports it observes."""

    def __init__(self) -> None:
        self._by_id: dict[str, Incident] = {}
        self._open_by_check: dict[str, str] = {}
        self._silences: list[Silence] = []
        self._next = 1
        self._lock = asyncio.Lock()

    async def observe(self, report: Report) -> Sequence[Incident]:
        async with self._lock:
            current: list[Incident] = []
            for run in report.checks:
                open_id = self._open_by_check.get(run.name)
                if run.status in _FAILING:
                    if open_id is None:
                        incident = Incident(
                            id=f"INC-{self._next}",
                            check=run.name,
                            status=run.status,
                            opened_at=run.started_at,
                        )
                        self._next += 1
                        self._open_by_check[run.name] = incident.id
                    else:
                        incident = self._by_id[open_id].model_copy(update={"status": run.status})
                    self._by_id[incident.id] = incident
                    current.append(incident)
                elif run.status is Status.OK and open_id is not None:
                    resolved = self._by_id[open_id].model_copy(
                        update={"status": Status.OK, "resolved_at": report.finished_at}
                    )
                    self._by_id[open_id] = resolved
                    del self._open_by_check[run.name]
                elif open_id is not None:
                    # UNKNOWN proves nothing either way: the incident stays as it was.
                    current.append(self._by_id[open_id])
            return current

    async def open(self) -> Sequence[Incident]:
        found = [self._by_id[i] for i in self._open_by_check.values()]
        return sorted(found, key=lambda i: i.opened_at)

    async def acknowledge(self, incident_id: str, *, by: str, at: datetime) -> Incident:
        async with self._lock:
            incident = self._by_id.get(incident_id.upper())
            if incident is None or incident.resolved_at is not None:
                known = [i.id for i in await self.open()]
                raise UnknownItemError(f"no open incident {incident_id!r}", known=known)
            if incident.acknowledged_by is None:
                incident = incident.model_copy(
                    update={"acknowledged_by": by, "acknowledged_at": at}
                )
                self._by_id[incident.id] = incident
            return incident

    async def silence(self, target: str, *, until: datetime, by: str, at: datetime) -> Silence:
        silence = Silence(target=target, until=until, by=by, created_at=at)
        self._silences = [s for s in self._silences if s.target != target]
        self._silences.append(silence)
        return silence

    async def silences(self, *, now: datetime) -> Sequence[Silence]:
        return [s for s in self._silences if s.until > now]

    async def unsilence(self, target: str, *, by: str, at: datetime) -> Silence:
        for silence in self._silences:
            if silence.target == target and silence.until > at:
                self._silences.remove(silence)
                return silence.model_copy(update={"until": at})
        known = [s.target for s in self._silences if s.until > at]
        raise UnknownItemError(f"no silence in force for {target!r}", known=known)


class MemoryReportHistory:
    """The latest report of a full run, kept in memory."""

    def __init__(self) -> None:
        self._last: Report | None = None

    async def record(self, report: Report) -> None:
        if self._last is None or report.finished_at >= self._last.finished_at:
            self._last = report

    async def last(self) -> Report | None:
        return self._last


def memory_stores() -> Stores:
    """A fresh set of in-memory stores."""
    return Stores(
        deploys=MemoryDeployMarks(),
        followups=MemoryFollowUps(),
        incidents=MemoryIncidents(),
        history=MemoryReportHistory(),
    )
