"""Every incident of shared/runbooks.md through ``log_errors``, read by both sources.

The same datasets go through the ``file`` source and through the real google-cloud-logging
client talking to the local stand-in; each must give the same status, rate and signatures.
"""

from __future__ import annotations

from typing import Any

import pytest

from prodguardian.checks.log_errors import LogErrorsCheck, LogErrorsParams
from prodguardian.context import CheckContext, HttpClient
from prodguardian.deploy import ActiveDeploy, DeploySource
from prodguardian.evidence import ErrorSignature, Observation
from prodguardian.logs.source import LogSource
from prodguardian.result import CheckResult
from prodguardian.status import Status
from tests.logs.incident_data import DEPLOY, NOW, source_for

SOURCES = ["file", "cloud_logging"]


async def run_check(
    source: LogSource, *, deploy: ActiveDeploy | None = None, **params: Any
) -> CheckResult:
    check = LogErrorsCheck(
        name="errors",
        kind="log_errors",
        params=LogErrorsParams(source="prod-logs", **params),
        timeout_s=15,
    )
    ctx = CheckContext(
        timeout_s=15, http=HttpClient(), now=NOW, deploy=deploy, log_sources={"prod-logs": source}
    )
    return await check.run(ctx)


def signatures(result: CheckResult, *, level: str = "error") -> list[ErrorSignature]:
    return [e for e in result.evidence if isinstance(e, ErrorSignature) and e.level == level]


@pytest.mark.parametrize("kind", SOURCES)
async def test_incident_1_database_connection_is_degraded_at_11_25_percent(kind: str) -> None:
    with source_for(kind, "incident-01-database.jsonl") as (source, _):
        result = await run_check(source, scope={"service": "emergence-app"})
    assert result.status is Status.DEGRADED
    assert result.metrics["entries"] == 80
    assert result.metrics["errors"] == 9
    assert result.metrics["error_rate_pct"] == 11.25
    assert "11.25 %" in result.summary
    [sig] = signatures(result)
    assert sig.count == 9
    assert sig.exception_type == "RuntimeError"
    assert sig.message == "Database connection is not available."
    assert sig.frame == "backend/core/database/manager.py in _ensure_connection"
    assert "backend/core/session_manager.py in load_session_from_db" in sig.frames
    assert sig.sample.startswith("Failed to load session ")
    assert sig.sample.endswith("RuntimeError: Database connection is not available.")
    assert sig.revisions == ("emergence-app-00041-rok",)
    assert not sig.before_deploy


@pytest.mark.parametrize("kind", SOURCES)
@pytest.mark.parametrize(
    "deploy",
    [
        None,  # the newest revision in the logs is the active one
        ActiveDeploy(since=DEPLOY, source=DeploySource.COMMAND_LINE),
        ActiveDeploy(revision="emergence-app-00042-fix", source=DeploySource.DEPLOY_MARK),
    ],
    ids=["from-logs", "since", "revision"],
)
async def test_after_the_hotfix_it_is_ok_since_the_deploy(
    kind: str, deploy: ActiveDeploy | None
) -> None:
    with source_for(kind, "incident-01-hotfix.jsonl") as (source, _):
        result = await run_check(source, deploy=deploy)
    assert result.status is Status.OK, result.summary
    assert result.metrics["entries_since_deploy"] == 36
    assert result.metrics["errors_since_deploy"] == 0
    assert result.metrics["errors_before_deploy"] == 9
    [sig] = signatures(result)
    assert sig.before_deploy
    assert sig.count == 9
    assert "9 older errors before the deploy not counted" in result.summary
    assert any(isinstance(e, Observation) and e.label == "deploy" for e in result.evidence)


@pytest.mark.parametrize("kind", SOURCES)
async def test_a_clean_but_small_sample_since_the_deploy_is_recovering(kind: str) -> None:
    """Issue 12 (1): a clean new revision is judged on its own few entries, not the old hour."""
    with source_for(kind, "incident-01-hotfix.jsonl") as (source, _):
        result = await run_check(
            source,
            deploy=ActiveDeploy(since=DEPLOY),
            min_entries_since_deploy=100,
        )
    assert result.status is Status.OK
    assert "recovering: 0 errors in 36 entries since the deploy" in result.summary
    assert result.metrics["recovering"] == 1


