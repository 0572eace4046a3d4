"""The demo stand-in, and `make demo`'s script end to end."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from prodguardian.demo.__main__ import send_traffic
from prodguardian.demo.target import RunningTarget

ROOT = Path(__file__).parents[2]


def post_state(url: str, body: bytes) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(
        f"{url}/_demo/state",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def test_the_stand_in_flips_state_over_http() -> None:
    with RunningTarget() as target:
        assert post_state(target.url, b'{"db": "down"}') == (
            200,
            {"db": "down", "slow_ms": 0, "revision": "emergence-app-00042-dem"},
        )
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"{target.url}/ready", timeout=5)
        assert caught.value.code == 503
        assert json.load(caught.value) == {"ok": False, "db": "down", "vector": "ready"}


def test_the_stand_in_refuses_a_bad_state_change() -> None:
    with RunningTarget() as target:
        status, _ = post_state(target.url, b'{"db": "sideways"}')
        assert status == 422
        assert target.state.db_up


def test_the_stand_in_logs_like_cloud_run(tmp_path: Path) -> None:
    log_path = tmp_path / "service.jsonl"
    with RunningTarget(log_path=log_path) as target:
        send_traffic(target.url, requests=4)
        target.state.db_up = False
        send_traffic(target.url, requests=4)
    entries = [json.loads(line) for line in log_path.read_text().splitlines()]
    statuses = [e["httpRequest"]["status"] for e in entries if "httpRequest" in e]
    assert statuses == [200, 200, 200, 200, 500, 200, 200, 200]
    [failure] = [e for e in entries if "textPayload" in e]
    assert failure["severity"] == "ERROR"
    assert failure["resource"]["labels"]["revision_name"] == "emergence-app-00042-dem"
    assert failure["textPayload"].endswith("RuntimeError: Database connection is not available.")


def test_the_demo_shows_healthy_then_broken_then_fixed() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "prodguardian.demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "exit code 0 (0 = OK)" in done.stdout
    assert "exit code 2 (1 = DEGRADED, 2 = CRITICAL)" in done.stdout
    assert "Database connection lost and never re-opened" in done.stdout
    assert "exit code 0: errors before the deploy" in done.stdout
