"""Deploy marks in the store; the latest is the reports' active deploy."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prodguardian.config.models import Config
from prodguardian.deploy import ActiveDeploy, DeploySource
from prodguardian.store.database import Database, StoreUnavailableError
from prodguardian.store.schema import DeployMarkRow

#: How long the active deploy read from the store is trusted: every scheduled job asks for it,
#: so it is read at most this often. A mark recorded here is seen at once; one recorded by
#: another process (a replica) within this long.
REREAD_AFTER_S = 5.0

if TYPE_CHECKING:
    from prodguardian.followups.deploys import DeployMarked


class StoreDeployMarks:
    """Deploy marks kept in the state store.

    The active deploy is also remembered in memory, so a report run while the store is away
    still splits on the last known deploy, and re-read every ``reread_after_s``.
    """

    def __init__(
        self,
        database: Database,
        *,
        config: Config,
        channel: str | None = None,
        reread_after_s: float = REREAD_AFTER_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.database = database
        self.config = config
        self.channel = channel
        self.reread_after_s = reread_after_s
        self.clock = clock
        self._known: ActiveDeploy | None = None
        self._read_at: float | None = None
        self.last_marked: DeployMarked | None = None

    async def record(
        self, deploy: ActiveDeploy, *, by: str, service: str | None = None
    ) -> ActiveDeploy:
        """Record the mark; with a config, also start its checklist and the fix's follow-ups."""
        from prodguardian.followups.deploys import mark_deploy

        config = self.config

        async def write(session: AsyncSession) -> DeployMarked:
            return await mark_deploy(
                session,
                deploy,
                by=by,
                now=datetime.now(UTC),
                config=config,
                channel=self.channel,
                service=service,
            )

        self.last_marked = await self.database.run(write, what="record a deploy mark")
        self._known, self._read_at = deploy, self.clock()
        return deploy

    async def active(self) -> ActiveDeploy | None:
        now = self.clock()
        if self._read_at is not None and now - self._read_at < self.reread_after_s:
            return self._known
        try:
            marks = await self.database.run(_latest(1), what="read the active deploy")
        except StoreUnavailableError:
            return self._known
        self._known, self._read_at = (marks[0][1] if marks else None), now
        return self._known

    async def recent(self, count: int = 10) -> Sequence[tuple[int, ActiveDeploy]]:
        """The latest ``count`` marks with their ids, newest first."""
        return await self.database.run(_latest(count), what="read deploy marks")


def _latest(count: int):  # type: ignore[no-untyped-def]
    async def read(session: AsyncSession) -> list[tuple[int, ActiveDeploy]]:
        rows = (
            await session.scalars(
                select(DeployMarkRow).order_by(DeployMarkRow.id.desc()).limit(count)
            )
        ).all()
        return [(r.id, _deploy(r)) for r in rows]

    return read


def _deploy(row: DeployMarkRow) -> ActiveDeploy:
    return ActiveDeploy(
        revision=row.revision, since=row.since, source=DeploySource(row.source), note=row.note
    )
