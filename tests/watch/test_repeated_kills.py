"""``serve`` SIGKILLed again and again while incidents open and resolve: when it finally runs
undisturbed, Slack holds every incident's alert once, each thread its own replies, nothing
doubled and nothing left in the outbox."""

from __future__ import annotations

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

#: (runs to wait, then the target's health) for each life of the process before its kill.
LIVES = ((1, False), (2, False), (1, True), (3, True), (1, False), (2, False), (2, True))


async def settled(store: StoreView) -> bool:
    rows = await store.outbox()
    incidents = await store.incidents()
    return (
        bool(incidents)
        and all(i.resolved_at is not None for i in incidents)
        and all(r.state in ("sent", "superseded") for r in rows)
    )


async def test_repeated_kills_lose_and_double_nothing(
    tmp_path: Path, store_url: str, slack: FaultySlack, target: FlipTarget
) -> None:
    config = write_watch_config(
        tmp_path,
        store_url=store_url,
        checks=[http_check(target, "api")],
        monitoring={"failure_threshold": 1, "success_threshold": 1},
    )
    async with store_view(store_url) as store:
        for life, (runs, healthy) in enumerate(LIVES):
            target.set("api", healthy=healthy)
            process = ServeProcess(config, slack_env(slack), tmp_path, f"life{life}")
            await process.start()
            try:
                await runs_advance(store, "api", runs)
            finally:
                await process.kill()
        target.set("api", healthy=True)
        async with serving(config, slack, tmp_path, "last"):
            await eventually(lambda: settled(store), what="every incident resolved and sent")
        incidents = await store.incidents()
        rows = await store.outbox()

    landed = slack.outbox_keys()
    assert not {k: n for k, n in landed.items() if n > 1}, "a message was posted twice"
    posted = {r.key for r in rows if r.action in ("post", "reply")}
    assert set(landed) == posted, "Slack and the outbox disagree on what was posted"
    alerts = slack.top_level()
    assert len(alerts) == len(incidents) >= 2
    for incident, alert in zip(incidents, alerts, strict=True):
        assert f"INC-{incident.id}" in slack.shown(alert)
        replies = [slack.shown(r) for r in slack.thread(alert)]
        assert sum("resolved" in r for r in replies) == 1, replies
        assert all(f"INC-{incident.id}" in r for r in replies), replies
