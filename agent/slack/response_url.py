"""Posting to a slash command's or button's ``response_url`` (no token needed, 30 minutes).

Each post is retried on 429 (honouring ``Retry-After``), 5xx and network errors, a bounded
number of times; a post that still fails raises :class:`SlackDeliveryError`, logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any, Literal

import aiohttp

from prodguardian.slack.blocks import SlackMessage
from prodguardian.slack.errors import SlackDeliveryError
from prodguardian.slack.retry import backoff_s

log = logging.getLogger("prodguardian.slack.response_url")

ResponseType = Literal["in_channel", "ephemeral"]


_JSON = {"Content-Type": "application/json; charset=utf-8"}


def encode_response(
    message: SlackMessage, response_type: ResponseType = "ephemeral", replace_original: bool = False
) -> bytes:
    """The JSON body of a response_url post."""
    body: dict[str, Any] = {
        **message.payload(),
        "response_type": response_type,
        "replace_original": replace_original,
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


class ResponseUrlPoster:
    """Sends messages to response URLs through the server's shared aiohttp session."""

    def __init__(
        self,
        session: Callable[[], aiohttp.ClientSession],
        *,
        max_retries: int = 4,
        backoff_base_s: float = 0.5,
        max_retry_after_s: float = 30.0,
        timeout_s: float = 10.0,
    ) -> None:
        self._session = session
        self.max_retries = max_retries
        self.backoff_base_s = backoff_base_s
        self.max_retry_after_s = max_retry_after_s
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def post(
        self,
        url: str,
        message: SlackMessage,
        *,
        response_type: ResponseType = "ephemeral",
        replace_original: bool = False,
    ) -> None:
        """Deliver ``message`` to ``url``."""
        await self.post_encoded(url, encode_response(message, response_type, replace_original))

    async def post_encoded(self, url: str, body: bytes) -> None:
        """Deliver a body made by :func:`encode_response` (one encoding for many posts)."""
        attempt = 0
        while True:
            wait, problem = await self._attempt(url, body, attempt)
            if problem is None:
                return
            if wait is None or attempt >= self.max_retries:
                error = SlackDeliveryError(
                    f"posting to the response_url failed: {problem}",
                    code=problem.split(":")[0],
                    method="response_url",
                )
                log.error("%s", error)
                raise error
            log.info(
                "response_url post failed (%s); retry %d in %.2f s", problem, attempt + 1, wait
            )
            await asyncio.sleep(wait)
            attempt += 1

    async def _attempt(
        self, url: str, body: bytes, attempt: int
    ) -> tuple[float | None, str | None]:
        """``(None, None)`` on success, else (seconds to wait or None to give up, problem)."""
        backoff = backoff_s(attempt, base_s=self.backoff_base_s, max_s=8.0)
        try:
            async with self._session().post(
                url, data=body, headers=_JSON, timeout=self.timeout
            ) as resp:
                text = (await resp.text())[:200]
                if resp.status == 200:
                    return None, None
                if resp.status == 429:
                    after = _seconds(resp.headers.get("Retry-After"))
                    if after > self.max_retry_after_s:
                        return None, f"rate_limited: Retry-After {after:.0f} s"
                    return after, "rate_limited: HTTP 429"
                if resp.status >= 500:
                    return backoff, f"http_{resp.status}: {text}"
                # 404 expired_url, 410 used_url, 400 invalid_blocks …: retrying cannot help.
                return None, f"http_{resp.status}: {text or resp.reason}"
        except (aiohttp.ClientError, TimeoutError, ConnectionError) as exc:
            return backoff, f"network: {type(exc).__name__}: {exc}"


def _seconds(value: str | None) -> float:
    try:
        return max(float(value), 0.0) if value is not None else 1.0
    except ValueError:
        return 1.0
