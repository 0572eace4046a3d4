"""A health target and the running server for every test of the server (the Slack stand-in and
the response_url sink come from tests/support/slack_fixtures.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.server.harness import ServerHarness, serving, write_config
from tests.support.http_targets import health_app, serve_app
from tests.support.response_url_sink import ResponseUrlSink
from tests.support.slack_standin import SlackStandIn


@pytest.fixture
async def target() -> AsyncIterator[str]:
    async with serve_app(health_app()) as url:
        yield url


@pytest.fixture
async def server(
    tmp_path: Path, target: str, standin: SlackStandIn, sink: ResponseUrlSink
) -> AsyncIterator[ServerHarness]:
    """The server with two http checks: api-health (OK) and readiness (CRITICAL, 503)."""
    async with serving(write_config(tmp_path, target), standin, sink) as harness:
        yield harness
