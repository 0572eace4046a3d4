"""Issue 12: the five situations that matter most to an on-call engineer, through both sources.

Each situation has a committed dataset (``tests/data/incidents/diagnosis-*.jsonl``) and
variants built from the same generator with other figures, revision names and timings. Every
report that is not OK must carry a runbook, or a "no runbook" finding with its scaffold.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from prodguardian.deploy import ActiveDeploy, DeploySource
from prodguardian.evidence import ErrorSignature
from prodguardian.runbooks.findings import NoRunbook
from prodguardian.status import Status
from tests.checks.diagnosis_runs import SOURCES, Diagnosis, diagnose
from tests.data.incidents import diagnosis as data
from tests.data.incidents.generate import DEPLOY, NOW, Entry, Writer
from tests.logs.incident_data import entries as dataset

DB = "db-connection-lost"
THROTTLE = "http-429-throttling"
NOT_READY = "revision-not-ready-env-lost"
LIVENESS = "liveness-probe-wrong-path"
COLD = "cold-start-not-warmed-up"


def errors(d: Diagnosis) -> list[ErrorSignature]:
    return [e for e in d.result.evidence if isinstance(e, ErrorSignature) and e.level == "error"]


# 1. The minutes after the hotfix -----------------------------------------------------------

HOTFIXES = {
    "dataset": (dataset("diagnosis-1-hotfix-minutes.jsonl"), "emergence-app-00042-fix", DEPLOY),
    "other-names-fewer": (
        data.hotfix_minutes(
            Writer(101),
            old="chat-backend-00107-old",
            new="chat-backend-00108-new",
            deploy=NOW - timedelta(minutes=3),
            old_entries=90,
            old_errors=12,
            new_entries=6,
        ),
        "chat-backend-00108-new",
        NOW - timedelta(minutes=3),
    ),
    "just-under-the-minimum": (
        data.hotfix_minutes(
            Writer(102),
            deploy=NOW - timedelta(minutes=8),
            old_entries=40,
            old_errors=5,
            new_entries=19,
        ),
        "emergence-app-00042-fix",
        NOW - timedelta(minutes=8),
    ),
}


@pytest.mark.parametrize("kind", SOURCES)
@pytest.mark.parametrize("variant", sorted(HOTFIXES))
@pytest.mark.parametrize("told", ["from-logs", "since", "revision"])
async def test_a_clean_new_revision_is_ok_recovering_with_the_old_errors_as_history(
    kind: str, variant: str, told: str, tmp_path: Path
) -> None:
    entries, revision, deployed = HOTFIXES[variant]
    deploy = {
        "from-logs": None,
        "since": ActiveDeploy(since=deployed, source=DeploySource.COMMAND_LINE),
        "revision": ActiveDeploy(revision=revision, source=DeploySource.DEPLOY_MARK),
    }[told]
    d = await diagnose(kind, entries, tmp_path, deploy=deploy)
    assert d.status is Status.OK, d.result.summary
    served = int(d.result.metrics["entries_since_deploy"])
    assert 0 < served < 20
    assert d.result.metrics["recovering"] == 1
    assert d.result.metrics["errors_since_deploy"] == 0
    assert f"recovering: 0 errors in {served} entries since the deploy" in d.result.summary
    assert "too few to be sure (< 20); re-check at +30 min" in d.result.summary
    old = errors(d)
    assert old
    assert all(s.before_deploy and not s.before_deploy_counted for s in old)
    assert sum(s.count for s in old) == d.result.metrics["errors_before_deploy"]
    assert not d.matches


@pytest.mark.parametrize("kind", SOURCES)
async def test_errors_of_the_new_revision_itself_let_the_small_sample_decide_against_it(
    kind: str, tmp_path: Path
) -> None:
    entries = data.hotfix_minutes(Writer(103), new_entries=12, new_errors=2)
    d = await diagnose(kind, entries, tmp_path)
    assert d.status is Status.DEGRADED
    assert "and 2 are errors, so the whole window decides" in d.result.summary
    assert d.first == DB
    assert any(isinstance(f, NoRunbook) and "KeyError" in f.evidence for f in d.findings)
    assert d.explained()


@pytest.mark.parametrize("kind", SOURCES)
@pytest.mark.parametrize("told", ["from-logs", "revision"])
async def test_a_clean_start_proves_nothing_while_the_old_revision_still_fails(
    kind: str, told: str, tmp_path: Path
) -> None:
    """A rollout that leaves the old revision part of the traffic: its errors go on."""
    entries = data.hotfix_minutes(
        Writer(104), deploy=NOW - timedelta(minutes=6), old_until=NOW - timedelta(seconds=30)
    )
    deploy = (
        ActiveDeploy(revision="emergence-app-00042-fix", source=DeploySource.DEPLOY_MARK)
        if told == "revision"
        else None
    )
    d = await diagnose(kind, entries, tmp_path, deploy=deploy)
    assert d.status is Status.DEGRADED, d.result.summary
    assert "the older revision's errors go on after it" in d.result.summary
    assert "recovering" not in d.result.metrics
    assert d.first == DB
    assert d.explained()


# 2. Seconds after a deploy: the runbook stays ----------------------------------------------

SECONDS_AFTER = {
    "dataset": (dataset("diagnosis-2-seconds-after.jsonl"), None),
    "nothing-served-yet": (
        data.seconds_after(
            Writer(201), deploy=NOW - timedelta(seconds=20), new_entries=0, new_errors=0
        ),
        ActiveDeploy(revision="emergence-app-00042-fix", source=DeploySource.DEPLOY_MARK),
    ),
    "other-names-figures": (
        data.seconds_after(
            Writer(202),
            old="chat-backend-00301-aaa",
            new="chat-backend-00302-bbb",
            old_entries=90,
            old_errors=12,
            new_entries=5,
            new_errors=2,
            deploy=NOW - timedelta(seconds=75),
        ),
        ActiveDeploy(since=NOW - timedelta(seconds=75)),
    ),
}


@pytest.mark.parametrize("kind", SOURCES)
@pytest.mark.parametrize("variant", sorted(SECONDS_AFTER))
async def test_the_errors_that_decide_the_status_bring_their_runbook(
    kind: str, variant: str, tmp_path: Path
) -> None:
    entries, deploy = SECONDS_AFTER[variant]
    d = await diagnose(kind, entries, tmp_path, deploy=deploy)
    assert d.status is Status.DEGRADED
    assert "so the whole window decides" in d.result.summary
    old = [s for s in errors(d) if s.before_deploy]
    assert old
    assert all(s.before_deploy_counted for s in old)
    assert d.first == DB
    assert "Database connection is not available." in d.result.summary  # the top is the DB
    assert d.explained()


# 3. Refused requests are failures ----------------------------------------------------------

REFUSED = {
    "dataset": (
        dataset("diagnosis-3-refused.jsonl"),
        Status.DEGRADED,
        "HTTP 429 ×12, 503 no available instance ×6",
    ),
    "no-instance-only": (
        data.refused(Writer(301), entries=150, throttled=0, no_instance=9, minutes=10),
        Status.DEGRADED,
        "9 refused requests (HTTP 503 no available instance ×9)",
    ),
    "storm": (
        data.refused(
            Writer(302), revision="shop-00009-zz1", entries=100, throttled=30, no_instance=0
        ),
        Status.CRITICAL,
        "30 refused requests (HTTP 429 ×30)",
    ),
    "no-instance-as-429": (
        data.refused(Writer(303), entries=120, throttled=0, no_instance=8, no_instance_status=429),
        Status.DEGRADED,
        "8 refused requests (HTTP 429 ×8)",
    ),
}


@pytest.mark.parametrize("kind", SOURCES)
@pytest.mark.parametrize("variant", sorted(REFUSED))
async def test_refused_requests_count_as_failed_and_the_summary_says_so(
    kind: str, variant: str, tmp_path: Path
) -> None:
    entries, status, described = REFUSED[variant]
    d = await diagnose(kind, entries, tmp_path)
    assert d.status is status, d.result.summary
    assert described in d.result.summary
    assert "counted as failed requests" in d.result.summary
    assert d.result.metrics["refused"] == d.result.metrics["errors"]
    assert d.first == THROTTLE
    assert d.explained()


@pytest.mark.parametrize("kind", SOURCES)
async def test_refused_requests_can_stay_warnings(kind: str, tmp_path: Path) -> None:
    entries = dataset("diagnosis-3-refused.jsonl")
    d = await diagnose(kind, entries, tmp_path, refused={"count_as": "warnings"})
    # The 503s are 5xx and stay errors: 6 of 200 = 3 %, under the 5 % threshold.
    assert d.status is Status.OK
    assert d.result.metrics["errors"] == 6
    assert "6 refused requests (HTTP 503 no available instance ×6), counted as warnings" in (
        d.result.summary
    )


# 4. A revision that cannot start -----------------------------------------------------------

CANNOT_START = {
    "dataset": (dataset("diagnosis-4-cannot-start.jsonl"), "emergence-app-00049-pyp", True),
    "other-names-more-503s": (
        data.cannot_start(
            Writer(401),
            good="chat-backend-00017-abc",
            bad="chat-backend-00018-xyz",
            module="app",
            broke_at=NOW - timedelta(minutes=25),
            attempts=2,
            unavailable=90,
        ),
        "chat-backend-00018-xyz",
        True,
    ),
    "no-not-ready-line": (
        data.cannot_start(
            Writer(402), bad="emergence-app-00061-env", not_ready=False, unavailable=70
        ),
        "emergence-app-00061-env",
        False,
    ),
}


@pytest.mark.parametrize("kind", SOURCES)
@pytest.mark.parametrize("variant", sorted(CANNOT_START))
async def test_the_roll_back_runbook_comes_before_the_symptoms(
    kind: str, variant: str, tmp_path: Path
) -> None:
    entries, bad, not_ready = CANNOT_START[variant]
    d = await diagnose(kind, entries, tmp_path)
    assert d.status is Status.CRITICAL
    assert d.first == NOT_READY, [m.id for m in d.matches]
    first = d.matches[0]
    assert first.placeholders["revision"] == bad
    assert ("the signal that decided the status" in first.explains) is not_ready
    assert any(reason.startswith("the earliest failure") for reason in first.explains)
    assert LIVENESS in [m.id for m in d.matches[1:]]
    # Cloud Run's start-up lines belong to the runbook, not to "no runbook".
    assert not [f for f in d.findings if isinstance(f, NoRunbook)]
    assert any("STARTUP TCP probe failed" in e for e in first.evidence)
    assert any("Container called exit(1)" in e for e in first.evidence)


# 5. Cold-start errors ----------------------------------------------------------------------

COLD_STARTS = {
    "dataset": (dataset("diagnosis-5-cold-starts.jsonl"), 9),
    "two-starts-and-a-stray-500": (
        data.cold_starts(
            Writer(501),
            revision="chat-backend-00044-cs2",
            starts=(45, 9),
            errors_per_start=4,
            stray=1,
            background=300,
        ),
        8,
    ),
    "slower-warm-up": (
        data.cold_starts(
            Writer(502), starts=(55, 40, 22, 6), errors_per_start=2, delay=(8, 15), background=280
        ),
        8,
    ),
}


@pytest.mark.parametrize("kind", SOURCES)
@pytest.mark.parametrize("variant", sorted(COLD_STARTS))
async def test_errors_clustered_at_instance_starts_degrade_with_the_warm_up_runbook(
    kind: str, variant: str, tmp_path: Path
) -> None:
    entries, clustered = COLD_STARTS[variant]
    d = await diagnose(kind, entries, tmp_path)
    assert d.status is Status.DEGRADED, d.result.summary
    assert d.result.metrics["error_rate_pct"] < 5
    assert d.result.metrics["cold_start_errors"] == clustered
    assert "within 20 s of an instance start on the same instance" in d.result.summary
    [cold] = [s for s in errors(d) if s.signal]
    assert cold.count == clustered
    assert "Starting new instance. Reason: AUTOSCALING" in cold.sample
    assert d.first == COLD
    assert "the signal that decided the status" in d.matches[0].explains
    assert d.explained()


def far_from_starts(w: Writer) -> list[Entry]:
    return data.cold_starts(w, delay=(40, 50))


@pytest.mark.parametrize("kind", SOURCES)
@pytest.mark.parametrize(
    ("name", "entries", "params"),
    [
        ("other-instance", data.cold_starts(Writer(503), other_instance=True), {}),
        ("long-after-the-start", far_from_starts(Writer(504)), {}),
        (
            "shorter-window",
            data.cold_starts(Writer(505), delay=(8, 15)),
            {"cold_start": {"within": "5s"}},
        ),
        (
            "switched-off",
            dataset("diagnosis-5-cold-starts.jsonl"),
            {"cold_start": {"enabled": False}},
        ),
    ],
)
async def test_500s_not_at_a_start_of_their_instance_are_not_a_cold_start(
    kind: str, name: str, entries: list[Entry], params: dict[str, Any], tmp_path: Path
) -> None:
    d = await diagnose(kind, entries, tmp_path, **params)
    assert d.status is Status.OK, (name, d.result.summary)
    assert "cold_start_errors" not in d.result.metrics


async def test_slack_and_the_terminal_say_why_the_first_runbook_is_first(tmp_path: Path) -> None:
    from rich.console import Console

    from prodguardian.runbooks.terminal_view import render_findings
    from prodguardian.slack.render_runbooks import runbook_sections

    d = await diagnose("file", dataset("diagnosis-4-cannot-start.jsonl"), tmp_path)
    first = runbook_sections(d.findings)[0]
    assert "New revision not ready" in first
    assert "_ranked here:_ the signal that decided the status; the earliest failure" in first
    console = Console(width=200, record=True, color_system=None)
    console.print(*render_findings(d.findings))
    assert "explains: the signal that decided the status; the earliest failure" in (
        console.export_text()
    )
