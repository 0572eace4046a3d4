"""Reports to render in tests: built through the real ``build_report``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from prodguardian.deploy import ActiveDeploy
from prodguardian.evidence import Evidence
from prodguardian.report import Report, build_report
from prodguardian.result import CheckResult, CheckRun
from prodguardian.status import Status

T0 = datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)


def run(
    name: str,
    status: Status = Status.OK,
    summary: str = "fine",
    evidence: Sequence[Evidence] = (),
    *,
    kind: str = "http",
    metrics: dict[str, float] | None = None,
) -> CheckRun:
    return CheckRun(
        name=name,
        kind=kind,
        started_at=T0,
        duration_s=0.042,
        result=CheckResult(
            status=status, summary=summary, evidence=tuple(evidence), metrics=metrics or {}
        ),
    )


def report(*runs: CheckRun, deploy: ActiveDeploy | None = None, service: str = "shop") -> Report:
    return build_report(
        list(runs),
        service=service,
        started_at=T0,
        finished_at=T0 + timedelta(seconds=1.25),
        deploy=deploy,
    )
