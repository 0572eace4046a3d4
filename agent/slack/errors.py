"""Errors of the Slack edge, part of ProdGuardian's one exception tree.

::

    ProdGuardianError
    └── SlackError                  Slack could not be used
        ├── SlackSettingsError      a token or secret is missing from the environment
        └── SlackDeliveryError      a message could not be delivered (after the retries)
            ├── SlackAuthError      the token is invalid, revoked or lacks a scope
            └── SlackChannelError   the bot is not in the channel, or the channel is gone

slack-sdk and aiohttp errors are translated at the boundary (``raise ... from exc``).
"""

from __future__ import annotations

from prodguardian.errors import ProdGuardianError


class SlackError(ProdGuardianError):
    """Base of every Slack failure ProdGuardian reports."""


class SlackSettingsError(SlackError):
    """A required Slack setting is missing from the environment; the message names it."""


class SlackDeliveryError(SlackError):
    """A message could not be delivered. ``code`` is Slack's error code (or the HTTP status)."""

    def __init__(self, message: str, *, code: str, method: str) -> None:
        super().__init__(message)
        self.code = code
        self.method = method


class SlackAuthError(SlackDeliveryError):
    """The bot token is invalid, revoked, or lacks the scope the call needs."""


class SlackChannelError(SlackDeliveryError):
    """The bot cannot post in the channel: not a member, or the channel does not exist."""
