"""The state store's connection: opened from ``state.url``, migrated, and survived.

Contract:

* Every read or write is a *unit of work* passed to :meth:`Database.run`: a function of one
  session, committed at its end. If the connection goes away mid-way (a PostgreSQL backend
  killed, the server restarted, a SQLite file locked by another process), the unit is rolled back
  and run again with backoff; units must therefore be safe to repeat (they re-read what they
  change). After ``attempts`` failures :class:`StoreUnavailableError` is raised and the store is
  marked down (``/readyz``, ``prodguardian_store_up``, the log) until a unit succeeds again
  (SQLite: and :meth:`Database.ping` then takes the write lock, since a read succeeds while
  another process holds it). While it is marked down a unit gets one try: callers owe their work and
  go on rather than wait out the backoff on every call.
* Nothing is cached across units: what was committed survives a crash of the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    InterfaceError,
    NoSuchModuleError,
    OperationalError,
)
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from prodguardian.errors import ConfigError, ProdGuardianError

log = logging.getLogger("prodguardian.store")

T = TypeVar("T")

DEFAULT_FILE = "prodguardian.db"
#: How long SQLite waits for another process's lock before the unit of work is retried.
SQLITE_BUSY_TIMEOUT_S = 2.0
#: How long a ping of a SQLite store waits for the write lock.
_PING_WAIT_MS = 200

_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}


class StoreUnavailableError(ProdGuardianError):
    """The state store cannot be reached now; the caller keeps what it owes and retries."""


@dataclass(frozen=True)
class StoreHealth:
    """Whether the store answers, and since when; the problem when it does not."""

    up: bool
    since: float
    problem: str | None = None


def default_state_url(config_path: Path) -> str:
    """``sqlite+aiosqlite:///…/prodguardian.db`` beside the config file."""
    return f"sqlite+aiosqlite:///{config_path.resolve().parent / DEFAULT_FILE}"


def parse_state_url(value: str, *, config_path: Path | None = None) -> URL:
    """The async SQLAlchemy URL of ``state.url``; :class:`ConfigError` naming the key if bad.

    ``sqlite:///x.db`` and ``postgresql://…`` get their async drivers; a relative SQLite path
    is taken relative to the config file; a SQLite file whose folder does not exist is refused.
    """
    try:
        url = make_url(value)
    except ArgumentError as exc:
        raise ConfigError(
            f"{value!r} is not a database URL ({exc}); use sqlite+aiosqlite:///prodguardian.db "
            "or postgresql+asyncpg://user@host:5432/db",
            path=config_path,
            key="state.url",
        ) from None
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"unsupported database {backend!r}; use SQLite (sqlite+aiosqlite:///FILE) or "
            "PostgreSQL (postgresql+asyncpg://… or postgresql+psycopg://…)",
            path=config_path,
            key="state.url",
        )
    if "+" not in url.drivername:
        url = url.set(drivername=_ASYNC_DRIVERS[backend])
    if backend == "sqlite" and url.database not in (None, "", ":memory:"):
        file = Path(url.database)
        if not file.is_absolute() and config_path is not None:
            file = config_path.resolve().parent / file
        if not file.parent.is_dir():
            raise ConfigError(
                f"the folder of the SQLite file {str(file)!r} does not exist; create it or "
                "point state.url elsewhere",
                path=config_path,
                key="state.url",
            )
        url = url.set(database=str(file))
    return url


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is the connection going away (retry), not a bug in the unit of work."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(
        exc, OperationalError | InterfaceError | OSError | ConnectionError | TimeoutError
    ) or (isinstance(exc, DBAPIError) and "connection" in str(exc).lower())


