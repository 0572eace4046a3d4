"""What a check asks a log source for: a window, a scope, which entries it wants in full."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from prodguardian.logs.counting import Counting
from prodguardian.logs.entry import LogEntry, Severity


@dataclass(frozen=True, slots=True, kw_only=True)
class LogWindow:
    """``start <= timestamp <= end``, both aware datetimes."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("window bounds must be timezone-aware")
        if self.start > self.end:
            raise ValueError("window start is after its end")

    def contains(self, ts: datetime) -> bool:
        return self.start <= ts <= self.end


@dataclass(frozen=True, slots=True, kw_only=True)
class LogScope:
    """Which entries are "in scope": the denominator of an error rate.

    ``service``/``revision``/``resource_labels`` compare ``resource.labels``; ``text`` and
    ``url`` are regexes (RE2 syntax subset) on the message and on ``httpRequest.requestUrl``.
    """

    resource_type: str | None = None
    service: str | None = None
    revision: str | None = None
    resource_labels: Mapping[str, str] = field(default_factory=dict)
    text: str | None = None
    url: str | None = None

    @property
    def only_labels(self) -> bool:
        """True when the scope needs nothing but the service and revision labels."""
        return (
            self.resource_type is None
            and not self.resource_labels
            and self.text is None
            and self.url is None
        )

    def contains(self, entry: LogEntry) -> bool:
        labels = entry.resource_labels
        if self.resource_type is not None and entry.resource_type != self.resource_type:
            return False
        if self.service is not None and labels.get("service_name") != self.service:
            return False
        if self.revision is not None and labels.get("revision_name") != self.revision:
            return False
        for key, value in self.resource_labels.items():
            if labels.get(key) != value:
                return False
        if self.text is not None and not _compiled(self.text).search(entry.text):
            return False
        if self.url is not None:
            url = entry.http.url if entry.http is not None else None
            if url is None or not _compiled(self.url).search(url):
                return False
        return True


@dataclass(frozen=True, slots=True, kw_only=True)
class Interest:
    """Which in-scope entries the caller wants in full; the others are only counted.

    A source may hand over more than this (it is a pre-filter, never a verdict), never less.
    """

    min_severity: Severity | None = Severity.WARNING
    min_http_status: int | None = 500
    http_statuses: frozenset[int] = frozenset()
    text: str | None = None
    """A regex on the message (``log_count``'s pattern)."""

    def wants(self, entry: LogEntry) -> bool:
        if self.min_severity is not None and entry.severity >= self.min_severity:
            return True
        status = entry.http.status if entry.http is not None else None
        if status is not None and (
            (self.min_http_status is not None and status >= self.min_http_status)
            or status in self.http_statuses
        ):
            return True
        return self.text is not None and bool(_compiled(self.text).search(entry.text))


@dataclass(frozen=True, slots=True, kw_only=True)
class LogQuery:
    """One scan: entries in ``window`` and ``scope``; those of ``interest`` handed over whole.

    ``count_all``: the caller needs the denominator (every in-scope entry counted); without it a
    backend may filter on ``interest`` too. ``split_at``: count entries at/after it apart.
    """

    window: LogWindow
    scope: LogScope = LogScope()
    interest: Interest = Interest()
    count_all: bool = True
    split_at: datetime | None = None


@dataclass(slots=True)
class RevisionTraffic:
    """How many in-scope entries one revision (or ``None``: unlabelled) wrote in the window."""

    count: int = 0
    since_split: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None

    def add(self, ts: datetime, *, after_split: bool, n: int = 1) -> None:
        self.count += n
        if after_split:
            self.since_split += n
        if self.first_seen is None or ts < self.first_seen:
            self.first_seen = ts
        if self.last_seen is None or ts > self.last_seen:
            self.last_seen = ts


@dataclass(slots=True)
class Traffic:
    """What a scan counted: per revision, plus lines it could not read."""

    revisions: dict[str | None, RevisionTraffic] = field(default_factory=dict)
    unreadable: int = 0
    counting: Counting | None = None
    """How the total was counted (None: every entry listed, the plain way)."""

    @property
    def total(self) -> int:
        return sum(r.count for r in self.revisions.values())

    @property
    def since_split(self) -> int:
        return sum(r.since_split for r in self.revisions.values())

    def add(self, revision: str | None, ts: datetime, *, after_split: bool) -> None:
        slot = self.revisions.get(revision)
        if slot is None:
            slot = self.revisions[revision] = RevisionTraffic()
        slot.add(ts, after_split=after_split)


_CACHE: dict[str, re.Pattern[str]] = {}


def _compiled(pattern: str) -> re.Pattern[str]:
    found = _CACHE.get(pattern)
    if found is None:
        found = _CACHE[pattern] = re.compile(pattern)
    return found
