"""Benchmark: how fast ``prodguardian serve`` acks ``/check_prod``, and delivers the report.

Starts, all on 127.0.0.1: a target whose health endpoints answer after 1 s, the Slack Web API
stand-in, a response_url sink, and ``prodguardian serve`` (a real subprocess) with a config of
three ``http`` checks against the slow target. Then sends 200 slash commands, signed as Slack
signs them, 50 at a time, and measures

* ack: command sent → HTTP answer (Slack's limit is 3 s; the goal is p99 ≤ 100 ms);
* report: command sent → report received at the response_url (goal p99 ≤ 2,500 ms).

Commands that arrive while a run of the same checks is in flight join it (``check_runs`` says
how many runs the 200 commands caused), as they do in production.

The last line of stdout is one JSON object with the figures.
"""

from __future__ import annotations

import asyncio
import json
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.response_url_sink import ResponseUrlSink
from tests.support.serve_process import start_serve
from tests.support.slack_standin import (
    BOT_TOKEN,
    SIGNING_SECRET,
    SlackStandIn,
    sign,
    slash_command_form,
)

COMMANDS = 200
CONCURRENCY = 50
CHECK_DELAY_S = 1.0

#: Probes the target received: 3 per run, so this shows how many runs the commands shared.
_PROBES = [0]


async def slow_target() -> tuple[web.AppRunner, str]:
    async def health(request: web.Request) -> web.Response:
        _PROBES[0] += 1
        await asyncio.sleep(CHECK_DELAY_S)
        return web.json_response({"ok": True, "db": "up", "status": "ok"})

    app = web.Application()
    app.router.add_get("/{path:.*}", health)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


def write_config(directory: Path, target: str) -> Path:
    path = directory / "bench.yaml"
    checks = "\n".join(
        f'  - {{name: {name}, kind: http, timeout: 5s, url: "{target}/{name}",'
        " expect: {status: 200}}"
        for name in ("api-health", "liveness", "readiness")
    )
    path.write_text(f"service: {{name: bench}}\nchecks:\n{checks}\n", encoding="utf-8")
    return path


async def start(config: Path, slack: SlackStandIn) -> tuple[asyncio.subprocess.Process, str]:
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.url,
    }
    return await start_serve(config, env, "--log-level", "warning", stdout=None)


async def main() -> dict[str, float | int]:
    target_runner, target = await slow_target()
    async with SlackStandIn() as slack, ResponseUrlSink() as sink:
        with tempfile.TemporaryDirectory() as tmp:
            process, url = await start(write_config(Path(tmp), target), slack)
            try:
                return await measure(url, sink)
            finally:
                process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(process.wait(), 30)
                await target_runner.cleanup()


async def measure(url: str, sink: ResponseUrlSink) -> dict[str, float | int]:
    limit = asyncio.Semaphore(CONCURRENCY)
    acks: list[float] = []
    reports: list[float] = []
    failures = 0
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as http:
        # One warm-up command: imports, the first auth.test and connection set-up are not
        # what a steady-state ack costs.
        await one(http, url, sink, "warmup", [], [])

        async def command(index: int) -> None:
            nonlocal failures
            async with limit:
                try:
                    await one(http, url, sink, f"c{index}", acks, reports)
                except (AssertionError, TimeoutError, aiohttp.ClientError) as exc:
                    failures += 1
                    print(f"command {index} failed: {exc!r}", file=sys.stderr)

        started = time.perf_counter()
        await asyncio.gather(*(command(i) for i in range(COMMANDS)))
        elapsed = time.perf_counter() - started
    return {
        "commands": COMMANDS,
        "concurrency": CONCURRENCY,
        "check_delay_s": CHECK_DELAY_S,
        "failures": failures,
        "elapsed_s": round(elapsed, 2),
        "ack_p50_ms": round(percentile(acks, 50) * 1000, 1),
        "ack_p99_ms": round(percentile(acks, 99) * 1000, 1),
        "ack_max_ms": round(max(acks) * 1000, 1),
        "report_p50_ms": round(percentile(reports, 50) * 1000, 1),
        "report_p99_ms": round(percentile(reports, 99) * 1000, 1),
        "check_runs": _PROBES[0] // 3,
    }


async def one(
    http: aiohttp.ClientSession,
    url: str,
    sink: ResponseUrlSink,
    key: str,
    acks: list[float],
    reports: list[float],
) -> None:
    body = slash_command_form("", response_url=sink.url_for(key))
    headers = sign(body)
    sent = time.perf_counter()
    async with http.post(f"{url}/slack/events", data=body, headers=headers) as resp:
        await resp.read()
        acked = time.perf_counter()
        assert resp.status == 200, f"ack status {resp.status}"
    [delivery] = await sink.wait_for(key, timeout_s=30)
    assert "bench" in delivery.text, delivery.text
    acks.append(acked - sent)
    reports.append(delivery.received_at - sent)


def percentile(values: list[float], pct: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1]


if __name__ == "__main__":
    figures = asyncio.run(main())
    print(json.dumps(figures))
