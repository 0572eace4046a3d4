"""``log_errors``: the status decision, its params, and how it fails (UNKNOWN, never a crash)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from prodguardian.checks.log_errors import Basis, LogErrorsCheck, LogErrorsParams, decide
from prodguardian.evidence import ErrorSignature
from prodguardian.runner import run_checks
from prodguardian.status import Status
from tests.logs.incident_data import cloud_source
from tests.support.cloud_logging_standin import CloudLoggingStandIn


def basis(entries: int, errors: int, warnings: int = 0, message: str = "boom") -> Basis:
    sig = ErrorSignature(fingerprint="f", message=message, count=errors, sample=message)
    return Basis(label="x", entries=entries, errors=errors, warnings=warnings, signatures=(sig,))


def params(**kw: object) -> LogErrorsParams:
    return LogErrorsParams(source="s", **kw)


@pytest.mark.parametrize(
    ("entries", "errors", "expected"),
    [
        (80, 9, Status.DEGRADED),  # 11.25 %
        (80, 3, Status.OK),  # 3.75 %
        (80, 4, Status.DEGRADED),  # exactly 5 %
        (80, 20, Status.CRITICAL),  # 25 %
        (4, 2, Status.OK),  # 50 %, but too few entries to judge a rate
        (0, 0, Status.OK),
    ],
)
def test_rates(entries: int, errors: int, expected: Status) -> None:
    assert decide(params(), basis(entries, errors))[0] is expected


def test_counts_warnings_and_critical_signals() -> None:
    assert decide(params(degraded_count=3), basis(1000, 3))[0] is Status.DEGRADED
    assert decide(params(critical_count=3), basis(1000, 3))[0] is Status.CRITICAL
    assert decide(params(degraded_warnings=3), basis(1000, 0, warnings=3))[0] is Status.DEGRADED
    memory = basis(1000, 1, message="Memory limit of 2048 MiB exceeded with 2100 MiB used")
    status, reasons = decide(params(), memory)
    assert status is Status.CRITICAL
    assert reasons[0].startswith("critical signal")
    assert decide(params(critical_patterns=[]), memory)[0] is Status.OK


def test_params_are_validated() -> None:
    with pytest.raises(ValidationError, match="critical_rate must be at least degraded_rate"):
        params(degraded_rate=30, critical_rate=10)
    with pytest.raises(ValidationError, match="not a valid regular expression"):
        params(noise_paths=["("])
    with pytest.raises(ValidationError, match="label name"):
        params(scope={"labels": {"bad key": "x"}})
    with pytest.raises(ValidationError):
        params(errors={"min_severity": "LOUD"})


async def test_a_missing_source_and_a_failing_source_are_unknown_with_the_reason() -> None:
    no_source = LogErrorsCheck(name="a", kind="log_errors", params=params(), timeout_s=5)
    [run] = await run_checks([no_source])
    assert run.status is Status.UNKNOWN
    assert "no log source named 's'" in run.result.summary

    with CloudLoggingStandIn([]) as standin:
        standin.faults.append("403")
        [run] = await run_checks([no_source], log_sources={"s": cloud_source(standin.endpoint)})
    assert run.status is Status.UNKNOWN
    assert "roles/logging.viewer" in run.result.summary


async def test_a_hanging_source_is_unknown_within_the_check_timeout() -> None:
    with CloudLoggingStandIn([]) as standin:
        standin.faults.append("hang")
        check = LogErrorsCheck(name="a", kind="log_errors", params=params(), timeout_s=1.5)
        [run] = await run_checks([check], log_sources={"s": cloud_source(standin.endpoint)})
    assert run.status is Status.UNKNOWN
    assert run.duration_s < 4
