"""The response_url poster against the local sink."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from prodguardian.context import HttpClient
from prodguardian.slack.blocks import MessageBuilder, SlackMessage
from prodguardian.slack.errors import SlackDeliveryError
from prodguardian.slack.response_url import ResponseUrlPoster
from tests.support.response_url_sink import ResponseUrlSink


def message(text: str) -> SlackMessage:
    out = MessageBuilder()
    out.section(text)
    return out.build(text)


@pytest.fixture
async def poster() -> AsyncIterator[ResponseUrlPoster]:
    http = HttpClient()
    yield ResponseUrlPoster(http.session, backoff_base_s=0.01, max_retries=3)
    await http.close()


async def test_posts_message_with_response_type(
    sink: ResponseUrlSink, poster: ResponseUrlPoster
) -> None:
    await poster.post(sink.url_for("a"), message("hi"), response_type="in_channel")
    [delivery] = await sink.wait_for("a")
    assert delivery.body["response_type"] == "in_channel"
    assert delivery.body["replace_original"] is False
    assert delivery.blocks[0]["text"]["text"] == "hi"


async def test_retries_500_and_429(sink: ResponseUrlSink, poster: ResponseUrlPoster) -> None:
    sink.fail_next(500, times=2)
    sink.fail_next(429, retry_after_s=1)
    await poster.post(sink.url_for("b"), message("hi"))
    assert len(await sink.wait_for("b")) == 1
    assert sink.attempts == 4


async def test_gives_up_after_bounded_retries(
    sink: ResponseUrlSink, poster: ResponseUrlPoster
) -> None:
    sink.fail_next(503, times=10)
    with pytest.raises(SlackDeliveryError, match="http_503"):
        await poster.post(sink.url_for("c"), message("hi"))
    assert sink.attempts == 4


async def test_a_404_expired_url_is_not_retried(
    sink: ResponseUrlSink, poster: ResponseUrlPoster
) -> None:
    sink.fail_next(404)
    with pytest.raises(SlackDeliveryError, match="http_404"):
        await poster.post(sink.url_for("d"), message("hi"))
    assert sink.attempts == 1
