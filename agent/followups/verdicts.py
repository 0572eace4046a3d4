"""What a verification found: pure judgements over reports and check runs, no I/O."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from prodguardian.report import Report
from prodguardian.result import CheckRun
from prodguardian.runbooks.model import LogCountExpectation
from prodguardian.status import Status


class Outcome(enum.StrEnum):
    """How an item's run ended."""

    PASSED = "passed"
    FAILED = "failed"
    UNVERIFIED = "unverified"
    """The verification could not run (a source down): retried, never taken as passed."""
    REMINDED = "reminded"
    EXPIRED = "expired"


EMOJI = {
    Outcome.PASSED: "✅",
    Outcome.FAILED: "❌",
    Outcome.UNVERIFIED: "⚪",
    Outcome.REMINDED: "⏰",
    Outcome.EXPIRED: "⌛",
}


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    detail: str
    """The figures behind it (counts, windows, statuses), one line."""


def rerun_verdict(report: Report, expect: Status) -> Verdict:
    """Re-ran checks: passed when none is worse than ``expect`` and every one could run."""
    lines = [f"{r.name} {r.status.value} ({r.result.summary})" for r in report.checks]
    detail = "; ".join(lines)[:1500] or "no check ran"
    if not report.checks:
        return Verdict(Outcome.UNVERIFIED, "no check matched the names to re-run")
    unknown = [r for r in report.checks if r.status is Status.UNKNOWN]
    if unknown and expect is not Status.UNKNOWN:
        return Verdict(Outcome.UNVERIFIED, "could not verify: " + detail)
    worst = max(
        (r.status for r in report.checks if r.status is not Status.UNKNOWN),
        key=lambda s: s.severity,
        default=Status.OK,
    )
    passed = worst.severity <= expect.severity
    return Verdict(
        Outcome.PASSED if passed else Outcome.FAILED, f"expected {expect.value}: {detail}"
    )


def log_count_verdict(run: CheckRun, expectation: LogCountExpectation) -> Verdict:
    """A counted log event against its limit over the window."""
    if run.status is Status.UNKNOWN:
        return Verdict(Outcome.UNVERIFIED, f"could not verify: {run.result.summary}")
    count = int(run.result.metrics.get("count", 0))
    window_h = expectation.window / 3600.0
    what = f"{count} × {expectation.pattern!r} in {_window(expectation.window)}"
    if expectation.at_most is not None:
        passed = count <= expectation.at_most
        limit = "none expected" if expectation.at_most == 0 else f"at most {expectation.at_most}"
        return Verdict(Outcome.PASSED if passed else Outcome.FAILED, f"{what} ({limit})")
    if expectation.below_per_hour is not None:
        rate = count / max(window_h, 1.0)
        passed = rate < expectation.below_per_hour
        return Verdict(
            Outcome.PASSED if passed else Outcome.FAILED,
            f"{what}: {rate:.2f}/h (expected < {expectation.below_per_hour:g}/h)",
        )
    assert expectation.below_per_minute is not None
    rate = count / max(expectation.window / 60.0, 1.0)
    passed = rate < expectation.below_per_minute
    return Verdict(
        Outcome.PASSED if passed else Outcome.FAILED,
        f"{what}: {rate:.2f}/min (expected < {expectation.below_per_minute:g}/min)",
    )


def _window(seconds: float) -> str:
    if seconds % 86400 == 0:
        return f"{int(seconds // 86400)} d"
    if seconds % 3600 == 0:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 60)} min"
