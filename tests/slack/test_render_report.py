from __future__ import annotations

import json
from datetime import timedelta

from prodguardian.deploy import ActiveDeploy, DeploySource
from prodguardian.evidence import (
    BurnRate,
    ErrorSignature,
    Evidence,
    FailedCondition,
    LogLine,
    Observation,
    SlowRoute,
)
from prodguardian.runbooks.body import Step
from prodguardian.runbooks.findings import Explanation, NoRunbook, PlannedFollowUp, RunbookMatch
from prodguardian.runbooks.model import Severity
from prodguardian.slack.blocks import SECTION_TEXT_LIMIT, block_text_length
from prodguardian.slack.render_report import ACTION_ACK, ACTION_RECHECK, ReportView, render_report
from prodguardian.slack.stores import FollowUpItem, Incident
from prodguardian.status import Status
from tests.slack.reports import T0, report, run
from tests.support.slack_standin import limit_problems

DB_TRACEBACK = """Traceback (most recent call last):
  File "/app/backend/session_manager.py", line 212, in load_session_from_db
    conn = await self.db._ensure_connection()
  File "/app/backend/database/manager.py", line 88, in _ensure_connection
    raise RuntimeError("Database connection is not available.")
RuntimeError: Database connection is not available."""


def signature(**overrides: object) -> ErrorSignature:
    values: dict[str, object] = {
        "fingerprint": "abc123",
        "exception_type": "RuntimeError",
        "message": "Database connection is not available.",
        "frame": "database/manager.py in _ensure_connection",
        "count": 9,
        "first_seen": T0 - timedelta(minutes=50),
        "last_seen": T0 - timedelta(minutes=2),
        "revisions": ("emergence-app-00041-xyz",),
        "http_statuses": (500,),
        "sample": DB_TRACEBACK,
    }
    values.update(overrides)
    return ErrorSignature.model_validate(values)


