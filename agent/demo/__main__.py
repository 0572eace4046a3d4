"""``make demo``: check the stand-in service healthy, then with its database marked down."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

from rich.console import Console
from rich.rule import Rule

from prodguardian.demo.target import RunningTarget

DEFAULT_CONFIG = Path("config/demo.yaml")


def _set_state(url: str, **state: object) -> None:
    request = urllib.request.Request(
        f"{url}/_demo/state",
        data=json.dumps(state).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        response.read()


def _check(config: Path, env: dict[str, str]) -> int:
    command = [sys.executable, "-m", "prodguardian.cli", "check", "-c", str(config)]
    return subprocess.run(command, env=env, check=False).returncode


def main() -> int:
    config = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CONFIG
    console = Console()
    with RunningTarget() as target:
        env = {**os.environ, "DEMO_TARGET_URL": target.url}
        console.print(Rule(f"1. A healthy service at {target.url}"))
        healthy = _check(config, env)
        console.print(f"exit code {healthy} (0 = OK)\n")

        _set_state(target.url, db="down")
        console.print(Rule("2. The same service with its database marked down"))
        degraded = _check(config, env)
        console.print(f"exit code {degraded} (1 = DEGRADED, 2 = CRITICAL)\n")
    if healthy != 0 or degraded == 0:
        console.print("[red]the demo did not show what it should: see above[/]")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
