"""Runs checks concurrently, each under its own deadline; every outcome becomes a result.

Nothing a check does can raise into the runner or hold the run past the check's timeout: an
exception becomes UNKNOWN with the reason, and a check still running at its deadline is
cancelled and abandoned (after a short grace, even if it swallows the cancellation).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from prodguardian.check import Check
from prodguardian.context import CheckContext, HttpClient
from prodguardian.deploy import ActiveDeploy
from prodguardian.errors import CheckError
from prodguardian.logs.source import LogSource
from prodguardian.result import CheckResult, CheckRun
from prodguardian.telemetry import instruments as telemetry

if TYPE_CHECKING:
    from prodguardian.runbooks.critical import CriticalRunbookOf

#: How long a cancelled check gets to clean up before it is abandoned.
CANCEL_GRACE_S = 0.5

OnDone = Callable[[CheckRun], None]


async def run_checks(
    checks: Sequence[Check[Any]],
    *,
    concurrency: int = 500,
    deploy: ActiveDeploy | None = None,
    on_done: OnDone | None = None,
    log_sources: Mapping[str, LogSource] | None = None,
    http: HttpClient | None = None,
    critical_runbook: CriticalRunbookOf | None = None,
    now: datetime | None = None,
) -> list[CheckRun]:
    """Run ``checks`` with at most ``concurrency`` at once; results in the order given.

    ``http`` is a client kept across runs (the schedule's); without one, the run opens its own
    and closes it at the end. ``now`` is the end of the windows that log and trace checks judge
    (default: the moment each check starts); a past time judges the window that ended then.
    """
    limit = asyncio.Semaphore(concurrency)
    owned = http is None
    client = http if http is not None else HttpClient()
    tel = telemetry.current()  # no-op spans and metrics unless telemetry is set up

    async def one(check: Check[Any]) -> CheckRun:
        async with limit:
            with tel.check_span(check.name, check.kind) as span:
                run = await _run_one(
                    check,
                    http=client,
                    deploy=deploy,
                    log_sources=log_sources or {},
                    critical_runbook=critical_runbook,
                    now=now,
                )
                tel.record_check(span, run)
        if on_done is not None:
            on_done(run)
        return run

    try:
        with tel.run_span(checks=len(checks)) as span:
            runs = list(await asyncio.gather(*(one(c) for c in checks)))
            tel.record_run(span, runs)
            return runs
    finally:
        if owned:
            await client.close()


async def _run_one(
    check: Check[Any],
    *,
    http: HttpClient,
    deploy: ActiveDeploy | None,
    log_sources: Mapping[str, LogSource],
    critical_runbook: CriticalRunbookOf | None = None,
    now: datetime | None = None,
) -> CheckRun:
    started_at = datetime.now(UTC)
    start = time.perf_counter()
    ctx = CheckContext(
        timeout_s=check.timeout_s,
        http=http,
        now=now or started_at,
        deploy=deploy,
        log_sources=log_sources,
        critical_runbook=critical_runbook,
    )
    task = asyncio.create_task(check.run(ctx), name=f"check:{check.name}")
    try:
        done, _ = await asyncio.wait({task}, timeout=check.timeout_s)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if task in done:
        result = _result_of(task)
    else:
        await _abandon(task)
        result = CheckResult.unknown(
            f"did not finish within its {check.timeout_s:g} s timeout; abandoned"
        )
    return CheckRun(
        name=check.name,
        kind=check.kind,
        started_at=started_at,
        duration_s=time.perf_counter() - start,
        result=result,
    )


def _result_of(task: asyncio.Task[CheckResult]) -> CheckResult:
    try:
        result = task.result()
    except CheckError as exc:
        return CheckResult.unknown(str(exc))
    except asyncio.CancelledError:
        return CheckResult.unknown("the check cancelled itself")
    except Exception as exc:
        return CheckResult.unknown(f"the check crashed: {type(exc).__name__}: {exc}")
    if not isinstance(result, CheckResult):
        return CheckResult.unknown(
            f"the check returned {type(result).__name__}, not a CheckResult (a plugin bug)"
        )
    return result


async def _abandon(task: asyncio.Task[CheckResult]) -> None:
    task.cancel()
    await asyncio.wait({task}, timeout=CANCEL_GRACE_S)
    if not task.done():
        # It ignores cancellation; let it finish in the background, its outcome discarded.
        task.add_done_callback(_discard_outcome)


def _discard_outcome(task: asyncio.Task[CheckResult]) -> None:
    if not task.cancelled():
        task.exception()
