"""Authorisation of mutating commands and buttons, and the buttons themselves."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from prodguardian.slack.memory_stores import MemoryFollowUps
from prodguardian.slack.render_report import ACTION_ACK, ACTION_FOLLOWUP_DONE, ACTION_RECHECK
from tests.server.harness import ServerHarness, serving, write_config
from tests.slack.reports import T0
from tests.support.response_url_sink import ResponseUrlSink
from tests.support.slack_standin import SlackStandIn, sign, slash_command_form


async def test_unauthorised_user_gets_a_polite_ephemeral_refusal(
    server: ServerHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="prodguardian.slack.authorisation")
    for text in ("deploy r1", "done F-1", "ack INC-1", "silence readiness 1h"):
        answer, _ = await server.command(text, user="U0MALLORY")
        assert answer.status == 200
        assert answer.body["response_type"] == "ephemeral"
        assert "Sorry, you may not" in answer.text
        assert "slack.allowed_users" in answer.text
    assert await server.runtime.stores.deploys.active() is None
    assert await server.runtime.stores.incidents.silences(now=T0) == []
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 4
    assert all("user=U0MALLORY" in line for line in refusals)


async def test_read_only_commands_are_open_to_everyone(server: ServerHarness) -> None:
    for text in ("help", "status", "followups"):
        answer, _ = await server.command(text, user="U0MALLORY")
        assert "Sorry" not in answer.text
    _, key = await server.command("api-health", user="U0MALLORY")
    assert (await server.report_for(key))[0].text.startswith("🟢 OK")


async def test_user_groups_and_channels_grant_access(
    tmp_path: Path, target: str, standin: SlackStandIn, sink: ResponseUrlSink
) -> None:
    standin.user_groups = {"S0ONCALL": ["U0BOB"]}
    config = write_config(
        tmp_path,
        target,
        slack="{allowed_user_groups: [S0ONCALL, S0GONE], allowed_channels: [C0DEPLOYS]}",
    )
    async with serving(config, standin, sink) as server:
        answer, _ = await server.command("deploy r1", user="U0BOB")
        assert "Deploy `r1` marked" in answer.text
        answer, _ = await server.command("deploy r2", user="U0CAROL", channel="C0DEPLOYS")
        assert "Deploy `r2` marked" in answer.text
        answer, _ = await server.command("deploy r3", user="U0CAROL")
        assert "Sorry, you may not mark deploys here (`deploy`)" in answer.text
        # Membership is cached: two user-group reads (one per group) for three commands.
        groups = [c.args["usergroup"] for c in standin.calls_to("usergroups.users.list")]
        assert sorted(groups) == ["S0GONE", "S0ONCALL"]
        active = await server.runtime.stores.deploys.active()
        assert active is not None
        assert active.revision == "r2"


async def test_nobody_may_mutate_without_configured_lists(
    tmp_path: Path, target: str, standin: SlackStandIn, sink: ResponseUrlSink
) -> None:
    config = write_config(tmp_path, target, slack="{}")
    async with serving(config, standin, sink) as server:
        answer, _ = await server.command("deploy r1")
        assert "all empty" in answer.text


async def test_recheck_button_posts_a_new_report(server: ServerHarness) -> None:
    answer, key = await server.press(ACTION_RECHECK, "api-health", user="U0MALLORY")
    assert answer.status == 200
    running, report = await server.report_for(key, count=2)
    assert "Checking `api-health`" in running.all_text
    assert report.text.startswith("🟢 OK — emergence-app: 1/1")
    assert report.body["response_type"] == "in_channel"


async def test_acknowledge_button_is_authorised(server: ServerHarness) -> None:
    _, key = await server.command("")
    [report] = await server.report_for(key)
    ack = report.blocks[-1]["elements"][1]
    assert ack["action_id"] == ACTION_ACK

    _, refused = await server.press(ACTION_ACK, ack["value"], user="U0MALLORY")
    [refusal] = await server.report_for(refused)
    assert refusal.body["response_type"] == "ephemeral"
    assert "Sorry, you may not acknowledge incidents here (`ack`)" in refusal.all_text
    [incident] = await server.runtime.stores.incidents.open()
    assert incident.acknowledged_by is None

    _, accepted = await server.press(ACTION_ACK, ack["value"])
    [confirmation] = await server.report_for(accepted)
    assert "*INC-1* (readiness) acknowledged by <@U0ALICE>" in confirmation.all_text
    [incident] = await server.runtime.stores.incidents.open()
    assert incident.acknowledged_by == "U0ALICE"


async def test_done_button_closes_the_followup(server: ServerHarness) -> None:
    followups = server.runtime.stores.followups
    assert isinstance(followups, MemoryFollowUps)
    item = followups.add("verify 24 h of metrics", created_at=T0)
    _, refused = await server.press(ACTION_FOLLOWUP_DONE, item.id, user="U0MALLORY")
    assert "Sorry" in (await server.report_for(refused))[0].all_text
    _, key = await server.press(ACTION_FOLLOWUP_DONE, item.id)
    [done] = await server.report_for(key)
    assert "Follow-up *F-1* done by <@U0ALICE>" in done.all_text
    assert await followups.pending() == []


async def test_report_reaches_the_sink_through_its_failures(server: ServerHarness) -> None:
    server.sink.fail_next(500, times=2)
    _, key = await server.command("api-health")
    [delivery] = await server.report_for(key)
    assert delivery.text.startswith("🟢 OK")
    assert server.sink.attempts == 3


async def test_a_users_mistake_is_answered_to_that_user_alone(server: ServerHarness) -> None:
    for text, expected in (
        ("ack INC-99", "No open incident `INC-99`"),
        ("done F-1", "No open follow-up `F-1`"),
        ("silence nosuchcheck 30m", "is neither a check nor an open incident"),
    ):
        answer, _ = await server.command(text, user="U0ALICE")
        assert answer.status == 200
        assert expected in answer.text, text
        assert answer.body["response_type"] == "ephemeral", text
    answer, _ = await server.command("silence readiness 30m", user="U0ALICE")
    assert "silenced until" in answer.text
    assert answer.body["response_type"] == "in_channel"


async def test_refusal_names_the_action_in_words(server: ServerHarness) -> None:
    answer, _ = await server.command("done F-1", user="U0MALLORY")
    assert "you may not close follow-ups here (`done`)" in answer.text
    answer, _ = await server.command("silence readiness 1h", user="U0MALLORY")
    assert "you may not silence alerts here (`silence`)" in answer.text


async def test_a_bad_signature_is_logged_without_the_body(
    server: ServerHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret_url = server.sink.url_for("capability-url-never-logged")
    body = slash_command_form("", response_url=secret_url)
    answer = await server.post_signed(body, sign(body, secret="not-the-secret"))
    assert answer.status == 401
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "refused a Slack request" in logged
    assert "capability-url-never-logged" not in logged
    assert "response_url" not in logged
