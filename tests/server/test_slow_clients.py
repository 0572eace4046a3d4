"""``serve`` against slow clients: raw sockets that dribble headers (slowloris) or just connect."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

from prodguardian.server.connection_guard import ConnectionLimits
from tests.server.harness import serving, write_config
from tests.support.response_url_sink import ResponseUrlSink
from tests.support.slack_standin import SlackStandIn, wait_until


class SlowClient:
    """One raw TCP connection sending a request's headers a byte at a time."""

    def __init__(self) -> None:
        self.closed_by_server = asyncio.Event()
        self.bytes_sent = 0

    async def run(self, host: str, port: int, *, every_s: float) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 10_000
        try:
            for byte in request:
                if reader.at_eof():
                    break
                writer.write(bytes([byte]))
                await writer.drain()
                self.bytes_sent += 1
                with contextlib.suppress(TimeoutError):
                    if await asyncio.wait_for(reader.read(1), every_s) == b"":
                        break
        except (ConnectionError, OSError):
            pass
        finally:
            self.closed_by_server.set()
            writer.close()


async def test_slowloris_connections_are_closed_and_the_server_keeps_answering(
    tmp_path: Path, target: str, standin: SlackStandIn, sink: ResponseUrlSink
) -> None:
    limits = ConnectionLimits(header_timeout_s=1.0, max_connections=100)
    async with serving(write_config(tmp_path, target), standin, sink, limits=limits) as server:
        where = urlsplit(server.url)
        clients = [SlowClient() for _ in range(50)]
        tasks = [
            asyncio.create_task(c.run(where.hostname or "", where.port or 0, every_s=0.1))
            for c in clients
        ]
        await wait_until(
            lambda: all(c.closed_by_server.is_set() for c in clients),
            timeout_s=30,
            what="the server to close every slow connection",
        )
        await asyncio.gather(*tasks)
        # Each sent part of its headers before it was cut off, none could finish them.
        assert all(0 < c.bytes_sent < 10_000 for c in clients)
        async with server.http.get(f"{server.url}/healthz") as resp:
            assert resp.status == 200


async def test_connections_past_the_cap_are_closed_at_once(
    tmp_path: Path, target: str, standin: SlackStandIn, sink: ResponseUrlSink
) -> None:
    limits = ConnectionLimits(header_timeout_s=60, max_connections=20)
    async with serving(write_config(tmp_path, target), standin, sink, limits=limits) as server:
        where = urlsplit(server.url)
        opened = [await asyncio.open_connection(where.hostname, where.port) for _ in range(25)]
        reads = [asyncio.create_task(reader.read(1)) for reader, _ in opened]
        await wait_until(
            lambda: sum(r.done() for r in reads) >= 5, what="the connections past the cap"
        )
        refused = [r for r in reads if r.done()]
        assert len(refused) == 5
        assert all(r.result() == b"" for r in refused)
        for task in reads:
            task.cancel()
        for _, writer in opened:
            writer.close()
        assert await answers_once_slots_free(server.http, f"{server.url}/healthz") == 200


async def answers_once_slots_free(http: aiohttp.ClientSession, url: str) -> int:
    """The status of ``url``, retried while the server still counts the closed connections."""
    for _ in range(200):
        try:
            async with http.get(url) as resp:
                return resp.status
        except aiohttp.ClientError:
            await asyncio.sleep(0.05)
    raise AssertionError(f"{url} never answered")
