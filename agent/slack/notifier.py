"""Sending messages to Slack through slack-sdk's ``AsyncWebClient``. It never renders.

Posts a new message, updates one in place (``chat.update``), replies in its thread, posts
ephemeral messages. Retries (429 with ``Retry-After``, 5xx, network errors) are bounded by the
client's :class:`~prodguardian.slack.retry.BoundedRetryHandler`; what still fails becomes a
:class:`~prodguardian.slack.errors.SlackDeliveryError` that says what to fix, and is logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from prodguardian.slack.blocks import SlackMessage
from prodguardian.slack.errors import SlackAuthError, SlackChannelError, SlackDeliveryError
from prodguardian.slack.retry import BoundedRetryHandler
from prodguardian.slack.settings import SlackSettings

log = logging.getLogger("prodguardian.slack.notifier")

_AUTH_ERRORS = {
    "invalid_auth": "the bot token is invalid: set SLACK_BOT_TOKEN to the app's current "
    "Bot User OAuth Token (xoxb-…)",
    "not_authed": "no token was sent: set SLACK_BOT_TOKEN",
    "token_revoked": "the bot token was revoked: reinstall the app and update SLACK_BOT_TOKEN",
    "token_expired": "the bot token expired: reinstall the app and update SLACK_BOT_TOKEN",
    "account_inactive": "the bot's account is deactivated: reinstall the app",
    "missing_scope": "the bot token lacks a scope this call needs: add it in the app's "
    "OAuth & Permissions page (see config/slack-app-manifest.yaml) and reinstall",
}
_CHANNEL_ERRORS = {
    "not_in_channel": "the bot is not a member of the channel: invite it with "
    "`/invite @ProdGuardian` in that channel",
    "channel_not_found": "the channel does not exist or the bot cannot see it: check the "
    "channel id (C…) and invite the bot",
    "is_archived": "the channel is archived: choose another one",
}


def auth_error_hint(code: str) -> str | None:
    """What to fix for a Slack auth error code (``invalid_auth`` …), or None if not one."""
    return _AUTH_ERRORS.get(code)


@dataclass(frozen=True)
class PostedMessage:
    """Where a message landed: enough to update it or reply in its thread."""

    channel: str
    ts: str


def make_web_client(
    settings: SlackSettings, *, retry: BoundedRetryHandler | None = None, timeout_s: int = 10
) -> AsyncWebClient:
    """The Web API client: token and base URL from ``settings``, bounded retries."""
    return AsyncWebClient(
        token=settings.bot_token,
        base_url=settings.api_url,
        timeout=timeout_s,
        retry_handlers=[retry or BoundedRetryHandler()],
    )


class SlackNotifier:
    """Posts, updates and threads messages; every failure is a logged SlackDeliveryError."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def post(
        self,
        channel: str,
        message: SlackMessage | dict[str, Any],
        *,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> PostedMessage:
        """Post ``message`` to ``channel`` (in the thread of ``thread_ts`` if given).

        ``metadata`` is Slack's message metadata (``event_type``, ``event_payload``).
        """
        payload = message.payload() if isinstance(message, SlackMessage) else message
        args: dict[str, Any] = {"channel": channel, **payload}
        if thread_ts is not None:
            args["thread_ts"] = thread_ts
        if metadata is not None:
            args["metadata"] = metadata
        data = await self._call("chat.postMessage", channel, self.client.chat_postMessage, args)
        return PostedMessage(channel=str(data.get("channel") or channel), ts=str(data["ts"]))

    async def update(
        self, posted: PostedMessage, message: SlackMessage | dict[str, Any]
    ) -> PostedMessage:
        """Replace the message at ``posted`` in place."""
        payload = message.payload() if isinstance(message, SlackMessage) else message
        args: dict[str, Any] = {"channel": posted.channel, "ts": posted.ts, **payload}
        data = await self._call("chat.update", posted.channel, self.client.chat_update, args)
        return PostedMessage(channel=str(data.get("channel") or posted.channel), ts=posted.ts)

    async def reply(self, parent: PostedMessage, message: SlackMessage) -> PostedMessage:
        """Post ``message`` in the thread of ``parent``."""
        return await self.post(parent.channel, message, thread_ts=parent.ts)

    async def post_ephemeral(self, channel: str, user: str, message: SlackMessage) -> None:
        """Show ``message`` to ``user`` only, in ``channel``."""
        args: dict[str, Any] = {"channel": channel, "user": user, **message.payload()}
        await self._call("chat.postEphemeral", channel, self.client.chat_postEphemeral, args)

    async def _call(
        self, method: str, channel: str, call: Any, args: dict[str, Any]
    ) -> dict[str, Any]:
        try:
            response = await call(**args)
        except SlackApiError as exc:
            raise _delivery_error(method, channel, exc) from exc
        except (aiohttp.ClientError, TimeoutError, ConnectionError) as exc:
            error = SlackDeliveryError(
                f"{method} to {channel} failed: Slack could not be reached after retries "
                f"({type(exc).__name__}: {exc}); check the network and SLACK_API_URL",
                code="network",
                method=method,
            )
            log.error("%s", error)
            raise error from exc
        data = response.data
        return data if isinstance(data, dict) else {}


def _delivery_error(method: str, channel: str, exc: SlackApiError) -> SlackDeliveryError:
    response = exc.response
    data = response.data if isinstance(getattr(response, "data", None), dict) else {}
    status = getattr(response, "status_code", None)
    code = str(data.get("error") or (f"http_{status}" if status else "unknown"))
    error: SlackDeliveryError
    if code in _AUTH_ERRORS:
        needed = data.get("needed")
        extra = f" (needed: {needed})" if needed else ""
        error = SlackAuthError(
            f"{method} failed with {code}: {_AUTH_ERRORS[code]}{extra}", code=code, method=method
        )
    elif code in _CHANNEL_ERRORS:
        error = SlackChannelError(
            f"{method} to {channel} failed with {code}: {_CHANNEL_ERRORS[code]}",
            code=code,
            method=method,
        )
    elif code == "ratelimited" or status == 429:
        error = SlackDeliveryError(
            f"{method} to {channel} is still rate-limited by Slack after retries",
            code=code,
            method=method,
        )
    elif status is not None and status >= 500:
        error = SlackDeliveryError(
            f"{method} to {channel} failed: Slack answered HTTP {status} on every retry",
            code=code,
            method=method,
        )
    else:
        error = SlackDeliveryError(
            f"{method} to {channel} failed with {code}", code=code, method=method
        )
    log.error("%s", error, extra={"slack_error": code, "slack_method": method})
    return error
