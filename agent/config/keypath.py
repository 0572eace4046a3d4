"""Key paths as users read them in errors: ``checks[2].expect.status``."""

from __future__ import annotations

from collections.abc import Iterable


def format_key_path(path: Iterable[str | int]) -> str:
    """``("checks", 2, "url")`` → ``checks[2].url``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
