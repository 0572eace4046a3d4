"""The notifier against the local Slack stand-in, with the real slack-sdk client."""

from __future__ import annotations

import logging
import time

import pytest

from prodguardian.slack.blocks import MessageBuilder, SlackMessage
from prodguardian.slack.errors import SlackAuthError, SlackChannelError, SlackDeliveryError
from prodguardian.slack.notifier import SlackNotifier, make_web_client
from prodguardian.slack.retry import BoundedRetryHandler
from prodguardian.slack.settings import SlackSettings
from tests.support.slack_standin import BOT_TOKEN, Fault, SlackStandIn

FAST_RETRY = BoundedRetryHandler(max_retries=3, backoff_base_s=0.01, backoff_max_s=0.05)


def notifier(standin: SlackStandIn, *, token: str = BOT_TOKEN) -> SlackNotifier:
    settings = SlackSettings(bot_token=token, signing_secret="s", api_url=standin.url)
    return SlackNotifier(make_web_client(settings, retry=FAST_RETRY, timeout_s=5))


def message(text: str) -> SlackMessage:
    out = MessageBuilder()
    out.section(text)
    return out.build(text)


async def test_post_update_and_reply_in_thread(standin: SlackStandIn) -> None:
    slack = notifier(standin)
    posted = await slack.post("C0ALERTS", message("🔴 api down"))
    assert posted.channel == "C0ALERTS"
    updated = await slack.update(posted, message("🟢 api recovered"))
    assert updated == posted
    reply = await slack.reply(posted, message("resolved after 12 min"))
    await slack.post_ephemeral("C0ALERTS", "U0ALICE", message("only you"))

    stored = standin.messages[("C0ALERTS", posted.ts)]
    assert stored.text == "🟢 api recovered"
    assert stored.edits == 1
    assert standin.messages[("C0ALERTS", reply.ts)].thread_ts == posted.ts
    assert [c.method for c in standin.calls] == [
        "chat.postMessage",
        "chat.update",
        "chat.postMessage",
        "chat.postEphemeral",
    ]
    assert all(c.token == BOT_TOKEN for c in standin.calls)
    assert standin.calls[0].args["blocks"][0]["text"]["text"] == "🔴 api down"


async def test_429_honours_retry_after_then_succeeds(standin: SlackStandIn) -> None:
    standin.fail_next("chat.postMessage", Fault("rate_limited", retry_after_s=1))
    start = time.monotonic()
    posted = await notifier(standin).post("C0ALERTS", message("hello"))
    calls = standin.calls_to("chat.postMessage")
    assert [c.status for c in calls] == [429, 200]
    assert calls[1].at - calls[0].at >= 1.0
    assert time.monotonic() - start >= 1.0
    assert ("C0ALERTS", posted.ts) in standin.messages


async def test_retry_after_longer_than_the_cap_gives_up(standin: SlackStandIn) -> None:
    standin.fail_next("chat.postMessage", Fault("rate_limited", retry_after_s=3600))
    with pytest.raises(SlackDeliveryError, match="rate-limited"):
        await notifier(standin).post("C0ALERTS", message("hello"))
    assert len(standin.calls_to("chat.postMessage")) == 1


async def test_500s_are_retried_with_backoff(standin: SlackStandIn) -> None:
    standin.fail_next("chat.postMessage", Fault("server_error"), times=2)
    await notifier(standin).post("C0ALERTS", message("hello"))
    assert [c.status for c in standin.calls_to("chat.postMessage")] == [500, 500, 200]


async def test_500s_beyond_the_retries_give_a_clear_error(
    standin: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    standin.fail_next("chat.update", Fault("server_error"), times=10)
    slack = notifier(standin)
    posted = await slack.post("C0ALERTS", message("hello"))
    with pytest.raises(SlackDeliveryError, match="HTTP 500 on every retry"):
        await slack.update(posted, message("again"))
    assert len(standin.calls_to("chat.update")) == 4  # 1 + 3 retries, bounded
    assert "HTTP 500" in caplog.text


async def test_dropped_connection_is_retried(standin: SlackStandIn) -> None:
    standin.fail_next("chat.postMessage", Fault("drop"))
    await notifier(standin).post("C0ALERTS", message("hello"))
    assert len(standin.calls_to("chat.postMessage")) == 2


async def test_invalid_auth_is_a_clear_logged_error(
    standin: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    with pytest.raises(SlackAuthError) as caught:
        await notifier(standin, token="xoxb-revoked").post("C0ALERTS", message("hello"))
    assert caught.value.code == "invalid_auth"
    assert "SLACK_BOT_TOKEN" in str(caught.value)
    assert "invalid_auth" in caplog.text
    assert len(standin.calls_to("chat.postMessage")) == 1  # not retried


async def test_invalid_auth_fault_mode(standin: SlackStandIn) -> None:
    standin.fail_next("chat.postMessage", Fault("invalid_auth"))
    with pytest.raises(SlackAuthError):
        await notifier(standin).post("C0ALERTS", message("hello"))


async def test_not_in_channel_says_to_invite_the_bot(
    standin: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    standin.joined_channels = {"C0OTHER"}
    with pytest.raises(SlackChannelError) as caught:
        await notifier(standin).post("C0ALERTS", message("hello"))
    assert caught.value.code == "not_in_channel"
    assert "/invite @ProdGuardian" in str(caught.value)
    assert "not_in_channel" in caplog.text
    standin.joined_channels = None
    standin.fail_next("chat.postMessage", Fault("not_in_channel"))
    with pytest.raises(SlackChannelError):
        await notifier(standin).post("C0ALERTS", message("hello"))


async def test_unreachable_slack_is_a_delivery_error() -> None:
    settings = SlackSettings(
        bot_token=BOT_TOKEN, signing_secret="s", api_url="http://127.0.0.1:9/api/"
    )
    slack = SlackNotifier(make_web_client(settings, retry=FAST_RETRY, timeout_s=2))
    with pytest.raises(SlackDeliveryError) as caught:
        await slack.post("C0ALERTS", message("hello"))
    assert caught.value.code == "network"