class Database:
    """The engine, sessions, health and retries of the state store."""

    def __init__(
        self,
        url: str | URL,
        *,
        attempts: int = 4,
        backoff_s: float = 0.2,
        max_backoff_s: float = 2.0,
        pool_size: int = 5,
    ) -> None:
        self.url = make_url(url) if isinstance(url, str) else url
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.engine = _engine(self.url, pool_size=pool_size)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.health = StoreHealth(up=False, since=time.time(), problem="not connected yet")
        self.on_health: list[Callable[[StoreHealth], None]] = []
        self.reconnects = 0
        self._found_down = False
        """A unit or a ping failed and none has succeeded since (not merely "not yet")."""

    @property
    def dialect(self) -> str:
        return self.url.get_backend_name()

    @property
    def display_url(self) -> str:
        """The URL without its password, for logs and ``/readyz``."""
        return self.url.render_as_string(hide_password=True)

    async def run(self, work: Callable[[AsyncSession], Awaitable[T]], *, what: str = "") -> T:
        """Run ``work`` in a transaction, retried while the connection is away.

        Raises :class:`StoreUnavailableError` once ``attempts`` tries failed that way; any
        other error of ``work`` propagates at once (after rollback).
        """
        delay = self.backoff_s
        attempts = 1 if self._found_down else self.attempts
        for attempt in range(1, attempts + 1):
            try:
                async with self.sessions() as session, session.begin():
                    result = await work(session)
            except Exception as exc:
                if not is_transient(exc):
                    raise
                problem = f"{type(exc).__name__}: {_first_line(exc)}"
                if attempt == attempts:
                    self._set_health(False, problem)
                    raise StoreUnavailableError(
                        f"the state store at {self.display_url} is unavailable"
                        f"{f' ({what})' if what else ''}: {problem}"
                    ) from exc
                log.warning(
                    "state store: %s failed (%s); retrying in %.1f s",
                    what or "a unit of work",
                    problem,
                    delay,
                )
                await asyncio.sleep(delay * (0.5 + random.random() / 2))
                delay = min(delay * 2, self.max_backoff_s)
            else:
                if not self.health.up:
                    await self._answered()
                return result
        raise AssertionError("unreachable")

    async def ping(self) -> bool:
        """Whether the store answers now (one try); updates the health.

        SQLite is asked for its write lock, which another process may hold: reads pass then.
        """
        try:
            async with self.engine.connect() as connection:
                if self.dialect == "sqlite":
                    # Briefly: while down, every unit that passes asks again.
                    await connection.exec_driver_sql(f"PRAGMA busy_timeout = {_PING_WAIT_MS}")
                    try:
                        await connection.exec_driver_sql("BEGIN IMMEDIATE")
                        await connection.exec_driver_sql("ROLLBACK")
                    finally:
                        await connection.exec_driver_sql(
                            f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}"
                        )
                else:
                    await connection.execute(text("SELECT 1"))
        except Exception as exc:
            if not is_transient(exc):
                raise
            self._set_health(False, f"{type(exc).__name__}: {_first_line(exc)}")
            return False
        if not self.health.up:
            self._set_health(True, None)
        return True

    async def _answered(self) -> None:
        """A unit succeeded while the store was marked down: it is back, except on SQLite,
        where a read passes while another process holds the write lock; there ask ping()."""
        if self.dialect != "sqlite":
            self._set_health(True, None)
            return
        with contextlib.suppress(Exception):
            await self.ping()

    async def dispose(self) -> None:
        await self.engine.dispose()

    def _set_health(self, up: bool, problem: str | None) -> None:
        was = self.health
        self.health = StoreHealth(up=up, since=time.time(), problem=problem)
        self._found_down = not up
        if up and not was.up and was.problem != "not connected yet":
            self.reconnects += 1
            log.warning("state store at %s is back", self.display_url)
        elif up and not was.up:
            log.info("state store at %s is up", self.display_url)
        elif not up and was.up:
            log.error(
                "state store at %s is unavailable: %s; checks keep running and what is owed "
                "is written when it is back",
                self.display_url,
                problem,
            )
        for listener in self.on_health:
            listener(self.health)


def _engine(url: URL, *, pool_size: int) -> AsyncEngine:
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S},
            pool_pre_ping=True,
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    args: dict[str, Any] = {"timeout": 5} if url.drivername.endswith("asyncpg") else {}
    try:
        return create_async_engine(
            url,
            pool_pre_ping=True,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_timeout=10,
            pool_recycle=1800,
            connect_args=args,
        )
    except NoSuchModuleError as exc:
        raise ConfigError(
            f"no database driver for {url.drivername!r}: {exc}", key="state.url"
        ) from None


def _sqlite_pragmas(connection: Any, _: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _first_line(exc: BaseException) -> str:
    text_ = str(getattr(exc, "orig", None) or exc).strip()
    return text_.splitlines()[0][:300] if text_ else type(exc).__name__
