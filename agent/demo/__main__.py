"""``make demo``: ``python -m prodguardian.demo [--pace SECONDS] [-c CONFIG]``.

The same as ``prodguardian demo`` (see :mod:`prodguardian.cli_demo`).
"""

from __future__ import annotations

import sys

import click

from prodguardian.cli_demo import demo
from prodguardian.demo.traffic import send_traffic

__all__ = ["main", "send_traffic"]


def main(argv: list[str] | None = None) -> int:
    try:
        result = demo.main(argv, prog_name="python -m prodguardian.demo", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
