"""Figures Cloud Run writes into its resource-limit messages, read from a log line's text."""

from __future__ import annotations

import re

_MEMORY = re.compile(
    r"Memory limit of (\d+(?:\.\d+)?) ?([MG])i?B? exceeded with (\d+(?:\.\d+)?) ?([MG])i?B? used",
    re.IGNORECASE,
)
#: How much of a text is searched (the figures sit near the start).
SCAN_CHARS = 4096


def memory_usage(text: str) -> tuple[float, float] | None:
    """``(limit, peak)`` in MiB from ``Memory limit of 1024 MiB exceeded with 1062 MiB used``;
    with several such messages in ``text``, the highest of each."""
    if "xceeded" not in text and "XCEEDED" not in text:  # cheap: most lines are not these
        return None
    found = [
        (_mib(m.group(1), m.group(2)), _mib(m.group(3), m.group(4)))
        for m in _MEMORY.finditer(text[:SCAN_CHARS])
    ]
    if not found:
        return None
    return max(limit for limit, _ in found), max(peak for _, peak in found)


def _mib(number: str, unit: str) -> float:
    return float(number) * (1024 if unit.upper() == "G" else 1)
