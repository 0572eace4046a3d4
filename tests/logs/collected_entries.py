"""An entry consumer for source tests: keeps every entry a scan hands over, in order."""

from __future__ import annotations

from prodguardian.logs.entry import LogEntry


class Collect:
    """The simplest ``EntryConsumer``: a list of what was handed over."""

    def __init__(self) -> None:
        self.entries: list[LogEntry] = []

    def add(self, entry: LogEntry) -> None:
        self.entries.append(entry)
