"""The Bolt app: ``/check_prod`` and the buttons wired to :class:`SlackCommands`.

Bolt verifies every HTTP request's signature (``X-Slack-Signature``, v0 HMAC-SHA256 over the
timestamp and body) and refuses a timestamp older than five minutes: such a request gets 401 and
no listener runs. Listeners ack first; anything slow runs in a background job.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.logger.messages import (
    warning_client_prioritized_and_token_skipped,
    warning_token_skipped,
)
from slack_bolt.middleware.request_verification.async_request_verification import (
    AsyncRequestVerification,
)
from slack_sdk.web.async_client import AsyncWebClient

from prodguardian.slack.render_messages import failure_message
from prodguardian.slack.render_report import (
    ACTION_ACK,
    ACTION_FOLLOWUP_DONE,
    ACTION_RECHECK,
    ACTION_SILENCE,
)
from prodguardian.slack.runs import BackgroundJobs
from prodguardian.slack.service import Invocation, SlackCommands

log = logging.getLogger("prodguardian.slack.bolt")

COMMAND = "/check_prod"


def create_bolt_app(
    *,
    client: AsyncWebClient,
    signing_secret: str | None,
    commands: SlackCommands,
    jobs: BackgroundJobs,
    authorize: AsyncAuthorize,
    command: str = COMMAND,
) -> AsyncApp:
    """A Bolt ``AsyncApp`` answering ``command`` and the report/follow-up buttons.

    ``signing_secret`` is required over HTTP; Socket Mode (authenticated by the app-level
    token) passes ``None``. ``authorize`` must not call Slack: it runs before the ack
    (:class:`~prodguardian.slack.token_check.CachedAuthorize`).
    """
    app = AsyncApp(
        client=client,
        authorize=authorize,  # type: ignore[arg-type]  # an AsyncAuthorize is taken as is
        signing_secret=signing_secret or "",
        # Bolt's own verification logs a refused request whole, response_url included (a URL
        # anyone could post into the channel with); ours runs at the same place, before
        # authorisation, and logs the refusal without the body.
        request_verification_enabled=False,
        before_authorize=(
            QuietRequestVerification(signing_secret, base_logger=_bolt_logger())
            if signing_secret is not None
            else None
        ),
        # Listeners only ack and spawn jobs, so the response can wait for them to return:
        # this answers Slack as soon as ack() is called, without Bolt's polling loop.
        process_before_response=True,
        logger=_bolt_logger(),
    )

    async def on_command(ack: AsyncAck, command: dict[str, Any]) -> None:
        inv = Invocation(
            user_id=str(command.get("user_id", "")),
            channel_id=command.get("channel_id"),
            text=str(command.get("text") or ""),
            response_url=command.get("response_url"),
        )
        try:
            reply = await commands.command(inv)
        except Exception as exc:
            # Slack shows "dispatch_failed" for a 500; the user deserves the reason instead.
            log.exception("/check_prod %r from %s failed", inv.text, inv.user_id)
            failure = failure_message("ProdGuardian failed", f"{type(exc).__name__}: {exc}")
            await ack(response_type="ephemeral", **failure.payload())
            return
        await ack(response_type=reply.response_type, **reply.message.payload())

    async def on_recheck(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        inv, value = _button(body)
        jobs.spawn(commands.recheck_button(inv, value), name="button:recheck")

    async def on_acknowledge(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        inv, value = _button(body)
        jobs.spawn(commands.acknowledge_button(inv, value), name="button:ack")

    async def on_done(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        inv, value = _button(body)
        jobs.spawn(commands.done_button(inv, value), name="button:done")

    async def on_silence(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        inv, value = _button(body)
        jobs.spawn(commands.silence_button(inv, value), name="button:silence")

    app.command(command)(on_command)
    app.action(ACTION_RECHECK)(on_recheck)
    app.action(ACTION_ACK)(on_acknowledge)
    app.action(ACTION_FOLLOWUP_DONE)(on_done)
    app.action(ACTION_SILENCE)(on_silence)
    return app


class QuietRequestVerification(AsyncRequestVerification):
    """Bolt's signature check (401 for a bad signature or a stale timestamp), logged without
    the request's body, signature or ``response_url``."""

    def _debug_log_error(self, signature: str, timestamp: str, body: str) -> None:
        log.warning(
            "refused a Slack request: bad signature or timestamp older than 5 minutes "
            "(timestamp %s, %d bytes; body not logged); check SLACK_SIGNING_SECRET if this "
            "repeats for real commands",
            timestamp,
            len(body),
        )


class _TokenFromClientIsIntended(logging.Filter):
    """Drops Bolt's warnings that SLACK_BOT_TOKEN is unused: our client and our ``authorize``
    carry that token (with the configured API URL and retries), which is exactly what we want."""

    _EXPECTED = frozenset({warning_client_prioritized_and_token_skipped(), warning_token_skipped()})

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() not in self._EXPECTED


def _bolt_logger() -> logging.Logger:
    logger = logging.getLogger("prodguardian.slack.bolt.app")
    if not any(isinstance(f, _TokenFromClientIsIntended) for f in logger.filters):
        logger.addFilter(_TokenFromClientIsIntended())
    return logger


def _button(body: dict[str, Any]) -> tuple[Invocation, str]:
    """The invocation and the pressed button's value, from a ``block_actions`` payload."""
    actions = body.get("actions") or [{}]
    channel = body.get("channel") or {}
    inv = Invocation(
        user_id=str((body.get("user") or {}).get("id", "")),
        channel_id=channel.get("id") if isinstance(channel, dict) else None,
        text="",
        response_url=body.get("response_url"),
    )
    return inv, str(actions[0].get("value") or "")
