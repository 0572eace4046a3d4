"""``prodguardian demo``: the team's worst incident, told against a local stand-in in a minute."""

from __future__ import annotations

import logging
from pathlib import Path

import click


@click.command()
@click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="The demo's config (default: config/demo.yaml of this checkout).",
)
@click.option(
    "--pace",
    type=click.FloatRange(min=0),
    envvar="PRODGUARDIAN_DEMO_PACE",
    default=1.5,
    show_default="$PRODGUARDIAN_DEMO_PACE or 1.5",
    metavar="SECONDS",
    help="Wall seconds between the story's beats (0: as fast as it runs).",
)
def demo(config_path: Path | None, pace: float) -> int:
    """Start a stand-in service, lose its database, and show what ProdGuardian posts: the
    incident with its runbook, the acknowledgement, the hotfix's deploy mark, the resolution,
    the +30 min and +24 h verifications and the final status, on an accelerated clock, drawn
    in the terminal as a Slack chat. No account or network needed; Ctrl-C stops everything.

    With SLACK_BOT_TOKEN and SLACK_ALERTS_CHANNEL (or slack.alerts_channel) set, the messages
    are posted to that Slack channel instead.

    \b
    Example:
      prodguardian demo --pace 0
    """
    from rich.console import Console

    from prodguardian.demo.run import DEFAULT_CONFIG, run_demo

    # The story narrates what the watch loop's logs would say.
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    return run_demo(config_path or DEFAULT_CONFIG, pace_s=pace, console=Console())
