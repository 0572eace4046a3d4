"""The report of one run: overall status, each check's result, timings. A pure value."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from prodguardian.deploy import ActiveDeploy
from prodguardian.result import CheckRun
from prodguardian.runbooks.findings import RunbookFinding
from prodguardian.status import Status, overall_status

SCHEMA_VERSION = 1


class Report(BaseModel):
    """Everything one run found. Renderers turn it into a table, JSON or Slack blocks."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    service: str
    status: Status
    summary: str
    started_at: datetime
    finished_at: datetime
    duration_s: float
    checks: tuple[CheckRun, ...]
    unverified: tuple[str, ...] = ()
    """Names of the checks that could not run (UNKNOWN): what this report cannot vouch for."""
    deploy: ActiveDeploy | None = None
    runbooks: tuple[RunbookFinding, ...] = ()
    """Runbooks that match what failed, best first, then failures no runbook covers."""
    at: datetime | None = None
    """When the log and trace windows ended, if not at the run (``check --at``); else null."""

    @property
    def exit_code(self) -> int:
        return self.status.exit_code


def build_report(
    runs: Sequence[CheckRun],
    *,
    service: str,
    started_at: datetime,
    finished_at: datetime,
    deploy: ActiveDeploy | None = None,
    at: datetime | None = None,
) -> Report:
    """The report of ``runs``: overall status, summary line and the unverified checks."""
    status = overall_status(r.status for r in runs)
    unverified = tuple(r.name for r in runs if r.status is Status.UNKNOWN)
    return Report(
        service=service,
        status=status,
        summary=summarize(runs, unverified),
        started_at=started_at,
        finished_at=finished_at,
        duration_s=(finished_at - started_at).total_seconds(),
        checks=tuple(runs),
        unverified=unverified,
        deploy=deploy,
        at=at,
    )


def summarize(runs: Sequence[CheckRun], unverified: Sequence[str] = ()) -> str:
    """One line: how many checks passed, and which did not."""
    if not runs:
        return "no checks ran"
    failing = [r for r in runs if r.status in (Status.DEGRADED, Status.CRITICAL)]
    parts = [f"{len(runs) - len(failing) - len(unverified)}/{len(runs)} checks OK"]
    if failing:
        parts.append("failing: " + ", ".join(f"{r.name} ({r.status.value})" for r in failing))
    if unverified:
        parts.append("could not verify: " + ", ".join(unverified))
    return "; ".join(parts)
