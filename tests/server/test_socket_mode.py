"""Socket Mode: the same commands, delivered over a WebSocket by the stand-in."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import aiohttp
import pytest

from prodguardian.config import load_config
from prodguardian.server import create_app, running_server
from prodguardian.server.run import ServerStartError
from prodguardian.slack.errors import SlackSettingsError
from prodguardian.slack.runtime import SlackRuntime
from prodguardian.slack.settings import SlackSettings
from tests.server.harness import write_config
from tests.support.response_url_sink import ResponseUrlSink
from tests.support.slack_standin import APP_TOKEN, BOT_TOKEN, SlackStandIn, slash_command_form


def runtime(config: Path, standin: SlackStandIn, *, app_token: str = APP_TOKEN) -> SlackRuntime:
    settings = SlackSettings.from_env(
        {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": app_token, "SLACK_API_URL": standin.url},
        socket_mode=True,
    )
    return SlackRuntime(load_config(config), settings, socket_mode=True)


async def test_slash_command_over_socket_mode(
    tmp_path: Path, target: str, standin: SlackStandIn, sink: ResponseUrlSink
) -> None:
    app = create_app(runtime(write_config(tmp_path, target), standin))
    async with running_server(app) as url, aiohttp.ClientSession() as http:
        form = slash_command_form("api-health", response_url=sink.url_for("sm"))
        payload = dict(urllib.parse.parse_qsl(form.decode()))
        ack = await standin.send_envelope("slash_commands", payload)
        assert "Checking `api-health`" in ack["payload"]["blocks"][0]["text"]["text"]
        [delivery] = await sink.wait_for("sm", timeout_s=15)
        assert delivery.text.startswith("🟢 OK — emergence-app")
        # No HTTP endpoint for Slack in Socket Mode: nothing to sign, nothing to forge.
        async with http.post(f"{url}/slack/events", data=form) as resp:
            assert resp.status in (404, 405)
        async with http.get(f"{url}/readyz") as resp:
            assert (await resp.json())["slack"] == "socket mode"
    opens = standin.calls_to("apps.connections.open")
    assert opens
    assert all(c.token == APP_TOKEN for c in opens)


async def test_wrong_app_token_stops_start_up_with_a_clear_error(
    tmp_path: Path, target: str, standin: SlackStandIn
) -> None:
    wrong = runtime(write_config(tmp_path, target), standin, app_token="xapp-wrong")
    with pytest.raises(SlackSettingsError, match=r"invalid_auth\); check SLACK_APP_TOKEN"):
        await wrong.preflight()
    # Started anyway, the app's start-up fails and the server says so (nothing hangs).
    with pytest.raises(ServerStartError):
        async with running_server(create_app(wrong)):
            pass
