"""Scanning plain-text logs: a configurable pattern marks where each entry starts.

A line that does not match the pattern continues the entry before it, so a traceback printed
under a log line stays part of that entry.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from prodguardian.logs.entry import LogEntry, Severity, parse_timestamp
from prodguardian.logs.scan_sink import ScanSink
from prodguardian.logs.sources.json_lines import CHECK_EVERY

DEFAULT_PATTERN = (
    r"^(?P<timestamp>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?)"
    r"\s+(?:\[?(?P<severity>[A-Za-z]+)\]?\s*:?\s+)?(?P<message>.*)$"
)
MAX_ENTRY_CHARS = 64_000


@dataclass(frozen=True, slots=True)
class TextFormat:
    """How to read one entry's first line. Groups: ``timestamp``, ``message`` (required),
    ``severity``, ``revision``, ``service`` (optional)."""

    pattern: re.Pattern[str]
    timestamp_format: str | None = None

    def parse_time(self, text: str) -> datetime:
        if self.timestamp_format is None:
            return parse_timestamp(text.replace(",", "."))
        parsed = datetime.strptime(text, self.timestamp_format)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def scan_text_lines(lines: Iterable[str], sink: ScanSink, fmt: TextFormat) -> None:
    """Scan ``lines`` (text, newline-terminated) into ``sink``."""
    head: re.Match[str] | None = None
    rest: list[str] = []
    size = 0
    n = 0
    for line in lines:
        n += 1
        if not n % CHECK_EVERY:
            sink.check_deadline(n)
        line = line.rstrip("\r\n")
        found = fmt.pattern.match(line)
        if found is None:
            if head is None:
                if line.strip():
                    sink.traffic.unreadable += 1
                continue
            if size < MAX_ENTRY_CHARS:
                rest.append(line)
                size += len(line)
            continue
        if head is not None:
            _emit(head, rest, sink, fmt)
        head, rest, size = found, [], 0
    if head is not None:
        _emit(head, rest, sink, fmt)


def _emit(head: re.Match[str], rest: list[str], sink: ScanSink, fmt: TextFormat) -> None:
    groups = head.groupdict()
    try:
        ts = fmt.parse_time(groups["timestamp"])
    except (ValueError, TypeError):
        sink.traffic.unreadable += 1
        return
    message = groups.get("message") or ""
    labels = {
        key: value
        for key, value in (
            ("revision_name", groups.get("revision")),
            ("service_name", groups.get("service")),
        )
        if value
    }
    entry = LogEntry(
        timestamp=ts,
        severity=Severity.parse(groups.get("severity")),
        text="\n".join([message, *rest]) if rest else message,
        resource_labels=labels,
    )
    if sink.query.window.contains(ts) and sink.query.scope.contains(entry):
        sink.offer(entry)
