"""Who runs the schedule and the sender: one leader among the replicas sharing a store.

Contract of a :class:`Leadership`:

* **Who holds the lock.** On PostgreSQL a session advisory lock on a dedicated connection
  (:mod:`prodguardian.watch.pg_lease`); on SQLite an exclusive ``flock`` on ``<db>.lock``
  (:class:`SoleInstance`). Whoever holds it leads; every replica serves HTTP either way.
* **What may run twice.** Nothing the leader sends: each leadership gets a *term* from the
  store, every claim (an outbox row, a follow-up, applying a report) carries it, and the store
  refuses a claim whose term is no longer the highest (:func:`Leadership.fence`,
  :func:`prodguardian.store.replicas.term_is_current`). A leader also refuses to act once its
  lease may have run out (:meth:`Leadership.holds`), so one that was paused (SIGSTOP, a long
  GC, a frozen VM) sends nothing when it wakes.
* **What survives a crash.** The lock dies with the process (its connection or file
  descriptor), so a crashed leader is replaced within a lock check; the terms stay in the store.

Listeners (:attr:`Leadership.listeners`) hear every change at once, on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import secrets
import socket
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from prodguardian.store.database import Database
from prodguardian.store.replicas import StaleTermError, check_term

log = logging.getLogger("prodguardian.leader")

Mode = Literal["sqlite-lock", "postgres-lock"]


def new_replica_id() -> str:
    """``host-pid-xxxx``: unique among the replicas, readable in ``prodguardian status``."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{secrets.token_hex(2)}"


@dataclass(frozen=True, kw_only=True)
class LeaderSettings:
    """How often the lock is checked, and how long a silent leader keeps it."""

    check_every_s: float = 2.0
    lease_s: float = 8.0

    @property
    def valid_s(self) -> float:
        """How long after its last confirmation a leader still acts: less than the lease,
        so that it has stopped before the store can let another replica take over."""
        return self.lease_s * 0.75


@dataclass(frozen=True, kw_only=True)
class LeaderState:
    """Whether this replica leads, since when, under which term, and why not."""

    replica_id: str
    mode: Mode
    leading: bool
    since: float
    """Wall-clock time of the last change."""
    term: int | None = None
    """This replica's term while it leads; the current term (another's) while it follows."""
    leader_id: str | None = None
    """The replica that holds the current term, when known."""
    problem: str | None = None
    """Why this replica does not lead."""


Listener = Callable[[LeaderState], None]


class Leadership(ABC):
    """Decides whether this process is the one that schedules and sends."""

    mode: Mode

    def __init__(self, replica_id: str) -> None:
        self.replica_id = replica_id
        self.state = LeaderState(
            replica_id=replica_id,
            mode=self.mode,
            leading=False,
            since=time.time(),
            problem="not elected yet",
        )
        self.listeners: list[Listener] = []
        self.released = False
        """Set by :meth:`release`: this replica no longer contends."""

    @abstractmethod
    async def run(self) -> None:
        """Take the lock and keep it (or keep trying) until cancelled."""

    @abstractmethod
    async def release(self) -> None:
        """Give the lock up and stop contending (a clean stop), so another replica takes
        over at once."""

    @abstractmethod
    def holds(self) -> bool:
        """Whether this replica leads *now* and may act (its lease has not run out)."""

    @property
    def is_leader(self) -> bool:
        """:meth:`holds`, for code that reads better with a property (the follow-up runner)."""
        return self.holds()

    def term(self) -> int | None:
        """The term this replica's claims carry (None: a single instance, nothing to fence)."""
        return self.state.term if self.mode == "postgres-lock" else None

    async def fence(self, session: AsyncSession) -> None:
        """In a unit of work: raise :class:`StaleTermError` unless this replica still leads."""
        if not self.holds():
            raise StaleTermError("this replica does not lead")
        await check_term(session, self.term())

    def _change(self, **changes: object) -> None:
        was = self.state
        self.state = replace(was, since=time.time(), **changes)  # type: ignore[arg-type]
        if self.state.leading != was.leading:
            if self.state.leading:
                log.warning(
                    "this replica (%s) leads now%s",
                    self.replica_id,
                    f" (term {self.state.term})" if self.state.term else "",
                )
            else:
                log.warning(
                    "this replica (%s) no longer leads: %s", self.replica_id, self.state.problem
                )
        for listener in list(self.listeners):
            listener(self.state)


class SoleInstance(Leadership):
    """SQLite: one process per database file, held by ``flock`` on ``<db>.lock``.

    A second process on the same file serves HTTP but neither schedules nor sends; it takes
    over when the first one exits (it retries every ``retry_s``).
    """

    mode: Mode = "sqlite-lock"

    def __init__(self, lock_path: Path | None, replica_id: str, *, retry_s: float = 2.0) -> None:
        super().__init__(replica_id)
        self.lock_path = lock_path
        self.retry_s = retry_s
        self._file: IO[str] | None = None

    async def run(self) -> None:
        while not self.released:
            if not self.state.leading:
                self._try_lock()
            await asyncio.sleep(self.retry_s)

    async def release(self) -> None:
        self.released = True
        if self._file is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self.state.leading:
            self._change(leading=False, problem="stopped")

    def holds(self) -> bool:
        return self.state.leading

    def _try_lock(self) -> None:
        if self.lock_path is None:
            self._change(leading=True, problem=None)
            return
        try:
            handle = self.lock_path.open("a+")
        except OSError as exc:
            problem = f"cannot open the lock file {self.lock_path}: {exc}"
            if problem != self.state.problem:
                log.error("%s; this process does not schedule or send", problem)
                self._change(problem=problem)
            return
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            problem = (
                f"{holder} holds {self.lock_path}: one ProdGuardian schedules and sends per "
                "SQLite file; this one serves HTTP only (use PostgreSQL for several replicas)"
            )
            if problem != self.state.problem:
                log.warning("%s", problem)
                self._change(problem=problem)
            return
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} ({self.replica_id})\n")
        handle.flush()
        self._file = handle
        self._change(leading=True, problem=None)


def lock_file_for(database: Database) -> Path | None:
    """``<db>.lock`` beside a SQLite file (None for an in-memory database)."""
    name = database.url.database
    if not name or name == ":memory:":
        return None
    return Path(f"{name}.lock")


def leadership_for(
    database: Database, *, replica_id: str, settings: LeaderSettings | None = None
) -> Leadership:
    """The leadership that fits the store: a lock file for SQLite, a lease on PostgreSQL."""
    settings = settings or LeaderSettings()
    if database.dialect == "postgresql":
        from prodguardian.watch.pg_lease import PostgresLease

        return PostgresLease(database, replica_id, settings=settings)
    return SoleInstance(lock_file_for(database), replica_id, retry_s=settings.check_every_s)


__all__ = [
    "LeaderSettings",
    "LeaderState",
    "Leadership",
    "SoleInstance",
    "StaleTermError",
    "leadership_for",
    "lock_file_for",
    "new_replica_id",
]
