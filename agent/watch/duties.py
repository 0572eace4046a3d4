"""What the leader alone does, switched on and off as leadership comes and goes.

The leader runs the schedule (checks, incidents, housekeeping) and the outbox sender; the
follow-up runner joins them later through :meth:`LeaderDuties.add`. Every replica, leading or
not, writes its heartbeat row and serves HTTP. Losing the lock stops the schedule and the
sender at once (running checks are cancelled; a send in flight finishes or is looked up in
Slack by the next leader).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

from prodguardian.store import replicas
from prodguardian.store.database import Database, StoreHealth, StoreUnavailableError
from prodguardian.telemetry import instruments
from prodguardian.watch.leader import Leadership, LeaderState
from prodguardian.watch.schedule import Schedule

log = logging.getLogger("prodguardian.leader")

#: How long a replica that ran checks while the store was away waits, once the store is back,
#: to lead again before it drops the reports it kept.
DARK_GRACE_S = 20.0

#: How long the store must stay away before a replica that does not lead runs its checks.
DARK_AFTER_S = 5.0

#: A task the leader runs while it leads (cancelled when it stops leading).
LeaderTask = Callable[[], Coroutine[Any, Any, None]]


class LeaderDuties:
    """Starts the leader's work when this replica leads, stops it when it does not."""

    def __init__(
        self,
        leadership: Leadership,
        database: Database,
        schedule: Schedule,
        *,
        heartbeat_s: float = 3.0,
        on_lost: Callable[[], None] = lambda: None,
    ) -> None:
        self.leadership = leadership
        self.database = database
        self.schedule = schedule
        self.heartbeat_s = heartbeat_s
        self.on_lost = on_lost
        self.host = socket.gethostname()
        self.started_at = datetime.now(UTC)
        self.store_ready = False
        self._workers: dict[str, LeaderTask] = {}
        self._running: dict[str, asyncio.Task[None]] = {}
        self._tasks: list[asyncio.Task[Any]] = []
        self._beats: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._dark: asyncio.Task[None] | None = None
        self._was_leading = False
        leadership.listeners.append(self._changed)
        database.on_health.append(self._store_health)

    def add(self, name: str, worker: LeaderTask) -> None:
        """Run ``worker`` while this replica leads and the store is ready (the sender, the
        follow-up runner). It is cancelled when the leadership ends."""
        self._workers[name] = worker

    def start(self) -> None:
        """Contend for the lock and write heartbeats (inside the running event loop)."""
        self._publish(self.leadership.state)
        self._tasks.append(asyncio.create_task(self.leadership.run(), name="leader:lock"))
        self._tasks.append(asyncio.create_task(self._heartbeats(), name="leader:heartbeat"))

    def mark_store_ready(self) -> None:
        """The schema is in place: the workers may start (if this replica leads)."""
        self.store_ready = True
        if self.leadership.state.leading:
            self._start_workers()

    async def stop(self) -> None:
        """Stop leading, give the lock up and say goodbye in the store."""
        self._stopping = True
        if self._dark is not None:
            self._dark.cancel()
        self.schedule.stop()
        self._stop_workers()
        for task in [*self._tasks, *self._beats]:
            task.cancel()
        for task in [*self._tasks, *self._beats]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.leadership.release()
        if self.store_ready:
            with contextlib.suppress(Exception):
                await self.database.run(
                    lambda s: replicas.forget(s, self.leadership.replica_id),
                    what="remove this replica's heartbeat",
                )

    def _changed(self, state: LeaderState) -> None:
        was_leading = self._was_leading
        self._was_leading = state.leading
        self._publish(state)
        if state.leading:
            if not self.schedule.running:
                self.schedule.start()
            if self.store_ready:
                self._start_workers()
        else:
            self._stop_workers()
            # A leader whose lease went away with the store keeps its checks running; a
            # replica that never led (or lost to another) does nothing but serve.
            store_lost = self.store_ready and not self.database.health.up
            if store_lost and self._lease_in_store and not self._stopping and was_leading:
                self._run_in_the_dark()
            else:
                self.schedule.stop()
                self.on_lost()
        # Tell the others at once rather than at the next heartbeat.
        if self.store_ready and self._tasks and not self._stopping:
            beat = asyncio.create_task(self._beat(), name="leader:beat")
            self._beats.add(beat)
            beat.add_done_callback(self._beats.discard)

    # While the store is away nobody can be elected, and a replica cannot tell whether another
    # one still leads. Its checks keep running "in the dark" (reports owed, nothing sent), so a
    # single replica keeps judging production and answers /check_prod with fresh results; once
    # the store answers, the owed reports are applied if this replica leads again within
    # DARK_GRACE_S, and dropped otherwise (the new leader's own runs tell the story).

    def _store_health(self, health: StoreHealth) -> None:
        # Only a lease held in the store is lost with it (SQLite's lock file is not).
        if self._stopping or self.leadership.state.leading or not self._lease_in_store:
            return
        if not health.up:
            # Only an outage that lasts: a blip (a migration racing another replica's at
            # start-up) must not set followers running checks.
            if self._dark is None or self._dark.done():
                self._dark = asyncio.get_running_loop().create_task(
                    self._enter_the_dark(), name="leader:dark"
                )
        elif self.schedule.running and (self._dark is None or self._dark.done()):
            self._dark = asyncio.get_running_loop().create_task(
                self._leave_the_dark(), name="leader:dark"
            )

    @property
    def _lease_in_store(self) -> bool:
        return self.leadership.mode == "postgres-lock"

    async def _enter_the_dark(self) -> None:
        await asyncio.sleep(DARK_AFTER_S)
        if not self.database.health.up and not self.leadership.state.leading:
            self._run_in_the_dark()

    def _run_in_the_dark(self) -> None:
        if not self.schedule.running:
            log.warning(
                "the state store is away: checks keep running, their reports are kept and "
                "nothing is sent until this replica leads again"
            )
            self.schedule.start()

    async def _leave_the_dark(self) -> None:
        await asyncio.sleep(DARK_GRACE_S)
        if not self.leadership.state.leading and self.database.health.up and not self._stopping:
            log.warning(
                "another replica leads: the reports kept while the store was away are dropped"
            )
            self.schedule.stop()
            self.on_lost()

    def _start_workers(self) -> None:
        for name, worker in self._workers.items():
            running = self._running.get(name)
            if running is None or running.done():
                self._running[name] = asyncio.create_task(worker(), name=f"leader:{name}")

    def _stop_workers(self) -> None:
        for task in self._running.values():
            task.cancel()
        self._running.clear()

    async def _heartbeats(self) -> None:
        while True:
            if self.store_ready:
                await self._beat()
            await asyncio.sleep(self.heartbeat_s)

    async def _beat(self) -> None:
        state = self.leadership.state
        now = datetime.now(UTC)
        with contextlib.suppress(StoreUnavailableError):
            await self.database.run(
                lambda s: replicas.heartbeat(
                    s,
                    replica_id=state.replica_id,
                    host=self.host,
                    started_at=self.started_at,
                    leader=state.leading,
                    term=state.term if state.leading else None,
                    now=now,
                ),
                what="write this replica's heartbeat",
            )

    def _publish(self, state: LeaderState) -> None:
        meters = instruments.current()
        meters.leader.set(1 if state.leading else 0)
        meters.leader_term.set(state.term or 0)
        meters.leader_since.set(state.since)
