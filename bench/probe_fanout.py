"""Benchmark: how fast and how wide the ``http`` check probes, and which HTTP client to use.

A local aiohttp server runs in a separate process (pinned to the second core when there is
one) and answers ``/probe?delay_ms=D`` after D ms. The measured process stays on one core and
probes it through the real :class:`HttpCheck` and :func:`run_checks`:

* ``probes_per_s``: N probes at D=0, default concurrency (throughput on one core);
* ``fanout_ratio``: wall time of 500 probes at D=200 divided by 0.2 s (1.0 is perfect
  fan-out; 2.5 is the goal);
* ``fanout_ratio_concurrency_3``: the same with at most 3 at once (Gatus' default), for scale;
* ``aiohttp_probes_per_s`` / ``httpx_probes_per_s``: plain client fan-out (no check, no
  runner) against the same server, 500 at once and (``..._concurrency_10``) 10 at once, to
  justify the client choice with numbers.

Each figure is the best of ``--repeats`` runs (other work on a shared machine only adds
time), with the median beside it (``..._median``) and the load average, to show the noise.
The last stdout line is one JSON object with every figure.

Usage: ``python bench/probe_fanout.py [--probes 2000] [--fanout 500] [--delay-ms 200]``
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import multiprocessing
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from typing import Any

import aiohttp
import httpx
from aiohttp import web

from prodguardian.checks.http import HttpCheck
from prodguardian.checks.http_params import HttpParams
from prodguardian.runner import run_checks
from prodguardian.status import Status

HOST = "127.0.0.1"
GOAL_FANOUT_RATIO = 2.5
GOAL_PROBES_PER_S = 1500.0
BODY = b'{"ok":true,"db":"up","vector":"up"}'


# --- the target, in its own process ---------------------------------------------------------


def _serve(conn: Connection, core: int | None) -> None:
    if core is not None:
        os.sched_setaffinity(0, {core})

    async def probe(request: web.Request) -> web.Response:
        delay_ms = int(request.query.get("delay_ms", "0"))
        if delay_ms:
            await asyncio.sleep(delay_ms / 1000)
        return web.Response(body=BODY, content_type="application/json")

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/probe", probe)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, HOST, 0, backlog=4096)
        await site.start()
        conn.send(runner.addresses[0][1])
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # until told to stop
        await runner.cleanup()

    asyncio.run(main())


# --- what is measured -----------------------------------------------------------------------


def _checks(base: str, count: int, delay_ms: int) -> list[HttpCheck]:
    params = HttpParams.model_validate(
        {"url": f"{base}/probe?delay_ms={delay_ms}", "expect": {"json": ['db == "up"']}}
    )
    return [
        HttpCheck(name=f"probe-{i}", kind="http", params=params, timeout_s=30.0)
        for i in range(count)
    ]


async def _run_checks(base: str, count: int, delay_ms: int, concurrency: int) -> float:
    checks = _checks(base, count, delay_ms)
    start = time.perf_counter()
    runs = await run_checks(checks, concurrency=concurrency)
    wall = time.perf_counter() - start
    bad = [r for r in runs if r.status is not Status.OK]
    if bad:
        raise SystemExit(f"{len(bad)} probes were not OK, e.g. {bad[0].result.summary}")
    return wall


async def _aiohttp_fanout(base: str, count: int, concurrency: int) -> float:
    limit = asyncio.Semaphore(concurrency)
    url = f"{base}/probe?delay_ms=0"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def one() -> None:
            async with limit, session.get(url) as resp:
                await resp.read()
                assert resp.status == 200

        start = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(count)))
        return time.perf_counter() - start


async def _httpx_fanout(base: str, count: int, concurrency: int) -> float:
    limit = asyncio.Semaphore(concurrency)
    url = f"{base}/probe?delay_ms=0"
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30.0) as client:

        async def one() -> None:
            async with limit:
                resp = await client.get(url)
                assert resp.status_code == 200

        start = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(count)))
        return time.perf_counter() - start


async def _repeat(repeats: int, measure: Callable[[], Awaitable[float]]) -> list[float]:
    return [await measure() for _ in range(repeats)]


def _best_and_median(walls: list[float]) -> tuple[float, float]:
    # Other work on the machine only ever adds time, so the best run is the truest figure
    # (as timeit reports); the median is kept beside it to show the noise.
    return min(walls), statistics.median(walls)


async def _measure(base: str, args: argparse.Namespace) -> dict[str, Any]:
    n, fan, delay, repeats = args.probes, args.fanout, args.delay_ms, args.repeats
    figures: dict[str, Any] = {"load_average_before": round(os.getloadavg()[0], 2)}
    await _run_checks(base, 200, 0, 500)  # warm-up: imports, SSL contexts, code paths

    best, median = _best_and_median(
        await _repeat(repeats, functools.partial(_run_checks, base, n, 0, 500))
    )
    figures["probes_per_s"] = round(n / best, 1)
    figures["probes_per_s_median"] = round(n / median, 1)
    print(f"http check + runner, {n} probes at D=0: {n / best:,.0f} probes/s", flush=True)

    best, median = _best_and_median(
        await _repeat(repeats, functools.partial(_run_checks, base, fan, delay, 500))
    )
    figures["fanout_ratio"] = round(best / (delay / 1000), 3)
    figures["fanout_ratio_median"] = round(median / (delay / 1000), 3)
    figures["fanout_wall_s"] = round(best, 3)
    print(f"{fan} probes at D={delay} ms: {best:.3f} s, ratio {best / (delay / 1000):.2f}")

    c3_wall = await _run_checks(base, fan, delay, 3)
    figures["fanout_ratio_concurrency_3"] = round(c3_wall / (delay / 1000), 2)
    figures["fanout_concurrency_3_wall_s"] = round(c3_wall, 2)
    print(f"same with concurrency 3: {c3_wall:.1f} s, ratio {c3_wall / (delay / 1000):.1f}")

    # Plain clients, no check and no runner: at the check's fan-out (500 at once), and 10 at
    # once (httpx's connection pool slows down as it grows, so it gets its better figure too).
    for name, fanout in (("aiohttp", _aiohttp_fanout), ("httpx", _httpx_fanout)):
        for concurrency in (500, 10):
            # httpx at 500 at once takes ~30 s a run: two runs are enough to see it.
            runs = min(repeats, 2) if (name, concurrency) == ("httpx", 500) else repeats
            best, _ = _best_and_median(
                await _repeat(runs, functools.partial(fanout, base, n, concurrency))
            )
            key = f"{name}_probes_per_s" + ("" if concurrency == 500 else "_concurrency_10")
            figures[key] = round(n / best, 1)
            print(f"plain {name}, {n} requests, {concurrency} at once: {n / best:,.0f} probes/s")

    figures |= {
        "probes": n,
        "fanout_probes": fan,
        "delay_ms": delay,
        "repeats": repeats,
        "load_average_after": round(os.getloadavg()[0], 2),
        "goal_fanout_ratio_met": figures["fanout_ratio"] <= GOAL_FANOUT_RATIO,
        "goal_probes_per_s_met": figures["probes_per_s"] >= GOAL_PROBES_PER_S,
    }
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--probes", type=int, default=2000, help="probes at D=0 (default 2000)")
    parser.add_argument("--fanout", type=int, default=500, help="probes at D (default 500)")
    parser.add_argument("--delay-ms", type=int, default=200, help="server delay D (default 200)")
    parser.add_argument(
        "--repeats",
        type=int,
        default=5,
        help="runs per figure (default 5); the best is the figure, the median is shown too",
    )
    args = parser.parse_args(argv)

    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    server_core = cores[-1] if len(cores) >= 2 else None
    client_core = cores[0] if len(cores) >= 2 else None
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    server = context.Process(target=_serve, args=(child, server_core), daemon=True)
    server.start()
    try:
        if not parent.poll(30):
            print("the benchmark server did not start within 30 s", file=sys.stderr)
            return 1
        base = f"http://{HOST}:{parent.recv()}"
        if client_core is not None:
            os.sched_setaffinity(0, {client_core})
        figures = asyncio.run(_measure(base, args))
    finally:
        parent.send("stop")
        server.join(5)
        if server.is_alive():
            server.terminate()
    figures["client_core"] = client_core
    figures["server_core"] = server_core
    print(json.dumps(figures, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
