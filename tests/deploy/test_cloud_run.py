"""The Cloud Run deployment: the service's probes hit the app's routes, and the image's command
starts ``prodguardian serve`` on ``$PORT`` for every address.

Docker cannot run here, so the Dockerfile's ``CMD`` is run as Docker runs a shell-form command
(``/bin/sh -c``) against the installed ``prodguardian``, and the probes of ``service.yaml`` are
requested from the server it started.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from prodguardian.config import load_config
from tests.support.slack_standin import BOT_TOKEN, SIGNING_SECRET, SlackStandIn

ROOT = Path(__file__).parents[2]
SERVICE = ROOT / "deploy" / "cloud-run" / "service.yaml"
DOCKERFILE = ROOT / "Dockerfile"
SECRETS = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "PRODGUARDIAN_API_TOKEN")
STATE_URL = "PRODGUARDIAN_STATE_URL"


def service() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SERVICE.read_text(encoding="utf-8"))
    return loaded


def container() -> dict[str, Any]:
    (only,) = service()["spec"]["template"]["spec"]["containers"]
    return dict(only)


def dockerfile_cmd() -> str:
    """The last CMD of the Dockerfile, continuation lines joined."""
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    commands = re.findall(r"^CMD\s+(.+)$", text, flags=re.MULTILINE)
    assert commands, "the Dockerfile has no CMD"
    assert not re.search(r"^ENTRYPOINT\b", text, flags=re.MULTILINE)
    return str(commands[-1]).strip()


def test_the_probes_use_the_agents_health_routes_on_the_container_port() -> None:
    spec = container()
    port = spec["ports"][0]["containerPort"]
    assert spec["startupProbe"]["httpGet"] == {"path": "/healthz", "port": port}
    assert spec["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port}
    assert spec["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port}


def test_one_instance_always_runs_with_cpu_for_the_schedule() -> None:
    annotations = service()["spec"]["template"]["metadata"]["annotations"]
    assert annotations["autoscaling.knative.dev/minScale"] == "1"
    assert annotations["run.googleapis.com/cpu-throttling"] == "false"


def test_secrets_come_from_secret_manager_and_the_config_from_a_mounted_secret() -> None:
    spec = container()
    env = {e["name"]: e for e in spec["env"]}
    for name in (*SECRETS, STATE_URL):
        assert env[name]["valueFrom"]["secretKeyRef"]["key"] == "latest", name
        assert "value" not in env[name], name
    template = service()["spec"]["template"]["spec"]
    assert template["serviceAccountName"].startswith("prodguardian@")
    (mount,) = spec["volumeMounts"]
    (volume,) = template["volumes"]
    assert mount["name"] == volume["name"]
    (item,) = volume["secret"]["items"]
    assert env["PRODGUARDIAN_CONFIG"]["value"] == f"{mount['mountPath']}/{item['path']}"


def test_the_example_config_validates_and_reads_the_state_url_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = "postgresql+asyncpg://pg:secret@/prodguardian?host=/cloudsql/p:r:i"
    loaded = load_config(ROOT / "deploy" / "cloud-run" / "prodguardian.yaml", env={STATE_URL: url})
    assert loaded.config.state.url == url
    assert [c.name for c in loaded.checks] == ["api-health", "errors"]


def test_the_image_runs_serve_on_port_for_every_address() -> None:
    words = shlex.split(dockerfile_cmd())
    assert words[:3] == ["exec", "prodguardian", "serve"]
    assert words[words.index("--host") + 1] == "0.0.0.0"
    assert words[words.index("--port") + 1] == "${PORT:-8080}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def served(tmp_path: Path, standin: SlackStandIn) -> AsyncIterator[str]:
    """The Dockerfile's CMD, run as Docker would, with Cloud Run's PORT; yields its base URL."""
    config = tmp_path / "prodguardian.yaml"
    config.write_text(
        "monitoring: {enabled: false}\n"
        "checks:\n  - {name: api, kind: http, url: 'http://127.0.0.1:9/'}\n",
        encoding="utf-8",
    )
    port = free_port()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PORT": str(port),
        "PRODGUARDIAN_CONFIG": str(config),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": standin.url,
    }
    process = await asyncio.create_subprocess_exec(
        "/bin/sh",
        "-c",
        dockerfile_cmd(),
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_until_up(url, process)
        yield url
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()


async def _wait_until_up(url: str, process: asyncio.subprocess.Process) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            if process.returncode is not None:
                assert process.stderr is not None
                problem = (await process.stderr.read()).decode()
                raise AssertionError(f"serve exited with {process.returncode}: {problem}")
            try:
                async with http.get(f"{url}/healthz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("serve did not answer /healthz within a minute")


async def _status_once_settled(http: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    """The answer at ``url`` once it is 200, or the last one after a minute (a readiness
    probe is retried the same way: the store is migrated just after start-up)."""
    status, body = 0, ""
    for _ in range(600):
        async with http.get(url) as resp:
            status, body = resp.status, await resp.text()
        if status == 200:
            break
        await asyncio.sleep(0.1)
    return status, body


async def test_every_probe_of_the_service_answers_200_from_the_image_command(
    served: str,
) -> None:
    spec = container()
    async with aiohttp.ClientSession() as http:
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            path = spec[probe]["httpGet"]["path"]
            status, body = await _status_once_settled(http, f"{served}{path}")
            assert status == 200, f"{probe} {path}: {status} {body}"
        async with http.get(f"{served}/no-such-route") as resp:
            assert resp.status == 404
