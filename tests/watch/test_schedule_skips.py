"""The schedule counts the runs it had to skip: start delays alone would hide them."""

from __future__ import annotations

import asyncio

from prodguardian.watch.plan import JobPlan
from prodguardian.watch.schedule import Schedule
from tests.support.slack_standin import wait_until


async def test_a_run_still_going_when_the_next_is_due_counts_a_skipped_run() -> None:
    release = asyncio.Event()
    started: list[str] = []

    async def run_job(job: JobPlan) -> None:
        started.append(job.id)
        await release.wait()  # still going when the next run is due

    schedule = Schedule(
        [JobPlan(id="slow", checks=("slow",), interval_s=1.0, offset_s=0.0)], run_job
    )
    schedule.start()
    try:
        await wait_until(lambda: schedule.skipped >= 1, timeout_s=10, what="a skipped run")
        release.set()

        figures = schedule.figures()
        assert started == ["slow"]
        assert figures["runs"] == 1
        assert figures["runs_skipped"] == schedule.skipped >= 1
    finally:
        release.set()
        schedule.stop()
