"""The correlator over reports: findings, placeholders, ordering, and how reports show them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from rich.console import Console

from prodguardian.config.models import ServiceConfig
from prodguardian.deploy import ActiveDeploy
from prodguardian.evidence import Evidence, LogLine, Observation
from prodguardian.render import render_json, render_terminal
from prodguardian.report import Report, build_report
from prodguardian.result import CheckResult, CheckRun
from prodguardian.runbooks import (
    NoRunbook,
    RunbookMatch,
    RunbookMatcher,
    builtin_runbooks,
    correlate,
)
from prodguardian.status import Status
from tests.runbooks.evidence_factory import condition, db_traceback, signature

SERVICE = ServiceConfig(name="emergence-app", project="emergence-469005", region="europe-west1")
NOW = datetime(2025, 10, 11, 12, 0, tzinfo=UTC)


def run(name: str, kind: str, status: Status, *evidence: Evidence, summary: str = "") -> CheckRun:
    result = CheckResult(
        status=status, summary=summary or f"{name} {status.value}", evidence=evidence
    )
    return CheckRun(name=name, kind=kind, started_at=NOW, duration_s=0.1, result=result)


def report(*runs: CheckRun, deploy: ActiveDeploy | None = None) -> Report:
    return build_report(
        runs, service="emergence-app", started_at=NOW, finished_at=NOW, deploy=deploy
    )


def findings(rep: Report) -> tuple[RunbookMatch | NoRunbook, ...]:
    return correlate(rep, RunbookMatcher(builtin_runbooks()), service=SERVICE)


def memory_signature(limit: int, used: int, count: int = 4) -> Evidence:
    message = f"Memory limit of {limit} MiB exceeded with {used} MiB used. Consider increasing it."
    return signature(message, count=count, revisions=("emergence-app-00045-g1b",))


def test_incident_3_fills_the_memory_command() -> None:
    rep = report(
        run(
            "logs",
            "log_errors",
            Status.CRITICAL,
            memory_signature(512, 671),
            memory_signature(1024, 1062),
        )
    )
    (match,) = findings(rep)
    assert isinstance(match, RunbookMatch)
    assert match.id == "cloud-run-memory-limit"
    assert match.count == 8
    assert match.checks == ("logs",)
    commands = [c for step in match.first_steps for c in step.commands]
    assert "gcloud run services update emergence-app --memory=2Gi --region=europe-west1" in commands
    assert match.placeholders["memory_next"] == "2Gi"
    assert match.placeholders["revision"] == "emergence-app-00045-g1b"
    assert [f.after for f in match.follow_ups] == ["now", "+1h", "+1h"]
    assert match.follow_ups[0].remind is not None
    assert "emergence-app" in match.follow_ups[0].remind
    assert match.why[0].field == "message"


def test_incident_1_with_its_follow_ups_and_a_db_probe() -> None:
    rep = report(
        run(
            "logs",
            "log_errors",
            Status.DEGRADED,
            signature(
                "Database connection is not available.",
                exception_type="RuntimeError",
                sample=db_traceback(),
                count=9,
            ),
        ),
        run("readiness", "http", Status.CRITICAL, condition('db == "up"', '"up"', "down")),
        run("api", "http", Status.OK),
    )
    (match,) = findings(rep)
    assert isinstance(match, RunbookMatch)
    assert match.id == "db-connection-lost"
    assert match.checks == ("logs", "readiness")
    assert match.count == 10
    offsets = [(f.after, f.verify.describe() if f.verify else "remind") for f in match.follow_ups]
    assert offsets == [
        ("+30m", "re-run every check, expect OK"),
        ("+30m", "remind"),
        ("+24h", "count none matching 'Database connection is not available' over 24h"),
        ("+24h", "count 'Database reconnected successfully' < 5/h over 24h"),
        ("+7d", "count 'Database reconnected successfully' < 5/h over 7d"),
    ]


def test_signatures_from_before_the_deploy_are_not_matched() -> None:
    old = signature(
        "Database connection is not available.", exception_type="RuntimeError", before_deploy=True
    )
    rep = report(run("logs", "log_errors", Status.DEGRADED, old))
    assert findings(rep) == ()


def test_known_failures_in_passing_checks_are_a_heads_up_after_the_failing_ones() -> None:
    warnings = signature("HTTP 429 GET /api/health", http_statuses=(429,), count=50)
    unknown = signature("'user_42'", exception_type="KeyError")
    rep = report(
        run("warnings", "log_errors", Status.OK, warnings, unknown),
        run("logs", "log_errors", Status.DEGRADED, memory_signature(512, 600)),
        run("probe", "http", Status.UNKNOWN, summary="Memory limit of 512 MiB exceeded"),
    )
    found = findings(rep)
    assert [(f.id, f.failing) for f in found if isinstance(f, RunbookMatch)] == [
        ("cloud-run-memory-limit", True),
        ("http-429-throttling", False),
    ]
    assert not [f for f in found if isinstance(f, NoRunbook)]
    console = Console(width=200, record=True, color_system=None)
    console.print(render_terminal(rep.model_copy(update={"runbooks": found})))
    assert "seen in passing checks" in console.export_text()


def test_an_unknown_signature_gives_no_runbook_with_a_scaffold() -> None:
    rep = report(
        run(
            "logs",
            "log_errors",
            Status.DEGRADED,
            signature("'user_42'", exception_type="KeyError", count=3),
        )
    )
    (finding,) = findings(rep)
    assert isinstance(finding, NoRunbook)
    assert finding.check == "logs"
    assert finding.count == 3
    assert finding.command.startswith("prodguardian runbooks new --from-signature ")
    assert "KeyError" in finding.scaffold
    assert finding.suggested_id == "keyerror-user"


def test_matches_come_best_first_then_failures_without_runbook() -> None:
    rep = report(
        run(
            "logs",
            "log_errors",
            Status.CRITICAL,
            signature("ZeroDivisionError", exception_type="ZeroDivisionError"),
            signature("HTTP 429 GET /api/health", http_statuses=(429,), count=1),
            signature("Database connection is not available.", exception_type="RuntimeError"),
        )
    )
    kinds = [(type(f).__name__, getattr(f, "id", None)) for f in findings(rep)]
    assert kinds == [
        ("RunbookMatch", "db-connection-lost"),
        ("RunbookMatch", "http-429-throttling"),
        ("NoRunbook", None),
    ]


def test_the_share_of_the_errors_a_match_explains_outweighs_its_rules_specificity() -> None:
    """Issue 12 (4): 50 refused requests explain more of a failure than one database error."""
    rep = report(
        run(
            "logs",
            "log_errors",
            Status.CRITICAL,
            signature("HTTP 429 GET /api/health", http_statuses=(429,), count=50),
            signature("Database connection is not available.", exception_type="RuntimeError"),
        )
    )
    found = [f for f in findings(rep) if isinstance(f, RunbookMatch)]
    assert [f.id for f in found] == ["http-429-throttling", "db-connection-lost"]
    assert found[0].explains == ("50 of 51 failing entries",)


def test_the_revision_comes_from_the_message_then_the_deploy() -> None:
    not_ready = signature(
        "Revision 'emergence-app-00049-pyp' is not ready and cannot serve traffic."
    )
    module = signature("No module named 'backend'", exception_type="ModuleNotFoundError")
    deploy = ActiveDeploy(revision="emergence-app-00050-new")
    (match,) = findings(
        report(run("logs", "log_errors", Status.CRITICAL, not_ready, module), deploy=deploy)
    )
    assert isinstance(match, RunbookMatch)
    assert match.placeholders["revision"] == "emergence-app-00049-pyp"
    (match,) = findings(report(run("logs", "log_errors", Status.CRITICAL, module), deploy=deploy))
    assert isinstance(match, RunbookMatch)
    assert match.placeholders["revision"] == "emergence-app-00050-new"


def test_log_lines_observations_and_summaries_are_matched_too() -> None:
    line = LogLine(
        text="[PreferenceExtractor] Cannot extract: no user identifier (user_sub or user_id) "
        "found for session s1"
    )
    seen = Observation(
        label="body", text='LIVENESS HTTP probe failed 3 times consecutively on path "/x"'
    )
    rep = report(
        run("warnings", "log_count", Status.DEGRADED, line),
        run("probe", "http", Status.CRITICAL, seen),
        run(
            "bare",
            "http",
            Status.DEGRADED,
            summary="Memory limit of 512 MiB exceeded with 600 MiB used",
        ),
    )
    assert sorted(f.id for f in findings(rep) if isinstance(f, RunbookMatch)) == [
        "cloud-run-memory-limit",
        "liveness-probe-wrong-path",
        "preference-extractor-missing-user-id",
    ]


def test_the_report_json_carries_the_findings() -> None:
    rep = report(run("logs", "log_errors", Status.CRITICAL, memory_signature(1024, 1062)))
    rep = rep.model_copy(update={"runbooks": findings(rep)})
    document = json.loads(render_json(rep))
    (item,) = document["runbooks"]
    assert item["type"] == "runbook"
    assert item["id"] == "cloud-run-memory-limit"
    assert item["why"][0]["field"] == "message"
    assert item["follow_ups"][1]["verify"]["log_count"]["at_most"] == 0
    assert Report.model_validate_json(render_json(rep)) == rep


def test_the_terminal_shows_title_why_first_steps_and_follow_ups() -> None:
    rep = report(
        run("logs", "log_errors", Status.CRITICAL, memory_signature(1024, 1062)),
        run("logs2", "log_errors", Status.DEGRADED, signature("[x] oops [bold]not markup[/]")),
    )
    rep = rep.model_copy(update={"runbooks": findings(rep)})
    console = Console(width=200, record=True, color_system=None)
    console.print(render_terminal(rep))
    out = console.export_text()
    assert "Runbooks:" in out
    assert "Cloud Run instance over its memory limit" in out
    assert "why: message" in out
    assert "$ gcloud run services update emergence-app --memory=2Gi --region=europe-west1" in out
    assert "follow-up +1h verify: count none matching 'Memory limit of .* exceeded' over 1h" in out
    assert "no runbook for [x] oops [bold]not markup[/]" in out


def test_a_bare_5xx_joins_a_match_only_within_its_window() -> None:
    start = datetime(2025, 10, 11, 11, 20, tzinfo=UTC)

    def http(route: str, at: datetime) -> Evidence:
        sig = signature(f"HTTP 500 GET {route}", http_statuses=(500,))
        return sig.model_copy(update={"first_seen": at, "last_seen": at + timedelta(seconds=4)})

    near = http("/api/threads", start + timedelta(seconds=2))
    far = http("/api/export", start + timedelta(minutes=20))
    rep = report(run("logs", "log_errors", Status.DEGRADED, http("/ready", start), near, far))
    found = findings(rep)
    assert [type(f).__name__ for f in found] == ["RunbookMatch", "NoRunbook"]
    match, alone = found
    assert isinstance(match, RunbookMatch)
    assert isinstance(alone, NoRunbook)
    assert match.id == "cold-start-not-warmed-up"
    assert "HTTP 500 GET /api/threads" in match.evidence
    assert alone.evidence == "HTTP 500 GET /api/export"


def test_the_request_logs_500_joins_the_traceback_it_came_with() -> None:
    # Cloud Run logs a failing request twice: the app's traceback and the request log's 500.
    start = datetime(2025, 10, 11, 11, 20, tzinfo=UTC)
    error = signature(
        "Database connection is not available.",
        exception_type="RuntimeError",
        sample=db_traceback(),
        count=9,
    ).model_copy(update={"first_seen": start, "last_seen": start + timedelta(minutes=12)})
    request_500 = signature(
        "HTTP 500 GET /api/sessions/{id}", http_statuses=(500,), count=9
    ).model_copy(
        update={"first_seen": start, "last_seen": start + timedelta(minutes=12, seconds=1)}
    )
    elsewhere_500 = signature("HTTP 500 GET /api/export", http_statuses=(500,)).model_copy(
        update={"first_seen": start + timedelta(hours=1), "last_seen": start + timedelta(hours=1)}
    )
    found = findings(
        report(run("logs", "log_errors", Status.DEGRADED, error, request_500, elsewhere_500))
    )
    match, alone = found
    assert isinstance(match, RunbookMatch)
    assert match.id == "db-connection-lost"
    assert match.count == 18
    assert "HTTP 500 GET /api/sessions/{id}" in {w.matched for w in match.why}
    assert isinstance(alone, NoRunbook)
    assert alone.evidence == "HTTP 500 GET /api/export"
