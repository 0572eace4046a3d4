"""The incident datasets through the real ``log_errors`` check, the report and the correlator."""

from __future__ import annotations

import pytest

from prodguardian.checks.log_errors import LogErrorsCheck, LogErrorsParams
from prodguardian.config.models import ServiceConfig
from prodguardian.context import CheckContext, HttpClient
from prodguardian.report import build_report
from prodguardian.result import CheckRun
from prodguardian.runbooks import RunbookMatch, RunbookMatcher, builtin_runbooks, correlate
from prodguardian.runbooks.findings import RunbookFinding
from tests.logs.incident_data import NOW, file_source

SERVICE = ServiceConfig(name="emergence-app", project="emergence-469005", region="europe-west1")

INCIDENTS = [
    ("incident-01-database.jsonl", "db-connection-lost"),
    ("incident-02-ws-disconnect.jsonl", "websocket-disconnect-logged-as-error"),
    ("incident-03-memory.jsonl", "cloud-run-memory-limit"),
    ("incident-04-429.jsonl", "http-429-throttling"),
    ("incident-05-liveness.jsonl", "liveness-probe-wrong-path"),
    ("incident-06-not-ready.jsonl", "revision-not-ready-env-lost"),
    ("incident-07-openai-json.jsonl", "llm-json-mode-prompt"),
    ("incident-08-preference-warning.jsonl", "preference-extractor-missing-user-id"),
    ("incident-09-cold-start.jsonl", "cold-start-not-warmed-up"),
]


async def findings_for(dataset: str) -> tuple[RunbookFinding, ...]:
    check = LogErrorsCheck(
        name="errors",
        kind="log_errors",
        params=LogErrorsParams(source="prod-logs"),
        timeout_s=15,
    )
    ctx = CheckContext(
        timeout_s=15, http=HttpClient(), now=NOW, log_sources={"prod-logs": file_source(dataset)}
    )
    result = await check.run(ctx)
    run = CheckRun(name="errors", kind="log_errors", started_at=NOW, duration_s=0.1, result=result)
    report = build_report([run], service="emergence-app", started_at=NOW, finished_at=NOW)
    return correlate(report, RunbookMatcher(builtin_runbooks()), service=SERVICE)


@pytest.mark.parametrize(("dataset", "expected"), INCIDENTS)
async def test_each_incident_comes_out_with_its_runbook_first(dataset: str, expected: str) -> None:
    found = await findings_for(dataset)
    matches = [f for f in found if isinstance(f, RunbookMatch)]
    assert matches, found
    assert matches[0].id == expected
    assert {m.id for m in matches} == {expected}


async def test_incident_3_sizes_memory_from_the_logged_usage() -> None:
    (match,) = [
        f for f in await findings_for("incident-03-memory.jsonl") if isinstance(f, RunbookMatch)
    ]
    # Since the deploy: the 1 GiB revision, peaking at 1049 MiB → 2Gi.
    assert match.placeholders["memory_next"] == "2Gi"
    commands = [c for step in match.first_steps for c in step.commands]
    assert "gcloud run services update emergence-app --memory=2Gi --region=europe-west1" in commands


async def test_incident_6_names_the_revision_that_is_not_ready() -> None:
    (match,) = [
        f for f in await findings_for("incident-06-not-ready.jsonl") if isinstance(f, RunbookMatch)
    ]
    assert match.placeholders["revision"] == "emergence-app-00049-pyp"


@pytest.mark.parametrize("dataset", ["incident-01-hotfix.jsonl", "healthy-hour.jsonl"])
async def test_a_fixed_or_healthy_service_gets_no_failing_runbook(dataset: str) -> None:
    found = await findings_for(dataset)
    assert not [f for f in found if isinstance(f, RunbookMatch) and f.failing]


async def test_the_other_500s_of_a_cold_start_join_its_runbook() -> None:
    found = await findings_for("incident-09-cold-start.jsonl")
    (match,) = found  # no "no runbook" left for /api/threads or /api/chat/message
    assert isinstance(match, RunbookMatch)
    assert match.count == 12
    joined = {w.matched for w in match.why if w.field == "same_window"}
    assert joined == {"HTTP 500 GET /api/threads", "HTTP 500 POST /api/chat/message"}
