"""Running ``log_errors`` and the correlator over an incident's entries, through either source."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prodguardian.checks.log_errors import LogErrorsCheck, LogErrorsParams
from prodguardian.config.models import ServiceConfig
from prodguardian.context import CheckContext, HttpClient
from prodguardian.deploy import ActiveDeploy
from prodguardian.logs.source import LogSource
from prodguardian.report import build_report
from prodguardian.result import CheckResult, CheckRun
from prodguardian.runbooks import RunbookMatch, RunbookMatcher, builtin_runbooks, correlate
from prodguardian.runbooks.findings import NoRunbook, RunbookFinding
from prodguardian.status import Status
from tests.data.incidents.generate import Entry
from tests.logs.incident_data import NOW, cloud_source, write_jsonl
from tests.support.cloud_logging_standin import CloudLoggingStandIn

SOURCES = ["file", "cloud_logging"]
SERVICE = ServiceConfig(name="emergence-app", project="emergence-469005", region="europe-west1")
_MATCHER = RunbookMatcher(builtin_runbooks())


@dataclass(frozen=True)
class Diagnosis:
    """What one run said: the check's result and the report's runbook findings."""

    result: CheckResult
    findings: tuple[RunbookFinding, ...]

    @property
    def status(self) -> Status:
        return self.result.status

    @property
    def matches(self) -> list[RunbookMatch]:
        """Runbooks of failing checks, best first."""
        return [f for f in self.findings if isinstance(f, RunbookMatch) and f.failing]

    @property
    def first(self) -> str | None:
        return self.matches[0].id if self.matches else None

    def explained(self) -> bool:
        """Whether a report that is not OK carries a runbook or a "no runbook" with a scaffold."""
        if self.status is Status.OK:
            return True
        no_runbook = [f for f in self.findings if isinstance(f, NoRunbook)]
        return bool(self.matches) or (bool(no_runbook) and all(f.scaffold for f in no_runbook))


@contextmanager
def source_of(kind: str, entries: list[Entry], tmp_path: Path) -> Iterator[LogSource]:
    """``entries`` read through the file source or through the Cloud Logging stand-in."""
    if kind == "file":
        from tests.logs.incident_data import file_source

        path = write_jsonl(tmp_path / "entries.jsonl", entries)
        yield file_source(str(path))
        return
    with CloudLoggingStandIn(entries, max_page_size=40) as standin:
        yield cloud_source(standin.endpoint, page_size=25)


async def diagnose(
    kind: str,
    entries: list[Entry],
    tmp_path: Path,
    *,
    deploy: ActiveDeploy | None = None,
    **params: Any,
) -> Diagnosis:
    """One ``log_errors`` run over ``entries`` and the findings of its report."""
    check = LogErrorsCheck(
        name="errors",
        kind="log_errors",
        params=LogErrorsParams(source="prod-logs", **params),
        timeout_s=15,
    )
    with source_of(kind, entries, tmp_path) as source:
        ctx = CheckContext(
            timeout_s=15,
            http=HttpClient(),
            now=NOW,
            deploy=deploy,
            log_sources={"prod-logs": source},
        )
        result = await check.run(ctx)
    run = CheckRun(name="errors", kind="log_errors", started_at=NOW, duration_s=0.1, result=result)
    report = build_report([run], service="emergence-app", started_at=NOW, finished_at=NOW)
    report = report.model_copy(update={"deploy": deploy})
    return Diagnosis(result, correlate(report, _MATCHER, service=SERVICE))
