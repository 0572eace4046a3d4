"""Latency and burn figures in the terminal report and in the JSON one."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from rich.console import Console

from prodguardian.checks.slo_burn import SloBurnParams
from prodguardian.checks.slo_burn import judge as judge_burn
from prodguardian.checks.trace_latency import TraceLatencyParams
from prodguardian.checks.trace_latency import judge as judge_latency
from prodguardian.render import render_json, render_terminal
from prodguardian.report import Report, build_report
from prodguardian.result import CheckResult, CheckRun
from prodguardian.traces.model import RequestCounts, RouteLatency, TraceExample

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _run(name: str, kind: str, result: CheckResult) -> CheckRun:
    return CheckRun(name=name, kind=kind, started_at=NOW, duration_s=0.01, result=result)


def _report() -> Report:
    latency = judge_latency(
        [
            RouteLatency(
                service="api",
                route="GET /slow",
                count=40,
                errors=2,
                p50_ms=900.0,
                p95_ms=1820.0,
                p99_ms=2400.0,
                max_ms=2600.0,
                examples=(TraceExample(trace_id="ab" * 16, duration_ms=2600.0),),
            )
        ],
        TraceLatencyParams(service="api"),
    )
    params = SloBurnParams(service="api")
    windows = {
        30 * 86400.0: (1_000_000, 400),
        3 * 86400.0: (100_000, 300),
        6 * 3600.0: (10_000, 100),
        3600.0: (2000, 40),
        1800.0: (1000, 20),
        300.0: (200, 4),
    }
    burn = judge_burn(
        {
            w: RequestCounts(window_s=w, total=t, errors=e, covered_s=w)
            for w, (t, e) in windows.items()
        },
        params,
    )
    return build_report(
        [_run("latency", "trace_latency", latency), _run("slo", "slo_burn", burn)],
        service="api",
        started_at=NOW,
        finished_at=NOW,
    )


def test_the_terminal_shows_latency_and_burn_figures() -> None:
    console = Console(width=200, record=True, color_system=None)
    console.print(render_terminal(_report()))
    text = console.export_text()
    assert "GET /slow p50 900 · p95 1,820 · p99 2,400 ms · 2/40 errors" in text
    assert "(p95 1,820 ms > 1,000 ms)" in text
    assert "traces " + "ab" * 16 in text
    assert "burn 20.0× over 1h (≥ 14.4× page) · 40/2,000 failed · 60% budget left" in text
    assert "burn 20.0× over 5m" in text


def test_the_json_report_carries_the_new_evidence() -> None:
    document = json.loads(render_json(_report()))
    latency, burn = document["checks"]
    (route,) = latency["result"]["evidence"]
    assert route["type"] == "slow_route"
    assert route["example_trace_ids"] == ["ab" * 16]
    rates = [e for e in burn["result"]["evidence"] if e["type"] == "burn_rate"]
    assert rates[0]["burn_rate"] == 20.0
    assert rates[0]["firing"] is True
