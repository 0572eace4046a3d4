"""When a log entry happened, read from its text (a JSON ``timestamp`` or a leading ISO time),
so that ``runbooks match FILE --at TIME`` can keep the entries of one window."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from prodguardian.logs.entry import parse_timestamp

_LEADING_TIME = re.compile(
    r"^\[?(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?)"
)


def entry_time(entry: str) -> datetime | None:
    """The time of ``entry``: its JSON ``timestamp``/``receiveTimestamp``, or the ISO time it
    starts with; None when it has neither."""
    first = entry.split("\n", 1)[0].strip()
    if first.startswith("{"):
        try:
            data = json.loads(first)
        except json.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            stamp = data.get("timestamp") or data.get("receiveTimestamp")
            return _parsed(stamp) if isinstance(stamp, str) else None
    match = _LEADING_TIME.match(first)
    return _parsed(match.group(1).replace(",", ".")) if match else None


@dataclass
class WindowFilter:
    """Keeps the entries with a time in ``[start, end]``; counts what it left out."""

    start: datetime
    end: datetime
    outside: int = 0
    timeless: int = 0

    def keep(self, entries: Iterable[str]) -> Iterator[str]:
        for entry in entries:
            when = entry_time(entry)
            if when is None:
                self.timeless += 1
            elif self.start <= when <= self.end:
                yield entry
            else:
                self.outside += 1


def _parsed(value: str) -> datetime | None:
    try:
        return parse_timestamp(value)
    except ValueError:
        return None
