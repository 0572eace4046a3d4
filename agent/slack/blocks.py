"""Block Kit messages built within Slack's limits: what does not fit is cut with a marker.

Slack rejects a message whose section text exceeds 3,000 characters, that has more than 50
blocks, or whose text passes 40,000 characters. :class:`MessageBuilder` never produces one: it
cuts an over-long section, and once the message is full it drops the remaining body blocks and
says how many were left out, keeping the closing context line and the buttons.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from prodguardian.slack.escaping import cut

Block = dict[str, Any]
"""One Block Kit block in its wire form (the JSON Slack reads)."""

SECTION_TEXT_LIMIT = 3000
HEADER_TEXT_LIMIT = 150
CONTEXT_ELEMENTS_LIMIT = 10
BUTTON_TEXT_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
ACTION_ELEMENTS_LIMIT = 25
MAX_BLOCKS = 50
MAX_TEXT_CHARS = 40_000
FALLBACK_TEXT_LIMIT = 3000

CUT_MARKER = "\n… _(cut to fit Slack's limits)_"
_MARKER_CHARS = 200
_MIN_PARTIAL_SECTION = 500


@dataclass(frozen=True)
class Button:
    """A button: what it says, which action it triggers, and the value it carries."""

    text: str
    action_id: str
    value: str
    style: Literal["primary", "danger"] | None = None

    def to_block_element(self) -> Block:
        element: Block = {
            "type": "button",
            "text": {"type": "plain_text", "text": cut(self.text, BUTTON_TEXT_LIMIT)},
            "action_id": self.action_id,
            "value": self.value[:BUTTON_VALUE_LIMIT],
        }
        if self.style is not None:
            element["style"] = self.style
        return element


@dataclass(frozen=True)
class SlackMessage:
    """A message ready to send: blocks plus the fallback text notifications show."""

    text: str
    blocks: tuple[Block, ...] = ()

    def payload(self) -> dict[str, Any]:
        """The ``text`` and ``blocks`` arguments of chat.postMessage and response_url posts."""
        return {"text": self.text, "blocks": [dict(b) for b in self.blocks]}


def block_text_length(block: Block) -> int:
    """How many characters of text ``block`` carries (what Slack's 40,000 limit counts)."""
    kind = block.get("type")
    if kind in ("section", "header"):
        return len(block["text"]["text"])
    if kind == "context":
        return sum(len(e.get("text", "")) for e in block["elements"])
    if kind == "actions":
        return sum(len(e["text"]["text"]) for e in block["elements"])
    return 0


@dataclass
class MessageBuilder:
    """Collects blocks and builds a :class:`SlackMessage` that Slack accepts, whatever the input."""

    max_blocks: int = MAX_BLOCKS
    max_chars: int = MAX_TEXT_CHARS
    _body: list[Block] = field(default_factory=list)
    _footer: list[Block] = field(default_factory=list)
    _omitted: int = 0

    def header(self, text: str) -> None:
        """A header line (plain text, no formatting)."""
        self._add({"type": "header", "text": _plain(cut(text, HEADER_TEXT_LIMIT))})

    def section(self, mrkdwn: str) -> None:
        """A section of already escaped mrkdwn; over-long text is cut with a marker."""
        if not mrkdwn.strip():
            return
        text = mrkdwn
        if len(text) > SECTION_TEXT_LIMIT:
            text = _cut_section(text, SECTION_TEXT_LIMIT)
        self._add({"type": "section", "text": {"type": "mrkdwn", "text": text}})

    def divider(self) -> None:
        self._add({"type": "divider"})

    def context(self, mrkdwn_items: Sequence[str], *, footer: bool = False) -> None:
        """A context line of small mrkdwn items; ``footer`` keeps it even when the body is cut."""
        elements = [
            {"type": "mrkdwn", "text": cut(item, SECTION_TEXT_LIMIT)}
            for item in mrkdwn_items[:CONTEXT_ELEMENTS_LIMIT]
            if item
        ]
        if not elements:
            return
        block: Block = {"type": "context", "elements": elements}
        if footer:
            self._footer.append(block)
        else:
            self._add(block)

    def actions(self, buttons: Sequence[Button], *, block_id: str | None = None) -> None:
        """A row of buttons, kept at the end of the message even when the body is cut."""
        if not buttons:
            return
        block: Block = {
            "type": "actions",
            "elements": [b.to_block_element() for b in buttons[:ACTION_ELEMENTS_LIMIT]],
        }
        if block_id is not None:
            block["block_id"] = block_id
        self._footer.append(block)

    def build(self, fallback: str) -> SlackMessage:
        """The message: body blocks that fit, a marker for those that did not, the footer."""
        footer_chars = sum(block_text_length(b) for b in self._footer)
        marker_room = 1 if self._omitted or self._needs_cut() else 0
        block_room = self.max_blocks - len(self._footer) - marker_room
        char_room = self.max_chars - footer_chars - _MARKER_CHARS
        kept: list[Block] = []
        used = 0
        omitted = self._omitted
        for block in self._body:
            size = block_text_length(block)
            if len(kept) >= block_room:
                omitted += 1
                continue
            if used + size > char_room:
                room = char_room - used
                if block.get("type") == "section" and room > _MIN_PARTIAL_SECTION:
                    text = _cut_section(block["text"]["text"], room)
                    kept.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
                    used += len(text)
                else:
                    omitted += 1
                continue
            kept.append(block)
            used += size
        if omitted:
            note = (
                f"… {omitted} more block(s) not shown: the message reached Slack's size "
                "limits. The full report: `prodguardian check --json`."
            )
            kept.append({"type": "context", "elements": [{"type": "mrkdwn", "text": note}]})
        return SlackMessage(
            text=cut(fallback, FALLBACK_TEXT_LIMIT), blocks=tuple(kept + self._footer)
        )

    def _needs_cut(self) -> bool:
        total_blocks = len(self._body) + len(self._footer)
        total_chars = sum(block_text_length(b) for b in (*self._body, *self._footer))
        return total_blocks > self.max_blocks or total_chars > self.max_chars - _MARKER_CHARS

    def _add(self, block: Block) -> None:
        self._body.append(block)


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _cut_section(text: str, limit: int) -> str:
    """Cut mrkdwn to ``limit``, closing a code block left open by the cut."""
    room = limit - len(CUT_MARKER) - 4
    head = text[:room]
    # Do not end inside an escape such as "&amp;".
    amp = head.rfind("&", max(len(head) - 4, 0))
    if amp != -1 and ";" not in head[amp:]:
        head = head[:amp]
    if head.count("```") % 2 == 1:
        head += "\n```"
    return head + CUT_MARKER
