"""Fixtures for every test that talks to Slack: the Web API stand-in and a response_url sink.

Registered for the whole suite by ``pytest_plugins`` in tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.response_url_sink import ResponseUrlSink
from tests.support.slack_standin import SlackStandIn


@pytest.fixture
async def standin() -> AsyncIterator[SlackStandIn]:
    """A local Slack Web API, one per test."""
    async with SlackStandIn() as slack:
        yield slack


@pytest.fixture
async def sink() -> AsyncIterator[ResponseUrlSink]:
    """A local receiver for what Slack's response_url would get, one per test."""
    async with ResponseUrlSink() as started:
        yield started
