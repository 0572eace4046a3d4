"""Stand-ins for every test of the server: Slack, a response_url sink and a health target."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.server.harness import ServerHarness, serving, write_config
from tests.support.http_targets import health_app, serve_app
from tests.support.response_url_sink import ResponseUrlSink
from tests.support.slack_standin import SlackStandIn


@pytest.fixture
async def standin() -> AsyncIterator[SlackStandIn]:
    async with SlackStandIn() as slack:
        yield slack


@pytest.fixture
async def sink() -> AsyncIterator[ResponseUrlSink]:
    async with ResponseUrlSink() as started:
        yield started


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
