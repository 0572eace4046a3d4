"""Everything the server runs for Slack, assembled from a config and the environment."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import aiohttp
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from prodguardian.config.loader import LoadedConfig
from prodguardian.engine import run_report
from prodguardian.slack.alerts import AlertPublisher
from prodguardian.slack.bolt_app import create_bolt_app
from prodguardian.slack.errors import SlackSettingsError
from prodguardian.slack.memory_stores import memory_stores
from prodguardian.slack.notifier import SlackNotifier, make_web_client
from prodguardian.slack.response_url import ResponseUrlPoster
from prodguardian.slack.retry import BoundedRetryHandler
from prodguardian.slack.runs import BackgroundJobs, Engine, ReportRuns
from prodguardian.slack.service import SlackCommands
from prodguardian.slack.settings import SlackSettings
from prodguardian.slack.stores import Stores
from prodguardian.slack.user_groups import UserGroupDirectory

log = logging.getLogger("prodguardian.slack.runtime")

#: How long a failed auth.test stands before /readyz tries again.
AUTH_RETRY_S = 30.0


@dataclass(frozen=True)
class SlackIdentity:
    """Who the bot is, from ``auth.test``."""

    team: str
    user_id: str
    bot_id: str | None


class SlackRuntime:
    """The Web API client, notifier, response_url poster, stores, jobs, alerts and Bolt app."""

    def __init__(
        self,
        loaded: LoadedConfig,
        settings: SlackSettings,
        *,
        stores: Stores | None = None,
        engine: Engine = run_report,
        retry: BoundedRetryHandler | None = None,
        poster_backoff_s: float = 0.5,
        socket_mode: bool = False,
    ) -> None:
        self.loaded = loaded
        self.settings = settings
        self.socket_mode = socket_mode
        self._session: aiohttp.ClientSession | None = None
        self.client = make_web_client(settings, retry=retry)
        self.notifier = SlackNotifier(self.client)
        self.jobs = BackgroundJobs()
        self.stores = stores or memory_stores()
        self.runs = ReportRuns(loaded, self.stores.deploys, engine=engine)
        self.poster = ResponseUrlPoster(self.session, backoff_base_s=poster_backoff_s)
        self.commands = SlackCommands(
            loaded=loaded,
            stores=self.stores,
            runs=self.runs,
            poster=self.poster,
            jobs=self.jobs,
            directory=UserGroupDirectory(self.client),
        )
        self.bolt: AsyncApp = create_bolt_app(
            client=self.client,
            signing_secret=None if socket_mode else settings.signing_secret,
            commands=self.commands,
            jobs=self.jobs,
        )
        channel = loaded.config.slack.alerts_channel
        self.alerts = AlertPublisher(self.notifier, channel) if channel else None
        """Channel alerts for background runs (the scheduler calls ``publish``), if configured."""
        self.identity: SlackIdentity | None = None
        self.auth_problem: str | None = "not checked yet"
        self._auth_checked_at = 0.0
        self._auth_lock = asyncio.Lock()
        self._auth_task: asyncio.Task[str | None] | None = None
        self._socket_mode_handler: AsyncSocketModeHandler | None = None
        self._preflight_done = False

    async def preflight(self) -> None:
        """In Socket Mode, check the app-level token once: the SDK would retry forever.

        Raises :class:`SlackSettingsError` naming what to fix.
        """
        if not self.socket_mode or self._preflight_done:
            return
        if self.settings.app_token is None:
            raise SlackSettingsError("Socket Mode needs SLACK_APP_TOKEN (xapp-…)")
        try:
            await self.client.apps_connections_open(app_token=self.settings.app_token)
        except SlackApiError as exc:
            code = exc.response.get("error") if isinstance(exc.response.data, dict) else exc
            raise SlackSettingsError(
                f"Socket Mode could not connect (apps.connections.open: {code}); check "
                "SLACK_APP_TOKEN (an app-level token with connections:write) and that "
                "Socket Mode is enabled for the app"
            ) from exc
        except (aiohttp.ClientError, TimeoutError, ConnectionError) as exc:
            raise SlackSettingsError(
                f"Socket Mode could not reach Slack at {self.settings.api_url}: {exc!r}"
            ) from exc
        self._preflight_done = True

    async def start(self) -> None:
        """Check the token in the background; in Socket Mode, connect (or fail clearly)."""
        # The Web API calls share the kept session (and its connections): without one the
        # client opens a session and a connection per call.
        self.client.session = self.session()
        self._auth_task = asyncio.create_task(self.verify_auth(), name="slack:auth.test")
        if self.socket_mode:
            await self.preflight()
            assert self.settings.app_token is not None
            handler = AsyncSocketModeHandler(self.bolt, self.settings.app_token)
            await handler.connect_async()  # type: ignore[no-untyped-call]
            self._socket_mode_handler = handler
            log.info("connected to Slack in Socket Mode")

    def session(self) -> aiohttp.ClientSession:
        """The shared aiohttp session (response_url posts, and the Web API once started),
        opened on first use."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=100, ttl_dns_cache=300),
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    async def verify_auth(self, *, force: bool = False) -> str | None:
        """Call ``auth.test`` (at most every 30 s after a failure); the problem, or None."""
        async with self._auth_lock:
            fresh = time.monotonic() - self._auth_checked_at < AUTH_RETRY_S
            if self.identity is not None or (fresh and not force):
                return self.auth_problem
            self._auth_checked_at = time.monotonic()
            try:
                result = await asyncio.wait_for(self.client.auth_test(), timeout=10)
            except SlackApiError as exc:
                code = exc.response.get("error") if isinstance(exc.response.data, dict) else None
                self.auth_problem = f"Slack auth.test failed: {code or exc}"
            except (aiohttp.ClientError, TimeoutError, ConnectionError) as exc:
                self.auth_problem = f"Slack is unreachable at {self.settings.api_url}: {exc!r}"
            else:
                self.identity = SlackIdentity(
                    team=str(result.get("team") or result.get("team_id") or "?"),
                    user_id=str(result.get("user_id") or "?"),
                    bot_id=result.get("bot_id"),
                )
                self.auth_problem = None
                log.info(
                    "connected to Slack as %s in %s", self.identity.user_id, self.identity.team
                )
            if self.auth_problem is not None:
                log.error("%s", self.auth_problem)
            return self.auth_problem

    async def aclose(self) -> None:
        """Finish (or cancel) the background jobs and close the HTTP session."""
        if self._socket_mode_handler is not None:
            await self._socket_mode_handler.close_async()  # type: ignore[no-untyped-call]
            self._socket_mode_handler = None
        if self._auth_task is not None and not self._auth_task.done():
            self._auth_task.cancel()
        await self.jobs.aclose()
        if self._session is not None and not self._session.closed:
            await self._session.close()
