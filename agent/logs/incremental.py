"""Incremental reads: what a scheduled log check has already read, kept between its runs.

A check that runs every minute over a one-hour window would otherwise list the whole hour every
minute. Instead its source keeps a :class:`ReadState` per query (the filter without its time
bounds): the entries it read, by timestamp and ``insertId``, and up to when it read. The next
run lists only ``[read_until - overlap, now]``; the overlap catches entries that reached Cloud
Logging late, and ``insertId`` keeps the ones listed twice from counting twice. Entries that
leave the window are dropped. A ``/check_prod`` between two scheduled runs reuses the same state.

The states live behind :class:`ReadStateStore`, a two-method Protocol: :class:`MemoryReadStates`
keeps them in the process; a persistent store (the state database) can keep them across
restarts. Contract for an implementation: ``save`` replaces the state of its key whole (a
reader never sees half of one); a state that is lost only costs one cold read; two runs that
save the same key in turn leave the later one, which is always a complete state too.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from prodguardian.logs.query import LogWindow

#: States kept in memory at most; the least recently used one goes first.
MAX_STATES = 256


@dataclass(frozen=True, slots=True, kw_only=True)
class KeptEntry:
    """One entry a read listed. ``raw`` is its LogEntry JSON when the check needs it whole
    (errors, warnings, traceback pieces); ``None`` when it only counts (traffic)."""

    timestamp: datetime
    insert_id: str
    revision: str | None = None
    raw: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadState:
    """What one query has read: entries with ``window_start <= timestamp``, listed up to
    ``read_until``; counted-only entries are a ``fraction`` sample (1.0: all of them)."""

    key: str
    window_start: datetime
    read_until: datetime
    kept: tuple[KeptEntry, ...]
    fraction: float = 1.0


class ReadStateStore(Protocol):
    """Where read states live between runs (see the module docstring for the contract)."""

    def load(self, key: str) -> ReadState | None:
        """The state saved under ``key``, or None."""
        ...

    def save(self, state: ReadState) -> None:
        """Replace the state of ``state.key``."""
        ...


class MemoryReadStates:
    """States in this process's memory, the least recently used dropped past ``limit``."""

    def __init__(self, limit: int = MAX_STATES) -> None:
        self._limit = limit
        self._states: OrderedDict[str, ReadState] = OrderedDict()
        self._lock = threading.Lock()

    def load(self, key: str) -> ReadState | None:
        with self._lock:
            state = self._states.get(key)
            if state is not None:
                self._states.move_to_end(key)
            return state

    def save(self, state: ReadState) -> None:
        with self._lock:
            self._states[state.key] = state
            self._states.move_to_end(state.key)
            while len(self._states) > self._limit:
                self._states.popitem(last=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadPlan:
    """The time range to list now, and the state it continues (None: a cold read)."""

    start: datetime
    end: datetime
    previous: ReadState | None

    @property
    def incremental(self) -> bool:
        return self.previous is not None


def state_key(*parts: str) -> str:
    """A short stable key for a query (its filter without time bounds, how it counts)."""
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=12).hexdigest()


def plan_read(
    previous: ReadState | None, window: LogWindow, *, overlap: timedelta, fraction: float = 1.0
) -> ReadPlan:
    """Continue ``previous`` when it covers the start of ``window``; else read it all."""
    usable = (
        previous is not None
        and previous.fraction == fraction
        and previous.window_start <= window.start
        and window.start <= previous.read_until <= window.end
    )
    if not usable or previous is None:
        return ReadPlan(start=window.start, end=window.end, previous=None)
    start = max(window.start, previous.read_until - overlap)
    return ReadPlan(start=start, end=window.end, previous=previous)


def merge(
    plan: ReadPlan,
    listed: Iterable[KeptEntry],
    *,
    key: str,
    window: LogWindow,
    fraction: float = 1.0,
) -> ReadState:
    """The state after ``plan`` listed ``listed``: old entries still in the window plus the new
    ones, each ``insertId`` once, oldest first."""
    kept: dict[str, KeptEntry] = {}
    if plan.previous is not None:
        for entry in plan.previous.kept:
            if entry.timestamp >= window.start:
                kept[entry.insert_id] = entry
    for entry in listed:
        if window.contains(entry.timestamp):
            kept.setdefault(entry.insert_id, entry)
    ordered = tuple(sorted(kept.values(), key=lambda e: (e.timestamp, e.insert_id)))
    return ReadState(
        key=key,
        window_start=window.start,
        read_until=plan.end,
        kept=ordered,
        fraction=fraction,
    )


def insert_id_of(raw: Mapping[str, Any], timestamp: datetime) -> str:
    """The entry's ``insertId``; entries without one get a digest of their content."""
    found = raw.get("insertId")
    if isinstance(found, str) and found:
        return found
    digest = hashlib.blake2b(repr(sorted(raw.items())).encode(), digest_size=10).hexdigest()
    return f"{timestamp.isoformat()}#{digest}"
