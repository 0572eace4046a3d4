"""Slack: ``/check_prod``, its subcommands and buttons, Block Kit rendering, and sending.

Rendering (``render_report``) is pure and never sends; sending (``SlackNotifier``,
``ResponseUrlPoster``) never renders; the commands ask the engine for reports.
"""

from prodguardian.slack.blocks import Button, MessageBuilder, SlackMessage
from prodguardian.slack.commands import Command, parse_command
from prodguardian.slack.errors import (
    SlackAuthError,
    SlackChannelError,
    SlackDeliveryError,
    SlackError,
    SlackSettingsError,
)
from prodguardian.slack.escaping import escape_mrkdwn
from prodguardian.slack.notifier import PostedMessage, SlackNotifier, make_web_client
from prodguardian.slack.render_report import ReportView, render_report
from prodguardian.slack.response_url import ResponseUrlPoster
from prodguardian.slack.settings import SlackSettings

__all__ = [
    "Button",
    "Command",
    "MessageBuilder",
    "PostedMessage",
    "ReportView",
    "ResponseUrlPoster",
    "SlackAuthError",
    "SlackChannelError",
    "SlackDeliveryError",
    "SlackError",
    "SlackMessage",
    "SlackNotifier",
    "SlackSettings",
    "SlackSettingsError",
    "escape_mrkdwn",
    "make_web_client",
    "parse_command",
    "render_report",
]
