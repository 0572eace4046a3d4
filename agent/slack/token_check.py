"""Is the bot token good? ``auth.test`` at start-up and in the background, never per request.

Nothing on a request's path waits for Slack's Web API: Bolt's authorisation
(:class:`CachedAuthorize`) and ``/readyz`` read the last verdict kept here. A token revoked while
``serve`` runs is noticed at the next background check (every :data:`RECHECK_S` seconds, or
:data:`RETRY_S` after a failure) and ``/readyz`` says so.

A rejected token (``invalid_auth``, ``token_revoked`` …) makes the server not ready; a Web API that
cannot be reached does too until the token has been verified once, and is only a warning after
(the slash command's report goes through ``response_url``, not through the Web API).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from prodguardian.slack.notifier import auth_error_hint

log = logging.getLogger("prodguardian.slack.token")

#: Seconds between two checks of a good token.
RECHECK_S = 300.0
#: Seconds before a failed check is tried again.
RETRY_S = 30.0


@dataclass(frozen=True)
class SlackIdentity:
    """Who the bot is, from ``auth.test``."""

    team: str
    user_id: str
    bot_id: str | None
    team_id: str | None = None


@dataclass(frozen=True)
class TokenStatus:
    """The last verdict on the bot token.

    ``identity`` is the last one Slack confirmed (kept while Slack is unreachable); ``problem``
    says what is wrong now and what to fix; ``rejected`` is true when Slack refused the token.
    """

    identity: SlackIdentity | None
    problem: str | None
    rejected: bool = False

    @property
    def ready(self) -> bool:
        """No problem, or only an unreachable Web API after the token was verified once."""
        return self.problem is None or (self.identity is not None and not self.rejected)


NOT_CHECKED = TokenStatus(identity=None, problem="the Slack bot token is not verified yet")


class TokenVerifier:
    """Runs ``auth.test`` in the background and keeps the verdict (:attr:`status`)."""

    def __init__(
        self,
        client: AsyncWebClient,
        api_url: str,
        *,
        recheck_s: float = RECHECK_S,
        retry_s: float = RETRY_S,
        timeout_s: float = 10.0,
    ) -> None:
        self.client = client
        self.api_url = api_url
        self.recheck_s = recheck_s
        self.retry_s = retry_s
        self.timeout_s = timeout_s
        self.status: TokenStatus = NOT_CHECKED
        self._first = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the background checks (the first one at once)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._loop(), name="slack:auth.test")

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._task = None

    async def current(self, *, wait_first_s: float = 0.0) -> TokenStatus:
        """The verdict; waits up to ``wait_first_s`` for the first check if none finished yet."""
        if not self._first.is_set() and wait_first_s > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._first.wait(), wait_first_s)
        return self.status

    async def verify(self) -> TokenStatus:
        """One ``auth.test`` now; updates and returns :attr:`status`, logging any change."""
        before = self.status
        try:
            result = await asyncio.wait_for(self.client.auth_test(), timeout=self.timeout_s)
        except SlackApiError as exc:
            code = exc.response.get("error") if isinstance(exc.response.data, dict) else None
            hint = auth_error_hint(str(code)) or "check SLACK_BOT_TOKEN"
            self.status = TokenStatus(
                identity=before.identity,
                problem=f"Slack refused the bot token (auth.test: {code or exc}): {hint}",
                rejected=True,
            )
        except (aiohttp.ClientError, TimeoutError, ConnectionError) as exc:
            self.status = TokenStatus(
                identity=before.identity,
                problem=f"Slack's Web API is unreachable at {self.api_url}: {exc!r}",
            )
        else:
            self.status = TokenStatus(identity=_identity(result.data), problem=None)
        self._first.set()
        if self.status != before:
            _log_change(self.status)
        return self.status

    async def _loop(self) -> None:
        while True:
            status = await self.verify()
            await asyncio.sleep(self.recheck_s if status.problem is None else self.retry_s)


def _identity(data: Any) -> SlackIdentity:
    data = data if isinstance(data, dict) else {}
    return SlackIdentity(
        team=str(data.get("team") or data.get("team_id") or "?"),
        user_id=str(data.get("user_id") or "?"),
        bot_id=data.get("bot_id"),
        team_id=data.get("team_id"),
    )


def _log_change(status: TokenStatus) -> None:
    if status.problem is None and status.identity is not None:
        log.info("connected to Slack as %s in %s", status.identity.user_id, status.identity.team)
    elif status.problem is not None:
        log.error("%s", status.problem)


class CachedAuthorize(AsyncAuthorize):
    """Bolt's ``authorize`` from the verdict in memory: no Web API call before the ack.

    Bolt's default single-workspace authorisation calls ``auth.test`` on the first request and
    answers 500 (or "reinstall the app") when it fails, although ``/check_prod`` only needs the
    signed request and its ``response_url``. This one always authorises a verified request with
    the configured token and whatever identity the background check last confirmed.
    """

    def __init__(self, token: str, verifier: TokenVerifier) -> None:
        self.token = token
        self.verifier = verifier

    async def __call__(
        self,
        *,
        context: Any,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        actor_enterprise_id: str | None = None,
        actor_team_id: str | None = None,
        actor_user_id: str | None = None,
    ) -> AuthorizeResult:
        identity = self.verifier.status.identity
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id,
            team=identity.team if identity else None,
            bot_user_id=identity.user_id if identity else None,
            bot_id=identity.bot_id if identity else None,
            bot_token=self.token,
            user_id=user_id,
        )
