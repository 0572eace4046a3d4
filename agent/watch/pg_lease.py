"""Leading on PostgreSQL: a session advisory lock held on a connection of its own.

* The lock (``pg_try_advisory_lock``) lives as long as the session of one dedicated
  connection, opened outside the store's pool, in autocommit. Whoever holds it takes the next
  term from ``leader_terms`` and leads.
* Every ``check_every_s`` the leader runs a cheap query on that connection (the highest term):
  the answer confirms the lease; an error, a timeout or a higher term ends the leadership at
  once. With asyncpg, the connection closing (``pg_terminate_backend``, a restart) is heard
  without waiting for the next check.
* The session carries ``idle_session_timeout = lease_s`` (PostgreSQL 14+): a leader that stops
  querying (SIGSTOP, a frozen VM, a partition) has its session ended by the server, which
  frees the lock for another replica. Its own :meth:`~PostgresLease.holds` had already turned
  false (``valid_s`` < ``lease_s`` after the last confirmation), so a leader that wakes up
  acts on nothing; the store's term fence refuses its claims anyway.
* A SIGKILLed leader's socket is closed by the kernel: the lock is free at once.
* A replica that lost the lock waits two checks before trying again, so that another takes
  over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from prodguardian.store.database import Database
from prodguardian.store.replicas import current_term, take_term
from prodguardian.watch.leader import LeaderSettings, Leadership, Mode

log = logging.getLogger("prodguardian.leader")

#: The advisory lock key of the leader (the migrations use another).
LEADER_LOCK_KEY = 7_261_011
#: ``application_name`` of the lock connection, followed by the replica id.
LOCK_APPLICATION = "prodguardian-lock:"


class PostgresLease(Leadership):
    """The leader lock on PostgreSQL, with its term and its lease."""

    mode: Mode = "postgres-lock"

    def __init__(
        self,
        database: Database,
        replica_id: str,
        *,
        settings: LeaderSettings,
        key: int = LEADER_LOCK_KEY,
    ) -> None:
        super().__init__(replica_id)
        self.settings = settings
        self.key = key
        args: dict[str, Any] = {"timeout": 5} if database.url.drivername.endswith("asyncpg") else {}
        self.engine = create_async_engine(database.url, poolclass=NullPool, connect_args=args)
        self._connection: AsyncConnection | None = None
        self._confirmed_at = 0.0
        self._rest_until = 0.0

    def holds(self) -> bool:
        return (
            self.state.leading
            and time.monotonic() - self._confirmed_at < self.settings.valid_s
            and self._connection is not None
        )

    async def run(self) -> None:
        try:
            while not self.released:
                started = time.monotonic()
                try:
                    # A hung query ends the leadership here at the latest; holds() has
                    # already turned false once valid_s passed without a confirmation.
                    await asyncio.wait_for(self._tick(), max(self.settings.lease_s, 5.0))
                except Exception as exc:
                    await self._lost(f"the lock connection failed: {_describe(exc)}")
                elapsed = time.monotonic() - started
                await asyncio.sleep(max(self.settings.check_every_s - elapsed, 0.05))
        finally:
            await self._close()

    async def release(self) -> None:
        self.released = True
        if self.state.leading:
            self._change(leading=False, problem="stopped")
        await self._close()
        await self.engine.dispose()

    async def _tick(self) -> None:
        if self.state.leading and not self.holds():
            # The lease ran out between two checks (this process was paused): the server may
            # already have handed the lock on, so start over rather than trust the session.
            await self._lost("the lease ran out (this process was paused or starved)")
            return
        if time.monotonic() < self._rest_until:
            return
        connection = await self._connect()
        if self.state.leading:
            asked = time.monotonic()
            highest = await connection.scalar(text("SELECT max(term) FROM leader_terms"))
            if highest != self.state.term:
                await self._lost(f"term {self.state.term} was superseded by term {highest}")
                return
            self._confirmed_at = asked
            return
        asked = time.monotonic()
        locked = await connection.scalar(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
        )
        if not locked:
            await self._follow(connection)
            return
        try:
            async with AsyncSession(bind=connection) as session:
                term = await take_term(session, replica_id=self.replica_id, now=_now())
                await session.commit()
        except Exception as exc:
            await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            raise RuntimeError(f"could not take a term: {_describe(exc)}") from exc
        self._confirmed_at = asked
        self._change(leading=True, term=term, leader_id=self.replica_id, problem=None)

    async def _follow(self, connection: AsyncConnection) -> None:
        async with AsyncSession(bind=connection) as session:
            current = await current_term(session)
        if current is None:
            problem = "another replica holds the leader lock"
            term, leader = None, None
        else:
            problem = f"replica {current.replica_id} leads (term {current.term})"
            term, leader = current.term, current.replica_id
        if (term, leader, problem) != (self.state.term, self.state.leader_id, self.state.problem):
            self._change(term=term, leader_id=leader, problem=problem)

    async def _connect(self) -> AsyncConnection:
        if self._connection is not None and not self._connection.closed:
            return self._connection
        connection = await self.engine.connect()
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        name = (LOCK_APPLICATION + self.replica_id)[:63]
        await connection.execute(
            text("SELECT set_config('application_name', :v, false)"), {"v": name}
        )
        try:
            await connection.execute(
                text("SELECT set_config('idle_session_timeout', :v, false)"),
                {"v": f"{int(self.settings.lease_s * 1000)}ms"},
            )
        except Exception as exc:  # PostgreSQL before 14
            log.warning(
                "idle_session_timeout is not available (%s): a paused leader keeps the lock "
                "until its connection drops; use PostgreSQL 14 or newer",
                _describe(exc),
            )
        raw = await connection.get_raw_connection()
        listen = getattr(raw.driver_connection, "add_termination_listener", None)
        if listen is not None:
            listen(self._terminated)
        self._connection = connection
        return connection

    def _terminated(self, _: object) -> None:
        """asyncpg: the lock connection closed under us; stop leading now."""
        if self.state.leading:
            self._rest_until = time.monotonic() + 2 * self.settings.check_every_s
            self._change(leading=False, problem="the lock connection was closed")

    async def _lost(self, problem: str) -> None:
        if self.state.leading:
            self._rest_until = time.monotonic() + 2 * self.settings.check_every_s
            self._change(leading=False, problem=problem)
        elif problem != self.state.problem:
            log.warning("leader lock: %s", problem)
            self._change(problem=problem)
        await self._close()

    async def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        with contextlib.suppress(Exception):
            await asyncio.wait_for(connection.invalidate(), 2)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(connection.close(), 2)


def _now() -> datetime:
    return datetime.now(UTC)


def _describe(exc: BaseException) -> str:
    message = str(getattr(exc, "orig", None) or exc).strip()
    first = message.splitlines()[0][:200] if message else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
