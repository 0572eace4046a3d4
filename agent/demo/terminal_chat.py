"""The demo's transport: what would be posted to Slack, drawn in the terminal as a chat.

Top-level messages are panels; thread replies are indented under them with their thread's
name; an in-place update is drawn again, marked edited (a terminal cannot change what it has
printed). Sending only: the drawing is :mod:`prodguardian.demo.chat_render`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.console import Console

from prodguardian.demo.chat_render import chat_message, headline
from prodguardian.store.outbox import QueuedMessage, SentRef


class TerminalChat:
    """A :class:`~prodguardian.watch.transports.Transport` that prints to a rich console."""

    def __init__(self, console: Console, *, clock: Callable[[], datetime]) -> None:
        self.console = console
        self.clock = clock
        self.delivered = 0
        self._titles: dict[str, str] = {}

    async def deliver(self, message: QueuedMessage, parent: SentRef | None) -> SentRef:
        self.delivered += 1
        ts = f"chat.{self.delivered:06d}"
        parent_title = self._titles.get(parent.ts) if parent is not None else None
        self.console.print(
            chat_message(
                message.payload,
                action=message.action,
                at=self.clock(),
                channel=message.channel,
                parent_title=parent_title,
            )
        )
        if message.action == "post":
            self._titles[ts] = headline(message.payload)
        elif message.action == "update" and parent is not None:
            self._titles[parent.ts] = headline(message.payload)
            return parent
        return SentRef(channel=message.channel, ts=ts)

    async def find(self, message: QueuedMessage, parent: SentRef | None) -> SentRef | None:
        return None  # a terminal never loses a message it printed
