"""``log_count``: how often a pattern occurs per hour, through both sources."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from prodguardian.checks.log_count import LogCountCheck, LogCountParams
from prodguardian.context import CheckContext, HttpClient
from prodguardian.deploy import ActiveDeploy
from prodguardian.evidence import LogLine
from prodguardian.logs.source import LogSource
from prodguardian.result import CheckResult
from prodguardian.status import Status
from tests.logs.incident_data import DEPLOY, NOW, source_for

SOURCES = ["file", "cloud_logging"]


async def count(
    source: LogSource, *, deploy: ActiveDeploy | None = None, **params: Any
) -> CheckResult:
    check = LogCountCheck(
        name="count", kind="log_count", params=LogCountParams(source="s", **params), timeout_s=15
    )
    ctx = CheckContext(
        timeout_s=15, http=HttpClient(), now=NOW, deploy=deploy, log_sources={"s": source}
    )
    return await check.run(ctx)


@pytest.mark.parametrize("kind", SOURCES)
async def test_reconnections_stay_under_five_an_hour(kind: str) -> None:
    with source_for(kind, "incident-01-hotfix.jsonl") as (source, standin):
        result = await count(
            source, pattern="Database reconnected successfully", degraded_per_hour=5
        )
    assert result.status is Status.OK
    assert result.metrics["count"] == 2
    assert result.metrics["per_hour"] == 2
    assert "(< 5/h)" in result.summary
    assert [e.text for e in result.evidence if isinstance(e, LogLine)] == [
        "Database reconnected successfully"
    ] * 2
    if standin is not None:  # the pattern went to the backend, double-quoted
        assert 'textPayload=~"Database reconnected successfully"' in standin.filters[0]


@pytest.mark.parametrize("kind", SOURCES)
async def test_too_many_occurrences_degrade_then_go_critical(kind: str) -> None:
    with source_for(kind, "incident-08-preference-warning.jsonl") as (source, _):
        degraded = await count(
            source, pattern=r"\[PreferenceExtractor\] Cannot extract", degraded_per_hour=7
        )
        critical = await count(
            source,
            pattern=r"\[PreferenceExtractor\] Cannot extract",
            degraded_per_hour=2,
            critical_per_hour=9,
        )
    assert degraded.status is Status.DEGRADED
    assert degraded.metrics["count"] == 9
    assert "≥ 7/h" in degraded.summary
    assert critical.status is Status.CRITICAL


@pytest.mark.parametrize("kind", SOURCES)
async def test_since_the_deploy_counts_only_after_it(kind: str) -> None:
    with source_for(kind, "incident-01-hotfix.jsonl") as (source, _):
        errors = await count(
            source,
            pattern="Database connection is not available",
            since_deploy=True,
            degraded_per_hour=1,
            deploy=ActiveDeploy(since=DEPLOY),
        )
        by_revision = await count(
            source,
            pattern="Database connection is not available",
            since_deploy=True,
            degraded_per_hour=1,
            deploy=ActiveDeploy(revision="emergence-app-00041-rok"),
        )
    assert errors.status is Status.OK
    assert errors.metrics["count"] == 0
    assert by_revision.metrics["count"] == 9


async def test_since_deploy_without_a_deploy_says_so() -> None:
    with source_for("file", "incident-01-hotfix.jsonl") as (source, _):
        result = await count(source, pattern="reconnected", since_deploy=True)
    assert "no active deploy known" in result.summary


def test_params_are_validated() -> None:
    with pytest.raises(ValidationError, match="not valid RE2"):
        LogCountParams(source="s", pattern=r"(?<=x)y")
    with pytest.raises(ValidationError, match="critical_per_hour must be at least"):
        LogCountParams(source="s", pattern="x", degraded_per_hour=5, critical_per_hour=1)
    with pytest.raises(ValidationError, match="Extra inputs"):
        LogCountParams(source="s", pattern="x", treshold=1)  # type: ignore[call-arg]
