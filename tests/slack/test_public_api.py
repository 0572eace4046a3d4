from __future__ import annotations

import prodguardian.server
import prodguardian.slack


def test_slack_exports_are_pinned() -> None:
    assert prodguardian.slack.__all__ == [
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
    for name in prodguardian.slack.__all__:
        assert hasattr(prodguardian.slack, name)


def test_server_exports_are_pinned() -> None:
    assert prodguardian.server.__all__ == [
        "SLACK_EVENTS_PATH",
        "bind_socket",
        "create_app",
        "running_server",
        "serve_forever",
    ]
