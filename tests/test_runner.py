from __future__ import annotations

import asyncio

import pytest

from prodguardian.result import CheckRun
from prodguardian.runner import run_checks
from prodguardian.status import Status
from tests.support.sample_checks import (
    FailingCheck,
    FailingParams,
    StaticCheck,
    StaticParams,
    StubbornCheck,
    StubbornParams,
    static,
)


async def test_results_come_back_in_the_order_given() -> None:
    checks = [static("a", Status.OK, delay_s=0.05), static("b", Status.CRITICAL), static("c")]
    runs = await run_checks(checks)
    assert [r.name for r in runs] == ["a", "b", "c"]
    assert [r.status for r in runs] == [Status.OK, Status.CRITICAL, Status.OK]
    assert all(r.duration_s >= 0 for r in runs)


async def test_checks_run_concurrently_up_to_the_limit() -> None:
    running = 0
    peak = 0

    class Counting(StaticCheck):
        async def run(self, ctx):  # type: ignore[no-untyped-def]
            nonlocal running, peak
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.02)
            running -= 1
            return await super().run(ctx)

    checks = [Counting(name=f"c{i}", kind="static", params=StaticParams()) for i in range(20)]
    await run_checks(checks, concurrency=4)
    assert peak == 4
    peak = 0
    await run_checks(checks, concurrency=500)
    assert peak == 20


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        ("check_error", "boom"),
        ("crash", "the check crashed: ZeroDivisionError: boom"),
        ("wrong_type", "returned dict, not a CheckResult"),
        ("self_cancel", "cancelled itself"),
    ],
)
async def test_a_failing_check_becomes_unknown_with_the_reason(error: str, reason: str) -> None:
    params = FailingParams.model_validate({"error": error})
    check = FailingCheck(name="f", kind="failing", params=params)
    [run] = await run_checks([check])
    assert run.status is Status.UNKNOWN
    assert reason in run.result.summary


async def test_a_hung_check_is_abandoned_at_its_deadline() -> None:
    hung = StaticCheck(name="hung", kind="static", params=StaticParams(delay_s=3600), timeout_s=0.2)
    runs = await run_checks([hung, static("fine")])
    assert runs[0].status is Status.UNKNOWN
    assert "did not finish within its 0.2 s timeout" in runs[0].result.summary
    assert runs[1].status is Status.OK


async def test_a_check_that_swallows_cancellation_does_not_hold_the_run() -> None:
    stubborn = StubbornCheck(
        name="stubborn", kind="stubborn", params=StubbornParams(linger_s=30), timeout_s=0.1
    )
    [run] = await run_checks([stubborn])
    assert run.status is Status.UNKNOWN
    # The run came back while the plugin is still lingering in its 30 s clean-up.
    [lingering] = [t for t in asyncio.all_tasks() if t.get_name() == "check:stubborn"]
    assert not lingering.done()
    lingering.cancel()


async def test_on_done_sees_every_run() -> None:
    seen: list[CheckRun] = []
    await run_checks([static("a"), static("b")], on_done=seen.append)
    assert sorted(r.name for r in seen) == ["a", "b"]
