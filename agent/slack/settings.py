"""Slack secrets and endpoints, read from the environment only (never from the config file)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from prodguardian.slack.errors import SlackSettingsError

DEFAULT_API_URL = "https://slack.com/api/"


@dataclass(frozen=True, repr=False)
class SlackSettings:
    """Tokens, signing secret and the Web API base URL. ``repr`` never shows a secret."""

    bot_token: str
    signing_secret: str | None
    app_token: str | None = None
    api_url: str = DEFAULT_API_URL

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, socket_mode: bool = False
    ) -> SlackSettings:
        """Read SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_APP_TOKEN and SLACK_API_URL.

        HTTP mode needs the bot token and the signing secret; Socket Mode needs the bot token
        and an app-level token (``xapp-…``). A missing one is named in the error.
        """
        env = os.environ if env is None else env
        bot_token = env.get("SLACK_BOT_TOKEN", "").strip()
        signing_secret = env.get("SLACK_SIGNING_SECRET", "").strip() or None
        app_token = env.get("SLACK_APP_TOKEN", "").strip() or None
        api_url = env.get("SLACK_API_URL", "").strip() or DEFAULT_API_URL
        missing = []
        if not bot_token:
            missing.append("SLACK_BOT_TOKEN (the bot token, xoxb-…)")
        if socket_mode and app_token is None:
            missing.append("SLACK_APP_TOKEN (an app-level token with connections:write, xapp-…)")
        if not socket_mode and signing_secret is None:
            missing.append("SLACK_SIGNING_SECRET (Basic Information → Signing Secret)")
        if missing:
            mode = "Socket Mode" if socket_mode else "HTTP mode"
            raise SlackSettingsError(
                f"Slack {mode} needs these environment variables: {'; '.join(missing)}"
            )
        if not api_url.startswith(("https://", "http://")):
            raise SlackSettingsError(
                f"SLACK_API_URL must be an http(s) URL such as {DEFAULT_API_URL}, got {api_url!r}"
            )
        if app_token is not None and socket_mode and not app_token.startswith("xapp-"):
            raise SlackSettingsError("SLACK_APP_TOKEN must be an app-level token (xapp-…)")
        return cls(
            bot_token=bot_token,
            signing_secret=signing_secret,
            app_token=app_token,
            api_url=api_url if api_url.endswith("/") else api_url + "/",
        )

    def __repr__(self) -> str:
        return f"SlackSettings(api_url={self.api_url!r}, tokens=<hidden>)"
