"""``prodguardian serve`` as a real process on 127.0.0.1 (port 0), for tests that start, kill
and restart it."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import IO

import aiohttp

#: How long a start (or a readiness wait) may take before the test fails.
START_TIMEOUT_S = 30.0


#: Readers of the servers' stderr after start-up (kept referenced so they run to the end).
_DRAINS: set[asyncio.Task[None]] = set()


async def start_serve(
    config: Path,
    env: dict[str, str],
    *extra: str,
    stdout: int | IO[bytes] | None = asyncio.subprocess.PIPE,
    stderr_to: Path | None = None,
) -> tuple[asyncio.subprocess.Process, str]:
    """Start ``serve`` with ``env`` added to the environment; the process and its base URL.

    Returns when it says where it listens; fails with what it printed if it exits first. Its
    later stderr is read on (so the pipe never fills), into ``stderr_to`` if given.
    """
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "prodguardian.cli",
        "serve",
        "-c",
        str(config),
        "--port",
        "0",
        *extra,
        env={**os.environ, **env},
        stdout=stdout,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    lines = []
    while True:
        line = (await asyncio.wait_for(process.stderr.readline(), START_TIMEOUT_S)).decode()
        lines.append(line)
        if not line:
            raise AssertionError("serve exited: " + "".join(lines))
        if "listening on " in line:
            drain = asyncio.create_task(_drain(process.stderr, stderr_to))
            _DRAINS.add(drain)
            drain.add_done_callback(_DRAINS.discard)
            return process, line.split("listening on ", 1)[1].split()[0].rstrip(",")


async def _drain(stream: asyncio.StreamReader, into: Path | None) -> None:
    while line := await stream.readline():
        if into is not None:
            with into.open("ab") as out:
                out.write(line)


async def wait_ready(url: str, *, timeout_s: float = START_TIMEOUT_S) -> None:
    """Until ``/readyz`` answers 200 (store migrated, Slack token accepted)."""
    async with aiohttp.ClientSession() as http:
        async with asyncio.timeout(timeout_s):
            while True:
                async with http.get(f"{url}/readyz") as resp:
                    if resp.status == 200:
                        return
                await asyncio.sleep(0.1)
