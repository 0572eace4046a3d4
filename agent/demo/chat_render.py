"""Slack messages drawn for a terminal: Block Kit and mrkdwn as rich renderables (pure).

What the terminal chat shows is what Slack would: the header, sections, context lines and
buttons of a message's blocks, with mrkdwn's *bold*, _italic_, ``code``, links and mentions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.rule import Rule
from rich.text import Text

from prodguardian.store.outbox import Action

BOT = "ProdGuardian"
#: How far a thread reply is indented under its parent.
THREAD_INDENT = 4
#: An edited message is drawn again this far: its header and summary.
UPDATE_BLOCKS = 2

_TOKENS = re.compile(
    r"```(?P<block>.+?)```"
    r"|`(?P<code>[^`\n]+)`"
    r"|<(?P<link>[^>|\s]+)\|(?P<label>[^>]+)>"
    r"|<(?P<bare>[@#!][^>]+|https?://[^>]+)>"
    r"|(?<!\w)\*(?P<bold>[^*\n]+)\*(?!\w)"
    r"|(?<!\w)_(?P<italic>[^_\n]+)_(?!\w)"
    r"|(?<!\w)~(?P<strike>[^~\n]+)~(?!\w)",
    re.DOTALL,
)


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def mrkdwn(text: str, *, style: str = "") -> Text:
    """Slack's mrkdwn as rich text."""
    out = Text(style=style)
    position = 0
    for match in _TOKENS.finditer(text):
        out.append(_unescape(text[position : match.start()]))
        position = match.end()
        groups = match.groupdict()
        if groups["block"] is not None:
            out.append(_unescape(groups["block"].strip("\n")), style="cyan")
        elif groups["code"] is not None:
            out.append(_unescape(groups["code"]), style="cyan")
        elif groups["link"] is not None:
            out.append(_unescape(groups["label"]), style="underline blue")
        elif groups["bare"] is not None:
            out.append(_unescape(groups["bare"]), style="bold blue")
        elif groups["bold"] is not None:
            out.append(_unescape(groups["bold"]), style="bold")
        elif groups["italic"] is not None:
            out.append(_unescape(groups["italic"]), style="italic")
        else:
            out.append(_unescape(groups["strike"] or ""), style="strike")
    out.append(_unescape(text[position:]))
    return out


def _element_text(element: dict[str, Any]) -> Text:
    if element.get("type") == "mrkdwn":
        return mrkdwn(str(element.get("text", "")), style="dim")
    if element.get("type") == "plain_text":
        return Text(str(element.get("text", "")), style="dim")
    return Text("")


def _buttons(elements: Sequence[dict[str, Any]]) -> Text:
    out = Text()
    for element in elements:
        if element.get("type") != "button":
            continue
        label = str(element.get("text", {}).get("text", ""))
        style = {"primary": "bold green", "danger": "bold red"}.get(
            str(element.get("style")), "bold"
        )
        out.append(f"[ {label} ]", style=style)
        out.append(" ")
    return out


def block(item: dict[str, Any]) -> RenderableType | None:
    """One Block Kit block; None for the kinds a terminal has no use for."""
    kind = item.get("type")
    if kind == "header":
        return Text(str(item["text"]["text"]), style="bold")
    if kind == "section":
        parts: list[RenderableType] = []
        if "text" in item:
            parts.append(mrkdwn(str(item["text"]["text"])))
        for field in item.get("fields", []):
            parts.append(mrkdwn(str(field.get("text", ""))))
        return Group(*parts)
    if kind == "divider":
        return Rule(style="dim")
    if kind == "context":
        return Text(" · ").join(_element_text(e) for e in item.get("elements", []))
    if kind == "actions":
        return _buttons(item.get("elements", []))
    return None


def body(payload: dict[str, Any], *, blocks: int | None = None) -> RenderableType:
    """A message's blocks (the first ``blocks`` of them), or its text when it has none."""
    kept = (payload.get("blocks") or [])[:blocks]
    rendered = [r for r in (block(b) for b in kept) if r is not None]
    if not rendered:
        return mrkdwn(str(payload.get("text") or ""))
    return Group(*rendered)


def tone(payload: dict[str, Any]) -> str:
    """The border colour: what the message is about, read from its fallback text."""
    text = str(payload.get("text") or "")
    head = text.splitlines()[0] if text else ""
    if "resolved" in head or "✅" in head or "OK" in head.split():
        return "green"
    if "CRITICAL" in head or "❌" in head:
        return "red"
    if "DEGRADED" in head or "⚠" in head or "⏰" in head:
        return "yellow"
    return "blue"


def chat_message(
    payload: dict[str, Any],
    *,
    action: Action,
    at: datetime,
    channel: str,
    parent_title: str | None = None,
) -> RenderableType:
    """A posted message as a panel; a reply indented under its thread; an update as edited."""
    when = f"{at:%a %H:%M}"
    if action == "post":
        title = f"[bold]{BOT}[/] in #{channel} · {when}"
    elif action == "reply":
        title = f"↳ [bold]{BOT}[/] replied in the thread · {when}"
    else:
        title = f"✎ [bold]{BOT}[/] edited its message · {when}"
    subtitle = f"thread: {parent_title}" if parent_title and action == "reply" else None
    shown: RenderableType
    if action == "update":
        # The rest is as it was: the header and the summary say what changed.
        shown = Group(body(payload, blocks=UPDATE_BLOCKS), Text("…", style="dim"))
    else:
        shown = body(payload)
    panel = Panel(
        shown,
        title=title,
        title_align="left",
        subtitle=subtitle,
        subtitle_align="left",
        border_style=tone(payload) if action != "update" else "dim " + tone(payload),
    )
    if action == "reply":
        return Padding(panel, (0, 0, 0, THREAD_INDENT))
    return panel


def headline(payload: dict[str, Any], limit: int = 60) -> str:
    """A message's first line, short: how its thread is named under the replies."""
    for item in payload.get("blocks") or []:
        if item.get("type") == "header":
            return _cut(str(item["text"]["text"]), limit)
    text = str(payload.get("text") or "").strip()
    return _cut(mrkdwn(text.splitlines()[0] if text else "").plain, limit)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
