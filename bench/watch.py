"""Benchmark: the watch loop of ``prodguardian serve`` at 1,000 checks, and what it costs.

Starts, all on 127.0.0.1: a target that answers ``/chk-NNNN`` with 200 (or 503 once a path is
flipped), the Slack Web API stand-in, and ``prodguardian serve`` (a real subprocess) with a
config of 1,000 ``http`` checks every 10 s, an alerts channel and a SQLite state file. The
schedule runs for 60 s; halfway through, 50 of the paths start answering 503. Meanwhile 200
``/check_prod help`` commands, signed as Slack signs them, are sent in four waves of 50 at once
(before the flip, just after it, and while the incidents open), after one warm-up command.
Figures:

* ``start_late_p99_s``: a job's actual start − its planned start, from ``GET /api/schedule``
  (goal ≤ 0.5 s); runs the schedule skipped (the previous one still going, or too late) are
  not in it but in ``runs_skipped`` (goal: 0), and ``probes_per_s`` should be 100;
* ``cpu_percent``: user + system CPU of the serve process over the run, in % of one core
  (goal ≤ 25 % for the 100 probes/s this schedule makes);
* ``alert_latency_p99_s``: first 503 the target sent for a check → the incident's message at
  the stand-in (goal ≤ failure_threshold × interval + 2 s = 22 s);
* ``messages``: top-level ``chat.postMessage`` posts to the alerts channel (goal: exactly 50,
  one per failing check; these checks have no ``depends_on``);
* ``rss_mb`` (at the end) and ``rss_peak_mb`` of the serve process;
* ``ack_p99_ms``: command sent → HTTP answer (goal ≤ 100 ms: the schedule's work must never
  hold up an ack). ``--no-schedule`` runs the same without the schedule
  (``monitoring.enabled: false``), for the acks' own cost on this machine;
* ``load_average`` at the end: wall-clock figures on a shared machine move with it.

Progress goes to stderr (``--server-log FILE`` keeps everything serve logged); the last line
of stdout is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.serve_process import slack_env, start_serve
from tests.support.slack_standin import (
    RecordedCall,
    SlackStandIn,
    sign,
    slash_command_form,
    wait_until,
)

CHECKS = 1000
FAILING = 50
INTERVAL_S = 10
FAILURE_THRESHOLD = 2
RUN_S = 60.0
FAIL_AT_S = RUN_S / 2
#: Extra time after the run for alerts still on their way (only used when some are missing).
GRACE_S = 10.0
COMMANDS_PER_WAVE = 50
#: When (s into the run) each wave of commands goes: steady state, the flip, incidents opening.
WAVES_AT_S = (15.0, FAIL_AT_S + 1.0, FAIL_AT_S + 12.0, FAIL_AT_S + 19.0)
ALERTS_CHANNEL = "C0ALERTS"
START_TIMEOUT_S = 60.0
GOALS = {
    "start_late_p99_s": 0.5,
    "cpu_percent": 25.0,
    "alert_latency_p99_s": FAILURE_THRESHOLD * INTERVAL_S + 2.0,
    "ack_p99_ms": 100.0,
}

FLAGS = ("--log-level", "warning")


def check_name(index: int) -> str:
    return f"chk-{index:04d}"


def failing_names() -> list[str]:
    """Every 20th check: spread over the schedule's start offsets."""
    step = CHECKS // FAILING
    return [check_name(i) for i in range(0, CHECKS, step)][:FAILING]


# --- the target ---------------------------------------------------------------------------


@dataclass
class Target:
    """Answers 200 per path, or 503 for the flipped ones; records each path's first 503."""

    failing: set[str] = field(default_factory=set)
    first_failure: dict[str, float] = field(default_factory=dict)
    """Path → ``time.monotonic()`` of its first 503."""
    probes: int = 0
    runner: web.AppRunner | None = None
    url: str = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/{name}", self.answer)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def answer(self, request: web.Request) -> web.Response:
        self.probes += 1
        name = request.match_info["name"]
        if name in self.failing:
            self.first_failure.setdefault(name, time.monotonic())
            return web.json_response({"status": "down"}, status=503)
        return web.json_response({"status": "ok"})


# --- the serve process ----------------------------------------------------------------------


def write_config(directory: Path, target: str, *, schedule: bool) -> Path:
    """JSON is YAML: the config of 1,000 checks, written as JSON."""
    config = {
        "service": {"name": "bench"},
        "slack": {"alerts_channel": ALERTS_CHANNEL},
        "monitoring": {
            "enabled": schedule,
            "interval": f"{INTERVAL_S}s",
            "failure_threshold": FAILURE_THRESHOLD,
        },
        "state": {"url": f"sqlite+aiosqlite:///{directory / 'state.db'}"},
        "checks": [
            {
                "name": check_name(i),
                "kind": "http",
                "timeout": "5s",
                "url": f"{target}/{check_name(i)}",
                "expect": {"status": 200},
            }
            for i in range(CHECKS)
        ],
    }
    path = directory / "bench.yaml"
    path.write_text(json.dumps(config, indent=1), encoding="utf-8")
    return path


