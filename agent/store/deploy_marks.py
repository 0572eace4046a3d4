"""Deploy marks in the store; the latest is the reports' active deploy."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prodguardian.deploy import ActiveDeploy, DeploySource
from prodguardian.store.database import Database, StoreUnavailableError
from prodguardian.store.schema import DeployMarkRow


class StoreDeployMarks:
    """Deploy marks kept in the state store.

    The active deploy is also remembered in memory, so a report run while the store is away
    still splits on the last known deploy.
    """

    def __init__(self, database: Database) -> None:
        self.database = database
        self._known: ActiveDeploy | None = None
        self._loaded = False

    async def record(self, deploy: ActiveDeploy, *, by: str) -> ActiveDeploy:
        async def write(session: AsyncSession) -> int:
            row = DeployMarkRow(
                revision=deploy.revision,
                since=deploy.since,
                source=deploy.source.value,
                note=deploy.note,
                by=by,
                created_at=datetime.now(UTC),
            )
            session.add(row)
            await session.flush()
            return row.id

        await self.database.run(write, what="record a deploy mark")
        self._known, self._loaded = deploy, True
        return deploy

    async def active(self) -> ActiveDeploy | None:
        try:
            marks = await self.database.run(_latest(1), what="read the active deploy")
        except StoreUnavailableError:
            return self._known
        self._known, self._loaded = (marks[0][1] if marks else None), True
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
