"""Everything the server runs for Slack, assembled from a config and the environment."""

from __future__ import annotations

import logging

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
from prodguardian.slack.token_check import RECHECK_S, RETRY_S, CachedAuthorize, TokenVerifier
from prodguardian.slack.user_groups import UserGroupDirectory

log = logging.getLogger("prodguardian.slack.runtime")


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
        token_recheck_s: float = RECHECK_S,
        token_retry_s: float = RETRY_S,
    ) -> None:
        self.loaded = loaded
        self.settings = settings
        self.socket_mode = socket_mode
        self._session: aiohttp.ClientSession | None = None
        self.client = make_web_client(settings, retry=retry)
        self.token = TokenVerifier(
            self.client, settings.api_url, recheck_s=token_recheck_s, retry_s=token_retry_s
        )
        """The bot token's last verdict (``auth.test`` in the background, never per request)."""
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
            slack_problem=self._slack_problem,
        )
        self.bolt: AsyncApp = create_bolt_app(
            client=self.client,
            signing_secret=None if socket_mode else settings.signing_secret,
            commands=self.commands,
            jobs=self.jobs,
            authorize=CachedAuthorize(settings.bot_token, self.token),
        )
        channel = loaded.config.slack.alerts_channel
        self.alerts = AlertPublisher(self.notifier, channel) if channel else None
        """Channel alerts for background runs (the scheduler calls ``publish``), if configured."""
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
        self.token.start()
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

    def _slack_problem(self) -> str | None:
        """What is wrong with Slack right now, for the answer to a command (or None)."""
        return self.token.status.problem

    async def aclose(self) -> None:
        """Finish (or cancel) the background jobs and close the HTTP session."""
        if self._socket_mode_handler is not None:
            await self._socket_mode_handler.close_async()  # type: ignore[no-untyped-call]
            self._socket_mode_handler = None
        await self.token.stop()
        await self.jobs.aclose()
        if self._session is not None and not self._session.closed:
            await self._session.close()
