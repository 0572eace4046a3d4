"""Durations in config: ``250ms``, ``5s``, ``2m``, ``1h30m``, ``7d``, or a number of seconds."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")


def parse_duration(value: object) -> float:
    """Seconds from a duration value; raises ValueError saying what is accepted."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 5s, 250ms, 2m or 1h, got a boolean")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().replace(" ", "")
        if not text or _PART.sub("", text):
            raise ValueError(f"expected a duration such as 5s, 250ms, 2m or 1h30m, got {value!r}")
        seconds = sum(float(n) * _UNITS[unit] for n, unit in _PART.findall(text))
    else:
        raise ValueError(f"expected a duration such as 5s, 250ms, 2m or 1h, got {value!r}")
    if seconds <= 0:
        raise ValueError(f"a duration must be positive, got {value!r}")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]
"""A positive duration in seconds, written as ``5s``/``250ms``/``1h`` or as a number."""
