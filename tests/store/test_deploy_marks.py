"""Deploy marks in the store: the active one is read at most every ``reread_after_s``."""

from __future__ import annotations

from datetime import UTC, datetime

from prodguardian.config.models import Config
from prodguardian.deploy import ActiveDeploy, DeploySource
from prodguardian.store.database import Database
from prodguardian.store.deploy_marks import StoreDeployMarks

CONFIG = Config.model_validate({"checks": [{"name": "api", "kind": "http"}]})


def mark(revision: str) -> ActiveDeploy:
    return ActiveDeploy(
        revision=revision,
        since=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
        source=DeploySource.DEPLOY_MARK,
    )


async def test_a_mark_recorded_here_is_active_at_once(database: Database) -> None:
    marks = StoreDeployMarks(database, config=CONFIG, reread_after_s=60, clock=lambda: 0.0)
    assert await marks.active() is None

    await marks.record(mark("api-00042"), by="U1")

    assert await marks.active() == mark("api-00042")


async def test_a_mark_recorded_elsewhere_is_seen_once_the_reread_interval_passed(
    database: Database,
) -> None:
    now = [0.0]
    here = StoreDeployMarks(database, config=CONFIG, reread_after_s=5, clock=lambda: now[0])
    replica = StoreDeployMarks(database, config=CONFIG)
    await replica.record(mark("api-00041"), by="U1")
    assert await here.active() == mark("api-00041")

    await replica.record(mark("api-00042"), by="U1")
    now[0] = 4.9
    assert await here.active() == mark("api-00041")
    now[0] = 5.0
    assert await here.active() == mark("api-00042")
