"""A flapping target opens one incident; a dependency down with three dependants gives one
alert, not four (real ``serve`` processes, scripted targets)."""

from __future__ import annotations

from pathlib import Path

from tests.watch.serve_process import (
    FaultySlack,
    FlipTarget,
    StoreView,
    eventually,
    http_check,
    runs_advance,
    serving,
    store_view,
    write_watch_config,
)

DEPENDANTS = ("api", "worker", "web")


async def resolved(store: StoreView) -> bool:
    incidents = await store.incidents()
    return bool(incidents) and all(i.resolved_at is not None for i in incidents)


async def test_a_flapping_target_opens_exactly_one_incident(
    tmp_path: Path, store_url: str, slack: FaultySlack, target: FlipTarget
) -> None:
    config = write_watch_config(
        tmp_path,
        store_url=store_url,
        checks=[http_check(target, "api", flapping={"of": 10, "failures": 4})],
        # Never two failures in a row: only the flapping rule can open an incident.
        monitoring={"failure_threshold": 2, "success_threshold": 2},
    )
    target.script("api", [False, True] * 8)
    async with store_view(store_url) as store, serving(config, slack, tmp_path):
        await eventually(lambda: resolved(store), what="the flapping incident to resolve")
        await runs_advance(store, "api", 3)
        incidents = await store.incidents()
    assert len(incidents) == 1, [(i.id, i.reason) for i in incidents]
    assert incidents[0].reason.startswith("flapping: 4 of the last")
    [alert] = slack.top_level()
    assert any("resolved" in slack.shown(r) for r in slack.thread(alert))


async def test_a_dependency_down_with_three_dependants_gives_one_message(
    tmp_path: Path, store_url: str, slack: FaultySlack, target: FlipTarget
) -> None:
    checks = [
        http_check(target, "db-ready"),
        *(http_check(target, name, depends_on=["db-ready"]) for name in DEPENDANTS),
    ]
    config = write_watch_config(tmp_path, store_url=store_url, checks=checks)
    async with store_view(store_url) as store, serving(config, slack, tmp_path):
        await runs_advance(store, "web", 1)
        target.set("db-ready", *DEPENDANTS, healthy=False)

        async def all_folded() -> bool:
            incidents = await store.incidents()
            return bool(incidents) and set(incidents[0].affected) == set(DEPENDANTS)

        await eventually(all_folded, what="the dependants folded into one incident")
        await runs_advance(store, "web", 3)
        assert len(slack.top_level()) == 1

        target.set("db-ready", *DEPENDANTS, healthy=True)
        await eventually(lambda: resolved(store), what="the incident to resolve")
        incidents = await store.incidents()
    assert [i.check_name for i in incidents] == ["db-ready"]
    [alert] = slack.top_level()
    shown = slack.shown(alert)
    assert all(name in shown for name in ("db-ready", *DEPENDANTS)), shown
