"""The demo stand-in, and `make demo`'s story end to end (as a subprocess, as `make` runs it)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from prodguardian.demo.__main__ import send_traffic
from prodguardian.demo.clock import DemoClock
from prodguardian.demo.target import RunningTarget
from tests.support.slack_standin import BOT_TOKEN, SlackStandIn

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
            {
                "db": "down",
                "slow_ms": 0,
                "revision": "emergence-app-00042-dem",
                "reconnects": False,
            },
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


def test_the_hotfix_reconnects_and_says_so_at_the_demo_clock_time(tmp_path: Path) -> None:
    log_path = tmp_path / "service.jsonl"
    clock = DemoClock(datetime(2025, 10, 11, 12, 0, tzinfo=UTC))
    with RunningTarget(log_path=log_path, clock=clock.now) as target:
        post_state(target.url, b'{"reconnects": true, "db": "down"}')
        clock.advance(datetime(2025, 10, 12, 9, 30, tzinfo=UTC) - clock.now())
        send_traffic(target.url, requests=4)
    entries = [json.loads(line) for line in log_path.read_text().splitlines()]
    reconnected = [
        e for e in entries if e.get("textPayload") == "Database reconnected successfully"
    ]
    assert len(reconnected) == 1
    assert reconnected[0]["severity"] == "INFO"
    assert {e["timestamp"] for e in entries} == {"2025-10-12T09:30:00Z"}
    assert [e["httpRequest"]["status"] for e in entries if "httpRequest" in e] == [200] * 4


def demo_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    return {**env, "PRODGUARDIAN_DEMO_PACE": "0", "COLUMNS": "100", **extra}


def test_make_demo_tells_the_whole_incident() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "prodguardian.demo"],
        cwd=ROOT,
        env=demo_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    milestones = [
        "status OK",
        "the database connection is lost",
        "status DEGRADED",
        "🟡 DEGRADED — INC-1 · readiness",
        "Runbook: Database connection lost and never re-opened",
        "INC-1 acknowledged by @alice",
        "🚀 Deploy emergence-app-00043-fix marked by bob",
        "INC-1 resolved: readiness is OK again",
        "✅ F-1 verified: re-run every check, expect OK",
        "✅ F-4 verified: count 'Database reconnected successfully' < 5/h over",
        "🟢 OK — emergence-app · /check_prod status",
    ]
    positions = [out.find(m) for m in milestones]
    assert all(p >= 0 for p in positions), [m for m in milestones if m not in out]
    assert positions == sorted(positions), "the story is told out of order"
    # The +24 h verification counted the reconnections the stand-in logged through the day.
    assert "× 'Database reconnected successfully' in 1 d:" in out
    assert "/h (expected < 5/h)" in out
    # The WebSocket failures pushed the error rate past the team's 5 %, but not to critical.
    rate = float(out.split("entries are errors (")[1].split(" %")[0])
    assert 5 <= rate < 25
    # At the end the errors check is judged on the hotfix's entries alone.
    final = out[positions[-1] :]
    assert "0.00 %) since the" in final
    # The stand-in's spans reached the receiver: the latency check judged them, then and now.
    assert "🟡 latency · trace_latency — GET /api/sessions/{session_id}: errors" in out
    assert "🟢 latency · trace_latency — all within thresholds" in final
    assert "emergence-app-00043-fix" in final
    assert "Traceback" not in done.stderr


def test_ctrl_c_stops_the_demo_and_what_it_started() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "prodguardian.demo"],
        cwd=ROOT,
        env=demo_env(PRODGUARDIAN_DEMO_PACE="30"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        url = first.strip().rsplit(" ", 1)[-1]
        assert url.startswith("http://127.0.0.1:"), first
        urllib.request.urlopen(f"{url}/api/health", timeout=5).read()
        line = ""
        while not line.startswith("Status page: "):
            line = process.stdout.readline()
            assert line, "the demo ended before it served its status page"
        page = line.split()[2]
        with urllib.request.urlopen(page, timeout=10) as answer:
            assert "emergence-app" in answer.read().decode()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, out + err
    assert "demo stopped" in out
    assert "Traceback" not in err
    for stopped in (f"{url}/api/health", page):
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(stopped, timeout=2)
    children = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(process.pid)], capture_output=True, text=True
    )
    assert children.stdout.strip() == ""


async def test_with_a_slack_token_the_story_goes_to_slack(standin: SlackStandIn) -> None:
    env = demo_env(
        SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=standin.url, SLACK_ALERTS_CHANNEL="C0ALERTS"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "prodguardian.demo",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    out = stdout.decode()
    assert process.returncode == 0, out + stderr.decode()
    assert "look in #C0ALERTS" in out
    assert "╭─" not in out  # no terminal chat: the messages went to Slack
    messages = standin.channel_messages("C0ALERTS")
    [ack] = [m for m in messages if "acknowledged by" in m.text]
    [alert] = [m for m in messages if m.ts == ack.thread_ts]
    assert alert.thread_ts is None
    assert "INC-1 · readiness · resolved" in json.dumps(alert.blocks, ensure_ascii=False)
    assert alert.edits >= 2  # acknowledged, then resolved
    thread = [m.text for m in messages if m.thread_ts == alert.ts]
    assert any("INC-1* resolved" in t for t in thread)
    assert any(t.startswith("✅ F-1") for t in thread)
    assert any(t.startswith("✅ F-4") for t in thread)
    assert any(m.text.startswith("🚀 Deploy emergence-app-00043-fix") for m in messages)
