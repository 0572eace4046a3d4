"""``prodguardian watch``, ``incidents`` and ``db``: the schedule without Slack, and the store."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import click

from prodguardian.config import load_config, parse_duration
from prodguardian.config.loader import LoadedConfig
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


@click.command()
@_config
@click.option("--json", "as_json", is_flag=True, help="Print each alert as one JSON object.")
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="warning",
    show_default=True,
    help="The least severe log entries written (stderr).",
)
def watch(config_path: Path, as_json: bool, log_level: str) -> int:
    """Run the checks on their schedule, open and resolve incidents, and print the alerts
    that would be posted to Slack (no Slack needed). Stops on Ctrl-C.

    \b
    Example:
      prodguardian watch -c prodguardian.yaml --json
    """
    from prodguardian.watch.service import WatchService, open_database
    from prodguardian.watch.transports import ConsoleTransport

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    loaded = load_config(config_path)
    database = open_database(loaded)
    channel = loaded.config.slack.alerts_channel or "console"
    service = WatchService(
        loaded, database, transport=ConsoleTransport(as_json=as_json), channel=channel
    )
    click.echo(
        f"prodguardian: watching {len(loaded.checks)} checks; state in {database.display_url}",
        err=True,
    )

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await service.start()
        try:
            await stop.wait()
        finally:
            await service.stop()

    asyncio.run(run())
    return 0


@click.group()
def incidents() -> None:
    """List, acknowledge and silence incidents in the state store.

    \b
    Examples:
      prodguardian incidents list -c prodguardian.yaml
      prodguardian incidents ack INC-3 --by U0123ALICE
      prodguardian incidents silence api-health 2h
    """


@incidents.command("list")
@_config
@click.option("--all", "show_all", is_flag=True, help="Resolved ones too (the latest 50).")
@click.option("--json", "as_json", is_flag=True, help="Print the incidents as JSON.")
def incidents_list(config_path: Path, show_all: bool, as_json: bool) -> int:
    """The open incidents (``--all``: the latest, resolved too).

    \b
    Example:
      prodguardian incidents list -c prodguardian.yaml
    """
    from prodguardian.incidents.store_incidents import StoreIncidents

    async def read(store: StoreIncidents) -> list[dict[str, object]]:
        found = await (store.recent(50) if show_all else store.open())
        return [i.model_dump(mode="json") for i in found]

    rows = _with_incidents(load_config(config_path), read)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return 0
    if not rows:
        click.echo("no open incidents" if not show_all else "no incidents")
    for row in rows:
        state = "resolved" if row["resolved_at"] else "open"
        ack = f", acknowledged by {row['acknowledged_by']}" if row["acknowledged_by"] else ""
        click.echo(
            f"{row['id']}  {row['check']}  {row['status']}  {state} since {row['opened_at']}{ack}"
        )
    return 0


@incidents.command("ack")
@_config
@click.argument("incident_id")
@click.option("--by", default="cli", show_default=True, help="Who acknowledges (a name or U… id).")
def incidents_ack(config_path: Path, incident_id: str, by: str) -> int:
    """Acknowledge an incident (stops its reminders; its alert says who).

    \b
    Example:
      prodguardian incidents ack INC-3 --by U0123ALICE
    """
    from prodguardian.incidents.store_incidents import StoreIncidents

    async def ack(store: StoreIncidents) -> str:
        incident = await store.acknowledge(incident_id, by=by, at=datetime.now(UTC))
        return f"{incident.id} acknowledged by {incident.acknowledged_by}"

    click.echo(_with_incidents(load_config(config_path), ack))
    return 0


@incidents.command("silence")
@_config
@click.argument("target")
@click.argument("duration")
@click.option("--by", default="cli", show_default=True, help="Who silences (a name or U… id).")
def incidents_silence(config_path: Path, target: str, duration: str, by: str) -> int:
    """Hold back alerts for a check or an incident for DURATION (30m, 2h, up to 30d).

    \b
    Example:
      prodguardian incidents silence api-health 2h
    """
    from prodguardian.incidents.store_incidents import StoreIncidents

    try:
        seconds = parse_duration(duration)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="DURATION") from None
    if seconds > 30 * 86400:
        raise click.BadParameter("at most 30d", param_hint="DURATION")
    loaded = load_config(config_path)
    checks = {c.name for c in loaded.checks}

    async def silence(store: StoreIncidents) -> str:
        open_ids = {i.id for i in await store.open()}
        if target not in checks and target.upper() not in open_ids:
            raise click.BadParameter(
                f"{target!r} is neither a check ({', '.join(sorted(checks))}) nor an open "
                f"incident ({', '.join(sorted(open_ids)) or 'none'})",
                param_hint="TARGET",
            )
        now = datetime.now(UTC)
        name = target if target in checks else target.upper()
        until = now + timedelta(seconds=seconds)
        await store.silence(name, until=until, by=by, at=now)
        return f"alerts for {name} silenced until {until.isoformat(timespec='minutes')}"

    click.echo(_with_incidents(loaded, silence))
    return 0


@incidents.command("unsilence")
@_config
@click.argument("target")
@click.option(
    "--by", default="cli", show_default=True, help="Who lifts the silence (a name or U… id)."
)
def incidents_unsilence(config_path: Path, target: str, by: str) -> int:
    """Lift the silence of a check or an incident.

    \b
    Example:
      prodguardian incidents unsilence api-health
    """
    from prodguardian.incidents.store_incidents import StoreIncidents
    from prodguardian.slack.stores import UnknownItemError

    async def lift(store: StoreIncidents) -> str:
        try:
            await store.unsilence(target, by=by, at=datetime.now(UTC))
        except UnknownItemError as exc:
            known = ", ".join(exc.known) or "none"
            raise click.ClickException(f"{exc}; silenced now: {known}") from None
        return f"silence of {target} lifted"

    click.echo(_with_incidents(load_config(config_path), lift))
    return 0


@click.group()
def db() -> None:
    """The state store's schema (state.url in the config).

    \b
    Example:
      prodguardian db upgrade -c prodguardian.yaml
    """


@db.command("upgrade")
@_config
def db_upgrade(config_path: Path) -> int:
    """Apply the schema migrations (``serve`` and ``watch`` also do at start-up).

    \b
    Example:
      prodguardian db upgrade -c prodguardian.yaml
    """
    from prodguardian.store.migrate import head_revision, upgrade
    from prodguardian.watch.service import open_database

    database = open_database(load_config(config_path))

    async def run() -> str | None:
        try:
            return await upgrade(database)
        finally:
            await database.dispose()

    before = asyncio.run(store_call(run))
    click.echo(f"{database.display_url}: schema at {head_revision()} (was {before or 'empty'})")
    return 0


def with_stores(loaded: LoadedConfig, work: Callable[[Stores], Awaitable[T]]) -> T:
    """Run ``work`` on the stores of ``loaded``'s state store (migrated first), from the CLI:
    an unknown id or an unreachable store becomes a message that says what to do."""
    from prodguardian.slack.stores import UnknownItemError
    from prodguardian.store.migrate import upgrade
    from prodguardian.watch.service import open_database, store_backed

    database = open_database(loaded)
    stores = store_backed(
        database, config=loaded.config, channel=loaded.config.slack.alerts_channel
    )

    async def run() -> T:
        try:
            await upgrade(database)
            return await work(stores)
        finally:
            await database.dispose()

    try:
        return asyncio.run(store_call(run))
    except UnknownItemError as exc:
        known = ", ".join(exc.known) or "none"
        raise click.ClickException(f"{exc}; open: {known}") from None


def _with_incidents(loaded: LoadedConfig, work: Callable[..., Awaitable[T]]) -> T:
    from prodguardian.incidents.store_incidents import StoreIncidents

    async def on_incidents(stores: Stores) -> T:
        assert isinstance(stores.incidents, StoreIncidents)
        return await work(stores.incidents)

    return with_stores(loaded, on_incidents)


async def store_call(run: Callable[[], Awaitable[T]]) -> T:
    from prodguardian.store.database import StoreUnavailableError, is_transient

    try:
        return await run()
    except StoreUnavailableError as exc:
        raise click.ClickException(f"{exc}; check state.url and that the database runs") from None
    except Exception as exc:
        if is_transient(exc):
            raise click.ClickException(
                f"the state store cannot be reached: {exc}; check state.url"
            ) from None
        raise


__all__ = ["db", "incidents", "watch"]
