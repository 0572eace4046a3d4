from __future__ import annotations

from datetime import timedelta

import pytest

from prodguardian.deploy import ActiveDeploy
from prodguardian.slack.memory_stores import (
    MemoryDeployMarks,
    MemoryFollowUps,
    MemoryIncidents,
    MemoryReportHistory,
)
from prodguardian.slack.stores import UnknownItemError
from prodguardian.status import Status
from tests.slack.reports import T0, report, run


async def test_deploy_marks_latest_is_active() -> None:
    marks = MemoryDeployMarks()
    assert await marks.active() is None
    await marks.record(ActiveDeploy(revision="r1", since=T0), by="U1")
    await marks.record(ActiveDeploy(revision="r2", since=T0), by="U1")
    active = await marks.active()
    assert active is not None
    assert active.revision == "r2"


async def test_followups_pending_and_done() -> None:
    store = MemoryFollowUps()
    assert await store.pending() == []
    later = store.add("verify 24 h", created_at=T0, due_at=T0 + timedelta(hours=24))
    sooner = store.add("re-run", created_at=T0, due_at=T0 + timedelta(minutes=30))
    assert [i.id for i in await store.pending()] == [sooner.id, later.id]
    closed = await store.done("f-2", by="U1", at=T0)
    assert closed.done_by == "U1"
    assert [i.id for i in await store.pending()] == ["F-1"]
    with pytest.raises(UnknownItemError) as caught:
        await store.done("F-2", by="U1", at=T0)
    assert caught.value.known == ("F-1",)


async def test_incidents_open_update_resolve() -> None:
    incidents = MemoryIncidents()
    opened = await incidents.observe(report(run("api", Status.DEGRADED), run("db")))
    assert [(i.id, i.check, i.status) for i in opened] == [("INC-1", "api", Status.DEGRADED)]
    again = await incidents.observe(report(run("api", Status.CRITICAL)))
    assert [(i.id, i.status) for i in again] == [("INC-1", Status.CRITICAL)]
    unknown = await incidents.observe(report(run("api", Status.UNKNOWN)))
    assert [i.id for i in unknown] == ["INC-1"]
    assert await incidents.observe(report(run("api"))) == []
    assert await incidents.open() == []
    reopened = await incidents.observe(report(run("api", Status.CRITICAL)))
    assert [i.id for i in reopened] == ["INC-2"]


async def test_acknowledge_and_silence() -> None:
    incidents = MemoryIncidents()
    await incidents.observe(report(run("api", Status.CRITICAL)))
    acked = await incidents.acknowledge("inc-1", by="U1", at=T0)
    assert acked.acknowledged_by == "U1"
    first = await incidents.acknowledge("INC-1", by="U2", at=T0)
    assert first.acknowledged_by == "U1"
    with pytest.raises(UnknownItemError):
        await incidents.acknowledge("INC-9", by="U1", at=T0)
    await incidents.silence("api", until=T0 + timedelta(hours=1), by="U1", at=T0)
    assert [s.target for s in await incidents.silences(now=T0)] == ["api"]
    assert await incidents.silences(now=T0 + timedelta(hours=2)) == []


async def test_history_keeps_the_latest() -> None:
    history = MemoryReportHistory()
    assert await history.last() is None
    newer = report(run("a"))
    older = newer.model_copy(update={"finished_at": T0 - timedelta(hours=1)})
    await history.record(newer)
    await history.record(older)
    assert await history.last() == newer
