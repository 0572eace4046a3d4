"""The outbox sender against the Slack stand-in: order, threads, outages, crashes, once only."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from prodguardian.slack.notifier import SlackNotifier, make_web_client
from prodguardian.slack.retry import BoundedRetryHandler
from prodguardian.slack.settings import SlackSettings
from prodguardian.store import outbox
from prodguardian.store.database import Database
from prodguardian.store.outbox import OutgoingMessage
from prodguardian.store.schema import OutboxRow
from prodguardian.watch.sender import OutboxSender
from prodguardian.watch.transports import SlackTransport
from tests.support.slack_standin import BOT_TOKEN, Fault, SlackStandIn

CHANNEL = "C0ALERTS"
T0 = datetime(2025, 10, 11, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def transport(standin: SlackStandIn, *, token: str = BOT_TOKEN) -> SlackTransport:
    settings = SlackSettings(bot_token=token, signing_secret="s", api_url=standin.url)
    retry = BoundedRetryHandler(max_retries=1, backoff_base_s=0.01, backoff_max_s=0.02)
    return SlackTransport(SlackNotifier(make_web_client(settings, retry=retry)))


async def write(db: Database, *messages: OutgoingMessage) -> list[int]:
    async def work(session: AsyncSession) -> list[int]:
        return [await outbox.enqueue(session, m, now=T0) for m in messages]

    return await db.run(work)


def msg(
    text: str, action: str = "post", parent: int | None = None, group: str = "g1"
) -> OutgoingMessage:
    return OutgoingMessage(
        group=group,
        action=action,  # type: ignore[arg-type]
        channel=CHANNEL,
        payload={
            "text": text,
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
        },
        parent_id=parent,
    )


async def rows(db: Database) -> list[OutboxRow]:
    async def read(session: AsyncSession) -> list[OutboxRow]:
        return list((await session.scalars(select(OutboxRow).order_by(OutboxRow.id))).all())

    return await db.run(read)


async def test_messages_go_out_in_order_with_threads_and_updates(
    database: Database, standin: SlackStandIn
) -> None:
    (root,) = await write(database, msg("opened"))
    await write(database, msg("reply 1", "reply", root), msg("edited", "update", root))
    await write(database, msg("other incident", group="g2"))
    sender = OutboxSender(database, transport(standin), clock=Clock())
    assert await sender.deliver_due() == 4
    top = [m for m in standin.channel_messages(CHANNEL) if m.thread_ts is None]
    assert sorted(m.text for m in top) == ["edited", "other incident"]
    (parent,) = [m for m in top if m.text == "edited"]
    assert parent.edits == 1
    (reply,) = [m for m in standin.channel_messages(CHANNEL) if m.thread_ts]
    assert (reply.text, reply.thread_ts) == ("reply 1", parent.ts)
    assert parent.metadata == {
        "event_type": "prodguardian_outbox",
        "event_payload": {"outbox_key": (await rows(database))[0].key},
    }
    assert {r.state for r in await rows(database)} == {"sent"}


async def test_a_newer_update_supersedes_an_unsent_one(
    database: Database, standin: SlackStandIn
) -> None:
    (root,) = await write(database, msg("opened"))
    await write(database, *(msg(f"edit {i}", "update", root) for i in range(5)))
    sender = OutboxSender(database, transport(standin), clock=Clock())
    await sender.deliver_due()
    assert len(standin.calls_to("chat.update")) == 1
    assert standin.channel_messages(CHANNEL)[0].text == "edit 4"
    assert [r.state for r in await rows(database)][1:] == ["superseded"] * 4 + ["sent"]


async def test_an_hour_of_slack_outage_delays_messages_and_loses_none(
    database: Database, standin: SlackStandIn
) -> None:
    clock = Clock()
    sender = OutboxSender(database, transport(standin), clock=clock)
    (root,) = await write(database, msg("opened"))
    await write(database, msg("reply", "reply", root))
    for _ in range(60):  # every try for an hour answers 500
        standin.fail_next("chat.postMessage", Fault("server_error"), times=2)
        await sender.deliver_due()
        clock.now += timedelta(minutes=1)
    assert standin.channel_messages(CHANNEL) == []
    assert {r.state for r in await rows(database)} == {"sending", "pending"}
    # Slack is back: each message arrives once, the uncertain ones looked up first.
    clock.now += timedelta(minutes=5)
    await sender.deliver_due()
    texts = sorted(m.text for m in standin.channel_messages(CHANNEL))
    assert texts == ["opened", "reply"]
    assert standin.calls_to("conversations.history"), "an uncertain send is looked up first"


async def test_a_message_sent_before_a_crash_is_not_sent_again(
    database: Database, standin: SlackStandIn
) -> None:
    (root,) = await write(database, msg("opened"))
    await write(database, msg("in the thread", "reply", root))
    sender = OutboxSender(database, transport(standin), clock=Clock())
    await sender.deliver_due()

    # As if the process died between Slack's answer and marking the rows sent.
    async def forget(session: AsyncSession) -> None:
        await session.execute(
            update(OutboxRow).where(OutboxRow.id > root).values(state="sending", ts=None)
        )

    await database.run(forget)
    posts_before = len(standin.calls_to("chat.postMessage"))
    restarted = OutboxSender(database, transport(standin), clock=Clock())
    await restarted.deliver_due()
    assert len(standin.calls_to("chat.postMessage")) == posts_before
    assert standin.calls_to("conversations.replies")
    assert {r.state for r in await rows(database)} == {"sent"}
    assert len(standin.channel_messages(CHANNEL)) == 2


async def test_a_bad_token_keeps_the_messages_and_says_what_to_fix(
    database: Database, standin: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    await write(database, msg("opened"))
    clock = Clock()
    sender = OutboxSender(database, transport(standin, token="xoxb-wrong"), clock=clock)
    with caplog.at_level(logging.WARNING):
        assert await sender.deliver_due() == 0
    assert "SLACK_BOT_TOKEN" in caplog.text
    (row,) = await rows(database)
    assert row.state == "pending"
    assert row.next_attempt_at == T0 + timedelta(seconds=60)
    fixed = OutboxSender(database, transport(standin), clock=clock)
    clock.now += timedelta(minutes=2)
    assert await fixed.deliver_due() == 1


async def test_an_unknown_channel_is_logged_with_the_fix(
    database: Database, standin: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    standin.joined_channels = {"C0OTHER"}
    await write(database, msg("opened"))
    sender = OutboxSender(database, transport(standin), clock=Clock())
    with caplog.at_level(logging.WARNING):
        await sender.deliver_due()
    assert "/invite @ProdGuardian" in caplog.text
    assert (await rows(database))[0].state == "pending"
