"""Benchmark: ``log_errors`` over Cloud Logging at 300 requests a second, within the read quota.

One hour (plus the ten minutes a steady schedule runs into) of a Cloud Run service at ``--rps``
requests a second (about 1.1 M request entries an hour, 0.5 % of them 5xx, a fifth of them
WebSocket requests on ``/ws/``) is loaded into the Cloud Logging stand-in (HTTP, 60 list calls
a minute like the real API) and the Cloud Monitoring stand-in (gRPC, ``request_count`` per
response code class), both on 127.0.0.1 and in this process, driven by the real client
libraries. Then:

* ``errors``: a 1 h ``log_errors`` check scoped to the service: request counts from Cloud
  Monitoring, only the interesting entries listed. One cold run, then one run a minute for
  ``--steady`` minutes (incremental reads).
* ``websocket``: the same check scoped to ``/ws/`` requests: no metric fits a URL scope, so
  the denominator is estimated with ``sample(insertId, f)`` and a 95 % interval.
* ``legacy``: today's path (``counting: list``, no incremental state): every entry listed. With
  the default ``max_entries`` it stops at 500,000; to compare, it is also run with the limit
  raised and the quota lifted, and ``legacy_quota_minutes`` says how many minutes of the
  project's whole quota that one run needs.

Scheduled runs go back to back; the budget's and the stand-in's quota clocks jump a minute per
run, as if they ran a minute apart. The stand-in's own filtering time counts in ``seconds``
(it shares the process); ``seconds_in_standin`` says how much of it that was.

Last line of stdout: one JSON object with the figures (goals: ``list_calls`` ≤ 20, ``seconds``
≤ 10, ``list_calls_per_run`` ≤ 2, ``rate_error_pct`` ≤ 5; the sampled truth inside its interval).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prodguardian.checks.log_errors import LogErrorsCheck, LogErrorsParams
from prodguardian.context import CheckContext, HttpClient
from prodguardian.errors import CheckError
from prodguardian.logs.read_budget import forget_shared_budgets, shared_budget
from prodguardian.logs.source import LogSource
from prodguardian.logs.sources.cloud_logging import (
    CloudLoggingConfig,
    CloudLoggingSource,
)
from prodguardian.logs.sources.cloud_monitoring import (
    CloudMonitoringConfig,
    CloudMonitoringSource,
)
from prodguardian.result import CheckResult
from tests.support.cloud_logging_standin import CloudLoggingStandIn
from tests.support.cloud_monitoring_standin import CloudMonitoringStandIn, Hit

PROJECT = "emergence-469005"
SERVICE = "emergence-app"
REVISION = "emergence-app-00042-fix"
START = datetime(2025, 10, 11, 12, 0, tzinfo=UTC)
ERROR_SHARE = 0.005
#: The list-everything run with its limit raised gets this long (it lists every entry).
LEGACY_TIMEOUT_S = 900.0
WS_SHARE = 0.2
HOST = "https://emergence-app-47nct44nma-ew.a.run.app"
RESOURCE = {
    "type": "cloud_run_revision",
    "labels": {
        "project_id": PROJECT,
        "service_name": SERVICE,
        "revision_name": REVISION,
        "location": "europe-west1",
        "configuration_name": SERVICE,
    },
}
PATHS = ("/api/chat/message", "/api/threads", "/static/app.js")
LOG_NAME = f"projects/{PROJECT}/logs/run.googleapis.com%2Frequests"


class ScheduleClock:
    """Monotonic time plus a jump of a minute per scheduled run."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset


def generate(rps: int, minutes: int, seed: int = 11) -> tuple[list[dict[str, Any]], list[Hit]]:
    """Request entries from an hour before START to ``minutes`` after it, and the metric."""
    rng = random.Random(seed)
    requests: dict[tuple[str, int], dict[str, Any]] = {}
    for url in ("/api/chat/message", "/api/threads", "/ws/chat", "/static/app.js"):
        for status in (200, 500, 503):
            requests[(url, status)] = {
                "requestMethod": "GET",
                "requestUrl": HOST + url,
                "status": status,
                "latency": "0.12s",
            }
    rows: list[dict[str, Any]] = []
    per_second: dict[tuple[int, str], int] = {}
    first = START - timedelta(hours=1)
    seconds = (60 + minutes) * 60
    for second in range(seconds):
        base = first + timedelta(seconds=second)
        for _ in range(rps):
            ws = rng.random() < WS_SHARE
            url = "/ws/chat" if ws else rng.choice(PATHS)
            failed = rng.random() < ERROR_SHARE
            status = rng.choice((500, 503)) if failed else 200
            at = base + timedelta(microseconds=rng.randrange(1_000_000))
            rows.append(
                {
                    "insertId": f"{rng.getrandbits(64):016x}",
                    "timestamp": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    "severity": "ERROR" if failed else "INFO",
                    "logName": LOG_NAME,
                    "resource": RESOURCE,
                    "httpRequest": requests[(url, status)],
                }
            )
            key = (second, "5xx" if failed else "2xx")
            per_second[key] = per_second.get(key, 0) + 1
    hits = [
        Hit(
            at=first + timedelta(seconds=s, microseconds=500_000),
            count=n,
            code_class=c,
            service=SERVICE,
            revision=REVISION,
        )
        for (s, c), n in per_second.items()
    ]
    return rows, hits


