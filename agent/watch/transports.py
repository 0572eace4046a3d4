"""Where outbox messages go: Slack (``serve``) or the terminal (``watch``). Sending only.

A transport delivers one queued message and, after a send whose fate is unknown, looks for it
by the outbox key the message carries in its metadata.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import timedelta
from typing import Any, Protocol, TextIO

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from prodguardian.slack.errors import SlackAuthError, SlackChannelError, SlackDeliveryError
from prodguardian.slack.notifier import PostedMessage, SlackNotifier
from prodguardian.store.outbox import QueuedMessage, SentRef

log = logging.getLogger("prodguardian.outbox")

METADATA_EVENT = "prodguardian_outbox"
#: Errors after which Slack surely did not take the message (no look-up needed).
_DEFINITE = ("invalid_blocks", "no_text", "msg_too_long", "ratelimited", "message_not_found")


class DeliveryFailedError(Exception):
    """A send failed. ``uncertain``: it may have got through (timeout, 5xx, dropped)."""

    def __init__(self, reason: str, *, uncertain: bool, lasting: bool = False) -> None:
        super().__init__(reason)
        self.uncertain = uncertain
        self.lasting = lasting
        """A problem a person must fix (token, channel): retried slowly."""


class Transport(Protocol):
    """Delivers outbox messages somewhere."""

    async def deliver(self, message: QueuedMessage, parent: SentRef | None) -> SentRef:
        """Send ``message`` (a reply or update of ``parent``); raise DeliveryFailedError."""
        ...

    async def find(self, message: QueuedMessage, parent: SentRef | None) -> SentRef | None:
        """The message, if an earlier send of it got through; None if it did not."""
        ...


def outbox_metadata(message: QueuedMessage) -> dict[str, Any]:
    """The metadata that lets a message be found again: ``event_payload.outbox_key``."""
    return {"event_type": METADATA_EVENT, "event_payload": {"outbox_key": message.key}}


class NoBlindRetries(AsyncRetryHandler):
    """``inner``'s retries, except after a timeout or a dropped connection: then Slack may
    have taken the message, and a retry here would post it twice. The outbox looks for it
    before it sends it again."""

    def __init__(self, inner: AsyncRetryHandler) -> None:
        super().__init__(max_retry_count=inner.max_retry_count)
        self.inner = inner

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if error is not None:
            return False
        return await self.inner.can_retry_async(
            state=state, request=request, response=response, error=error
        )

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        await self.inner.prepare_for_next_attempt_async(
            state=state, request=request, response=response, error=error
        )


class SlackTransport:
    """Delivers through the Web API (``chat.postMessage`` / ``chat.update``).

    Its client is ``notifier``'s with :class:`NoBlindRetries` around each retry handler.
    """

    def __init__(self, notifier: SlackNotifier) -> None:
        client = notifier.client
        self.notifier = SlackNotifier(
            AsyncWebClient(
                token=client.token,
                base_url=client.base_url,
                timeout=client.timeout,
                retry_handlers=[NoBlindRetries(h) for h in client.retry_handlers],
            )
        )

    async def deliver(self, message: QueuedMessage, parent: SentRef | None) -> SentRef:
        try:
            if message.action == "update":
                assert parent is not None
                posted = await self.notifier.update(
                    PostedMessage(parent.channel, parent.ts), message.payload
                )
            else:
                thread = parent.ts if message.action == "reply" and parent else None
                channel = parent.channel if parent is not None else message.channel
                posted = await self.notifier.post(
                    channel, message.payload, thread_ts=thread, metadata=outbox_metadata(message)
                )
        except (SlackAuthError, SlackChannelError) as exc:
            raise DeliveryFailedError(str(exc), uncertain=False, lasting=True) from exc
        except SlackDeliveryError as exc:
            definite = exc.code in _DEFINITE
            raise DeliveryFailedError(str(exc), uncertain=not definite) from exc
        return SentRef(channel=posted.channel, ts=posted.ts)

    async def find(self, message: QueuedMessage, parent: SentRef | None) -> SentRef | None:
        client = self.notifier.client
        oldest = (message.created_at - timedelta(minutes=1)).timestamp()
        try:
            if message.action == "reply" and parent is not None:
                response = await client.conversations_replies(
                    channel=parent.channel, ts=parent.ts, include_all_metadata=True, limit=200
                )
            else:
                response = await client.conversations_history(
                    channel=message.channel,
                    oldest=f"{oldest:.6f}",
                    include_all_metadata=True,
                    limit=200,
                )
        except SlackApiError as exc:
            code = exc.response.get("error") if isinstance(exc.response.data, dict) else exc
            log.warning(
                "cannot look up outbox message %s in Slack (%s): sending it again; grant the "
                "channels:history scope (and groups:history for private channels) so a restart "
                "never doubles a message",
                message.id,
                code,
            )
            return None
        except (aiohttp.ClientError, TimeoutError, ConnectionError) as exc:
            raise DeliveryFailedError(f"look-up failed: {exc!r}", uncertain=True) from exc
        for found in response.get("messages") or []:
            payload = (found.get("metadata") or {}).get("event_payload") or {}
            if payload.get("outbox_key") == message.key:
                channel = parent.channel if parent is not None else message.channel
                return SentRef(channel=channel, ts=str(found["ts"]))
        return None


class ConsoleTransport:
    """``watch``: prints what would be posted, as text or one JSON object per line."""

    def __init__(self, out: TextIO | None = None, *, as_json: bool = False) -> None:
        self.out = out or sys.stdout
        self.as_json = as_json
        self._count = 0

    async def deliver(self, message: QueuedMessage, parent: SentRef | None) -> SentRef:
        self._count += 1
        ts = f"console.{self._count:06d}"
        if self.as_json:
            line = {
                "action": message.action,
                "group": message.group,
                "channel": message.channel,
                "text": message.payload.get("text", ""),
                "blocks": message.payload.get("blocks", []),
                "in_reply_to": parent.ts if parent else None,
                "ts": ts,
            }
            self.out.write(json.dumps(line, ensure_ascii=False) + "\n")
        else:
            prefix = {"post": "▶ ALERT", "reply": "  ↳", "update": "  ✎ updated:"}[message.action]
            self.out.write(f"{prefix} {_plain(message.payload)}\n")
        self.out.flush()
        return SentRef(channel=message.channel, ts=ts)

    async def find(self, message: QueuedMessage, parent: SentRef | None) -> SentRef | None:
        return None


def _plain(payload: dict[str, Any]) -> str:
    text = str(payload.get("text") or "")
    return text.replace("\n", " ")[:400]
