"""Every line's timestamp and revision in a block of JSON lines, read without parsing a line.

C code does the per-byte work: a regex pass whose pattern eats the rest of its line (so it
matches at most once per line) collects one value per line, and counting the key proves that
no line holds it twice (a nested copy, which the exact path would not read). Anything short of
proof gives ``None``, and the caller reads the block line by line on the exact path.

The common case costs one regex pass for both labels: when the first, middle and last lines
agree on the text from the revision key to the timestamp key (a Cloud Run service writes the
same resource labels on every line), a pattern anchored on that text reads the timestamps, and
two counts prove that each line holds the text once with the only revision key of its line.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import NamedTuple

_STAMP_VALUE = rb'[ \t]*:[ \t]*"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d{1,9})?Z".*'
TIMESTAMP = re.compile(rb'"timestamp"' + _STAMP_VALUE)
REVISION = re.compile(rb'"revision_name"[ \t]*:[ \t]*"([^"\\\n]*)".*')
SERVICE = re.compile(rb'"service_name"[ \t]*:[ \t]*"([^"\\\n]*)".*')
_REVISION_KEY = re.compile(rb'"revision_name"[ \t]*:[ \t]*"([^"\\\n]*)"')
_TIMESTAMP_KEY = b'"timestamp"'
_MAX_SHARED = 4096


class Block(NamedTuple):
    """Whole lines ``data[start:end]`` (the last one ends with a newline), not copied out."""

    data: bytes
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class BlockLabels:
    """One timestamp (to the second, as ISO bytes) and one revision per line of a block."""

    stamps: list[bytes]
    revisions: list[bytes | None]
    single: bool
    """True when every line has the same revision (or none): ``revisions[0]``."""


def values(block: Block, pattern: re.Pattern[bytes], key: bytes, n: int) -> list[bytes] | None:
    """One value per line, or ``None`` when some line has the key twice, escaped or not at all.

    The pattern eats the rest of its line, so it matches at most once per line; ``key`` is a
    piece of every text the pattern matches, so counting it counts them all (and more).
    """
    data, start, end = block
    found = pattern.findall(data, start, end)
    if len(found) != n or data.count(key, start, end) != n:
        return None
    return found


def block_labels(block: Block, n: int) -> BlockLabels | None:
    """The timestamps and revisions of the ``n`` lines of ``block``, or ``None`` (no proof)."""
    data, start, end = block
    if data.find(b'"revision_name"', start, end) < 0:
        stamps = values(block, TIMESTAMP, b'"timestamp', n)
        return None if stamps is None else BlockLabels(stamps, [None] * n, single=True)
    one = _one_revision(block, n)
    if one is not None:
        return one
    stamps = values(block, TIMESTAMP, b'"timestamp', n)
    revisions = values(block, REVISION, b'"revision_name"', n)
    if stamps is None or revisions is None:
        return None
    return BlockLabels(stamps, list(revisions), single=False)


def _one_revision(block: Block, n: int) -> BlockLabels | None:
    """The labels when every line shares the text from its revision key to its timestamp key.

    The anchored pattern matches once in each of the ``n`` lines, so each holds the shared text;
    ``n`` timestamp keys in all leave each line the one inside it, and ``n`` revision keys in
    all leave each line the one inside it: its value is the shared one.
    """
    data, start, end = block
    shared = _shared_text(data, start, data.find(b"\n", start, end))
    if shared is None or not _in_line(data, shared, (start + end) // 2, start, end):
        return None
    if not _in_line(data, shared, end - 1, start, end):
        return None
    stamps = _anchored(shared).findall(data, start, end)
    if (
        len(stamps) != n
        or data.count(b'"timestamp', start, end) != n
        or data.count(b'"revision_name"', start, end) != n
    ):
        return None
    found = _REVISION_KEY.match(shared)
    assert found is not None  # _shared_text starts with such a match
    return BlockLabels(stamps, [bytes(found.group(1))] * n, single=True)


def _shared_text(data: bytes, start: int, stop: int) -> bytes | None:
    """From the revision key of the line ``data[start:stop]`` to its timestamp key, if in order."""
    found = _REVISION_KEY.search(data, start, stop)
    if found is None:
        return None
    stamp = data.find(_TIMESTAMP_KEY, found.end(), min(stop, found.end() + _MAX_SHARED))
    if stamp < 0:
        return None
    return data[found.start() : stamp + len(_TIMESTAMP_KEY)]


def _in_line(data: bytes, text: bytes, pos: int, start: int, end: int) -> bool:
    """True when the line around ``pos`` (inside ``data[start:end]``) contains ``text``."""
    line_start = max(data.rfind(b"\n", start, pos) + 1, start)
    line_end = data.find(b"\n", pos, end)
    return data.find(text, line_start, line_end) >= 0


@functools.lru_cache(maxsize=64)
def _anchored(shared: bytes) -> re.Pattern[bytes]:
    return re.compile(re.escape(shared) + _STAMP_VALUE)
