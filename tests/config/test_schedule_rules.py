"""Schedule keys that span the file: intervals, dependencies, maintenance windows."""

from __future__ import annotations

from pathlib import Path

import pytest

from prodguardian.config import load_config
from prodguardian.errors import ConfigError
from prodguardian.watch.plan import check_plans, job_plans

HEAD = "service: {name: svc}\n"


def load(tmp_path: Path, body: str) -> object:
    path = tmp_path / "pg.yaml"
    path.write_text(HEAD + body)
    return load_config(path)


def checks(*entries: str) -> str:
    return "checks:\n" + "".join(entries)


def http(name: str, extra: str = "") -> str:
    return f"  - {{name: {name}, kind: http, url: 'http://127.0.0.1:1/'{extra}}}\n"


@pytest.mark.parametrize(
    ("body", "key", "message"),
    [
        (checks(http("a", ", interval: 500ms")), "checks[0].interval", "at least 1s"),
        (
            "monitoring: {interval: 0.2s}\n" + checks(http("a")),
            "monitoring.interval",
            "at least 1s",
        ),
        (
            checks(http("a", ", depends_on: [nope]")),
            "checks[0].depends_on[0]",
            "unknown check 'nope'",
        ),
        (
            checks(http("a", ", depends_on: [b]"), http("b", ", depends_on: [a]")),
            "checks[0].depends_on",
            "dependency cycle: a → b → a",
        ),
        (
            "maintenance:\n  - {start: '2025-10-11T12:00:00Z', end: '2025-10-11T11:00:00Z'}\n"
            + checks(http("a")),
            "maintenance[0].end",
            "before it starts",
        ),
        (
            "maintenance:\n"
            "  - {start: '2025-10-11T12:00:00Z', end: '2025-10-11T14:00:00Z'}\n"
            "  - {start: '2025-10-11T13:00:00Z', end: '2025-10-11T15:00:00Z', checks: [a]}\n"
            + checks(http("a")),
            "maintenance[1]",
            "overlaps maintenance[0]",
        ),
        (
            "monitoring: {flapping: {of: 3, failures: 5}}\n" + checks(http("a")),
            "monitoring.flapping",
            "cannot exceed",
        ),
    ],
)
def test_bad_schedules_name_the_key(tmp_path: Path, body: str, key: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, body)
    assert key in str(caught.value)
    assert message in str(caught.value)


def test_every_schedule_problem_is_reported_at_once(tmp_path: Path) -> None:
    body = checks(http("a", ", interval: 100ms, depends_on: [zz]"), http("b", ", interval: 0.5s"))
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, body)
    text = str(caught.value)
    assert "3 problems" in text
    assert "checks[0].interval" in text
    assert "checks[1].interval" in text
    assert "zz" in text


def test_plans_take_the_check_keys_over_the_defaults(tmp_path: Path) -> None:
    loaded = load(
        tmp_path,
        "monitoring: {interval: 30s, failure_threshold: 3}\n"
        + checks(
            http("db"),
            http("api", ", interval: 10s, failure_threshold: 1, depends_on: [db]"),
            http("alone", ", repeat_interval: 15m"),
        ),
    )
    config = loaded.config  # type: ignore[attr-defined]
    plans = check_plans(config)
    assert (plans["db"].interval_s, plans["db"].failure_threshold) == (30.0, 3)
    assert (plans["api"].interval_s, plans["api"].failure_threshold) == (10.0, 1)
    assert plans["alone"].repeat_interval_s == 900.0
    jobs = {j.id: j for j in job_plans(config)}
    assert set(jobs) == {"db+api", "alone"}
    assert jobs["db+api"].checks == ("db", "api")
    assert jobs["db+api"].interval_s == 10.0
    assert 0 <= jobs["alone"].offset_s < 10.0
