"""Schedule and state settings that cannot work are refused up front: exit 3, naming the key."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from prodguardian.config import load_config
from prodguardian.errors import ConfigError
from tests.support.slack_standin import BOT_TOKEN, SIGNING_SECRET

CHECKS = """
checks:
  - {name: db-ready, kind: http, url: "http://127.0.0.1:9/ready"}
  - {name: api, kind: http, url: "http://127.0.0.1:9/api", depends_on: [db-ready]}
"""

SCHEDULE_ERRORS = {
    "interval under 1s": (
        "monitoring: {interval: 500ms}\n" + CHECKS,
        "monitoring.interval",
        "at least 1s",
    ),
    "a check's interval under 1s": (
        CHECKS + '  - {name: fast, kind: http, url: "http://127.0.0.1:9/x", interval: 0.5s}\n',
        "checks[2].interval",
        "at least 1s",
    ),
    "unknown depends_on": (
        CHECKS + '  - {name: web, kind: http, url: "http://127.0.0.1:9/w", depends_on: [dbb]}\n',
        "checks[2].depends_on[0]",
        "unknown check 'dbb'",
    ),
    "a dependency cycle": (
        CHECKS.replace("db-ready, kind: http,", "db-ready, kind: http, depends_on: [api],"),
        "depends_on",
        "dependency cycle",
    ),
    "an inverted maintenance window": (
        "maintenance:\n  - {start: '2026-05-01T10:00:00Z', end: '2026-05-01T09:00:00Z'}\n" + CHECKS,
        "maintenance[0].end",
        "before it starts",
    ),
    "overlapping maintenance windows": (
        "maintenance:\n"
        "  - {start: '2026-05-01T10:00:00Z', end: '2026-05-01T12:00:00Z'}\n"
        "  - {start: '2026-05-01T11:00:00Z', end: '2026-05-01T13:00:00Z', checks: [api]}\n"
        + CHECKS,
        "maintenance[1]",
        "overlaps maintenance[0]",
    ),
}

STATE_ERRORS = {
    "a bad scheme": ("mysql://user@127.0.0.1/prodguardian", "unsupported database 'mysql'"),
    "a missing folder": ("sqlite:///{tmp}/no/such/folder/state.db", "does not exist"),
    "no URL at all": ("not a url", "is not a database URL"),
}


def write(directory: Path, text: str) -> Path:
    path = directory / "prodguardian.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("case", SCHEDULE_ERRORS)
def test_schedule_errors_name_the_key(tmp_path: Path, case: str) -> None:
    text, key, message = SCHEDULE_ERRORS[case]
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, text))
    assert f"{key}" in str(raised.value)
    assert message in str(raised.value)


async def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "prodguardian.cli",
        *args,
        env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode()


async def test_config_validate_exits_3_on_a_dependency_cycle(tmp_path: Path) -> None:
    text, key, message = SCHEDULE_ERRORS["a dependency cycle"]
    code, out = await run("config", "validate", "-c", str(write(tmp_path, text)))
    assert code == 3, out
    assert key in out
    assert message in out


@pytest.mark.parametrize("case", STATE_ERRORS)
@pytest.mark.parametrize("command", ["validate", "serve"])
async def test_a_state_url_that_cannot_be_opened_exits_3(
    tmp_path: Path, case: str, command: str
) -> None:
    url, message = STATE_ERRORS[case]
    config = write(tmp_path, f"state: {{url: '{url.format(tmp=tmp_path)}'}}\n{CHECKS}")
    args = ("config", "validate") if command == "validate" else ("serve", "--port", "0")
    secrets = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET}
    code, out = await run(*args, "-c", str(config), env=secrets)
    assert code == 3, out
    assert "state.url" in out
    assert message in out