def texts(blocks: tuple[dict[str, object], ...]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def test_ok_report_has_header_check_lines_context_and_recheck() -> None:
    message = render_report(report(run("api"), run("db")))
    header = message.blocks[0]
    assert header["type"] == "header"
    assert header["text"]["text"] == "🟢 OK — shop"
    body = texts(message.blocks)
    assert "🟢 *api* · http — fine" in body
    assert "Ran 2 check(s) at 09:26:53 UTC · took 1.25 s" in body
    actions = message.blocks[-1]
    assert [e["action_id"] for e in actions["elements"]] == [ACTION_RECHECK]
    assert message.text.startswith("🟢 OK — shop: 2/2 checks OK")
    assert limit_problems(message.payload()) == []


def test_each_status_has_its_emoji() -> None:
    for status, emoji in [
        (Status.DEGRADED, "🟡"),
        (Status.CRITICAL, "🔴"),
        (Status.UNKNOWN, "⚪"),
    ]:
        message = render_report(report(run("api", status, "x")))
        assert message.blocks[0]["text"]["text"].startswith(f"{emoji} {status.value}")


def test_unknown_checks_are_named_as_unverified() -> None:
    message = render_report(report(run("api"), run("logs", Status.UNKNOWN, "auth refused")))
    assert "⚪ Could not verify: *logs*" in texts(message.blocks)


def test_failing_check_shows_conditions_observations_and_log_lines() -> None:
    evidence: list[Evidence] = [
        FailedCondition(condition='db == "up"', expected='"up"', actual='"down"'),
        Observation(label="response body", text='{"ok": false}'),
        LogLine(timestamp=T0, severity="ERROR", text="boom <!here>", revision="rev-1"),
    ]
    message = render_report(report(run("ready", Status.CRITICAL, "db down", evidence)))
    body = texts(message.blocks)
    assert '✗ `db == \\"up\\"`: expected `\\"up\\"`, got `\\"down\\"`' in body
    assert '• response body: `{\\"ok\\": false}`' in body
    assert "09:26:53 ERROR rev-1 `boom &lt;!here&gt;`" in body


def test_error_signature_shows_count_type_message_sample_and_deploy_split() -> None:
    deploy = ActiveDeploy(
        revision="emergence-app-00042-abc",
        since=T0 - timedelta(minutes=10),
        source=DeploySource.DEPLOY_MARK,
        note="hotfix",
    )
    sigs = [signature(), signature(fingerprint="old", count=30, before_deploy=True)]
    message = render_report(
        report(run("logs", Status.DEGRADED, "9 errors", sigs, kind="log_errors"), deploy=deploy)
    )
    body = texts(message.blocks)
    assert "*9×* `RuntimeError`: `Database connection is not available.`" in body
    assert "at `database/manager.py in _ensure_connection`" in body
    assert "HTTP 500" in body
    assert "revisions `emergence-app-00041-xyz`" in body
    assert "```\\nTraceback (most recent call last):" in body
    assert "*Since the deploy `emergence-app-00042-abc` at 09:16 UTC:* 9 error(s) in 1" in body
    assert "*before it:* 30 in 1" in body
    assert "_before the deploy_" in body
    # After-deploy signatures come first, whatever the counts.
    assert body.index("*9×*") < body.index("*30×*")
    context = message.blocks[-2]["elements"][0]["text"]
    assert "deploy `emergence-app-00042-abc` at 09:16 UTC — hotfix" in context


def test_log_text_can_never_ping_or_format() -> None:
    nasty = "<!channel> <!here> <@U123> <!subteam^S1> *bold* _it_ ~s~ ``` <http://x|y> &"
    sig = signature(message=nasty, sample=f"{nasty}\n{nasty}", exception_type="<@U999>")
    evidence: list[Evidence] = [
        sig,
        LogLine(text=nasty),
        Observation(label="<!channel>", text=nasty),
    ]
    message = render_report(
        report(run("api", Status.CRITICAL, nasty, evidence), service="<!channel>")
    )
    payload = message.payload()
    # A header is plain_text: Slack shows it literally and never turns it into a mention.
    assert payload["blocks"][0]["text"]["type"] == "plain_text"
    every_text = json.dumps([payload["text"], *payload["blocks"][1:]])
    for ping in ("<!channel>", "<!here>", "<@U123>", "<@U999>", "<!subteam", "<http://x|y>"):
        assert ping not in every_text
    assert "&lt;!channel&gt;" in every_text
    # In code spans and blocks the formatting characters are inert; no fence is left open.
    for block in payload["blocks"]:
        if block["type"] == "section":
            assert block["text"]["text"].count("```") % 2 == 0


def test_a_100_kb_traceback_stays_within_slack_limits() -> None:
    frames = "".join(
        f'  File "/app/backend/module_{i}.py", line {i}, in handler_{i}\n    await call_{i}()\n'
        for i in range(1500)
    )
    huge = f"Traceback (most recent call last):\n{frames}ValueError: the real cause"
    assert len(huge) > 100_000
    sigs = [signature(fingerprint=f"f{i}", sample=huge, message=huge[:5000]) for i in range(20)]
    lines = [LogLine(text=huge) for _ in range(20)]
    runs = [run(f"check-{i}", Status.CRITICAL, huge, [*sigs, *lines]) for i in range(30)]
    message = render_report(report(*runs))
    payload = message.payload()
    assert limit_problems(payload) == []
    assert len(message.blocks) <= 50
    assert all(len(b["text"]["text"]) <= SECTION_TEXT_LIMIT for b in message.blocks if "text" in b)
    assert sum(block_text_length(b) for b in message.blocks) <= 40_000
    body = texts(message.blocks)
    assert "ValueError: the real cause" in body  # the end of a traceback is what is kept
    assert "not shown" in body
    assert message.blocks[-1]["type"] == "actions"


def test_incidents_and_followups_and_ack_button() -> None:
    incident = Incident(id="INC-4", check="api", status=Status.CRITICAL, opened_at=T0)
    followup = FollowUpItem(id="F-2", text="re-run /check_prod", created_at=T0, due_at=T0)
    view = ReportView(incidents=[incident], followups=[followup], recheck=("api",))
    message = render_report(report(run("api", Status.CRITICAL, "down")), view)
    body = texts(message.blocks)
    assert "🔴 *INC-4* api since 09:26 UTC · not acknowledged" in body
    assert "☐ *F-2* re-run /check_prod (due 09:26 UTC)" in body
    elements = message.blocks[-1]["elements"]
    assert [(e["action_id"], e["value"]) for e in elements] == [
        (ACTION_RECHECK, "api"),
        (ACTION_ACK, "INC-4"),
    ]


def test_acknowledged_incident_has_no_ack_button() -> None:
    incident = Incident(
        id="INC-4", check="api", status=Status.CRITICAL, opened_at=T0, acknowledged_by="U1"
    )
    message = render_report(report(run("api", Status.CRITICAL)), ReportView(incidents=[incident]))
    assert [e["action_id"] for e in message.blocks[-1]["elements"]] == [ACTION_RECHECK]
    assert "acknowledged by <@U1>" in texts(message.blocks)


def test_title_and_window_metric() -> None:
    message = render_report(
        report(run("logs", metrics={"window_s": 3600.0})), ReportView(title="last known")
    )
    assert message.blocks[0]["text"]["text"] == "🟢 OK — last known"
    assert "window 1 h" in message.blocks[-2]["elements"][0]["text"]


def test_runbook_match_shows_title_why_first_steps_follow_ups_and_link() -> None:
    match = RunbookMatch(
        id="database-connection-lost",
        title="Database connection lost",
        severity=Severity.CRITICAL,
        score=3.0,
        checks=("logs",),
        evidence=("RuntimeError: Database connection is not available.",),
        count=9,
        why=(
            Explanation(
                field="message", pattern="Database connection is not available", matched="<!here>"
            ),
        ),
        first_steps=(
            Step(text="Redeploy with reconnect", commands=("gcloud run deploy shop --region x",)),
        ),
        follow_ups=(PlannedFollowUp(after="+30m", after_s=1800, remind="re-run /check_prod"),),
        source="builtin:database-connection-lost.md",
    )
    uncovered = NoRunbook(
        check="logs",
        evidence="KeyError: 'x'",
        count=2,
        suggested_id="keyerror-x",
        command="prodguardian runbooks new keyerror-x",
        scaffold="---",
    )
    sigs = [signature()]
    rep = report(run("logs", Status.CRITICAL, "errors", sigs)).model_copy(
        update={"runbooks": (match, uncovered)}
    )
    body = texts(render_report(rep).blocks)
    assert "📘 *Runbook: Database connection lost* · critical · 9× in logs" in body
    assert "_why:_ message `Database connection is not available` matched `&lt;!here&gt;`" in body
    assert "1. Redeploy with reconnect" in body
    assert "gcloud run deploy shop --region x" in body
    assert "☐ +30m: re-run /check_prod" in body
    assert "`prodguardian runbooks show database-connection-lost`" in body
    assert "📭 *No runbook yet for:*" in body
    assert "`prodguardian runbooks new keyerror-x`" in body


def test_runbook_with_url_source_is_a_link() -> None:
    match = RunbookMatch(
        id="x",
        title="T",
        severity=Severity.LOW,
        score=1.0,
        checks=(),
        evidence=(),
        count=1,
        why=(),
        first_steps=(),
        follow_ups=(),
        source="https://wiki.example/runbooks/x",
    )
    rep = report(run("a", Status.DEGRADED)).model_copy(update={"runbooks": (match,)})
    assert "<https://wiki.example/runbooks/x|Read the whole runbook>" in texts(
        render_report(rep).blocks
    )


def test_slow_routes_and_burn_rates() -> None:
    evidence: list[Evidence] = [
        SlowRoute(
            service="shop",
            route="GET /api/chat",
            count=812,
            errors=3,
            p50_ms=120,
            p95_ms=1820,
            p99_ms=2400,
            window_s=900,
            status=Status.DEGRADED,
            reason="p95 1,820 ms > 1,000 ms",
            example_trace_ids=("4bf92f3577b34da6",),
        ),
        BurnRate(
            window_s=3600,
            requests=1000,
            errors=150,
            burn_rate=15.0,
            threshold=14.4,
            alert="page",
            firing=True,
            budget_remaining=0.85,
        ),
    ]
    message = render_report(report(run("latency", Status.DEGRADED, "slow", evidence)))
    body = texts(message.blocks)
    assert (
        "🟡 `GET /api/chat` p50 120 ms · p95 1,820 ms · p99 2,400 ms · 3/812 errors over "
        "15 min — p95 1,820 ms &gt; 1,000 ms · traces `4bf92f3577b34da6`"
    ) in body
    assert "🔥 burn rate 15.0× over 1 h (fires at 14.4×): *firing (page)* · 150/1000" in body
    assert "budget left 85%" in body
    assert "window 1 h" in message.blocks[-2]["elements"][0]["text"]


def test_warnings_come_after_errors_and_are_marked() -> None:
    sigs = [
        signature(
            fingerprint="w",
            count=50,
            level="warning",
            exception_type=None,
            severity="WARNING",
            message="no user identifier",
        ),
        signature(count=2),
    ]
    body = texts(render_report(report(run("logs", Status.DEGRADED, "x", sigs))).blocks)
    assert "⚠️ *50×* `WARNING`: `no user identifier`" in body
    assert body.index("*2×*") < body.index("*50×*")


def test_deploy_figures_come_from_the_checks_metrics_when_it_has_them() -> None:
    deploy = ActiveDeploy(revision="r42", since=T0)
    metrics = {
        "errors_since_deploy": 0.0,
        "entries_since_deploy": 40.0,
        "error_rate_since_deploy_pct": 0.0,
        "errors_before_deploy": 9.0,
    }
    rep = report(
        run("logs", Status.DEGRADED, "x", [signature(before_deploy=True)], metrics=metrics),
        deploy=deploy,
    )
    body = texts(render_report(rep).blocks)
    assert (
        "*Since the deploy `r42` at 09:26 UTC:* 0 error(s) in 40 entries (0.00 %) · "
        "*before it:* 9 (not held against the new revision)"
    ) in body
