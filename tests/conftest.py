"""Fixtures for every test: an environment that the developer's own shell cannot leak into."""

from __future__ import annotations

import os

import pytest

from prodguardian.logs.read_budget import forget_shared_budgets

pytest_plugins = [
    "tests.support.slack_fixtures",
    "tests.support.state_stores",
    "tests.support.chromium",
]

#: Prefixes of variables that change ProdGuardian's behaviour; tests start without them.
_ISOLATED_PREFIXES = ("PRODGUARDIAN_", "SLACK_", "OTEL_", "GOOGLE_", "DEMO_TARGET_URL")
#: Kept: they say how the test run itself must behave.
_KEPT = frozenset({"PRODGUARDIAN_REQUIRE_POSTGRES"})


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(_ISOLATED_PREFIXES) and name not in _KEPT:
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def _fresh_read_budgets() -> None:
    """Each test starts with a full list-call budget for every project (they are per process)."""
    forget_shared_budgets()
