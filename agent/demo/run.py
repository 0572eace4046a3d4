"""``make demo`` / ``prodguardian demo``: the stand-in service, the watch loop and the story.

Everything runs in this one process (the stand-in serves from a thread), with the state in a
temporary SQLite file: Ctrl-C stops it all and leaves nothing behind. Messages go to the
terminal chat, or to Slack when ``SLACK_BOT_TOKEN`` and an alerts channel are set.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from prodguardian.config import load_config
from prodguardian.config.loader import LoadedConfig
from prodguardian.demo.clock import ClockedRuns, DemoClock
from prodguardian.demo.server import demo_server
from prodguardian.demo.spans import SpanRecorder
from prodguardian.demo.story import HOTFIX_REVISION, Story, Told
from prodguardian.demo.target import RunningTarget
from prodguardian.demo.terminal_chat import TerminalChat
from prodguardian.watch.service import WatchService, open_database, store_backed
from prodguardian.watch.transports import SlackTransport, Transport

DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "config" / "demo.yaml"
#: The channel named in the terminal chat when none is configured.
TERMINAL_CHANNEL = "prod-alerts"
#: Wall seconds between the story's beats (about fifteen of them).
DEFAULT_PACE_S = 1.5
EXIT_INTERRUPTED = 130


@dataclass(frozen=True)
class Destination:
    """Where the story's messages go: the terminal, or a Slack channel."""

    channel: str
    slack_token: str | None = None
    slack_api_url: str | None = None

    @property
    def slack(self) -> bool:
        return self.slack_token is not None


def destination(loaded: LoadedConfig, env: Mapping[str, str]) -> Destination:
    """Slack when a bot token and an alerts channel are set, the terminal otherwise (pure)."""
    token = env.get("SLACK_BOT_TOKEN", "").strip()
    channel = env.get("SLACK_ALERTS_CHANNEL", "").strip() or loaded.config.slack.alerts_channel
    if token and channel:
        return Destination(
            channel=channel,
            slack_token=token,
            slack_api_url=env.get("SLACK_API_URL", "").strip() or None,
        )
    return Destination(channel=channel or TERMINAL_CHANNEL)


def _transport(where: Destination, console: Console, clock: DemoClock) -> Transport:
    if not where.slack:
        return TerminalChat(console, clock=clock.now)
    from prodguardian.slack.notifier import SlackNotifier, make_web_client
    from prodguardian.slack.settings import DEFAULT_API_URL, SlackSettings

    settings = SlackSettings(
        bot_token=where.slack_token or "",
        signing_secret=None,
        api_url=where.slack_api_url or DEFAULT_API_URL,
    )
    return SlackTransport(SlackNotifier(make_web_client(settings)))


async def _tell(
    loaded: LoadedConfig,
    where: Destination,
    target: RunningTarget,
    clock: DemoClock,
    *,
    console: Console,
    pace_s: float,
    spans: SpanRecorder,
) -> Told:
    database = open_database(loaded)
    stores = store_backed(database, config=loaded.config, channel=where.channel)
    watch = WatchService(
        loaded,
        database,
        transport=_transport(where, console, clock),
        channel=where.channel,
        stores=stores,
        runs=ClockedRuns(loaded, stores.deploys, clock=clock),
        clock=clock.now,
    )
    try:
        async with demo_server(watch, clock) as url:
            console.print(f"Status page: {url}/ · OTLP receiver: {url}/v1/traces", highlight=False)
            story = Story(
                watch,
                clock=clock,
                target_url=target.url,
                console=console,
                channel=where.channel,
                pace_s=pace_s,
                after_traffic=lambda: spans.send(f"{url}/v1/traces"),
            )
            # The story drives the schedule's work itself; it still has to be the one that
            # leads (the state file's lock), as serve would.
            leading = asyncio.create_task(watch.leadership.run(), name="demo:leadership")
            try:
                leads = asyncio.Event()
                watch.leadership.listeners.append(
                    lambda state: leads.set() if state.leading else None
                )
                if not watch.leadership.holds():
                    await asyncio.wait_for(leads.wait(), 10)
                return await story.tell()
            finally:
                leading.cancel()
                await watch.leadership.release()
    finally:
        await watch.stop()


def run_demo(config: Path, *, pace_s: float, console: Console) -> int:
    """Tell the story; 0 when it went as it should, 1 if not, 130 on Ctrl-C."""
    with tempfile.TemporaryDirectory(prefix="prodguardian-demo-") as tmp:
        log_path = Path(tmp) / "emergence-app.jsonl"
        log_path.touch()
        clock = DemoClock()
        spans = SpanRecorder(clock=clock.now)
        try:
            with RunningTarget(log_path=log_path, clock=clock.now, spans=spans) as target:
                os.environ.update(
                    DEMO_TARGET_URL=target.url,
                    DEMO_LOG_FILE=str(log_path),
                    DEMO_STATE_URL=f"sqlite+aiosqlite:///{Path(tmp) / 'state.db'}",
                )
                loaded = load_config(config)
                where = destination(loaded, os.environ)
                _introduce(console, target.url, where)
                told = asyncio.run(
                    _tell(loaded, where, target, clock, console=console, pace_s=pace_s, spans=spans)
                )
        except KeyboardInterrupt:
            console.print("\n[bold]demo stopped[/]: the stand-in and the watch loop are down")
            return EXIT_INTERRUPTED
    if where.slack:
        console.print(f"\nThe story was posted to Slack: look in #{where.channel}.")
    if not told.as_it_should:
        console.print(f"[red]the demo did not tell the story it should[/]: {told}")
        return 1
    console.print(
        f"\n{', '.join(told.incidents)} opened, acknowledged and resolved; OK since the deploy "
        f"of {HOTFIX_REVISION}.",
        highlight=False,
    )
    return 0


def _introduce(console: Console, url: str, where: Destination) -> None:
    console.print(f"The stand-in production service (emergence-app) runs at {url}", highlight=False)
    if where.slack:
        console.print(f"Messages go to Slack: #{where.channel}")
    else:
        console.print(
            f"What ProdGuardian would post to Slack (#{where.channel}) is drawn below; "
            "a day runs in under a minute."
        )