@pytest.mark.parametrize("kind", SOURCES)
async def test_a_healthy_hour_with_one_error_is_ok(kind: str) -> None:
    with source_for(kind, "healthy-hour.jsonl") as (source, _):
        result = await run_check(source)
    assert result.status is Status.OK
    assert result.metrics["errors"] == 1
    assert result.metrics["entries"] == 120
    [sig] = signatures(result)
    assert sig.exception_type == "httpx.ReadTimeout"


@pytest.mark.parametrize("kind", SOURCES)
async def test_incident_2_websocket_disconnects_through_uvicorn(kind: str) -> None:
    with source_for(kind, "incident-02-ws-disconnect.jsonl") as (source, _):
        result = await run_check(source)
    assert result.status is Status.DEGRADED
    # Three tracebacks were written line by line: they still count once each.
    assert result.metrics["entries"] == 100
    [sig] = signatures(result)
    assert sig.count == 7
    assert sig.exception_type == "starlette.websockets.WebSocketDisconnect"
    assert sig.frames[0] == "uvicorn/protocols/websockets/websockets_impl.py in run_asgi"
    assert sig.frame is None  # no application frame: the framework raised it
    assert sig.sample.count("Traceback (most recent call last)") == 1


@pytest.mark.parametrize("kind", SOURCES)
async def test_incident_3_out_of_memory_is_critical(kind: str) -> None:
    with source_for(kind, "incident-03-memory.jsonl") as (source, _):
        result = await run_check(source)
    assert result.status is Status.CRITICAL
    memory = [s for s in signatures(result) if s.message.startswith("Memory limit of")]
    # 512 MiB and 1 GiB revisions share one fingerprint, split before/after the newest revision.
    assert len({s.fingerprint for s in memory}) == 1
    assert {s.before_deploy for s in memory} == {True, False}
    assert {s.count for s in memory} == {4}
    after = next(s for s in memory if not s.before_deploy)
    assert "1024 MiB exceeded" in after.sample
    malformed = [s for s in signatures(result) if s.http_statuses == (503,)]
    assert malformed
    assert "HTTP response was malformed" in malformed[0].message


@pytest.mark.parametrize("kind", SOURCES)
async def test_incident_4_429s_are_failed_requests_grouped_by_route(kind: str) -> None:
    """Issue 12 (3): a refused user has failed; 429s count in the error rate by default."""
    with source_for(kind, "incident-04-429.jsonl") as (source, _):
        result = await run_check(source)
    assert result.status is Status.CRITICAL  # 75 of 150 = 50 %
    assert "75 refused requests (HTTP 429 ×75), counted as failed requests" in result.summary
    errors = {s.message: s for s in signatures(result)}
    assert set(errors) == {"HTTP 429 GET /api/health", "HTTP 429 GET /assets/*.js"}
    assert errors["HTTP 429 GET /api/health"].count == 50
    assert errors["HTTP 429 GET /assets/*.js"].http_statuses == (429,)


@pytest.mark.parametrize("kind", SOURCES)
async def test_incident_4_429s_stay_warnings_when_configured(kind: str) -> None:
    with source_for(kind, "incident-04-429.jsonl") as (source, _):
        result = await run_check(source, refused={"count_as": "warnings"})
    assert result.status is Status.OK
    warnings = {s.message: s for s in signatures(result, level="warning")}
    assert set(warnings) == {"HTTP 429 GET /api/health", "HTTP 429 GET /assets/*.js"}
    assert warnings["HTTP 429 GET /api/health"].count == 50


@pytest.mark.parametrize("kind", SOURCES)
async def test_incident_4_429s_drive_the_status_when_configured(kind: str) -> None:
    with source_for(kind, "incident-04-429.jsonl") as (source, _):
        result = await run_check(source, errors={"http_statuses": [429]})
    assert result.status is Status.CRITICAL  # 75 of 150 = 50 %
    assert result.metrics["error_rate_pct"] == 50.0


@pytest.mark.parametrize("kind", SOURCES)
async def test_incident_5_static_500s_and_liveness_restarts(kind: str) -> None:
    with source_for(kind, "incident-05-liveness.jsonl") as (source, _):
        result = await run_check(source)
    assert result.status is Status.DEGRADED
    messages = {s.message.split(".")[0] for s in signatures(result)}
    assert "HTTP 500 GET /static/js/*" in messages
    assert "HTTP 500 GET /static/css/*" in messages
    probe = [s for s in signatures(result) if s.message.startswith("LIVENESS HTTP probe failed")]
    assert len(probe) == 1
    assert probe[0].count == 4


