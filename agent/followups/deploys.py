"""Marking a deploy: the active deploy, the fix's clock for waiting items, and the checklist.

One unit of work records the mark, starts the clocks of the runbook follow-ups of every open
incident (the fix is going out), adds ``followups.after_deploy`` as items of the deploy, and
writes the announcement whose thread the checklist's verdicts go to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from prodguardian.config.models import Config
from prodguardian.deploy import ActiveDeploy
from prodguardian.followups import items
from prodguardian.followups.messages import deploy_message
from prodguardian.followups.plan import after_deploy_items
from prodguardian.incidents.records import open_incidents
from prodguardian.store.followup_items import followup_id
from prodguardian.store.outbox import OutgoingMessage, enqueue
from prodguardian.store.schema import DeployMarkRow


@dataclass(frozen=True)
class DeployMarked:
    """What a deploy mark started."""

    deploy_id: int
    checklist: tuple[str, ...]
    """Ids of the deploy's own items (``F-…``)."""
    scheduled: int
    """Runbook follow-ups of open incidents whose clock started."""


async def mark_deploy(
    session: AsyncSession,
    deploy: ActiveDeploy,
    *,
    by: str,
    now: datetime,
    config: Config,
    channel: str | None,
    service: str | None = None,
) -> DeployMarked:
    """Record ``deploy`` and start what follows it (see the module's docstring)."""
    fixed_at = deploy.since or now
    row = DeployMarkRow(
        revision=deploy.revision,
        since=fixed_at,
        source=deploy.source.value,
        note=deploy.note,
        service=service,
        by=by,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    values = {
        "service": config.service.name,
        "region": config.service.region or "",
        "project": config.service.project or "",
        "revision": deploy.revision or "",
    }
    specs = after_deploy_items(config, values)
    added = await items.add_items(
        session,
        specs,
        source=f"deploy {deploy.revision or row.id}",
        now=now,
        defaults=config.followups,
        fixed_at=fixed_at,
        deploy_id=row.id,
    )
    incidents = [r.id for r in await open_incidents(session)]
    scheduled = await items.schedule_waiting(
        session,
        incident_ids=incidents,
        fixed_at=fixed_at,
        defaults=config.followups,
        deploy_id=None,
    )
    if channel is not None:
        listed = [(followup_id(r.id), r.text, r.due_at) for r in added]
        message = deploy_message(deploy, by=by, items=listed)
        row.outbox_id = await enqueue(
            session,
            OutgoingMessage(
                group=f"deploy:{row.id}", action="post", channel=channel, payload=message.payload()
            ),
            now=now,
        )
    return DeployMarked(
        deploy_id=row.id, checklist=tuple(followup_id(r.id) for r in added), scheduled=scheduled
    )
