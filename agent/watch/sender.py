"""The outbox sender: delivers what the store holds, in order per incident, once.

It never renders: rows carry their rendered payload. A row whose send may have got through
(a crash, a timeout) is looked up in Slack before it is sent again. Each row is committed
``sending`` before its send and ``sent`` after it; the rows of concurrent sends share those
units of work (:class:`~prodguardian.store.group_commit.GroupCommit`). While the store or Slack
is away it waits and retries with backoff; nothing is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from prodguardian.store import outbox
from prodguardian.store.database import Database, StoreUnavailableError
from prodguardian.store.group_commit import GroupCommit
from prodguardian.store.outbox import QueuedMessage, SentRef
from prodguardian.watch.transports import DeliveryFailedError, Transport

log = logging.getLogger("prodguardian.outbox")

Clock = Callable[[], datetime]
#: How long a lasting problem (bad token, unknown channel) waits between tries.
LASTING_RETRY_S = 60.0


class OutboxSender:
    """Delivers due outbox rows through a transport."""

    def __init__(
        self,
        database: Database,
        transport: Transport,
        *,
        clock: Clock = lambda: datetime.now(UTC),
        term: Callable[[], int | None] = lambda: None,
        may_send: Callable[[], bool] = lambda: True,
        concurrency: int = 16,
        idle_s: float = 1.0,
    ) -> None:
        self.database = database
        self.transport = transport
        self.clock = clock
        self.term = term
        self.may_send = may_send
        self.concurrency = concurrency
        self.idle_s = idle_s
        self.wake = asyncio.Event()
        self.sent = 0
        self._claims = GroupCommit(database, _claim, what="claim outbox rows")
        self._marks = GroupCommit(database, _mark_sent, what="mark messages sent")

    async def deliver_due(self) -> int:
        """One pass: send the next due message of every group; how many were sent."""
        sent = 0
        limit = asyncio.Semaphore(self.concurrency)

        async def one(message: QueuedMessage) -> bool:
            async with limit:
                return await self._deliver(message)

        while True:
            due = await self.database.run(
                partial(outbox.due_messages, now=self.clock()), what="read the outbox"
            )
            if not due:
                return sent
            results = await asyncio.gather(*(one(m) for m in due))
            progressed = sum(results)
            sent += progressed
            if not progressed:
                return sent

    async def run_forever(self) -> None:
        """Deliver, then sleep until woken (a new message) or ``idle_s`` passes."""
        while True:
            try:
                await self.deliver_due()
            except StoreUnavailableError:
                pass  # logged by the store; the rows wait there
            except Exception:
                log.exception("the outbox sender failed; retrying")
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.idle_s)

    async def _deliver(self, message: QueuedMessage) -> bool:
        parent: SentRef | None = None
        if message.parent_id is not None:
            parent_id = message.parent_id
            parent = await self.database.run(
                lambda s: outbox.sent_ref(s, parent_id), what="read the outbox"
            )
            if parent is None:
                log.warning("outbox %s waits for its parent %s", message.id, parent_id)
                return False
        if message.state == "sending" and message.action != "update":
            try:
                found = await self.transport.find(message, parent)
            except DeliveryFailedError as exc:
                await self._failed(message, exc)
                return False
            if found is not None:
                log.info(
                    "outbox %s had been delivered before a restart; not sent again", message.id
                )
                await self._mark_sent(message, found)
                return True
        if not self.may_send():
            return False
        claimed = await self._claims.write((message.id, self.term()))
        if not claimed:
            return False
        if not self.may_send():
            # The lease ran out while claiming (a pause): the row stays "sending", and the
            # next leader looks it up in Slack before sending it.
            return False
        try:
            sent = await self.transport.deliver(message, parent)
        except DeliveryFailedError as exc:
            await self._failed(message, exc)
            return False
        await self._mark_sent(message, sent)
        self.sent += 1
        return True

    async def _mark_sent(self, message: QueuedMessage, sent: SentRef) -> None:
        await self._marks.write(outbox.Delivered(message.id, sent, self.clock()))

    async def _failed(self, message: QueuedMessage, exc: DeliveryFailedError) -> None:
        delay = (
            timedelta(seconds=LASTING_RETRY_S)
            if exc.lasting
            else outbox.backoff(message.attempts + 1, cap_s=LASTING_RETRY_S)
        )
        retry_at = self.clock() + delay
        log.warning(
            "outbox %s (%s) not delivered: %s; next try in %.0f s",
            message.id,
            message.action,
            exc,
            delay.total_seconds(),
        )
        await self.database.run(
            lambda s: outbox.mark_failed(
                s,
                message.id,
                error=str(exc),
                retry_at=retry_at,
                uncertain=exc.uncertain or message.state == "sending",
            ),
            what="record a failed send",
        )


async def _claim(session: AsyncSession, rows: Sequence[tuple[int, int | None]]) -> list[bool]:
    """Mark rows ``sending`` (by term, usually one); whether each was still unsent."""
    claimed: set[int] = set()
    for term in dict.fromkeys(term for _, term in rows):
        ids = [row for row, row_term in rows if row_term == term]
        claimed |= await outbox.mark_sending(session, ids, term=term)
    return [row in claimed for row, _ in rows]


async def _mark_sent(session: AsyncSession, rows: Sequence[outbox.Delivered]) -> list[None]:
    await outbox.mark_sent(session, rows)
    return [None] * len(rows)
