"""The local Slack stand-in and response_url sink, one per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

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
