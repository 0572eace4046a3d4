"""The Slack app manifest declares what the code needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from prodguardian.server.app import SLACK_EVENTS_PATH
from prodguardian.slack.bolt_app import COMMAND

MANIFEST = Path(__file__).resolve().parents[2] / "config" / "slack-app-manifest.yaml"


def manifest() -> dict[str, Any]:
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_command_and_urls_match_the_server() -> None:
    data = manifest()
    [command] = data["features"]["slash_commands"]
    assert command["command"] == COMMAND
    assert command["url"].endswith(SLACK_EVENTS_PATH)
    interactivity = data["settings"]["interactivity"]
    assert interactivity["is_enabled"] is True
    assert interactivity["request_url"].endswith(SLACK_EVENTS_PATH)


def test_scopes_cover_the_calls_the_bot_makes() -> None:
    scopes = set(manifest()["oauth_config"]["scopes"]["bot"])
    assert scopes == {
        "commands",
        "chat:write",
        "usergroups:read",
        "channels:history",
        "groups:history",
    }
