from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema

from prodguardian.evidence import FailedCondition, LogLine, Observation
from prodguardian.render import render_json, report_json_schema
from prodguardian.report import Report, build_report
from prodguardian.result import CheckResult, CheckRun
from prodguardian.status import Status

SCHEMA_FILE = Path(__file__).parents[2] / "docs" / "report.schema.json"
T0 = datetime(2025, 10, 11, 12, 0, tzinfo=UTC)


def sample_report() -> Report:
    failing = CheckResult(
        status=Status.CRITICAL,
        summary="503 from readiness",
        metrics={"status_code": 503, "response_time_ms": 12.5},
        evidence=(
            FailedCondition(condition='db == "up"', expected='"up"', actual='"down"'),
            Observation(label="body", text='{"ok":false,"db":"down"}'),
            LogLine(timestamp=T0, severity="ERROR", text="<!channel> boom"),
        ),
    )
    runs = [
        CheckRun(
            name="api",
            kind="http",
            started_at=T0,
            duration_s=0.01,
            result=CheckResult(status=Status.OK, summary="200 in 10 ms"),
        ),
        CheckRun(name="ready", kind="http", started_at=T0, duration_s=0.02, result=failing),
        CheckRun(
            name="logs",
            kind="log_errors",
            started_at=T0,
            duration_s=0.03,
            result=CheckResult.unknown("403 from Cloud Logging"),
        ),
    ]
    return build_report(runs, service="shop", started_at=T0, finished_at=T0)


def test_the_committed_schema_is_the_one_the_models_produce() -> None:
    committed = json.loads(SCHEMA_FILE.read_text())
    assert committed == report_json_schema(), "models changed: run `make schema` and commit"


def test_the_json_output_validates_against_the_schema() -> None:
    document = json.loads(render_json(sample_report()))
    jsonschema.validate(document, report_json_schema())
    assert document["schema_version"] == 1
    assert document["status"] == "CRITICAL"
    assert document["unverified"] == ["logs"]
    assert [c["result"]["status"] for c in document["checks"]] == ["OK", "CRITICAL", "UNKNOWN"]
    evidence = document["checks"][1]["result"]["evidence"]
    assert [e["type"] for e in evidence] == ["condition", "observation", "log_line"]


def test_the_json_round_trips_to_the_same_report() -> None:
    report = sample_report()
    assert Report.model_validate_json(render_json(report)) == report


def test_the_summary_names_failing_and_unverified_checks() -> None:
    assert sample_report().summary == (
        "1/3 checks OK; failing: ready (CRITICAL); could not verify: logs"
    )
