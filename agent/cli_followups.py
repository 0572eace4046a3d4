"""``prodguardian followups`` and ``prodguardian deploy``: checklists from the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import click

from prodguardian.cli_watch import with_stores
from prodguardian.config import load_config
from prodguardian.deploy import ActiveDeploy, DeploySource
from prodguardian.logs.entry import parse_timestamp
from prodguardian.runbooks.model import parse_offset
from prodguardian.slack.stores import Stores

T = TypeVar("T")

_config = click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="PRODGUARDIAN_CONFIG",
    default="prodguardian.yaml",
    show_default="$PRODGUARDIAN_CONFIG or ./prodguardian.yaml",
    help="Config file (its state.url says where the store is).",
)


@click.group()
def followups() -> None:
    """Follow-up items: list, close, add (the checklists after a fix, and reminders).

    \b
    Examples:
      prodguardian followups list -c prodguardian.yaml
      prodguardian followups done F-3 --by U0123ALICE
      prodguardian followups add +2h check the error budget
    """


@followups.command("list")
@_config
@click.option("--json", "as_json", is_flag=True, help="Print the follow-ups as JSON.")
def followups_list(config_path: Path, as_json: bool) -> int:
    """The open follow-ups, soonest first.

    \b
    Example:
      prodguardian followups list -c prodguardian.yaml
    """

    async def read(stores: Stores) -> list[dict[str, object]]:
        return [i.model_dump(mode="json") for i in await stores.followups.pending()]

    items = with_stores(load_config(config_path), read)
    if as_json:
        click.echo(json.dumps(items, indent=2))
    elif not items:
        click.echo("no open follow-ups")
    for item in items if not as_json else []:
        due = f" due {item['due_at']}" if item["due_at"] else " (waits for the fix)"
        click.echo(f"{item['id']}{due}  {item['text']}  [{item['source'] or 'by hand'}]")
    return 0


@followups.command("done")
@_config
@click.argument("item_id")
@click.option("--by", default="cli", show_default=True, help="Who closes it (a name or U… id).")
def followups_done(config_path: Path, item_id: str, by: str) -> int:
    """Close a follow-up (``F-3``).

    \b
    Example:
      prodguardian followups done F-3 --by U0123ALICE
    """

    async def close(stores: Stores) -> str:
        item = await stores.followups.done(item_id, by=by, at=datetime.now(UTC))
        return f"{item.id} done by {item.done_by}"

    click.echo(with_stores(load_config(config_path), close))
    return 0


@followups.command("add")
@_config
@click.argument("offset")
@click.argument("text", nargs=-1, required=True)
@click.option("--by", default="cli", show_default=True, help="Who adds it (a name or U… id).")
def followups_add(config_path: Path, offset: str, text: tuple[str, ...], by: str) -> int:
    """Add a reminder due OFFSET from now (+30m, +2h, +1d).

    \b
    Example:
      prodguardian followups add +2h check the error budget
    """
    try:
        after = parse_offset(offset)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="OFFSET") from None

    async def add(stores: Stores) -> str:
        now = datetime.now(UTC)
        item = await stores.followups.remind(" ".join(text), due_at=now + after, by=by, at=now)
        return f"{item.id} due {item.due_at:%Y-%m-%d %H:%M} UTC: {item.text}"

    click.echo(with_stores(load_config(config_path), add))
    return 0


@click.group()
def deploy() -> None:
    """Deploy marks: the reports' active deploy, and its checklist.

    \b
    Example:
      prodguardian deploy mark my-service-00042-abc --note "hotfix: reconnect the DB"
    """


@deploy.command("mark")
@_config
@click.argument("revision")
@click.option("--note", help="What went out.")
@click.option("--at", "at", help="When it went live (ISO 8601; default now).")
@click.option("--by", default="cli", show_default=True, help="Who marks it (a name or U… id).")
def deploy_mark(config_path: Path, revision: str, note: str | None, at: str | None, by: str) -> int:
    """Mark REVISION as deployed: reports split errors before/after it, the checklist of
    ``followups.after_deploy`` starts, and open incidents' runbook follow-ups start their clocks.

    \b
    Example:
      prodguardian deploy mark emergence-app-00042-abc --note "hotfix: reconnect the DB"
    """
    from prodguardian.slack.commands import REVISION_PATTERN

    if not REVISION_PATTERN.fullmatch(revision):
        raise click.BadParameter(
            "letters, digits and . _ : / @ + - (up to 128)", param_hint="REVISION"
        )
    try:
        since = parse_timestamp(at) if at else datetime.now(UTC)
    except ValueError:
        raise click.BadParameter(
            f"{at!r} is not a time; use 2025-10-11T12:21:00Z", param_hint="--at"
        ) from None
    mark = ActiveDeploy(revision=revision, since=since, source=DeploySource.DEPLOY_MARK, note=note)

    async def record(stores: Stores) -> str:
        await stores.deploys.record(mark, by=by)
        marked = getattr(stores.deploys, "last_marked", None)
        items = ", ".join(marked.checklist) if marked is not None and marked.checklist else "none"
        return f"deploy {revision} marked at {since:%Y-%m-%d %H:%M:%S} UTC; checklist: {items}"

    click.echo(with_stores(load_config(config_path), record))
    return 0


__all__ = ["deploy", "followups"]
