"""SIGKILL ``serve`` with an incident open and its messages unsent, restart it on the same
store: every message reaches Slack once, in the right thread."""

from __future__ import annotations

from pathlib import Path

from tests.watch.serve_process import (
    ALERTS,
    FaultySlack,
    FlipTarget,
    ServeProcess,
    StoreView,
    eventually,
    http_check,
    serving,
    slack_env,
    store_view,
    write_watch_config,
)


def assert_each_message_once(slack: FaultySlack) -> None:
    landed = slack.outbox_keys()
    doubled = {key: n for key, n in landed.items() if n > 1}
    assert not doubled, f"outbox messages posted more than once: {doubled}"


async def all_sent(store: StoreView) -> bool:
    rows = await store.outbox()
    return bool(rows) and all(r.state in ("sent", "superseded") for r in rows)


async def test_messages_owed_at_a_kill_are_delivered_once_after_restart(
    tmp_path: Path, store_url: str, slack: FaultySlack, target: FlipTarget
) -> None:
    config = write_watch_config(tmp_path, store_url=store_url, checks=[http_check(target, "api")])
    slack.fail_posts()
    async with store_view(store_url) as store:
        first = await ServeProcess(config, slack_env(slack), tmp_path, "first").start()
        try:
            target.set("api", healthy=False)

            async def opened() -> bool:
                return any(r.action == "post" for r in await store.outbox())

            await eventually(opened, what="the incident's alert in the outbox")
            target.set("api", healthy=True)

            async def resolved_and_owed() -> bool:
                incidents = await store.incidents()
                rows = await store.outbox()
                return (
                    bool(incidents)
                    and incidents[0].resolved_at is not None
                    and any(r.action == "reply" for r in rows)
                    and not any(r.state == "sent" for r in rows)
                )

            await eventually(resolved_and_owed, what="the resolution owed to Slack")
            await eventually(
                lambda: _async(bool(slack.calls_to("chat.postMessage"))),
                what="a refused post",
            )
        finally:
            await first.kill()
        assert slack.top_level() == []

        slack.heal()
        async with serving(config, slack, tmp_path, "second"):
            await eventually(lambda: all_sent(store), what="every owed message sent")
        [incident] = await store.incidents()
        rows = await store.outbox()

    [alert] = slack.top_level()
    assert alert.metadata is not None
    assert f"INC-{incident.id}" in slack.shown(alert)
    assert alert.edits >= 1, "the alert was not updated in place on resolution"
    replies = slack.thread(alert)
    assert [r for r in replies if "resolved" in r.text], [r.text for r in replies]
    assert_each_message_once(slack)
    posted = [r for r in rows if r.action in ("post", "reply") and r.state == "sent"]
    assert len(slack.messages) == len(posted)
    assert all(r.ts is not None for r in posted)


async def test_a_post_that_landed_before_the_kill_is_not_posted_again(
    tmp_path: Path, store_url: str, slack: FaultySlack, target: FlipTarget
) -> None:
    config = write_watch_config(tmp_path, store_url=store_url, checks=[http_check(target, "api")])
    slack.holding = True  # the post lands, its answer never comes
    async with store_view(store_url) as store:
        first = await ServeProcess(config, slack_env(slack), tmp_path, "first").start()
        try:
            target.set("api", healthy=False)
            await eventually(lambda: _async(slack.held > 0), what="the alert to reach Slack")

            async def claimed() -> bool:
                return any(r.state == "sending" for r in await store.outbox())

            await eventually(claimed, what="the outbox row marked sending")
        finally:
            await first.kill()
        [landed] = slack.top_level()

        slack.heal()
        target.set("api", healthy=True)
        async with serving(config, slack, tmp_path, "second"):

            async def resolved_and_sent() -> bool:
                incidents = await store.incidents()
                return (
                    bool(incidents)
                    and incidents[0].resolved_at is not None
                    and (await all_sent(store))
                )

            await eventually(resolved_and_sent, what="the resolution sent")
        rows = await store.outbox()

    assert slack.top_level() == [landed], "the alert was posted again after the restart"
    assert slack.calls_to("conversations.history"), "the sender did not look before resending"
    root = next(r for r in rows if r.action == "post")
    assert root.ts == landed.ts, "the outbox does not point at the message that landed"
    assert [r for r in slack.thread(landed) if "resolved" in r.text]
    assert_each_message_once(slack)
    assert landed.channel == ALERTS


async def _async(value: bool) -> bool:
    return value


async def test_a_reply_that_landed_before_the_kill_is_not_posted_again(
    tmp_path: Path, store_url: str, slack: FaultySlack, target: FlipTarget
) -> None:
    config = write_watch_config(tmp_path, store_url=store_url, checks=[http_check(target, "api")])
    async with store_view(store_url) as store:
        first = await ServeProcess(config, slack_env(slack), tmp_path, "first").start()
        try:
            target.set("api", healthy=False)
            await eventually(lambda: _async(bool(slack.top_level())), what="the alert")
            slack.holding_replies = True  # the resolution lands in the thread, unanswered
            target.set("api", healthy=True)
            await eventually(lambda: _async(slack.held > 0), what="the reply to reach Slack")

            async def claimed() -> bool:
                rows = await store.outbox()
                return any(r.action == "reply" and r.state == "sending" for r in rows)

            await eventually(claimed, what="the reply's outbox row marked sending")
        finally:
            await first.kill()
        [alert] = slack.top_level()
        [landed] = slack.thread(alert)

        slack.heal()
        async with serving(config, slack, tmp_path, "second"):
            await eventually(lambda: all_sent(store), what="every owed message sent")
        rows = await store.outbox()

    assert slack.thread(alert) == [landed], "the reply was posted again after the restart"
    assert "resolved" in slack.shown(landed)
    assert slack.calls_to("conversations.replies"), "the sender did not look before resending"
    assert next(r for r in rows if r.action == "reply").ts == landed.ts
    assert_each_message_once(slack)


async def test_a_post_slack_answers_too_late_is_not_posted_twice(
    tmp_path: Path, store_url: str, slack: FaultySlack, target: FlipTarget
) -> None:
    """Slack takes the message but the answer never comes in time (a stalled network): the
    sender must find it, not send it again."""
    config = write_watch_config(tmp_path, store_url=store_url, checks=[http_check(target, "api")])
    slack.holding = True
    async with store_view(store_url) as store, serving(config, slack, tmp_path) as process:
        target.set("api", healthy=False)

        async def gave_up_waiting() -> bool:
            rows = await store.outbox()
            return slack.held >= 2 or any(r.last_error for r in rows)

        await eventually(gave_up_waiting, what="the post to time out", timeout_s=90)
        slack.heal()
        slack.released.set()
        await eventually(lambda: all_sent(store), what="the alert marked sent")
        logs = process.logs()
    assert len(slack.top_level()) == 1, f"the alert was posted {len(slack.top_level())} times"
    assert_each_message_once(slack)
    assert "not delivered" in logs
