"""The latest full reports in the store; ``/check_prod status`` shows the newest."""

from __future__ import annotations

import contextlib

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from prodguardian.report import Report
from prodguardian.store.database import Database, StoreUnavailableError
from prodguardian.store.schema import ReportRow

#: How many full reports are kept.
KEEP_REPORTS = 50


class StoreReportHistory:
    """Full reports kept in the store (the newest is also kept in memory)."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._last: Report | None = None

    async def record(self, report: Report) -> None:
        if self._last is None or report.finished_at >= self._last.finished_at:
            self._last = report

        async def write(session: AsyncSession) -> None:
            session.add(
                ReportRow(
                    finished_at=report.finished_at,
                    status=report.status.value,
                    body=report.model_dump_json(),
                )
            )
            await session.flush()
            newest = (
                await session.scalars(
                    select(ReportRow.id).order_by(ReportRow.id.desc()).offset(KEEP_REPORTS)
                )
            ).first()
            if newest is not None:
                await session.execute(delete(ReportRow).where(ReportRow.id <= newest))

        # While the store is away the report is kept in memory (for `status`); the store logs
        # the outage and /check_prod goes on.
        with contextlib.suppress(StoreUnavailableError):
            await self.database.run(write, what="record a report")

    async def last(self) -> Report | None:
        if self._last is not None:
            return self._last

        async def read(session: AsyncSession) -> Report | None:
            row = (
                await session.scalars(
                    select(ReportRow).order_by(ReportRow.finished_at.desc()).limit(1)
                )
            ).first()
            return Report.model_validate_json(row.body) if row is not None else None

        try:
            self._last = await self.database.run(read, what="read the last report")
        except StoreUnavailableError:
            return None
        return self._last
