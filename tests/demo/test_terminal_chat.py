"""The terminal chat: Slack's blocks and mrkdwn drawn as a chat, threads under their parent."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from rich.console import Console

from prodguardian.config import load_config
from prodguardian.demo.chat_render import headline, mrkdwn
from prodguardian.demo.run import DEFAULT_CONFIG, TERMINAL_CHANNEL, destination
from prodguardian.demo.terminal_chat import TerminalChat
from prodguardian.slack.blocks import Button, MessageBuilder
from prodguardian.store.outbox import Action, QueuedMessage

AT = datetime(2025, 10, 11, 12, 21, tzinfo=UTC)


def queued(action: Action, text: str, *, header: str | None = None) -> QueuedMessage:
    out = MessageBuilder()
    if header is not None:
        out.header(header)
    out.section(text)
    out.actions([Button("Acknowledge", "ack", "INC-1")])
    return QueuedMessage(
        id=1,
        key="k",
        group="incident:1",
        action=action,
        channel="prod-alerts",
        payload=out.build(text).payload(),
        parent_id=None if action == "post" else 1,
        state="pending",
        attempts=0,
        created_at=AT,
    )


def test_mrkdwn_keeps_words_and_drops_the_markup() -> None:
    text = mrkdwn(
        "*INC-1* by <@U1>: `load_session_from_db` failed, see <https://x.io/r|the runbook>"
    )
    assert text.plain == "INC-1 by @U1: load_session_from_db failed, see the runbook"
    styles = {text.plain[s.start : s.end]: str(s.style) for s in text.spans}
    assert styles["INC-1"] == "bold"
    assert styles["load_session_from_db"] == "cyan"
    assert "underline" in styles["the runbook"]


def test_mrkdwn_leaves_underscores_inside_names_alone() -> None:
    assert mrkdwn("session_manager.load_session_from_db &lt; 5/h").plain == (
        "session_manager.load_session_from_db < 5/h"
    )


async def test_a_thread_reply_is_indented_under_its_named_parent_and_edits_say_so() -> None:
    out = io.StringIO()
    chat = TerminalChat(Console(file=out, width=80), clock=lambda: AT)
    root = await chat.deliver(queued("post", "db down", header="🟡 DEGRADED — INC-1"), None)
    reply = await chat.deliver(queued("reply", "👀 *INC-1* acknowledged by <@alice>."), root)
    edited = await chat.deliver(queued("update", "acked", header="🟡 INC-1 · acked"), root)
    lines = out.getvalue().splitlines()
    assert root != reply
    assert edited == root  # an edit keeps the message's place
    [posted] = [
        i for i, line in enumerate(lines) if "ProdGuardian in #prod-alerts · Sat 12:21" in line
    ]
    [replied] = [i for i, line in enumerate(lines) if "replied in the thread" in line]
    assert lines[replied].startswith("    ╭")
    assert lines[posted].startswith("╭")
    assert any("thread: 🟡 DEGRADED — INC-1" in line for line in lines[replied:])
    assert any("INC-1 acknowledged by @alice." in line for line in lines)
    assert any("edited its message" in line for line in lines)
    assert any("[ Acknowledge ]" in line for line in lines)


def test_headline_is_the_header_or_the_first_line() -> None:
    assert headline(queued("post", "x", header="🟢 OK — INC-1").payload) == "🟢 OK — INC-1"
    assert headline({"text": "*first* line\nsecond"}) == "first line"


def test_slack_only_with_a_token_and_a_channel() -> None:
    loaded = load_config(DEFAULT_CONFIG)
    assert destination(loaded, {}).channel == TERMINAL_CHANNEL
    assert not destination(loaded, {"SLACK_BOT_TOKEN": "xoxb-1"}).slack
    slack = destination(loaded, {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_ALERTS_CHANNEL": "C0A"})
    assert slack.slack
    assert slack.channel == "C0A"
    assert slack.slack_api_url is None
