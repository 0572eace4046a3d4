"""``prodguardian serve`` as a user runs it: a real process on 127.0.0.1, port 0."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.server.harness import write_config
from tests.support.response_url_sink import ResponseUrlSink
from tests.support.serve_process import start_serve as start
from tests.support.slack_standin import BOT_TOKEN, SIGNING_SECRET, SlackStandIn, sign
from tests.support.slack_standin import slash_command_form as form


@pytest.fixture
async def env(standin: SlackStandIn) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": standin.url,
    }


async def test_serve_answers_a_signed_command_and_stops_on_sigterm(
    tmp_path: Path, target: str, env: dict[str, str], sink: ResponseUrlSink
) -> None:
    process, url = await start(write_config(tmp_path, target), env)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{url}/healthz") as resp:
                assert resp.status == 200
            body = form("api-health", response_url=sink.url_for("cli"))
            async with http.post(f"{url}/slack/events", data=body, headers=sign(body)) as resp:
                assert resp.status == 200
        [delivery] = await sink.wait_for("cli", timeout_s=20)
        assert delivery.text.startswith("🟢 OK — emergence-app")
    finally:
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 30)
    assert process.stdout is not None
    logged = [json.loads(line) for line in (await process.stdout.read()).decode().splitlines()]
    # Logs are Cloud Logging entries on stdout; uvicorn shuts down gracefully, then re-raises
    # the signal it caught (exit by SIGTERM).
    assert {"severity": "INFO", "message": "Application shutdown complete."}.items() <= next(
        e for e in logged if "shutdown complete" in e["message"]
    ).items()
    assert code in (0, -signal.SIGTERM)


async def test_serve_without_secrets_says_which_variables_to_set(
    tmp_path: Path, target: str
) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "prodguardian.cli",
        "serve",
        "-c",
        str(write_config(tmp_path, target)),
        "--port",
        "0",
        env={k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 3
    message = err.decode()
    assert "SLACK_BOT_TOKEN" in message
    assert "SLACK_SIGNING_SECRET" in message


async def test_serve_with_a_bad_config_exits_3(tmp_path: Path, env: dict[str, str]) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("slack: {bot_token: xoxb-1}\nchecks: [{name: a, kind: http, url: x}]\n")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "prodguardian.cli",
        "serve",
        "-c",
        str(config),
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 3
    assert "set the environment variable SLACK_BOT_TOKEN instead" in err.decode()
