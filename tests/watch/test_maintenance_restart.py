"""A maintenance window holds an incident's alert back across a restart, and the alert goes
out once the problem outlasts the window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.watch.serve_process import (
    FaultySlack,
    FlipTarget,
    ServeProcess,
    StoreView,
    eventually,
    http_check,
    runs_advance,
    serving,
    slack_env,
    store_view,
    write_watch_config,
)

#: Long enough for the incident to open inside it on a busy machine.
WINDOW_S = 20


async def opened(store: StoreView) -> bool:
    return bool(await store.incidents())


async def test_maintenance_holds_the_alert_across_a_restart_until_it_ends(
    tmp_path: Path, store_url: str, slack: FaultySlack, target: FlipTarget
) -> None:
    now = datetime.now(UTC)
    end = now + timedelta(seconds=WINDOW_S)
    window = {
        "start": (now - timedelta(minutes=1)).isoformat(),
        "end": end.isoformat(),
        "checks": ["api"],
        "reason": "database upgrade",
    }
    config = write_watch_config(
        tmp_path,
        store_url=store_url,
        checks=[http_check(target, "api")],
        extra={"maintenance": [window]},
    )
    target.set("api", healthy=False)
    async with store_view(store_url) as store:
        first = await ServeProcess(config, slack_env(slack), tmp_path, "first").start()
        try:
            await eventually(lambda: opened(store), what="the incident during maintenance")
            await runs_advance(store, "api", 1)
        finally:
            await first.kill()
        async with serving(config, slack, tmp_path, "second"):
            await eventually(
                lambda: _alerted(slack), what="the alert after the window", timeout_s=90
            )
            await runs_advance(store, "api", 2)
        incidents = await store.incidents()
        rows = await store.outbox()

    assert len(incidents) == 1
    assert incidents[0].opened_at < end, "the incident did not open inside the window"
    # Nothing was written for Slack while the window lasted; the alert once, after it.
    assert all(r.created_at >= end for r in rows), [(r.action, r.created_at) for r in rows]
    assert len(slack.top_level()) == 1


async def _alerted(slack: FaultySlack) -> bool:
    return bool(slack.top_level())
