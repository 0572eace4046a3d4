"""``prodguardian`` run as a real process, as a person runs it from a terminal."""

from __future__ import annotations

import subprocess
import sys


def prodguardian(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m prodguardian.cli ARGS``; its exit code, stdout and stderr."""
    return subprocess.run(
        [sys.executable, "-m", "prodguardian.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
