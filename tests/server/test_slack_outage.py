"""The ack never depends on Slack's Web API: ``/check_prod`` with the Web API down, failing, or
refusing the token, and a token revoked while the server runs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.server.harness import serving, write_config
from tests.support.response_url_sink import ResponseUrlSink
from tests.support.slack_standin import Fault, SlackStandIn, wait_until


async def test_command_acks_and_reports_while_the_web_api_is_down(
    tmp_path: Path, target: str, sink: ResponseUrlSink
) -> None:
    down = SlackStandIn()
    await down.start()
    await down.stop()  # its URL now refuses connections
    async with serving(write_config(tmp_path, target), down, sink) as server:
        await wait_until(
            lambda: (
                server.runtime.token.status.problem != "the Slack bot token is not verified yet"
            ),
            what="the first auth.test",
        )
        answer, key = await server.command("api-health")
        [delivery] = await server.report_for(key)
    assert answer.status == 200
    assert "Checking `api-health`" in answer.text
    assert "Slack's Web API is unreachable" in answer.text
    assert delivery.text.startswith("🟢 OK — emergence-app")


async def test_command_acks_and_reports_while_the_web_api_answers_500(
    tmp_path: Path, target: str, standin: SlackStandIn, sink: ResponseUrlSink
) -> None:
    standin.fail_next("auth.test", Fault("server_error"), times=1000)
    async with serving(write_config(tmp_path, target), standin, sink) as server:
        answer, key = await server.command("")
        [delivery] = await server.report_for(key)
        ready = await server.http.get(f"{server.url}/readyz")
        readiness = await ready.json()
    assert answer.status == 200
    assert "Checking all 2 checks" in answer.text
    assert delivery.text.startswith("🔴 CRITICAL — emergence-app")
    assert ready.status == 503
    assert "Slack" in readiness["problem"]
    assert standin.calls_to("auth.test"), "the token is still verified, in the background"


async def test_wrong_token_still_reports_and_says_what_to_fix(
    tmp_path: Path,
    target: str,
    standin: SlackStandIn,
    sink: ResponseUrlSink,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    config = write_config(tmp_path, target)
    async with serving(config, standin, sink, bot_token="xoxb-wrong") as server:
        await wait_until(lambda: server.runtime.token.status.rejected, what="the refusal")
        answer, key = await server.command("api-health")
        [delivery] = await server.report_for(key)
    assert answer.status == 200
    assert "reinstall" not in answer.raw.lower()
    assert "SLACK_BOT_TOKEN" in answer.text
    assert delivery.text.startswith("🟢 OK — emergence-app")
    logged = [r.getMessage() for r in caplog.records if r.name == "prodguardian.slack.token"]
    assert any("invalid_auth" in m and "set SLACK_BOT_TOKEN" in m for m in logged), logged


async def test_token_revoked_while_serving_turns_readyz_503(
    tmp_path: Path, target: str, standin: SlackStandIn, sink: ResponseUrlSink
) -> None:
    config = write_config(tmp_path, target)
    async with serving(config, standin, sink, token_recheck_s=0.05) as server:
        first = await server.http.get(f"{server.url}/readyz")
        assert first.status == 200
        standin.bot_token = "xoxb-the-new-one"  # the old token is revoked
        await wait_until(lambda: server.runtime.token.status.rejected, what="the re-check")
        after = await server.http.get(f"{server.url}/readyz")
        body = await after.json()
    assert after.status == 503
    assert body["ready"] is False
    assert "SLACK_BOT_TOKEN" in body["problem"]


async def test_group_lookup_that_cannot_reach_slack_refuses_with_the_reason(
    tmp_path: Path, target: str, sink: ResponseUrlSink
) -> None:
    down = SlackStandIn()
    await down.start()
    await down.stop()
    config = write_config(tmp_path, target, slack="{allowed_user_groups: [S0ONCALL]}")
    async with serving(config, down, sink) as server:
        answer, _ = await server.command("deploy rev-2", user="U0BOB")
    assert answer.status == 200
    assert answer.body["response_type"] == "ephemeral"
    assert "could not be read from Slack" in answer.text


async def test_slack_unreachable_after_a_good_check_is_a_warning_not_unready(
    tmp_path: Path, target: str, sink: ResponseUrlSink
) -> None:
    slack = SlackStandIn()
    await slack.start()
    config = write_config(tmp_path, target)
    async with serving(config, slack, sink, token_recheck_s=0.05) as server:
        await wait_until(lambda: server.runtime.token.status.identity is not None, what="auth")
        await slack.stop()
        await wait_until(
            lambda: "unreachable" in (server.runtime.token.status.problem or ""),
            what="the failed re-check",
        )
        answer = await server.http.get(f"{server.url}/readyz")
        body = await answer.json()
    assert answer.status == 200
    assert body["ready"] is True
    assert "unreachable" in body["warning"]
