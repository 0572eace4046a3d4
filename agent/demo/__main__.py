"""``make demo``: the stand-in service healthy, then its database down, then the hotfix deployed.

Each step sends the stand-in some traffic (it writes its logs as Cloud Run would) and runs
``prodguardian check`` against its probes and its logs, as a person would from a terminal.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from rich.console import Console
from rich.rule import Rule

from prodguardian.demo.target import RunningTarget

DEFAULT_CONFIG = Path("config/demo.yaml")
HOTFIX_REVISION = "emergence-app-00043-fix"
TRAFFIC = 40


def _post_state(url: str, **state: object) -> None:
    request = urllib.request.Request(
        f"{url}/_demo/state",
        data=json.dumps(state).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        response.read()


def send_traffic(url: str, requests: int = TRAFFIC) -> None:
    """What users do: mostly health and page loads, one in four a chat session load."""
    for i in range(requests):
        path = f"/api/sessions/{uuid.uuid4()}" if i % 4 == 0 else "/api/health"
        try:
            with urllib.request.urlopen(f"{url}{path}", timeout=5) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            exc.read()


def _check(config: Path, env: dict[str, str]) -> int:
    command = [sys.executable, "-m", "prodguardian.cli", "check", "-c", str(config)]
    return subprocess.run(command, env=env, check=False).returncode


def main() -> int:
    config = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CONFIG
    console = Console()
    with tempfile.TemporaryDirectory(prefix="prodguardian-demo-") as tmp:
        log_path = Path(tmp) / "emergence-app.jsonl"
        log_path.touch()
        with RunningTarget(log_path=log_path) as target:
            env = {**os.environ, "DEMO_TARGET_URL": target.url, "DEMO_LOG_FILE": str(log_path)}
            send_traffic(target.url)
            console.print(Rule(f"1. A healthy service at {target.url}"))
            healthy = _check(config, env)
            console.print(f"exit code {healthy} (0 = OK)\n")

            _post_state(target.url, db="down")
            send_traffic(target.url)
            console.print(Rule("2. Its database connection is lost"))
            broken = _check(config, env)
            console.print(f"exit code {broken} (1 = DEGRADED, 2 = CRITICAL)\n")

            _post_state(target.url, db="up", revision=HOTFIX_REVISION)
            send_traffic(target.url)
            console.print(Rule(f"3. The hotfix is deployed as {HOTFIX_REVISION}"))
            fixed = _check(config, env)
            console.print(
                f"exit code {fixed}: errors before the deploy are shown, not held against it\n"
            )
    if (healthy, fixed) != (0, 0) or broken == 0:
        console.print("[red]the demo did not show what it should: see above[/]")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
