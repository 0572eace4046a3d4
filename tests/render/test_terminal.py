from __future__ import annotations

from rich.console import Console

from prodguardian.render import render_terminal
from tests.render.test_json_report import sample_report


def rendered() -> str:
    console = Console(record=True, width=140, color_system=None)
    console.print(render_terminal(sample_report()))
    return console.export_text()


def test_the_table_shows_every_check_and_the_overall_status() -> None:
    text = rendered()
    assert text.splitlines()[0].startswith(" CRITICAL  shop — 1/3 checks OK")
    for name, status in [("api", "OK"), ("ready", "CRITICAL"), ("logs", "UNKNOWN")]:
        [row] = [line for line in text.splitlines() if line.startswith(f"│ {name} ")]
        assert status in row


def test_the_evidence_of_failing_checks_is_listed_below() -> None:
    text = rendered()
    assert '✗ db == "up": expected "up", got "down"' in text
    assert '· body: {"ok":false,"db":"down"}' in text
    assert "<!channel> boom" in text


def test_a_passing_check_still_shows_the_errors_from_before_the_deploy() -> None:
    from datetime import UTC, datetime

    from prodguardian.evidence import ErrorSignature
    from prodguardian.report import build_report
    from prodguardian.result import CheckResult, CheckRun
    from prodguardian.status import Status

    t0 = datetime(2025, 10, 11, 12, 0, tzinfo=UTC)
    old = ErrorSignature(
        fingerprint="f1",
        exception_type="RuntimeError",
        message="Database connection is not available.",
        count=9,
        sample="Traceback ...\nRuntimeError: Database connection is not available.",
        before_deploy=True,
    )
    warning = ErrorSignature(
        fingerprint="f2", message="HTTP 429 GET /api/health", count=3, sample="x", level="warning"
    )
    result = CheckResult(status=Status.OK, summary="0 errors since deploy", evidence=(old, warning))
    run = CheckRun(name="errors", kind="log_errors", started_at=t0, duration_s=0.1, result=result)
    console = Console(record=True, width=140, color_system=None)
    console.print(render_terminal(build_report([run], service="s", started_at=t0, finished_at=t0)))
    text = console.export_text()
    assert "×9 RuntimeError: Database connection is not available. (before deploy)" in text
    assert "Traceback" not in text
    assert "429" not in text
