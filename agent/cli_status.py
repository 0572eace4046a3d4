"""``prodguardian status``: the replicas that checked in to the state store, and which leads."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from prodguardian.config import load_config

if TYPE_CHECKING:
    from prodguardian.store.replicas import ReplicaInfo

EXIT_OK = 0
EXIT_NO_LEADER = 2


@dataclass(frozen=True)
class ReplicaLine:
    """One replica as ``status`` shows it."""

    id: str
    host: str
    state: str
    """``leader``, ``follower`` or ``gone`` (no heartbeat for a while)."""
    term: int | None
    started_at: datetime
    seen_s_ago: float


def replica_lines(
    found: list[ReplicaInfo], *, current_term: int | None, now: datetime, gone_after_s: float
) -> list[ReplicaLine]:
    """The replicas with their state: the leader is a live one holding the current term."""
    lines = []
    for info in found:
        ago = max((now - info.seen_at).total_seconds(), 0.0)
        if ago > gone_after_s:
            state = "gone"
        elif info.leader and (current_term is None or info.term == current_term):
            state = "leader"
        else:
            state = "follower"
        lines.append(
            ReplicaLine(
                id=info.id,
                host=info.host,
                state=state,
                term=info.term if state == "leader" else None,
                started_at=info.started_at,
                seen_s_ago=round(ago, 1),
            )
        )
    return lines


@click.command()
@click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="PRODGUARDIAN_CONFIG",
    default="prodguardian.yaml",
    show_default="$PRODGUARDIAN_CONFIG or ./prodguardian.yaml",
    help="Config file (its state.url says where the store is).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def status(config_path: Path, as_json: bool) -> int:
    """The replicas of ``serve``/``watch`` that checked in to the state store (a heartbeat
    every state.heartbeat_interval), and which one leads (runs the schedule and sends).

    Exit code 0 when a live replica leads, 2 when none does, 3 if the store cannot be read.

    \b
    Example:
      prodguardian status -c prodguardian.yaml
    """
    from prodguardian.cli_watch import store_call
    from prodguardian.store import replicas
    from prodguardian.store.migrate import upgrade
    from prodguardian.watch.service import open_database

    loaded = load_config(config_path)
    database = open_database(loaded)
    gone_after_s = max(3 * loaded.config.state.heartbeat_interval, 10.0)

    async def read() -> tuple[list[replicas.ReplicaInfo], replicas.TermInfo | None]:
        try:
            await upgrade(database)
            found = await database.run(replicas.replicas, what="read the replicas")
            term = await database.run(replicas.current_term, what="read the current term")
            return found, term
        finally:
            await database.dispose()

    found, term = asyncio.run(store_call(read))
    now = datetime.now(UTC)
    lines = replica_lines(
        list(found),
        current_term=term.term if term else None,
        now=now,
        gone_after_s=gone_after_s,
    )
    leading = [line for line in lines if line.state == "leader"]
    if as_json:
        click.echo(
            json.dumps(
                {
                    "store": database.display_url,
                    "term": term.term if term else None,
                    "term_started_at": term.started_at.isoformat() if term else None,
                    "leader": leading[0].id if leading else None,
                    "replicas": [
                        {
                            "id": line.id,
                            "host": line.host,
                            "state": line.state,
                            "term": line.term,
                            "started_at": line.started_at.isoformat(),
                            "seen_s_ago": line.seen_s_ago,
                        }
                        for line in lines
                    ],
                },
                indent=2,
            )
        )
        return EXIT_OK if leading else EXIT_NO_LEADER
    click.echo(f"state store: {database.display_url}")
    if term is not None:
        click.echo(
            f"current term: {term.term}, taken by {term.replica_id} at "
            f"{term.started_at.isoformat(timespec='seconds')}"
        )
    if not lines:
        click.echo("no replica has checked in (is serve or watch running on this store?)")
    else:
        width = max(len(line.id) for line in lines)
        click.echo(f"{'REPLICA':<{width}}  {'STATE':<8}  {'TERM':>4}  {'STARTED':<25}  SEEN")
        for line in lines:
            click.echo(
                f"{line.id:<{width}}  {line.state:<8}  {line.term or '-':>4}  "
                f"{line.started_at.isoformat(timespec='seconds'):<25}  {line.seen_s_ago:g}s ago"
            )
    if not leading:
        click.echo("no live replica leads: nothing is scheduled or sent", err=True)
    return EXIT_OK if leading else EXIT_NO_LEADER
