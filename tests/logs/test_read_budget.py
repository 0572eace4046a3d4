"""The per-project list-call budget: pure behaviour on a fake clock, then through the source."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from prodguardian.errors import SourceError
from prodguardian.logs.query import LogQuery, LogWindow
from prodguardian.logs.read_budget import ReadBudget, ReadQuotaError, shared_budget
from tests.logs.collected_entries import Collect
from tests.logs.incident_data import NOW, PROJECT, cloud_source, entries
from tests.support.cloud_logging_standin import CloudLoggingStandIn


class FakeClock:
    """A clock whose sleeps advance it at once."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def budget(per_minute: int = 3) -> tuple[ReadBudget, FakeClock]:
    clock = FakeClock()
    return ReadBudget("p", per_minute=per_minute, clock=clock, sleep=clock.sleep), clock


def far() -> float:
    return time.monotonic() + 120


def test_calls_within_the_budget_go_at_once() -> None:
    b, clock = budget()
    for _ in range(3):
        b.acquire(deadline=far())
    assert clock.slept == []
    assert b.figures().used == 3


def test_the_next_call_waits_for_the_oldest_to_leave_the_minute_when_the_deadline_allows() -> None:
    b, clock = budget()
    for step in (0, 10, 20):
        clock.now = 1000.0 + step
        b.acquire(deadline=far())
    b.acquire(deadline=far())
    assert clock.slept == [40.0]  # the call at 1000 leaves the minute at 1060


def test_past_the_deadline_it_refuses_with_the_figures() -> None:
    b, _ = budget()
    for _ in range(3):
        b.acquire(deadline=far())
    with pytest.raises(ReadQuotaError) as caught:
        b.acquire(deadline=time.monotonic() + 5)
    message = str(caught.value)
    assert message.startswith("read quota: project 'p': 3 of its 3 list calls a minute are used")
    assert "wait 60.0 s" in message
    assert "list_calls_per_minute" in message
    assert isinstance(caught.value, SourceError)  # so the check is UNKNOWN


def test_a_429_holds_every_call_until_the_minute_has_passed() -> None:
    b, clock = budget(per_minute=30)
    b.acquire(deadline=far())
    clock.now += 5
    b.exhausted(retry_after_s=None)
    b.acquire(deadline=far())
    assert clock.slept == [55.0]  # by the budget's clock, not a blind exponential back-off
    assert b.throttled == 1


def test_a_429_with_a_longer_retry_after_waits_for_that() -> None:
    b, clock = budget(per_minute=30)
    b.exhausted(retry_after_s=90)
    b.acquire(deadline=time.monotonic() + 200)
    assert clock.slept == [90.0]


def test_sources_of_one_project_share_one_budget_and_the_smaller_share_wins() -> None:
    one = shared_budget("p", endpoint=None, per_minute=30)
    two = shared_budget("p", endpoint=None, per_minute=20)
    other = shared_budget("q", endpoint=None, per_minute=30)
    assert one is two
    assert one.per_minute == 20
    assert other is not one


@pytest.fixture
def standin() -> Iterator[CloudLoggingStandIn]:
    with CloudLoggingStandIn(entries("incident-01-database.jsonl")) as s:
        yield s


async def scan(standin: CloudLoggingStandIn, *, budget_s: float = 20, **options: object) -> int:
    source = cloud_source(standin.endpoint, **options)
    window = LogWindow(start=NOW - timedelta(hours=1), end=NOW)
    traffic = await source.scan(
        LogQuery(window=window), Collect(), deadline=time.monotonic() + budget_s
    )
    return traffic.total


async def test_a_429_from_cloud_logging_waits_by_the_budget_then_reads(
    standin: CloudLoggingStandIn,
) -> None:
    b = shared_budget(PROJECT, endpoint=standin.endpoint, per_minute=30, window_s=0.5)
    standin.faults.append("429")
    assert await scan(standin) == 80
    assert b.throttled == 1
    assert b.waited_s > 0


async def test_a_429_whose_wait_passes_the_deadline_is_a_read_quota_error(
    standin: CloudLoggingStandIn,
) -> None:
    standin.faults.append("429")
    with pytest.raises(ReadQuotaError, match="answered 429 RESOURCE_EXHAUSTED"):
        await scan(standin, budget_s=5)
    assert len(standin.requests) == 1  # no blind retries


async def test_the_stand_in_allows_60_calls_a_minute_like_the_real_api(
    standin: CloudLoggingStandIn,
) -> None:
    # A budget above the real quota: the stand-in's own 429 stops the 61st call.
    with pytest.raises(ReadQuotaError, match="429"):
        await scan(standin, budget_s=5, page_size=1, list_calls_per_minute=100, counting="list")
    assert standin.throttled == 1
    assert len(standin.requests) == 61


async def test_the_default_budget_keeps_within_half_the_quota(
    standin: CloudLoggingStandIn,
) -> None:
    with pytest.raises(ReadQuotaError, match="30 of its 30 list calls"):
        await scan(standin, budget_s=5, page_size=1, counting="list")
    assert len(standin.requests) == 30
    assert standin.throttled == 0
