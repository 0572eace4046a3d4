"""Bounded retries for the Slack Web API, plugged into slack-sdk's client.

* 429: wait what ``Retry-After`` says (a small jitter added), unless that is longer than
  ``max_retry_after_s``: then give up at once rather than hold a message for minutes.
* 5xx, a dropped connection, a timeout: exponential backoff with jitter.
* At most ``max_retries`` retries in all, whatever the mix.
"""

from __future__ import annotations

import asyncio
import logging
import random

import aiohttp
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

log = logging.getLogger("prodguardian.slack.retry")

_RETRIED_ERRORS = (aiohttp.ClientError, TimeoutError, ConnectionError)


def retry_after_s(response: HttpResponse) -> float | None:
    """The ``Retry-After`` of a response in seconds, if it has a usable one."""
    for name, values in response.headers.items():
        if name.lower() == "retry-after" and values:
            try:
                return max(float(values[0]), 0.0)
            except ValueError:
                return None
    return None


def backoff_s(attempt: int, *, base_s: float, max_s: float) -> float:
    """Exponential backoff with half jitter for retry number ``attempt`` (0-based)."""
    ceiling = min(max_s, base_s * 2.0 ** min(attempt, 30))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


class BoundedRetryHandler(AsyncRetryHandler):
    """One handler for every retryable failure, so the total count stays bounded."""

    def __init__(
        self,
        *,
        max_retries: int = 4,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 8.0,
        max_retry_after_s: float = 60.0,
    ) -> None:
        super().__init__(max_retry_count=max_retries)
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.max_retry_after_s = max_retry_after_s

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if error is not None:
            return isinstance(error, _RETRIED_ERRORS)
        if response is None:
            return False
        if response.status_code == 429:
            wait = retry_after_s(response)
            if wait is not None and wait > self.max_retry_after_s:
                log.warning(
                    "Slack rate-limited %s with Retry-After %.0f s, longer than the %.0f s "
                    "this sender waits; giving up",
                    request.url,
                    wait,
                    self.max_retry_after_s,
                )
                return False
            return True
        return response.status_code >= 500

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        wait: float | None = None
        if response is not None and response.status_code == 429:
            wait = retry_after_s(response)
            wait = 1.0 if wait is None else wait
            wait += random.uniform(0, 0.25)
        if wait is None:
            wait = backoff_s(
                state.current_attempt, base_s=self.backoff_base_s, max_s=self.backoff_max_s
            )
        reason = f"HTTP {response.status_code}" if response is not None else repr(error)
        log.info(
            "retrying Slack call %s in %.2f s after %s (retry %d of %d)",
            request.url,
            wait,
            reason,
            state.current_attempt + 1,
            self.max_retry_count,
        )
        await asyncio.sleep(wait)
        state.increment_current_attempt()
