"""The lines of a block of text where a compiled RE2 pattern matches, found by C code.

google-re2's ``finditer`` and ``search`` build a Python match object (in Python) for every
hit, which cost as much as the search itself on a block with a few hundred wanted lines. The
compiled regexp inside answers a span directly; :func:`matching_lines` uses it when the
library has that shape, and the public ``search`` otherwise (same answer, slower). After a
hit the search moves on to the next line: a line is wanted once, whatever else it holds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import re2

Search = Callable[[bytes, int, int], int]
"""``(data, pos, endpos)`` → where the first match in ``data[pos:endpos]`` starts, or -1."""


def matching_lines(pattern: Any, data: bytes, start: int, end: int) -> dict[int, int]:
    """Lines of ``data[start:end]`` (whole lines, each ending with a newline) where
    ``pattern`` matches: line start → the position of its newline (or ``end``), in order."""
    search = span_search(pattern)
    found: dict[int, int] = {}
    while start < end:
        hit = search(data, start, end)
        if hit < 0:
            break
        line_start = max(data.rfind(b"\n", start, hit) + 1, start)
        stop = data.find(b"\n", hit, end)
        found[line_start] = stop = end if stop < 0 else stop
        start = stop + 1
    return found


def span_search(pattern: Any) -> Search:
    """A search function for ``pattern``, straight to the compiled regexp when possible."""
    match = getattr(getattr(pattern, "_regexp", None), "Match", None)
    anchor = getattr(getattr(re2, "_Anchor", None), "UNANCHORED", None)
    if match is None or anchor is None:
        return lambda data, pos, endpos: _public_search(pattern, data, pos, endpos)

    def search(data: bytes, pos: int, endpos: int) -> int:
        begin: int = match(anchor, data, pos, endpos)[0][0]
        return begin

    return search


def _public_search(pattern: Any, data: bytes, pos: int, endpos: int) -> int:
    found = pattern.search(data, pos, endpos)
    return -1 if found is None else int(found.start())
