"""One scan, several consumers: each entry a source hands over goes to every one of them."""

from __future__ import annotations

from prodguardian.logs.entry import LogEntry
from prodguardian.logs.scan_sink import EntryConsumer


class FanOut:
    """An :class:`EntryConsumer` that passes each entry to ``consumers``, in order."""

    def __init__(self, *consumers: EntryConsumer) -> None:
        self._consumers = consumers

    def add(self, entry: LogEntry) -> None:
        for consumer in self._consumers:
            consumer.add(entry)
