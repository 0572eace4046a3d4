"""The runner's spans and metrics, read back from in-memory exporters."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import ClassVar

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.metrics.export import HistogramDataPoint
from pydantic import BaseModel, ConfigDict

from prodguardian.check import Check
from prodguardian.context import CheckContext
from prodguardian.errors import CheckError
from prodguardian.result import CheckResult
from prodguardian.runner import run_checks
from prodguardian.status import Status
from prodguardian.telemetry import instruments
from prodguardian.traces.receiver import PROTOBUF, traces_router
from prodguardian.traces.store import TraceStore
from tests.telemetry.conftest import Captured
from tests.traces.otlp_payloads import Request, protobuf_body
from tests.traces.uvicorn_server import serve_in_thread


class OutcomeParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Status = Status.OK
    fail: bool = False


class OutcomeCheck(Check[OutcomeParams]):
    """Says the status it is given (or cannot run), inside a span of its own work."""

    Params: ClassVar[type[BaseModel]] = OutcomeParams

    async def run(self, ctx: CheckContext) -> CheckResult:
        with instruments.current().tracer.start_as_current_span("probe"):
            if self.params.fail:
                raise CheckError("target unreachable")
        return CheckResult(status=self.params.status, summary="done")


def check(name: str, **params: object) -> OutcomeCheck:
    return OutcomeCheck(name=name, kind="outcome", params=OutcomeParams(**params))


async def test_a_run_has_a_span_with_a_child_per_check(captured: Captured) -> None:
    await run_checks([check("api"), check("db", status=Status.CRITICAL), check("x", fail=True)])
    spans = {s.name: s for s in captured.spans.get_finished_spans()}
    run = spans["prodguardian.run"]
    assert run.attributes == {"prodguardian.run.checks": 3, "prodguardian.run.status": "CRITICAL"}
    for name, status in (("api", "OK"), ("db", "CRITICAL"), ("x", "UNKNOWN")):
        span = spans[f"check {name}"]
        assert span.parent is not None
        assert span.parent.span_id == run.context.span_id
        assert span.attributes == {
            "prodguardian.check.name": name,
            "prodguardian.check.kind": "outcome",
            "prodguardian.check.status": status,
        }
    unknown = spans["check x"]
    assert unknown.status.description == "target unreachable"
    probes = [s for s in captured.spans.get_finished_spans() if s.name == "probe"]
    assert {p.parent.span_id for p in probes if p.parent} == {
        spans[f"check {n}"].context.span_id for n in ("api", "db", "x")
    }


async def test_check_duration_and_status_metrics(captured: Captured) -> None:
    await run_checks([check("api"), check("db", status=Status.DEGRADED)])
    await run_checks([check("api", status=Status.CRITICAL)])
    status = captured.values("prodguardian.check.status")
    kind = ("prodguardian.check.kind", "outcome")
    assert status == {
        (kind, ("prodguardian.check.name", "api")): 2,  # the last run's CRITICAL
        (kind, ("prodguardian.check.name", "db")): 1,
    }
    durations = captured.points("prodguardian.check.duration")
    by_key = {}
    for point in durations:
        assert isinstance(point, HistogramDataPoint)
        attrs = point.attributes or {}
        by_key[(attrs["prodguardian.check.name"], attrs["prodguardian.check.status"])] = point
    assert set(by_key) == {("api", "OK"), ("db", "DEGRADED"), ("api", "CRITICAL")}
    assert all(p.count == 1 and p.sum >= 0 for p in by_key.values())
    assert captured.values("prodguardian.runs") == {
        (("prodguardian.run.status", "DEGRADED"),): 1,
        (("prodguardian.run.status", "CRITICAL"),): 1,
    }


async def test_gauges_and_counters_for_the_other_components(captured: Captured) -> None:
    tel = instruments.current()
    assert captured.values("prodguardian.incidents.open") == {}  # not reported yet: no point
    instruments.set_incidents_open(2)
    tel.followups_pending.set(5)
    instruments.set_outbox_backlog(7)
    instruments.set_store_up(True)
    instruments.set_leader(False)
    tel.store_reconnects.add(1)
    tel.store_reconnects.add(1)
    with (
        tel.notification_span(channel="#ops", kind="incident"),
        tel.outbox_delivery_span(destination="slack", attempt=2),
    ):
        pass
    assert captured.values("prodguardian.incidents.open") == {(): 2}
    assert captured.values("prodguardian.followups.pending") == {(): 5}
    assert captured.values("prodguardian.outbox.backlog") == {(): 7}
    assert captured.values("prodguardian.store.reconnects") == {(): 2}
    assert captured.values("prodguardian.store.up") == {(): 1}
    assert captured.values("prodguardian.leader") == {(): 0}
    instruments.set_incidents_open(0)
    instruments.set_store_up(False)
    assert captured.values("prodguardian.incidents.open") == {(): 0}
    assert captured.values("prodguardian.store.up") == {(): 0}
    names = [s.name for s in captured.spans.get_finished_spans()]
    assert names == ["prodguardian.outbox.deliver", "prodguardian.notify"]


@pytest.mark.parametrize(
    ("report", "value", "message"),
    [
        (instruments.set_incidents_open, -1, "incidents open must be a whole number >= 0, got -1"),
        (instruments.set_outbox_backlog, True, "outbox backlog must be a whole number >= 0"),
    ],
)
def test_a_count_that_cannot_be_one_is_refused(
    report: Callable[[int], None], value: int, message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        report(value)


async def test_without_telemetry_the_runner_records_nothing_and_still_runs() -> None:
    previous = instruments.install(instruments.Instruments())  # as before any set-up
    try:
        assert type(instruments.current().tracer).__name__.startswith("NoOp")
        (run,) = await run_checks([check("api")])
    finally:
        instruments.install(previous)
    assert run.status is Status.OK


def test_the_receiver_counts_spans_and_refused_requests(captured: Captured) -> None:
    store = TraceStore()
    app = FastAPI()
    app.include_router(traces_router(store))
    good = protobuf_body([Request("/a", 5.0)] * 3)
    old = protobuf_body([Request("/a", 5.0)] * 2, end_ns=10**18)  # 2001: past every retention
    with serve_in_thread(app) as url:
        for body in (good, old, b"\xff\xff\xff"):
            httpx.post(f"{url}/v1/traces", content=body, headers={"content-type": PROTOBUF})
        httpx.post(f"{url}/v1/traces", content=b"x", headers={"content-type": "text/plain"})
    assert captured.values("prodguardian.receiver.spans") == {
        (("outcome", "accepted"),): 3,
        (("outcome", "rejected"),): 2,
    }
    assert captured.values("prodguardian.receiver.refused") == {
        (("http.response.status_code", 400),): 1,
        (("http.response.status_code", 415),): 1,
    }