def truth(rows: list[dict[str, Any]], now: datetime, *, ws: bool) -> tuple[int, int]:
    start = (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    end = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    total = errors = 0
    for r in rows:
        if not start <= r["timestamp"] <= end:
            continue
        if ws and "/ws/" not in r["httpRequest"]["requestUrl"]:
            continue
        total += 1
        errors += r["httpRequest"]["status"] >= 500
    return errors, total


async def run(
    source: LogSource, now: datetime, scope: dict[str, str], *, timeout_s: float = 60
) -> CheckResult:
    check = LogErrorsCheck(
        name="errors",
        kind="log_errors",
        params=LogErrorsParams(source="s", scope=scope),
        timeout_s=timeout_s,
    )
    ctx = CheckContext(timeout_s=timeout_s, http=HttpClient(), now=now, log_sources={"s": source})
    try:
        return await check.run(ctx)
    except CheckError as exc:
        return CheckResult.unknown(str(exc))


def logging_source(endpoint: str, **options: Any) -> CloudLoggingSource:
    return CloudLoggingSource(
        CloudLoggingConfig(project=PROJECT, api_endpoint=endpoint, anonymous=True, **options)
    )


async def scheduled(
    label: str,
    logs: CloudLoggingStandIn,
    source: CloudLoggingSource,
    clock: ScheduleClock,
    scope: dict[str, str],
    steady: int,
) -> dict[str, Any]:
    """One cold run at START, then one a minute; figures of both."""
    before, busy = len(logs.requests), logs.busy_s
    started = time.perf_counter()
    cold = await run(source, START, scope)
    seconds = time.perf_counter() - started
    cold_calls = len(logs.requests) - before
    standin_s = logs.busy_s - busy
    print(
        f"{label}: cold {seconds:.2f} s ({standin_s:.2f} s of it in the stand-in), "
        f"{cold_calls} list calls: {cold.summary[:160]}"
    )
    per_run = []
    last = cold
    for minute in range(1, steady + 1):
        clock.offset = 60.0 * minute
        before = len(logs.requests)
        last = await run(source, START + timedelta(minutes=minute), scope)
        per_run.append(len(logs.requests) - before)
    print(f"{label}: steady list calls per run {per_run}: {last.summary[:160]}")
    return {
        "cold": cold,
        "seconds": seconds,
        "standin_seconds": standin_s,
        "calls": cold_calls,
        "per_run": sum(per_run) / max(len(per_run), 1),
        "last": last,
    }


async def legacy(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Today's path: no budget of ours (as before), every entry listed, no state."""
    forget_shared_budgets()
    with CloudLoggingStandIn(rows) as logs:
        gc.freeze()
        options: dict[str, Any] = {
            "counting": "list",
            "incremental": False,
            "list_calls_per_minute": 6000,
        }
        default = logging_source(logs.endpoint, **options)
        started = time.perf_counter()
        refused = await run(default, START, {"service": SERVICE})
        refused_s = time.perf_counter() - started
        refused_calls = len(logs.requests)
        print(
            f"legacy (defaults, 60 calls/min quota): {refused_calls} calls, {refused_s:.1f} s: "
            f"{refused.status.value}: {refused.summary[:200]}"
        )
        logs.quota_per_minute = None
        raised = logging_source(logs.endpoint, max_entries=5_000_000, **options)
        before = len(logs.requests)
        started = time.perf_counter()
        result = await run(raised, START, {"service": SERVICE}, timeout_s=LEGACY_TIMEOUT_S)
        seconds = time.perf_counter() - started
        calls = len(logs.requests) - before
        print(
            f"legacy (max_entries raised, quota lifted): {calls} calls, {seconds:.1f} s: "
            f"{result.summary[:140]}"
        )
    return {
        "refused": refused,
        "refused_calls": refused_calls,
        "refused_seconds": refused_s,
        "result": result,
        "seconds": seconds,
        "calls": calls,
    }


def exact_rate(result: CheckResult) -> float:
    """The result's error rate from its counts (its ``error_rate_pct`` is rounded)."""
    entries = result.metrics.get("entries", 0)
    return 100.0 * result.metrics.get("errors", 0) / entries if entries else 0.0


def error_pct(estimate: float, true: float) -> float:
    return round(100.0 * abs(estimate - true) / true, 3) if true else 0.0


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    rows, hits = generate(args.rps, args.steady)
    print(f"generated {len(rows):,} entries in {time.perf_counter() - started:.1f} s")
    clock = ScheduleClock()
    figures: dict[str, Any] = {"rps": args.rps}
    with (
        CloudLoggingStandIn(rows, clock=clock) as logs,
        CloudMonitoringStandIn(hits) as metrics,
    ):
        # The stand-ins' million entries live in this process: keep the collector off them.
        gc.freeze()
        shared_budget(PROJECT, endpoint=logs.endpoint, per_minute=30, clock=clock)
        monitoring = CloudMonitoringSource(
            CloudMonitoringConfig(project=PROJECT, api_endpoint=metrics.endpoint, anonymous=True)
        )
        source = logging_source(logs.endpoint)
        source.use_metrics(monitoring)
        errors = await scheduled("errors", logs, source, clock, {"service": SERVICE}, args.steady)
        clock.offset += 120.0
        ws_source = logging_source(logs.endpoint)
        ws = await scheduled("websocket", logs, ws_source, clock, {"url": "/ws/"}, args.steady)
        throttled = logs.throttled
    hour_entries = truth(rows, START, ws=False)[1]
    true_errors, true_total = truth(rows, START, ws=False)
    true_rate = 100.0 * true_errors / true_total
    cold: CheckResult = errors["cold"]
    ws_errors, ws_total = truth(rows, START, ws=True)
    ws_true = 100.0 * ws_errors / ws_total
    wm = ws["cold"].metrics
    inside = wm.get("error_rate_low_pct", -1) <= ws_true <= wm.get("error_rate_high_pct", -1)
    figures.update(
        entries_in_window=hour_entries,
        list_calls=errors["calls"],
        monitoring_calls=monitoring.calls,
        seconds=round(errors["seconds"], 3),
        seconds_in_standin=round(errors["standin_seconds"], 3),
        list_calls_per_run=round(errors["per_run"], 2),
        rate_error_pct=error_pct(exact_rate(cold), true_rate),
        error_rate_pct=cold.metrics["error_rate_pct"],
        true_error_rate_pct=round(true_rate, 4),
        status=cold.status.value,
        sampled_list_calls=ws["calls"],
        sampled_seconds=round(ws["seconds"], 3),
        sampled_seconds_in_standin=round(ws["standin_seconds"], 3),
        sampled_list_calls_per_run=round(ws["per_run"], 2),
        sampled_rate_pct=wm["error_rate_pct"],
        sampled_true_rate_pct=round(ws_true, 4),
        sampled_interval_pct=[wm.get("error_rate_low_pct"), wm.get("error_rate_high_pct")],
        sampled_truth_inside_interval=inside,
        sampled_rate_error_pct=error_pct(wm["error_rate_pct"], ws_true),
        sample_fraction=wm.get("sample_fraction"),
        quota_429s=throttled,
        steady_minutes=args.steady,
    )
    if not args.skip_legacy:
        old = await legacy(rows)
        result: CheckResult = old["result"]
        figures.update(
            legacy_default_status=old["refused"].status.value,
            legacy_default_list_calls=old["refused_calls"],
            legacy_default_seconds=round(old["refused_seconds"], 3),
            legacy_list_calls=old["calls"],
            legacy_seconds=round(old["seconds"], 3),
            legacy_list_calls_per_run=old["calls"],  # no state: every run lists the window again
            legacy_quota_minutes=round(old["calls"] / 60.0, 1),
            legacy_rate_error_pct=error_pct(exact_rate(result), true_rate),
        )
    figures.update(
        goal_list_calls=20, goal_seconds=10, goal_list_calls_per_run=2, goal_rate_error_pct=5
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rps", type=int, default=300, help="requests a second (300)")
    parser.add_argument("--steady", type=int, default=10, help="scheduled minutes (10)")
    parser.add_argument("--skip-legacy", action="store_true", help="skip the list-all path")
    args = parser.parse_args()
    figures = asyncio.run(main_async(args))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
