"""The engine: runs configured checks and builds the report. Every trigger goes through here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from prodguardian.check import Check
from prodguardian.config.loader import LoadedConfig
from prodguardian.context import HttpClient
from prodguardian.deploy import ActiveDeploy
from prodguardian.report import Report, build_report
from prodguardian.result import CheckRun
from prodguardian.runbooks import correlate, library_for_config
from prodguardian.runbooks.critical import critical_runbook_finder
from prodguardian.runner import OnDone, run_checks


async def run_report(
    loaded: LoadedConfig,
    checks: Sequence[Check[Any]] | None = None,
    *,
    deploy: ActiveDeploy | None = None,
    on_done: OnDone | None = None,
    http: HttpClient | None = None,
    at: datetime | None = None,
) -> Report:
    """Run ``checks`` (default: all configured) and return the report.

    ``at``: judge the log and trace windows that ended then (a post-incident review, a
    follow-up judged on the data of its moment) instead of those ending now; probes still probe
    now. ``http`` is a client kept across runs (the schedule keeps one); without it the run opens
    and closes its own.
    """
    selected = loaded.checks if checks is None else checks
    started_at = datetime.now(UTC)
    library = library_for_config(loaded)
    runs = await run_checks(
        selected,
        concurrency=loaded.config.runner.concurrency,
        deploy=deploy,
        on_done=on_done,
        log_sources=loaded.log_sources,
        http=http,
        critical_runbook=critical_runbook_finder(library.matcher),
        now=at,
    )
    return compose_report(loaded, runs, started_at=started_at, deploy=deploy, at=at)


def compose_report(
    loaded: LoadedConfig,
    runs: Sequence[CheckRun],
    *,
    started_at: datetime,
    deploy: ActiveDeploy | None = None,
    finished_at: datetime | None = None,
    at: datetime | None = None,
) -> Report:
    """The report of ``runs`` (from one run or several), with the runbooks that match."""
    report = build_report(
        runs,
        service=loaded.config.service.name,
        started_at=started_at,
        finished_at=finished_at or datetime.now(UTC),
        deploy=deploy,
        at=at,
    )
    library = library_for_config(loaded)
    findings = correlate(report, library.matcher, service=loaded.config.service)
    return report.model_copy(update={"runbooks": findings})
