"""Group commit: many small writes handed in at once share one unit of work.

Contract: :meth:`GroupCommit.write` returns once its entry is committed (with what the writer
said of that entry), or raises what the unit of work raised
(:class:`~prodguardian.store.database.StoreUnavailableError` while the store is away). While
one unit is being written, the entries that arrive wait and go together in the next, so a
burst of a thousand writes costs a handful of commits instead of a thousand (SQLite has one
writer; each commit is a round trip to PostgreSQL). Each entry is still all-or-nothing: if a
shared unit fails for a reason other than the store being away, its entries are written again
one by one, so one bad entry fails alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from prodguardian.store.database import Database, StoreUnavailableError

T = TypeVar("T")
R = TypeVar("R")

Writer = Callable[[AsyncSession, Sequence[T]], Awaitable[Sequence[R]]]
"""Writes some entries in the caller's session (the unit of work), safe to repeat; one result
per entry, in order."""


class GroupCommit(Generic[T, R]):
    """Batches concurrent writes of one kind into shared units of work."""

    def __init__(
        self, database: Database, writer: Writer[T, R], *, what: str, max_batch: int = 500
    ) -> None:
        self.database = database
        self.writer = writer
        self.what = what
        self.max_batch = max_batch
        self.units = 0
        """How many units of work were committed (for tests and figures)."""
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._flushing: asyncio.Task[None] | None = None

    async def write(self, entry: T) -> R:
        """Commit ``entry`` (with whatever else is waiting); raises if its unit failed."""
        done: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((entry, done))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush(), name=f"group-commit:{self.what}")
        return await asyncio.shield(done)

    async def _flush(self) -> None:
        while self._pending:
            batch = self._pending[: self.max_batch]
            del self._pending[: self.max_batch]
            try:
                results = await self._commit([entry for entry, _ in batch])
            except StoreUnavailableError as exc:
                _fail(batch, exc)
            except Exception as exc:
                if len(batch) == 1:
                    _fail(batch, exc)
                    continue
                for one in batch:
                    try:
                        (result,) = await self._commit([one[0]])
                    except Exception as alone:
                        _fail([one], alone)
                    else:
                        _succeed([one], [result])
            else:
                _succeed(batch, results)

    async def _commit(self, entries: Sequence[T]) -> Sequence[R]:
        async def unit(session: AsyncSession) -> Sequence[R]:
            return await self.writer(session, entries)

        results = await self.database.run(unit, what=self.what)
        self.units += 1
        return results


def _succeed(batch: Sequence[tuple[T, asyncio.Future[R]]], results: Sequence[R]) -> None:
    for (_, done), result in zip(batch, results, strict=True):
        if not done.done():
            done.set_result(result)


def _fail(batch: Sequence[tuple[T, asyncio.Future[R]]], error: Exception) -> None:
    for _, done in batch:
        if not done.done():
            done.set_exception(error)
