"""The Slack stand-in with lasting faults and a flippable target, for the fault tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.watch.serve_process import FaultySlack, FlipTarget, flip_target


@pytest.fixture
async def slack() -> AsyncIterator[FaultySlack]:
    started = FaultySlack()
    await started.start()
    try:
        yield started
    finally:
        await started.stop()


@pytest.fixture
async def target() -> AsyncIterator[FlipTarget]:
    async with flip_target() as started:
        yield started
