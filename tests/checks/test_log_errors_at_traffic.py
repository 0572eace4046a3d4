"""``log_errors`` at real traffic: counts from Cloud Monitoring, sampled estimates, fallbacks.

Everything goes through the real google-cloud-logging and google-cloud-monitoring clients
against the local stand-ins (HTTP and gRPC on 127.0.0.1).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from prodguardian.checks.log_errors import LogErrorsCheck, LogErrorsParams
from prodguardian.context import CheckContext, HttpClient
from prodguardian.deploy import ActiveDeploy, DeploySource
from prodguardian.errors import CheckError
from prodguardian.logs.source import LogSource
from prodguardian.report import build_report
from prodguardian.result import CheckResult, CheckRun
from prodguardian.runbooks import RunbookMatch, RunbookMatcher, builtin_runbooks, correlate
from prodguardian.status import Status
from tests.checks.test_log_errors_incidents import signatures
from tests.logs.incident_data import DEPLOY, NOW
from tests.logs.traffic_data import (
    logging_source,
    monitoring_source,
    scaled,
    websocket_hour,
    with_metrics,
)
from tests.support.cloud_logging_standin import CloudLoggingStandIn
from tests.support.cloud_monitoring_standin import CloudMonitoringStandIn, hits_from_entries

SCOPE = {"service": "emergence-app"}


async def run_check(
    source: LogSource,
    *,
    now: datetime = NOW,
    timeout_s: float = 20,
    deploy: ActiveDeploy | None = None,
    **params: Any,
) -> CheckResult:
    check = LogErrorsCheck(
        name="errors",
        kind="log_errors",
        params=LogErrorsParams(source="prod-logs", **params),
        timeout_s=timeout_s,
    )
    ctx = CheckContext(
        timeout_s=timeout_s,
        http=HttpClient(),
        now=now,
        deploy=deploy,
        log_sources={"prod-logs": source},
    )
    try:
        return await check.run(ctx)
    except CheckError as exc:  # what the runner does with it
        return CheckResult.unknown(str(exc))


@pytest.fixture(scope="module")
def incident_x1000() -> list[dict[str, Any]]:
    return scaled("incident-01-database.jsonl", 1000)


async def test_incident_1_at_1000x_traffic_gives_11_25_percent_and_the_runbook(
    incident_x1000: list[dict[str, Any]],
) -> None:
    with with_metrics(incident_x1000) as (source, logs, metrics):
        result = await run_check(source, scope=SCOPE)
    assert result.status is Status.DEGRADED
    assert result.metrics["entries"] == 80_000
    assert result.metrics["errors"] == 9_000
    assert result.metrics["error_rate_pct"] == 11.25
    assert result.metrics["entries_exact"] == 1.0
    assert "9000 of 80000 requests are errors (11.25 %)" in result.summary
    assert "requests from Cloud Monitoring" in result.summary
    [sig] = signatures(result)
    assert sig.count == 9_000
    assert sig.frame == "backend/core/database/manager.py in _ensure_connection"
    # One metrics call; the logs listed the 9,000 errors only, 1,000 a page.
    assert len(metrics.requests) == 1
    assert len(logs.filters) == 9
    assert logs.returned == 9_000
    assert "severity>=WARNING" in logs.filters[0]
    report = build_report(
        [CheckRun(name="errors", kind="log_errors", started_at=NOW, duration_s=1, result=result)],
        service="emergence-app",
        started_at=NOW,
        finished_at=NOW,
    )
    [first, *_] = correlate(report, RunbookMatcher(builtin_runbooks()))
    assert isinstance(first, RunbookMatch)
    assert first.id == "db-connection-lost"


async def test_the_metric_call_asks_for_request_count_by_response_code_class() -> None:
    with with_metrics(scaled("incident-01-database.jsonl", 1)) as (source, _, metrics):
        await run_check(source, scope=SCOPE)
    [request] = metrics.requests
    assert 'metric.type = "run.googleapis.com/request_count"' in request.filter
    assert 'resource.labels.service_name = "emergence-app"' in request.filter
    assert "metric.labels.response_code_class" in request.aggregation.group_by_fields


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
async def test_a_sampled_websocket_rate_lands_within_its_stated_interval(seed: int) -> None:
    connects, errors = 24_000 + 1_000 * seed, 400 + 40 * seed
    rows = websocket_hour(seed, end=NOW, connects=connects, errors=errors, others=10_000)
    truth = 100.0 * errors / (connects + errors)
    with CloudLoggingStandIn(rows) as logs:
        result = await run_check(logging_source(logs.endpoint), scope={"text": "WebSocket"})
    m = result.metrics
    assert m["entries_exact"] == 0.0
    assert m["errors"] == errors  # the errors are listed whole: exact
    assert m["error_rate_low_pct"] <= truth <= m["error_rate_high_pct"], (truth, m)
    assert m["error_rate_high_pct"] - m["error_rate_low_pct"] < 0.25 * truth
    assert "estimated from a" in result.summary
    assert "95 % interval of the rate" in result.summary
    assert any("sample(insertId, " in f for f in logs.filters)
    assert len(logs.filters) <= 5  # one first page, then a few pages of errors and sample


async def test_an_interval_that_straddles_a_threshold_says_so() -> None:
    rows = websocket_hour(7, end=NOW, connects=20_000, errors=1_000, others=0)
    with CloudLoggingStandIn(rows) as logs:
        source = logging_source(logs.endpoint, sample_target=300)
        result = await run_check(source, scope={"text": "WebSocket"}, degraded_rate=4.76)
    assert "straddles degraded_rate 4.76 %" in result.summary
    assert result.metrics["error_rate_low_pct"] < 4.76 < result.metrics["error_rate_high_pct"]


@pytest.mark.parametrize("fault", ["403", "429", "500", "503", "unknown-metric"])
async def test_a_monitoring_failure_falls_back_to_the_logs_and_says_why(fault: str) -> None:
    rows = scaled("incident-01-database.jsonl", 1)
    with with_metrics(rows) as (source, _, metrics):
        metrics.faults.append(fault)
        result = await run_check(source, scope=SCOPE)
    assert result.status is Status.DEGRADED
    assert result.metrics["entries"] == 80
    assert result.metrics["error_rate_pct"] == 11.25
    assert "counted from the logs instead" in result.summary
    if fault == "403":
        assert "grant the caller roles/monitoring.viewer" in result.summary


async def test_without_budget_for_the_fallback_it_is_unknown_naming_the_role_and_the_quota(
    incident_x1000: list[dict[str, Any]],
) -> None:
    with with_metrics(incident_x1000, list_calls_per_minute=4) as (source, logs, metrics):
        metrics.faults.append("403")
        result = await run_check(source, scope=SCOPE, timeout_s=5)
    assert result.status is Status.UNKNOWN
    assert "roles/monitoring.viewer" in result.summary
    assert "read quota" in result.summary
    assert "4 of its 4 list calls a minute are used" in result.summary
    assert len(logs.requests) == 4


async def test_a_window_without_traffic_is_ok_with_no_requests() -> None:
    with CloudLoggingStandIn([]) as logs, CloudMonitoringStandIn([]) as metrics:
        source = logging_source(logs.endpoint)
        source.use_metrics(monitoring_source(metrics.endpoint))
        result = await run_check(source, scope=SCOPE)
    assert result.status is Status.OK
    assert result.summary.startswith("no requests in the last 1h")
    assert result.metrics["entries"] == 0
    assert result.metrics["error_rate_pct"] == 0


async def test_a_metric_that_counts_fewer_requests_than_the_logs_show_is_not_trusted() -> None:
    rows = scaled("incident-05-liveness.jsonl", 1)  # 5xx request entries
    with CloudLoggingStandIn(rows) as logs, CloudMonitoringStandIn([]) as metrics:
        source = logging_source(logs.endpoint)
        source.use_metrics(monitoring_source(metrics.endpoint))
        result = await run_check(source, scope=SCOPE)
    assert result.metrics["entries"] == 120
    assert "the metric does not fit this scope" in result.summary


async def test_a_text_scope_never_asks_monitoring() -> None:
    rows = scaled("incident-01-database.jsonl", 1)
    with with_metrics(rows) as (source, _, metrics):
        result = await run_check(source, scope={"service": "emergence-app", "text": "session"})
    assert metrics.requests == []
    assert result.metrics["entries_exact"] == 1.0


async def test_the_list_path_still_lists_everything() -> None:
    rows = scaled("incident-01-database.jsonl", 30)  # 2,400 entries
    with CloudLoggingStandIn(rows) as logs, CloudMonitoringStandIn(hits_from_entries(rows)) as m:
        source = logging_source(logs.endpoint, counting="list")
        source.use_metrics(monitoring_source(m.endpoint))
        result = await run_check(source, scope=SCOPE)
    assert result.metrics["entries"] == 2_400
    assert logs.returned == 2_400
    assert m.requests == []


async def test_a_source_of_another_resource_type_never_asks_the_cloud_run_metric() -> None:
    rows = scaled("incident-01-database.jsonl", 1)
    with with_metrics(rows, resource_type="k8s_container") as (source, logs, metrics):
        result = await run_check(source, scope=SCOPE)
    assert metrics.requests == []
    assert 'resource.type="k8s_container"' in logs.filters[0]
    assert result.summary.startswith("no entries in scope")  # and UNKNOWN: nothing proves idle


@pytest.mark.parametrize(
    "deploy",
    [
        None,  # the newest revision, from the metric's revision labels
        ActiveDeploy(since=DEPLOY, source=DeploySource.COMMAND_LINE),
        ActiveDeploy(revision="emergence-app-00042-fix", source=DeploySource.DEPLOY_MARK),
    ],
    ids=["from-metric", "since", "revision"],
)
async def test_after_the_hotfix_the_metric_splits_requests_at_the_deploy(
    deploy: ActiveDeploy | None,
) -> None:
    rows = scaled("incident-01-hotfix.jsonl", 100)
    with with_metrics(rows) as (source, _, metrics):
        result = await run_check(source, scope=SCOPE, deploy=deploy)
    assert len(metrics.requests) == 1
    assert result.status is Status.OK, result.summary
    assert result.metrics["entries_since_deploy"] == 3_600
    assert result.metrics["errors_since_deploy"] == 0
    assert result.metrics["errors_before_deploy"] == 900
    assert "900 older errors before the deploy not counted" in result.summary