@pytest.mark.parametrize("kind", SOURCES)
async def test_incident_6_revision_not_ready_is_critical(kind: str) -> None:
    with source_for(kind, "incident-06-not-ready.jsonl") as (source, _):
        result = await run_check(source)
    assert result.status is Status.CRITICAL
    by_type = {s.exception_type: s for s in signatures(result)}
    missing = by_type["ModuleNotFoundError"]
    assert missing.message == "No module named 'backend'"
    assert missing.frame == "main.py in <module>"
    not_ready = by_type[None]
    assert "is not ready and cannot serve traffic" in not_ready.message
    assert not_ready.revisions == ("emergence-app-00049-pyp",)


@pytest.mark.parametrize("kind", SOURCES)
async def test_incident_7_openai_json_word(kind: str) -> None:
    with source_for(kind, "incident-07-openai-json.jsonl") as (source, _):
        result = await run_check(source)
    assert result.status is Status.DEGRADED
    [sig] = signatures(result)
    assert sig.exception_type == "openai.BadRequestError"
    assert "must contain the word 'json'" in sig.message
    assert "response_format" in sig.message
    assert sig.frame == "backend/features/memory/analyzer.py in _extract_preferences"
    assert sig.count == 8


@pytest.mark.parametrize("kind", SOURCES)
async def test_incident_8_preference_warnings_and_bot_scan_noise(kind: str) -> None:
    with source_for(kind, "incident-08-preference-warning.jsonl") as (source, _):
        result = await run_check(source)
    assert result.status is Status.OK
    [sig] = signatures(result, level="warning")
    assert sig.message.startswith("[PreferenceExtractor] Cannot extract: no user identifier")
    assert sig.count == 9  # uuids and sess_ ids alike
    assert sig.severity == "WARNING"
    assert result.metrics["noise"] == 1  # the /.env scan


@pytest.mark.parametrize("kind", SOURCES)
async def test_incident_8_warnings_drive_the_status_when_configured(kind: str) -> None:
    with source_for(kind, "incident-08-preference-warning.jsonl") as (source, _):
        result = await run_check(source, degraded_warnings=7)
    assert result.status is Status.DEGRADED
    assert "9 warnings ≥ 7" in result.summary


@pytest.mark.parametrize("kind", SOURCES)
async def test_incident_9_cold_start_500s(kind: str) -> None:
    with source_for(kind, "incident-09-cold-start.jsonl") as (source, _):
        result = await run_check(source)
    assert result.status is Status.DEGRADED
    sigs = signatures(result)
    assert sum(s.count for s in sigs) == 12
    assert all(s.http_statuses == (500,) for s in sigs)
    first = min(s.first_seen for s in sigs if s.first_seen)
    last = max(s.last_seen for s in sigs if s.last_seen)
    assert (last - first).total_seconds() <= 5


async def test_the_file_source_reads_the_plain_text_log_too() -> None:
    from tests.logs.incident_data import file_source

    source = file_source("incident-01-database.log", format="text")
    result = await run_check(source)
    assert result.status is Status.DEGRADED
    assert result.metrics["error_rate_pct"] == 11.25
    [sig] = signatures(result)
    assert sig.frame == "backend/core/database/manager.py in _ensure_connection"


async def test_the_cloud_source_pushes_the_window_and_scope_to_the_backend() -> None:
    with source_for("cloud_logging", "incident-01-database.jsonl") as (source, standin):
        await run_check(source, scope={"service": "emergence-app", "url": "/ws/"})
    sent = standin.filters[0]
    assert 'resource.labels.service_name="emergence-app"' in sent
    assert 'timestamp>="2025-10-11T11:31:00Z"' in sent
    assert 'timestamp<="2025-10-11T12:31:00Z"' in sent
    assert 'httpRequest.requestUrl=~"/ws/"' in sent


@pytest.mark.parametrize("kind", SOURCES)
async def test_a_scope_sets_the_denominator(kind: str) -> None:
    """Only /api/health requests count: 50 of its 58 answers were 429s."""
    with source_for(kind, "incident-04-429.jsonl") as (source, _):
        result = await run_check(
            source, scope={"url": r"/api/health$"}, errors={"http_statuses": [429]}
        )
    assert result.metrics["entries"] == 58
    assert result.metrics["errors"] == 50
    assert result.status is Status.CRITICAL
    [sig] = signatures(result)
    assert sig.message == "HTTP 429 GET /api/health"
