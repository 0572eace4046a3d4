"""Where a source puts what it reads: counts for every in-scope entry, whole entries for the rest.

Sources share this so they all count alike: one traffic count per entry after tracebacks are
joined, split at ``query.split_at``, per revision.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Protocol

from prodguardian.errors import SourceError
from prodguardian.logs.entry import LogEntry
from prodguardian.logs.query import LogQuery, Traffic
from prodguardian.logs.traceback_grouping import TracebackGrouper, looks_like_piece


class EntryConsumer(Protocol):
    """Receives the entries a check asked for, one by one (from the source's worker thread)."""

    def add(self, entry: LogEntry) -> None: ...


class ScanSink:
    """Counts traffic and hands the wanted entries (tracebacks joined) to the consumer."""

    def __init__(self, query: LogQuery, consumer: EntryConsumer, *, deadline: float) -> None:
        self.query = query
        self.traffic = Traffic()
        self._consumer = consumer
        self._deadline = deadline
        self._split = query.split_at
        self._grouper = TracebackGrouper(self._emit)
        self._wanted: LogEntry | None = None

    @property
    def deadline(self) -> float:
        """When the scan must stop, as a ``time.monotonic()`` value."""
        return self._deadline

    def count(self, revision: str | None, ts: datetime) -> None:
        """One in-scope entry that is only counted."""
        split = self._split
        self.traffic.add(revision, ts, after_split=split is not None and ts >= split)

    def offer(self, entry: LogEntry) -> None:
        """One in-scope entry read whole: wanted or a traceback piece → consumer; else counted."""
        if self.query.interest.wants(entry):
            self._wanted = entry  # spares _emit asking again when the entry comes straight out
            self._grouper.offer(entry)
        elif looks_like_piece(entry.text):
            self._grouper.offer(entry)
        else:
            self.count(entry.revision, entry.timestamp)

    def check_deadline(self, done: int) -> None:
        """Raise when the check's deadline has passed (called every few thousand lines)."""
        if time.monotonic() > self._deadline:
            raise SourceError(
                f"the log scan ran out of time after {done:,} entries; narrow the window "
                "or scope, or raise the check's timeout"
            )

    def finish(self) -> Traffic:
        self._grouper.finish()
        return self.traffic

    def _emit(self, entry: LogEntry) -> None:
        self.count(entry.revision, entry.timestamp)
        if entry is self._wanted or self.query.interest.wants(entry):
            self._consumer.add(entry)
