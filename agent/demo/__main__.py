"""``make demo``: ``python -m prodguardian.demo [CONFIG]`` (see :mod:`prodguardian.demo.run`).

``PRODGUARDIAN_DEMO_PACE`` sets the wall seconds between the story's beats (default 1.5).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from rich.console import Console

from prodguardian.demo.run import DEFAULT_CONFIG, DEFAULT_PACE_S, run_demo
from prodguardian.demo.traffic import send_traffic

__all__ = ["main", "send_traffic"]


def main() -> int:
    # The story narrates what the watch loop's logs would say.
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    config = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CONFIG
    pace = float(os.environ.get("PRODGUARDIAN_DEMO_PACE") or DEFAULT_PACE_S)
    return run_demo(config, pace_s=pace, console=Console())


if __name__ == "__main__":
    sys.exit(main())
