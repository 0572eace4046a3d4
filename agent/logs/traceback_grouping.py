"""Multi-line tracebacks stay one entry.

When a process writes a traceback to stderr line by line, Cloud Run (and a plain log file)
may record each line as an entry of its own. :class:`TracebackGrouper` joins the pieces back
into one entry per traceback: pieces from the same instance and revision, close in time, that
continue a traceback (frame lines, indented source, the closing exception line).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta

from prodguardian.logs.entry import LogEntry, Severity

MAX_GAP = timedelta(seconds=2)
MAX_PIECES = 400
MAX_OPEN = 1000

_START = "Traceback (most recent call last)"
_CHAIN = ("During handling of the above exception", "The above exception was the direct cause")
_EXCEPTION_LINE = re.compile(
    r"^(?:[a-z_]\w*\.)*[A-Z]\w*(?:Error|Exception|Exit|Interrupt|Warning|Disconnect|Closed\w*|Timeout)\b"
)


def _next_state(state: str, text: str) -> str:
    if text.startswith(_START):
        return "frames"
    if text.startswith(_CHAIN):
        return "chain"
    if state == "frames" and not text[0].isspace():
        return "closed"
    return state


def looks_like_piece(text: str) -> bool:
    """True when ``text`` may be one line of a traceback written line by line."""
    if not text:
        return False
    return (
        text[0].isspace()
        or text.startswith(_START)
        or text.startswith(_CHAIN)
        or bool(_EXCEPTION_LINE.match(text))
    )


@dataclass(slots=True)
class _Group:
    first: LogEntry
    lines: list[str] = field(default_factory=list)
    severity: Severity = Severity.DEFAULT
    last: LogEntry | None = None
    state: str = "head"
    """head (before "Traceback"), frames, closed (after the exception line), chain."""

    def entry(self) -> LogEntry:
        return replace(self.first, text="\n".join(self.lines), severity=self.severity)


class TracebackGrouper:
    """Joins traceback pieces; every entry offered comes out exactly once via ``emit``.

    Pieces are keyed by (revision, instance); a group closes at its exception line, at a gap
    of more than :data:`MAX_GAP`, or when a line that does not continue it arrives.
    """

    def __init__(self, emit: Callable[[LogEntry], None]) -> None:
        self._emit = emit
        self._open: dict[tuple[str | None, str | None], _Group] = {}

    def offer(self, entry: LogEntry) -> None:
        if not self._open and "\n" in entry.text:
            self._emit(entry)  # a whole traceback already, with no piece waiting for it
            return
        key = (entry.revision, entry.instance)
        group = self._open.get(key)
        text = entry.text
        if group is not None and self._continues(group, entry):
            group.lines.append(text)
            group.severity = max(group.severity, entry.severity)
            group.last = entry
            group.state = _next_state(group.state, text)
            if len(group.lines) >= MAX_PIECES:
                self._flush(key)
            return
        if group is not None:
            self._flush(key)
        if "\n" not in text and (text.startswith(_START) or self._may_open(entry)):
            if len(self._open) >= MAX_OPEN:
                self._flush(next(iter(self._open)))  # the oldest: memory stays bounded
            state = "frames" if text.startswith(_START) else "head"
            self._open[key] = _Group(
                first=entry, lines=[text], severity=entry.severity, state=state
            )
            return
        self._emit(entry)

    def finish(self) -> None:
        """Emit every group still open (end of the scan)."""
        for key in list(self._open):
            self._flush(key)

    @staticmethod
    def _may_open(entry: LogEntry) -> bool:
        # A one-line ERROR such as uvicorn's "Exception in ASGI application" often heads the
        # traceback that follows it.
        return entry.severity >= Severity.ERROR and entry.http is None and bool(entry.text)

    @staticmethod
    def _continues(group: _Group, entry: LogEntry) -> bool:
        last = group.last or group.first
        if entry.timestamp - last.timestamp > MAX_GAP or entry.timestamp < group.first.timestamp:
            return False
        text = entry.text
        if "\n" in text or not text:
            return False
        if group.state in ("head", "chain"):
            return text.startswith(_START)
        if group.state == "closed":
            return text.startswith(_CHAIN)
        return text[0].isspace() or bool(_EXCEPTION_LINE.match(text))

    def _flush(self, key: tuple[str | None, str | None]) -> None:
        group = self._open.pop(key)
        if len(group.lines) == 1:
            self._emit(group.first)
        else:
            self._emit(group.entry())
