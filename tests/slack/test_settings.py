from __future__ import annotations

from pathlib import Path

import pytest

from prodguardian.config import load_config
from prodguardian.errors import ConfigError
from prodguardian.slack.errors import SlackSettingsError
from prodguardian.slack.settings import DEFAULT_API_URL, SlackSettings


def test_http_mode_needs_token_and_signing_secret() -> None:
    with pytest.raises(SlackSettingsError) as caught:
        SlackSettings.from_env({})
    assert "SLACK_BOT_TOKEN" in str(caught.value)
    assert "SLACK_SIGNING_SECRET" in str(caught.value)


def test_socket_mode_needs_an_app_token() -> None:
    with pytest.raises(SlackSettingsError, match="SLACK_APP_TOKEN"):
        SlackSettings.from_env({"SLACK_BOT_TOKEN": "xoxb-1"}, socket_mode=True)
    with pytest.raises(SlackSettingsError, match="xapp-"):
        SlackSettings.from_env(
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xoxb-wrong"}, socket_mode=True
        )


def test_api_url_default_and_override() -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
    assert SlackSettings.from_env(env).api_url == DEFAULT_API_URL
    custom = SlackSettings.from_env({**env, "SLACK_API_URL": "http://127.0.0.1:9/api"})
    assert custom.api_url == "http://127.0.0.1:9/api/"
    with pytest.raises(SlackSettingsError, match="SLACK_API_URL"):
        SlackSettings.from_env({**env, "SLACK_API_URL": "slack.com"})


def test_repr_hides_secrets() -> None:
    settings = SlackSettings.from_env(
        {"SLACK_BOT_TOKEN": "xoxb-secret", "SLACK_SIGNING_SECRET": "s3"}
    )
    assert "xoxb-secret" not in repr(settings)
    assert "s3" not in repr(settings)


def _config(tmp_path: Path, slack: str) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(
        f"slack: {slack}\nchecks:\n  - {{name: a, kind: http, url: http://127.0.0.1:1/}}\n"
    )
    return path


def test_config_slack_section(tmp_path: Path) -> None:
    loaded = load_config(
        _config(
            tmp_path,
            "{alerts_channel: C0ALERTS, response_type: ephemeral, allowed_users: [U0ALICE], "
            "allowed_user_groups: [S0ONCALL], allowed_channels: [C0OPS]}",
        )
    )
    slack = loaded.config.slack
    assert slack.response_type == "ephemeral"
    assert slack.allowed_users == ("U0ALICE",)
    assert slack.alerts_channel == "C0ALERTS"


def test_config_refuses_tokens_in_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(_config(tmp_path, "{bot_token: xoxb-leaked}"))
    assert "set the environment variable SLACK_BOT_TOKEN instead" in str(caught.value)
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        load_config(_config(tmp_path, "{signing_secret: abc}"))


def test_config_refuses_names_where_ids_are_needed(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(_config(tmp_path, "{allowed_users: ['@alice']}"))
    message = str(caught.value)
    assert "slack.allowed_users" in message
    assert "'@alice' is not a Slack id" in message
