"""``prodguardian status``: the replicas in the store, which one leads, and the exit code."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from prodguardian.store import replicas
from prodguardian.store.database import Database
from prodguardian.store.migrate import upgrade


def config(tmp_path: Path, state: str = "") -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(
        f'state: {{url: "sqlite:///{tmp_path / "s.db"}"{state}}}\n'
        "checks: [{name: a, kind: http, url: 'http://127.0.0.1:9/health'}]\n"
    )
    return path


def status(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "prodguardian.cli", "status", "-c", str(path), *extra],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def write_replicas(tmp_path: Path) -> None:
    async def write() -> None:
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 's.db'}")
        await upgrade(database)
        now = datetime.now(UTC)
        term = await database.run(lambda s: replicas.take_term(s, replica_id="web-1", now=now))
        for name, leader, seen in (
            ("web-1", True, now),
            ("web-2", False, now - timedelta(seconds=1)),
            ("web-0", True, now - timedelta(minutes=5)),
        ):
            await database.run(
                partial(
                    replicas.heartbeat,
                    replica_id=name,
                    host="h",
                    started_at=now - timedelta(hours=1),
                    leader=leader,
                    term=term if name == "web-1" else (term - 1 if leader else None),
                    now=seen,
                )
            )
        await database.dispose()

    asyncio.run(write())


def test_no_replica_means_no_leader_and_exit_2(tmp_path: Path) -> None:
    shown = status(config(tmp_path))
    assert shown.returncode == 2, shown.stderr
    assert "no replica has checked in" in shown.stdout
    assert "no live replica leads" in shown.stderr


def test_the_live_holder_of_the_current_term_leads_and_silent_ones_are_gone(
    tmp_path: Path,
) -> None:
    path = config(tmp_path)
    write_replicas(tmp_path)
    shown = status(path, "--json")
    assert shown.returncode == 0, shown.stderr
    body = json.loads(shown.stdout)
    assert body["leader"] == "web-1"
    assert body["term"] == 1
    assert {r["id"]: (r["state"], r["term"]) for r in body["replicas"]} == {
        "web-1": ("leader", 1),
        "web-2": ("follower", None),
        "web-0": ("gone", None),
    }
    table = status(path)
    assert table.returncode == 0
    assert "current term: 1, taken by web-1" in table.stdout
    assert any(line.startswith("web-1") and "leader" in line for line in table.stdout.splitlines())


def test_a_lease_shorter_than_three_checks_is_a_config_error(tmp_path: Path) -> None:
    shown = status(config(tmp_path, ", leader_check_interval: 2s, leader_lease: 5s"))
    assert shown.returncode == 3
    assert "state" in shown.stderr
    assert "leader_lease (5s) must be at least 3 × leader_check_interval (2s)" in shown.stderr