@dataclass
class ServerOutput:
    """What the server logs during the run: errors are counted and the first few shown."""

    errors: int = 0
    shown: int = 0
    counting: bool = True
    """Off once the run is measured (stopping the server logs cancelled jobs)."""
    copy: TextIO | None = None
    """A file that gets every line (``--server-log``)."""

    def line(self, text: str) -> None:
        if self.copy is not None:
            self.copy.write(text)
        if not self.counting:
            return
        if '"severity": "ERROR"' in text:
            self.errors += 1
            if self.shown < 5:
                self.shown += 1
                print(f"serve: {text.rstrip()[:400]}", file=sys.stderr)


@dataclass(frozen=True)
class ProcessSample:
    cpu_s: float
    rss_mb: float
    peak_rss_mb: float


def sample(pid: int) -> ProcessSample:
    """CPU time (user + system) and memory of ``pid``, from /proc."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()
    # After "pid (comm)": state is field 3, so utime (14) and stime (15) are [11] and [12].
    ticks = int(fields[11]) + int(fields[12])
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )

    def mb(key: str) -> float:
        return int(status[key].split()[0]) / 1024

    return ProcessSample(ticks / os.sysconf("SC_CLK_TCK"), mb("VmRSS"), mb("VmHWM"))


# --- the commands ---------------------------------------------------------------------------


async def command_wave(
    http: aiohttp.ClientSession,
    url: str,
    slack: SlackStandIn,
    acks: list[float],
    wave: int,
    *,
    count: int = COMMANDS_PER_WAVE,
) -> int:
    """``count`` ``/check_prod help`` at once; how many failed."""
    failures = 0

    async def one(index: int) -> None:
        nonlocal failures
        body = slash_command_form("help", response_url=f"{slack.url}hook/{wave}-{index}")
        headers = sign(body)
        sent = time.perf_counter()
        try:
            async with http.post(f"{url}/slack/events", data=body, headers=headers) as resp:
                text = await resp.text()
                acked = time.perf_counter()
                if resp.status != 200 or "check_prod" not in text:
                    raise AssertionError(f"ack {resp.status}: {text[:200]}")
        except (AssertionError, TimeoutError, aiohttp.ClientError) as exc:
            failures += 1
            print(f"command {wave}-{index} failed: {exc!r}", file=sys.stderr)
            return
        acks.append(acked - sent)

    await asyncio.gather(*(one(i) for i in range(count)))
    return failures


# --- the run --------------------------------------------------------------------------------


def alert_posts(slack: SlackStandIn) -> list[RecordedCall]:
    """Top-level posts to the alerts channel (the incidents' messages, not thread replies)."""
    return [
        c
        for c in slack.calls_to("chat.postMessage")
        if c.args.get("channel") == ALERTS_CHANNEL
        and not c.args.get("thread_ts")
        and (c.answer or {}).get("ok")
    ]


def first_alert_at(posts: list[RecordedCall]) -> dict[str, float]:
    """Check name → when its first incident message arrived (``time.monotonic()``)."""
    first: dict[str, float] = {}
    for call in posts:
        text = f"{call.args.get('text', '')} {call.args.get('blocks', '')}"
        for name in failing_names():
            if name in text:
                first.setdefault(name, call.at)
    return first


async def main(server_log: Path | None, *, schedule: bool = True) -> dict[str, Any]:
    target = Target()
    await target.start()
    output = ServerOutput(copy=server_log.open("w", encoding="utf-8") if server_log else None)
    try:
        async with SlackStandIn() as slack:
            with tempfile.TemporaryDirectory() as tmp:
                config = write_config(Path(tmp), target.url, schedule=schedule)
                serving = await start_serve(
                    config, slack_env(slack), *FLAGS, timeout_s=START_TIMEOUT_S
                )
                for line in serving.startup:
                    output.line(line)
                serving.drain(output.line)
                process = serving.process
                print(f"serve (pid {process.pid}) listening at {serving.url}", file=sys.stderr)
                try:
                    figures = await run(process.pid, serving.url, target, slack)
                finally:
                    output.counting = False
                    process.send_signal(signal.SIGTERM)
                    await asyncio.wait_for(process.wait(), 30)
    finally:
        await target.stop()
        if output.copy is not None:
            output.copy.close()
    figures["server_errors_logged"] = output.errors
    figures["load_average"] = [round(x, 2) for x in os.getloadavg()]
    return figures


async def run(pid: int, url: str, target: Target, slack: SlackStandIn) -> dict[str, Any]:
    acks: list[float] = []
    failures = 0
    waves: list[asyncio.Task[int]] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as http:
        # One command first: imports and the first auth.test are not what an ack costs later.
        await command_wave(http, url, slack, [], -1, count=1)
        start = time.monotonic()
        before = sample(pid)

        def at(seconds: float) -> float:
            return start + seconds - time.monotonic()

        events = sorted(
            [(s, f"wave {i}") for i, s in enumerate(WAVES_AT_S)]
            + [(FAIL_AT_S, "flip")]
            + [(float(s), "progress") for s in range(10, int(RUN_S), 10)]
        )
        for when, what in events:
            await asyncio.sleep(max(at(when), 0))
            if what == "flip":
                target.failing.update(failing_names())
                print(f"{when:.0f} s: {FAILING} checks start failing", file=sys.stderr)
            elif what.startswith("wave"):
                index = len(waves)
                waves.append(asyncio.create_task(command_wave(http, url, slack, acks, index)))
            else:
                print(
                    f"{when:.0f} s: {target.probes} probes, {len(alert_posts(slack))} alerts, "
                    f"cpu {100 * (sample(pid).cpu_s - before.cpu_s) / when:.1f} %",
                    file=sys.stderr,
                )
        await asyncio.sleep(max(at(RUN_S), 0))
        after = sample(pid)
        elapsed = time.monotonic() - start
        probes = target.probes
        for task in waves:
            failures += await task
        with contextlib.suppress(AssertionError):  # what is missing then is in the figures
            await wait_until(
                lambda: len(first_alert_at(alert_posts(slack))) == FAILING,
                timeout_s=GRACE_S,
                what="every incident's message",
            )
        async with http.get(f"{url}/api/schedule") as resp:
            schedule = await resp.json()
    posts = alert_posts(slack)
    alerted = first_alert_at(posts)
    latencies = [alerted[n] - target.first_failure[n] for n in alerted if n in target.first_failure]
    replies = [
        c
        for c in slack.calls_to("chat.postMessage")
        if c.args.get("channel") == ALERTS_CHANNEL and c.args.get("thread_ts")
    ]
    print(f"schedule: {json.dumps(schedule)}", file=sys.stderr)
    return {
        "checks": CHECKS,
        "interval_s": INTERVAL_S,
        "run_s": round(elapsed, 1),
        "probes": probes,
        "probes_per_s": round(probes / elapsed, 1),
        "job_runs": schedule.get("runs"),
        "start_late_p50_s": schedule.get("start_late_p50_s"),
        "start_late_p99_s": schedule.get("start_late_p99_s"),
        "start_late_max_s": round(schedule.get("start_late_max_s") or 0.0, 3),
        "runs_skipped": schedule.get("runs_skipped"),
        "cpu_percent": round(100 * (after.cpu_s - before.cpu_s) / elapsed, 1),
        "alert_latency_p50_s": percentile(latencies, 50),
        "alert_latency_p99_s": percentile(latencies, 99),
        "alert_latency_max_s": round(max(latencies), 2) if latencies else None,
        "failing_checks": FAILING,
        "alerted_checks": len(alerted),
        "messages": len(posts),
        "thread_replies": len(replies),
        "updates": len(slack.calls_to("chat.update")),
        "rss_mb": round(after.rss_mb, 1),
        "rss_peak_mb": round(after.peak_rss_mb, 1),
        "commands": len(acks) + failures,
        "command_failures": failures,
        "ack_p50_ms": percentile(acks, 50, scale=1000),
        "ack_p99_ms": percentile(acks, 99, scale=1000),
        "ack_max_ms": round(max(acks) * 1000, 1) if acks else None,
        "owed_reports": schedule.get("owed_reports"),
        "goals": GOALS,
    }


def percentile(values: list[float], pct: float, *, scale: float = 1.0) -> float | None:
    """The ``pct`` percentile of ``values`` × ``scale``, rounded; None without values."""
    if not values:
        return None
    if len(values) == 1:
        return round(values[0] * scale, 2)
    return round(statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1] * scale, 2)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--server-log", type=Path, help="write everything the serve process logs to this file"
    )
    parser.add_argument(
        "--no-schedule",
        action="store_true",
        help="monitoring.enabled: false, for the ack figures without the schedule's work",
    )
    args = parser.parse_args()
    figures = asyncio.run(main(args.server_log, schedule=not args.no_schedule))
    print(json.dumps(figures))
