"""Text made safe for Slack mrkdwn, and cut to a length with a visible marker.

Slack turns ``<!channel>``, ``<!here>``, ``<@U123>`` and ``<http://x|label>`` into pings and links.
Escaping ``&``, ``<`` and ``>`` (Slack's own rule) makes every such sequence literal text, so a log
line can never ping anyone. Text shown in code spans or blocks also loses its backtick fences,
so a log line cannot close the block and format what follows.
"""

from __future__ import annotations

#: A zero-width space: splits a run of backticks so it no longer closes a code block.
_ZWSP = "\u200b"


def escape_mrkdwn(text: str) -> str:
    """``text`` with ``&``, ``<`` and ``>`` escaped, as Slack requires for literal text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_text(text: str) -> str:
    """Prose for mrkdwn: escaped, and with backticks made quotes so it never opens code."""
    return escape_mrkdwn(text).replace("`", "'")


def cut(text: str, limit: int, *, marker: str = "… (cut)") -> str:
    """``text`` if it fits in ``limit`` characters, else its start followed by ``marker``."""
    if len(text) <= limit:
        return text
    keep = max(limit - len(marker), 0)
    return (text[:keep] + marker)[:limit]


def cut_tail(text: str, limit: int, *, marker: str = "(cut) …\n") -> str:
    """Like :func:`cut`, but keeps the end (where a traceback says what went wrong)."""
    if len(text) <= limit:
        return text
    keep = max(limit - len(marker), 0)
    return (marker + text[len(text) - keep :])[-limit:] if keep else marker[:limit]


def inline_code(text: str, limit: int = 300) -> str:
    """``text`` as a one-line mrkdwn code span, escaped and cut."""
    one_line = " ".join(text.split())
    safe = escape_mrkdwn(cut(one_line, limit)).replace("`", "'")
    return f"`{safe}`" if safe else ""


def code_block(text: str, limit: int) -> str:
    """``text`` as a mrkdwn code block of at most ``limit`` characters, keeping its end.

    Escaping can lengthen the text, so the cut is made on the escaped form.
    """
    fence = "```"
    body = escape_mrkdwn(text.strip("\n")).replace("```", f"`{_ZWSP}`{_ZWSP}`")
    room = max(limit - 2 * len(fence) - 2, 0)
    body = _cut_escaped_tail(body, room)
    return f"{fence}\n{body}\n{fence}"


def _cut_escaped_tail(body: str, room: int, marker: str = "(cut) …\n") -> str:
    if len(body) <= room:
        return body
    start = len(body) - max(room - len(marker), 0)
    # Never start inside an escape such as "&amp;": skip to its end.
    amp = body.rfind("&", max(start - 4, 0), start)
    if amp != -1:
        semi = body.find(";", amp, amp + 5)
        if semi >= start:
            start = semi + 1
    return (marker + body[start:])[:room] if room >= len(marker) else marker[:room]
