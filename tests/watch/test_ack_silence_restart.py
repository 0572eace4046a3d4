"""An acknowledgement and a silence, given with the CLI, hold across a restart of ``serve``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.response_url_sink import ResponseUrlSink
from tests.watch.serve_process import (
    FaultySlack,
    FlipTarget,
    ServeProcess,
    cli,
    eventually,
    http_check,
    runs_advance,
    serving,
    slack_env,
    store_view,
    write_watch_config,
)

REMINDER = "nobody has acknowledged it"
#: What the ack of a signed command says when it worked.
DONE = {"ack": "acknowledged by", "silence": "silenced"}


async def act(
    via: str, process: ServeProcess, sink: ResponseUrlSink, config: Path, *words: str
) -> None:
    """``words`` (``ack INC-1``, ``silence api 1h``) as U0ALICE: a signed ``/check_prod`` to
    the running ``serve`` (answered in its ack), or ``prodguardian incidents …`` against the
    same store."""
    if via == "slack":
        status, ack = await process.command(" ".join(words), sink.url_for(words[0]))
        assert status == 200, ack
        assert DONE[words[0]] in json.loads(ack)["text"], ack
        return
    code, out = await cli(config, "incidents", *words, "--by", "U0ALICE")
    assert code == 0, out


@pytest.mark.parametrize("via", ["cli", "slack"])
async def test_no_reminder_after_an_acknowledgement_across_a_restart(
    tmp_path: Path,
    store_url: str,
    slack: FaultySlack,
    target: FlipTarget,
    sink: ResponseUrlSink,
    via: str,
) -> None:
    config = write_watch_config(
        tmp_path,
        store_url=store_url,
        checks=[http_check(target, "api")],
        monitoring={"repeat_interval": "2s"},
    )
    target.set("api", healthy=False)
    async with store_view(store_url) as store:
        first = await ServeProcess(config, slack_env(slack), tmp_path, "first").start()
        try:

            async def reminded() -> bool:
                alerts = slack.top_level()
                return bool(alerts) and any(
                    REMINDER in slack.shown(r) for r in slack.thread(alerts[0])
                )

            await eventually(reminded, what="a reminder while nobody acknowledged")
            [incident] = await store.incidents()
            await act(via, first, sink, config, "ack", f"INC-{incident.id}")
            await eventually(lambda: _acked(slack), what="the acknowledgement in the thread")
        finally:
            await first.kill()

        async with serving(config, slack, tmp_path, "second"):
            # Well past two repeat intervals, counted in the check's own runs.
            await runs_advance(store, "api", 6)
        [incident] = await store.incidents()

    assert incident.resolved_at is None
    assert incident.acknowledged_by == "U0ALICE"
    [alert] = slack.top_level()
    thread = [slack.shown(r) for r in slack.thread(alert)]
    acked_at = next(i for i, text in enumerate(thread) if "acknowledged by" in text)
    assert not [t for t in thread[acked_at:] if REMINDER in t], thread


@pytest.mark.parametrize("via", ["cli", "slack"])
async def test_no_alert_while_silenced_across_a_restart(
    tmp_path: Path,
    store_url: str,
    slack: FaultySlack,
    target: FlipTarget,
    sink: ResponseUrlSink,
    via: str,
) -> None:
    config = write_watch_config(tmp_path, store_url=store_url, checks=[http_check(target, "api")])
    async with store_view(store_url) as store:
        first = await ServeProcess(config, slack_env(slack), tmp_path, "first").start()
        try:
            await runs_advance(store, "api", 1)
            await act(via, first, sink, config, "silence", "api", "1h")
        finally:
            await first.kill()

        target.set("api", healthy=False)
        async with serving(config, slack, tmp_path, "second"):

            async def opened() -> bool:
                return bool(await store.incidents())

            await eventually(opened, what="the incident to open while silenced")
            await runs_advance(store, "api", 3)
            assert slack.top_level() == [], "alerted while the check was silenced"

            code, out = await cli(config, "incidents", "unsilence", "api", "--by", "U0ALICE")
            assert code == 0, out
            # The control: the same incident alerts once the silence is lifted.
            await eventually(lambda: _alerted(slack), what="the alert after the silence")
        [incident] = await store.incidents()
    [alert] = slack.top_level()
    assert f"INC-{incident.id}" in slack.shown(alert)


async def _acked(slack: FaultySlack) -> bool:
    alerts = slack.top_level()
    return bool(alerts) and any(
        "acknowledged by" in slack.shown(r) for r in slack.thread(alerts[0])
    )


async def _alerted(slack: FaultySlack) -> bool:
    return bool(slack.top_level())
