"""``prodguardian serve`` as a real process on 127.0.0.1 (port 0), for tests and benchmarks."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from tests.support.slack_standin import BOT_TOKEN, SIGNING_SECRET, SlackStandIn


def slack_env(standin: SlackStandIn) -> dict[str, str]:
    """The environment that makes serve use ``standin`` as Slack."""
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": standin.url,
    }


@dataclass
class ServeProcess:
    """A started ``serve``: the process, its base URL, and what it wrote to stderr until then.

    stdout (JSON logs) and stderr are pipes the caller reads (or drains: a full pipe would
    stop the server).
    """

    process: asyncio.subprocess.Process
    url: str
    startup: list[str] = field(default_factory=list)
    _readers: set[asyncio.Task[None]] = field(default_factory=set)

    def drain(self, on_line: Callable[[str], None] = lambda line: None) -> None:
        """Read stdout and stderr to the end in the background, each line to ``on_line``."""
        for stream in (self.process.stdout, self.process.stderr):
            assert stream is not None
            self._readers.add(asyncio.create_task(_read(stream, on_line)))


async def spawn_serve(
    config: Path, *args: str, env: Mapping[str, str]
) -> asyncio.subprocess.Process:
    """``prodguardian serve -c config *args`` with exactly ``env``; stdout and stderr piped."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "prodguardian.cli",
        "serve",
        "-c",
        str(config),
        *args,
        env=dict(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def start_serve(
    config: Path, env: Mapping[str, str], *extra: str, timeout_s: float = 30.0
) -> ServeProcess:
    """Start ``prodguardian serve -c config --port 0 *extra`` with ``env`` added to ours;
    return once it says where it listens (AssertionError with its output if it exits)."""
    process = await spawn_serve(config, "--port", "0", *extra, env={**os.environ, **env})
    assert process.stderr is not None
    lines: list[str] = []
    while True:
        line = (await asyncio.wait_for(process.stderr.readline(), timeout_s)).decode()
        lines.append(line)
        if not line:
            raise AssertionError("serve exited: " + "".join(lines))
        if "listening on " in line:
            url = line.split("listening on ", 1)[1].split()[0].rstrip(",")
            return ServeProcess(process, url, lines)


async def _read(stream: asyncio.StreamReader, on_line: Callable[[str], None]) -> None:
    while line := await stream.readline():
        on_line(line.decode(errors="replace"))


async def wait_ready(url: str, *, timeout_s: float = 30.0) -> None:
    """Until ``/readyz`` answers 200 (store migrated, Slack token accepted)."""
    async with aiohttp.ClientSession() as http, asyncio.timeout(timeout_s):
        while True:
            async with http.get(f"{url}/readyz") as resp:
                if resp.status == 200:
                    return
            await asyncio.sleep(0.1)
