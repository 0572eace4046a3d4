"""``slo_burn``: the SRE workbook's multi-window, multi-burn-rate decisions, as tables and as
scenarios fed through the receiver's store (a fast burn pages, a slow burn tickets)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from prodguardian.checks.slo_burn import (
    DEFAULT_RULES,
    BurnRule,
    SloBurnCheck,
    SloBurnParams,
    budget_remaining,
    burn_rate,
    evaluate_rule,
    judge,
    status_of,
    windows_needed,
)
from prodguardian.context import CheckContext, HttpClient
from prodguardian.evidence import BurnRate, Observation
from prodguardian.status import Status
from prodguardian.traces.model import RequestCounts
from prodguardian.traces.store import TraceStore

HOUR = 3600.0
DAY = 86400.0
NOW = datetime(2026, 11, 30, 12, 0, 30, tzinfo=UTC)


def counts(total: int, errors: int, window: float = HOUR) -> RequestCounts:
    return RequestCounts(window_s=window, total=total, errors=errors, covered_s=window)


@pytest.mark.parametrize(
    ("total", "errors", "objective", "rate"),
    [
        (1000, 1, 99.9, 1.0),
        (1000, 0, 99.9, 0.0),
        (1000, 144, 99.0, 14.4),
        (0, 0, 99.9, 0.0),
        (200, 200, 99.9, 1000.0),
    ],
)
def test_burn_rate(total: int, errors: int, objective: float, rate: float) -> None:
    assert burn_rate(counts(total, errors), 1 - objective / 100) == pytest.approx(rate)


PAGE = BurnRule(alert="page", long=HOUR, short=300, burn_rate=14.4)


@pytest.mark.parametrize(
    ("long", "short", "judged", "firing"),
    [
        ((10_000, 150), (800, 12), True, True),  # 15× and 15×: page
        ((10_000, 144), (1000, 15), True, True),  # exactly 14.4×: fires (at least the rate)
        ((10_000, 150), (800, 1), True, False),  # long burning, short recovered: no page
        ((10_000, 10), (800, 80), True, False),  # a short spike that has not mattered yet
        ((5, 5), (5, 5), False, False),  # under min_requests in the long window
        ((10_000, 150), (0, 0), False, False),  # nothing in the short window
    ],
)
def test_a_rule_needs_both_windows(
    long: tuple[int, int], short: tuple[int, int], judged: bool, firing: bool
) -> None:
    by_window = {HOUR: counts(*long, window=HOUR), 300.0: counts(*short, window=300)}
    outcome = evaluate_rule(PAGE, by_window, budget=0.001, min_requests=10)
    assert (outcome.judged, outcome.firing) == (judged, firing)


@pytest.mark.parametrize(
    ("firing", "status"),
    [
        ((), Status.OK),
        (("ticket",), Status.DEGRADED),
        (("page",), Status.CRITICAL),
        (("page", "ticket"), Status.CRITICAL),
    ],
)
def test_status_from_firing_rules(firing: tuple[str, ...], status: Status) -> None:
    by_window = {w: counts(100, 100, w) for w in (HOUR, 300.0, 6 * HOUR, 3 * DAY)}
    outcomes = []
    for rule in (PAGE, BurnRule(alert="ticket", long=3 * DAY, short=6 * HOUR, burn_rate=1)):
        outcome = evaluate_rule(rule, by_window, budget=0.001, min_requests=1)
        if rule.alert not in firing:
            outcome = evaluate_rule(rule, {w: counts(100, 0, w) for w in by_window}, 0.001, 1)
        outcomes.append(outcome)
    assert status_of(outcomes) is status


@pytest.mark.parametrize(
    ("total", "errors", "left"),
    [(100_000, 0, 1.0), (100_000, 50, 0.5), (100_000, 100, 0.0), (100_000, 300, -2.0), (0, 0, 1.0)],
)
def test_budget_remaining(total: int, errors: int, left: float) -> None:
    assert budget_remaining(counts(total, errors, 30 * DAY), 0.001) == pytest.approx(left)


def test_windows_needed_are_each_read_once() -> None:
    p = SloBurnParams(service="api")
    assert windows_needed(p) == [30 * DAY, 3 * DAY, 6 * HOUR, HOUR, 1800, 300]


def _judge(by_window: dict[float, tuple[int, int]], **kwargs: Any) -> Any:
    p = SloBurnParams(service="api", **kwargs)
    return judge({w: counts(*by_window[w], window=w) for w in windows_needed(p)}, p)


def test_judge_pages_with_every_window_in_the_evidence() -> None:
    result = _judge(
        {
            30 * DAY: (1_000_000, 400),
            3 * DAY: (100_000, 300),
            6 * HOUR: (10_000, 100),
            HOUR: (2000, 40),
            1800: (1000, 20),
            300: (200, 4),
        }
    )
    assert result.status is Status.CRITICAL
    assert result.summary.startswith(
        "burning the 99.9 % error budget 20.0× over 1h and 20.0× over 5m (≥ 14.4×: page); "
        "60% of the 30d error budget left"
    )
    rates = [e for e in result.evidence if isinstance(e, BurnRate)]
    assert [(e.window_s, e.alert, e.firing) for e in rates] == [
        (HOUR, "page", True),
        (300, "page", True),
        (6 * HOUR, "page", True),
        (1800, "page", True),
        (3 * DAY, "ticket", True),
        (6 * HOUR, "ticket", True),
    ]
    assert rates[0].burn_rate == 20.0
    assert rates[0].budget_remaining == 0.6
    (budget,) = [e for e in result.evidence if isinstance(e, Observation)]
    assert budget.text.startswith("60.0% left of 30d at 99.9 %: 400 failed of 1,000,000")
    assert result.metrics["burn_rate_1h"] == pytest.approx(20.0)


def test_judge_tickets_a_slow_burn() -> None:
    result = _judge(
        {
            30 * DAY: (1_000_000, 900),
            3 * DAY: (100_000, 150),
            6 * HOUR: (10_000, 15),
            HOUR: (2000, 3),
            1800: (1000, 1),
            300: (200, 0),
        }
    )
    assert result.status is Status.DEGRADED
    assert "over 3d and 1.5× over 6h (≥ 1×: ticket)" in result.summary


def test_judge_is_ok_within_budget_and_says_how_fast_it_burns() -> None:
    result = _judge({w: (100_000, 10) for w in (30 * DAY, 3 * DAY, 6 * HOUR, HOUR, 1800, 300)})
    assert result.status is Status.OK
    assert result.summary.startswith("within the 99.9 % SLO: burn 0.10× over 1h;")


def test_judge_without_requests_is_unknown() -> None:
    result = _judge({w: (0, 0) for w in (30 * DAY, 3 * DAY, 6 * HOUR, HOUR, 1800, 300)})
    assert result.status is Status.UNKNOWN
    assert "no requests from service 'api' in the last 30d" in result.summary


def test_low_traffic_rules_are_reported_as_not_judged() -> None:
    result = _judge(
        {
            30 * DAY: (50, 1),
            3 * DAY: (50, 1),
            6 * HOUR: (8, 1),
            HOUR: (3, 1),
            1800: (2, 1),
            300: (1, 1),
        }
    )
    assert result.status is Status.DEGRADED  # the 3d/6h ticket rule had enough requests
    result = _judge(
        {
            30 * DAY: (5, 0),
            3 * DAY: (5, 0),
            6 * HOUR: (5, 0),
            HOUR: (5, 0),
            1800: (5, 0),
            300: (5, 0),
        }
    )
    assert result.status is Status.OK
    assert "3 rules not judged (< 10 requests in their long window)" in result.summary


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"rules": [{"alert": "page", "long": "5m", "short": "1h", "burn_rate": 14.4}]},
            "short window (3600 s) must be shorter than long",
        ),
        ({"period": "1d"}, "a rule's long window (259200 s) is longer than the period"),
        ({"objective": 100}, "objective"),
        ({"period": "60d"}, "period: the receiver keeps 31d of request counts"),
        ({"rules": []}, "give at least one rule"),
        ({"rules": [{"alert": "sms", "long": "1h", "short": "5m", "burn_rate": 1}]}, "alert"),
        ({"source": {"kind": "jaeger", "url": "http://j:16686"}}, "cannot measure an SLO"),
    ],
)
def test_bad_params_say_what_to_fix(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        SloBurnParams(service="api", **kwargs)


def test_default_rules_are_the_workbooks() -> None:
    assert [(r.alert, r.long, r.short, r.burn_rate) for r in DEFAULT_RULES] == [
        ("page", HOUR, 300, 14.4),
        ("page", 6 * HOUR, 1800, 6.0),
        ("ticket", 3 * DAY, 6 * HOUR, 1.0),
    ]


# --- scenarios through the receiver's store -------------------------------------------------


def _traffic(
    store: TraceStore, *, from_s: float, to_s: float, every_s: float, error_every: int
) -> None:
    """Requests every ``every_s`` between ``from_s`` and ``to_s`` seconds ago; one in
    ``error_every`` fails (0: none)."""
    now = NOW.timestamp()
    points = []
    n = 0
    ago = from_s
    while ago > to_s:
        n += 1
        failed = error_every > 0 and n % error_every == 0
        points.append(("api", "GET /a", int((now - ago) * 1e9), 5_000_000, failed, b""))
        ago -= every_s
    store.ingest(points, now=now)


async def _run(store: TraceStore, **kwargs: Any) -> Any:
    check = SloBurnCheck(name="slo", kind="slo_burn", params=SloBurnParams(service="api", **kwargs))
    http = HttpClient()
    try:
        return await check.run(CheckContext(timeout_s=5, http=http, now=NOW, trace_store=store))
    finally:
        await http.close()


async def test_scenario_a_fast_burn_pages() -> None:
    store = TraceStore()
    _traffic(store, from_s=3 * DAY, to_s=HOUR, every_s=10, error_every=0)  # a clean 3 days
    _traffic(store, from_s=HOUR, to_s=0, every_s=1, error_every=30)  # then 3.3 % fail
    result = await _run(store)
    assert result.status is Status.CRITICAL, result.summary
    assert "(≥ 14.4×: page)" in result.summary
    assert "(data for 3d so far)" in result.summary
    assert "the 30d error budget is spent (" in result.summary  # 3 % failing for an hour
    fired = {(e.window_s, e.alert) for e in result.evidence if isinstance(e, BurnRate) and e.firing}
    assert (HOUR, "page") in fired
    assert (300.0, "page") in fired


async def test_scenario_a_slow_burn_tickets() -> None:
    store = TraceStore()
    # 99 % objective, 1.5 % failing for three days: 1.5× the budget, far from a page.
    _traffic(store, from_s=3 * DAY - 1, to_s=0, every_s=20, error_every=67)
    result = await _run(store, objective=99.0)
    assert result.status is Status.DEGRADED, result.summary
    assert "(≥ 1×: ticket)" in result.summary
    pages = [e for e in result.evidence if isinstance(e, BurnRate) and e.alert == "page"]
    assert pages
    assert not any(e.firing for e in pages)
    assert all(1.0 < e.burn_rate < 6.0 for e in pages if e.window_s >= HOUR)


async def test_scenario_a_healthy_service_is_ok() -> None:
    store = TraceStore()
    _traffic(store, from_s=3 * DAY, to_s=0, every_s=20, error_every=5000)
    result = await _run(store)
    assert result.status is Status.OK, result.summary


async def test_scenario_no_traffic_is_unknown() -> None:
    result = await _run(TraceStore())
    assert result.status is Status.UNKNOWN
