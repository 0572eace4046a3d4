"""Incremental reads: a check every minute over an hour lists what arrived since its last run.

Each run's figures must equal a cold read of the same window (every entry counted once, none
missed, late arrivals caught by the overlap, old ones dropped), while the schedule lists each
entry once plus the few that fall in the overlap.
"""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta
from typing import Any

from prodguardian.checks.log_errors import LogErrorsCheck, LogErrorsParams
from prodguardian.context import CheckContext, HttpClient
from prodguardian.logs.incremental import (
    KeptEntry,
    MemoryReadStates,
    ReadState,
    merge,
    plan_read,
)
from prodguardian.logs.query import LogWindow
from prodguardian.logs.read_budget import shared_budget
from prodguardian.logs.source import LogSource
from prodguardian.result import CheckResult
from tests.logs.incident_data import NOW, PROJECT
from tests.logs.traffic_data import RESOURCE, logging_source, stamp
from tests.support.cloud_logging_standin import CloudLoggingStandIn

START = NOW - timedelta(hours=1)
HOUR = timedelta(hours=1)
OVERLAP = timedelta(seconds=30)


def two_hours(seed: int) -> list[dict[str, Any]]:
    """An entry every ~4 s from an hour before START to an hour after it; 3 % errors."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    ts = START - HOUR
    while ts < START + HOUR:
        ts += timedelta(seconds=rng.uniform(1, 7))
        error = rng.random() < 0.03
        rows.append(
            {
                "insertId": f"{rng.getrandbits(64):016x}",
                "timestamp": stamp(ts),
                "logName": "projects/p/logs/run.googleapis.com%2Fstdout",
                "severity": "ERROR" if error else "INFO",
                "resource": RESOURCE,
                "textPayload": f"RuntimeError: job {rng.randrange(9)} failed"
                if error
                else "GET /api/items 200",
            }
        )
    return rows


async def run_at(source: LogSource, now: datetime) -> CheckResult:
    check = LogErrorsCheck(
        name="errors", kind="log_errors", params=LogErrorsParams(source="s"), timeout_s=20
    )
    ctx = CheckContext(timeout_s=20, http=HttpClient(), now=now, log_sources={"s": source})
    return await check.run(ctx)


def figures(result: CheckResult) -> tuple[float, float, float]:
    m = result.metrics
    return m["entries"], m["errors"], m["signatures"]


async def test_a_minute_by_minute_schedule_over_an_hour_lists_each_entry_once() -> None:
    rows = two_hours(1)
    late = {
        "insertId": "late-arrival",
        "timestamp": "",
        "logName": "projects/p/logs/x",
        "severity": "ERROR",
        "resource": RESOURCE,
        "textPayload": "RuntimeError: arrived late",
    }
    clock = ScheduleClock()
    with (
        CloudLoggingStandIn(rows, clock=clock) as scheduled,
        CloudLoggingStandIn(rows, clock=clock) as cold,
    ):
        for standin in (scheduled, cold):  # quotas count in the schedule's minutes
            shared_budget(PROJECT, endpoint=standin.endpoint, per_minute=30, clock=clock)
        source = logging_source(
            scheduled.endpoint, page_size=250, incremental_overlap=OVERLAP.total_seconds()
        )
        per_run: list[int] = []
        for minute in range(61):
            clock.offset = 60.0 * minute
            now = START + timedelta(minutes=minute)
            if minute == 30:  # written 20 s before the last read, received after it
                entry = {**late, "timestamp": stamp(now - timedelta(seconds=80))}
                scheduled.add([entry])
                cold.add([entry])
            before = len(scheduled.requests)
            got = await run_at(source, now)
            per_run.append(len(scheduled.requests) - before)
            fresh = await run_at(logging_source(cold.endpoint, incremental=False), now)
            assert figures(got) == figures(fresh), minute
        in_any_window = [r for r in rows if START - HOUR <= _ts(r) <= START + HOUR]
        # Every entry of the two hours once, plus those re-read in the 30 s overlaps.
        assert scheduled.returned <= len(in_any_window) + 1 + 60 * 15
        assert scheduled.returned >= len(in_any_window)
    assert per_run[0] == 4  # the cold read: about 900 entries, 250 a page
    assert max(per_run[1:]) == 1  # then one list call a minute


async def test_a_check_prod_between_two_runs_reuses_the_state() -> None:
    rows = two_hours(2)
    with CloudLoggingStandIn(rows) as logs:
        source = logging_source(logs.endpoint)
        await run_at(source, START)
        cold_calls = len(logs.requests)
        between = await run_at(source, START + timedelta(seconds=20))
        assert len(logs.requests) == cold_calls + 1
        assert logs.returned < len(rows)
    with CloudLoggingStandIn(rows) as logs:
        fresh = await run_at(logging_source(logs.endpoint), START + timedelta(seconds=20))
    assert figures(between) == figures(fresh)


class ScheduleClock:
    """A monotonic clock that jumps a minute per scheduled run (the runs go back to back)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset


def _ts(row: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(row["timestamp"]).replace("Z", "+00:00"))


def kept(seconds: int, insert_id: str) -> KeptEntry:
    return KeptEntry(timestamp=START + timedelta(seconds=seconds), insert_id=insert_id)


def test_merge_keeps_each_insert_id_once_and_drops_what_left_the_window() -> None:
    window = LogWindow(start=START, end=START + timedelta(minutes=10))
    previous = ReadState(
        key="k",
        window_start=START - timedelta(minutes=1),
        read_until=START + timedelta(minutes=9),
        kept=(kept(-30, "gone"), kept(500, "a"), kept(530, "b")),
    )
    plan = plan_read(previous, window, overlap=OVERLAP)
    assert plan.start == START + timedelta(minutes=9) - OVERLAP
    state = merge(plan, [kept(530, "b"), kept(590, "c")], key="k", window=window)
    assert [k.insert_id for k in state.kept] == ["a", "b", "c"]
    assert state.read_until == window.end


def test_a_state_that_does_not_cover_the_window_start_means_a_cold_read() -> None:
    window = LogWindow(start=START, end=START + HOUR)
    old = ReadState(key="k", window_start=START, read_until=START - timedelta(minutes=1), kept=())
    assert not plan_read(old, window, overlap=OVERLAP).incremental
    other = ReadState(key="k", window_start=START, read_until=START + HOUR, kept=(), fraction=0.1)
    assert not plan_read(other, window, overlap=OVERLAP, fraction=0.2).incremental


def test_the_memory_store_forgets_the_least_recently_used() -> None:
    store = MemoryReadStates(limit=2)
    for key in ("a", "b"):
        store.save(ReadState(key=key, window_start=START, read_until=START, kept=()))
    store.load("a")
    store.save(ReadState(key="c", window_start=START, read_until=START, kept=()))
    assert store.load("b") is None
    assert store.load("a") is not None
