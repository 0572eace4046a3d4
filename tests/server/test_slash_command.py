"""``/check_prod`` end to end: signed as Slack signs it, served by uvicorn, answered to the sink."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from prodguardian.report import Report
from prodguardian.slack.memory_stores import MemoryFollowUps, MemoryReportHistory, memory_stores
from prodguardian.slack.render_report import ACTION_ACK, ACTION_RECHECK
from tests.server.harness import ServerHarness, serving, write_config
from tests.support.http_targets import silent_server
from tests.support.response_url_sink import ResponseUrlSink
from tests.support.slack_standin import SlackStandIn, sign, slash_command_form


async def test_check_prod_acks_then_posts_the_full_report(server: ServerHarness) -> None:
    answer, key = await server.command("")
    assert answer.status == 200
    assert answer.body["response_type"] == "ephemeral"
    assert "Checking all 2 checks" in answer.text

    [delivery] = await server.report_for(key)
    assert delivery.body["response_type"] == "in_channel"
    assert delivery.text == (
        "🔴 CRITICAL — emergence-app: 1/2 checks OK; failing: readiness (CRITICAL)"
    )
    blocks = delivery.blocks
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "🔴 CRITICAL — emergence-app", "emoji": True},
    }
    seen = delivery.all_text
    assert "🟢 *api-health* · http" in seen
    assert "🔴 *readiness* · http — HTTP 503" in seen
    assert "expected `200`, got `503 Service Unavailable`" in seen
    assert "🔴 *INC-1* readiness" in seen
    assert "Ran 2 check(s) at" in seen
    actions = blocks[-1]
    assert actions["type"] == "actions"
    assert [(e["action_id"], e["value"]) for e in actions["elements"]] == [
        (ACTION_RECHECK, "all"),
        (ACTION_ACK, "INC-1"),
    ]
    assert server.sink.rejected == []


async def test_one_check_by_name(server: ServerHarness) -> None:
    answer, key = await server.command("api-health")
    assert "Checking `api-health`" in answer.text
    [delivery] = await server.report_for(key)
    assert delivery.text.startswith("🟢 OK — emergence-app: 1/1 checks OK")
    assert "readiness" not in delivery.all_text
    recheck = delivery.blocks[-1]["elements"][0]
    assert recheck["value"] == "api-health"


async def test_ephemeral_reports_when_configured(
    tmp_path: Path, target: str, standin: SlackStandIn, sink: ResponseUrlSink
) -> None:
    config = write_config(tmp_path, target, slack="{response_type: ephemeral}")
    async with serving(config, standin, sink) as server:
        _, key = await server.command("")
        [delivery] = await server.report_for(key)
    assert delivery.body["response_type"] == "ephemeral"


async def test_concurrent_commands_share_one_run(server: ServerHarness) -> None:
    answers = await asyncio.gather(*(server.command("") for _ in range(8)))
    assert all(a.status == 200 for a, _ in answers)
    deliveries = [await server.report_for(key) for _, key in answers]
    assert len(deliveries) == 8
    assert server.runtime.runs.started < 8


async def test_status_shows_last_report_without_a_run(server: ServerHarness) -> None:
    answer, _ = await server.command("status")
    assert "No report yet" in answer.text
    _, key = await server.command("")
    await server.report_for(key)
    runs_before = server.runtime.runs.started
    answer, _ = await server.command("status")
    assert answer.body["response_type"] == "in_channel"
    header = answer.body["blocks"][0]["text"]["text"]
    assert header.startswith("🔴 CRITICAL — emergence-app · last known report (")
    assert server.runtime.runs.started == runs_before


async def test_help_and_unknown_subcommands_are_ephemeral_help(server: ServerHarness) -> None:
    answer, _ = await server.command("help")
    assert answer.body["response_type"] == "ephemeral"
    assert "/check_prod status" in answer.text
    answer, _ = await server.command("restart-prod")
    assert answer.body["response_type"] == "ephemeral"
    assert "`restart-prod` is neither a subcommand nor a configured check" in answer.text
    assert "Configured checks: `api-health`, `readiness`" in answer.text


async def test_deploy_mark_becomes_the_next_reports_deploy(server: ServerHarness) -> None:
    answer, _ = await server.command("deploy emergence-app-00042-abc reconnect <!channel>")
    assert answer.body["response_type"] == "in_channel"
    assert "Deploy `emergence-app-00042-abc` marked" in answer.text
    assert "<!channel>" not in answer.raw
    _, key = await server.command("")
    [delivery] = await server.report_for(key)
    context = delivery.blocks[-2]["elements"][0]["text"]
    assert "deploy `emergence-app-00042-abc` at" in context
    assert "reconnect &lt;!channel&gt;" in context
    report = await server.runtime.stores.history.last()
    assert report is not None
    assert report.deploy is not None
    assert report.deploy.revision == "emergence-app-00042-abc"


async def test_followups_done_ack_and_silence(server: ServerHarness) -> None:
    answer, _ = await server.command("followups")
    assert "No follow-ups pending" in answer.text
    answer, _ = await server.command("done F-1")
    assert "No open follow-up `F-1`" in answer.text

    answer, _ = await server.command("ack INC-1")
    assert "No open incident `INC-1`. Open ones: none" in answer.text
    _, key = await server.command("")
    await server.report_for(key)
    answer, _ = await server.command("ack INC-1")
    assert "INC-1* (readiness) acknowledged by <@U0ALICE>" in answer.text

    answer, _ = await server.command("silence readiness 2h")
    assert "Alerts for `readiness` silenced until" in answer.text
    answer, _ = await server.command("silence INC-1 30m")
    assert "Alerts for `INC-1` silenced" in answer.text
    answer, _ = await server.command("silence nothing 30m")
    assert "is neither a check nor an open incident" in answer.text
    silences = await server.runtime.stores.incidents.silences(now=datetime.now(UTC))
    assert sorted(s.target for s in silences) == ["INC-1", "readiness"]


async def test_followups_list_has_done_buttons(server: ServerHarness) -> None:
    followups = server.runtime.stores.followups
    assert isinstance(followups, MemoryFollowUps)
    followups.add("re-run /check_prod, expect OK", created_at=datetime.now(UTC))
    answer, _ = await server.command("followups")
    assert "☐ *F-1* re-run /check_prod, expect OK" in answer.text
    actions = answer.body["blocks"][-1]
    assert actions["elements"][0]["action_id"] == "prodguardian_followup_done"
    assert actions["elements"][0]["value"] == "F-1"


async def test_bad_signature_is_401_and_nothing_runs(server: ServerHarness) -> None:
    body = slash_command_form("", response_url=server.sink.url_for("x"))
    headers = sign(body, secret="not-the-secret")
    answer = await server.post_signed(body, headers)
    assert answer.status == 401
    tampered = body.replace(b"U0ALICE", b"U0MALLORY")
    answer = await server.post_signed(tampered, sign(body))
    assert answer.status == 401
    answer = await server.post_signed(body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status == 401
    await asyncio.sleep(0.3)
    assert server.runtime.runs.started == 0
    assert server.sink.attempts == 0


async def test_stale_timestamp_is_401_and_nothing_runs(server: ServerHarness) -> None:
    body = slash_command_form("deploy r1", response_url=server.sink.url_for("x"))
    old = int(time.time()) - 6 * 60
    answer = await server.post_signed(body, sign(body, timestamp=old))
    assert answer.status == 401
    assert await server.runtime.stores.deploys.active() is None
    future = int(time.time()) + 6 * 60
    answer = await server.post_signed(body, sign(body, timestamp=future))
    assert answer.status == 401
    assert server.runtime.runs.started == 0


async def test_a_hanging_target_is_reported_not_awaited_forever(
    tmp_path: Path, standin: SlackStandIn, sink: ResponseUrlSink
) -> None:
    async with silent_server() as hanging:
        config = tmp_path / "hang.yaml"
        config.write_text(
            f'checks:\n  - {{name: api, kind: http, timeout: 1s, url: "{hanging}/health"}}\n'
        )
        async with serving(config, standin, sink) as server:
            _, key = await server.command("")
            [delivery] = await server.report_for(key)
    # A target that never answers is down: the probe says so within its timeout.
    assert delivery.text.startswith("🔴 CRITICAL")
    assert "🔴 *api* · http" in delivery.all_text


class BrokenHistory(MemoryReportHistory):
    """A report history whose backend is down."""

    async def last(self) -> Report | None:
        raise ConnectionError("state store unreachable")


async def test_a_failing_store_answers_with_the_reason_not_a_500(
    tmp_path: Path, target: str, standin: SlackStandIn, sink: ResponseUrlSink
) -> None:
    stores = replace(memory_stores(), history=BrokenHistory())
    async with serving(write_config(tmp_path, target), standin, sink, stores=stores) as server:
        answer, _ = await server.command("status")
    assert answer.status == 200
    assert answer.body["response_type"] == "ephemeral"
    assert "ProdGuardian failed: `ConnectionError: state store unreachable`" in answer.text
