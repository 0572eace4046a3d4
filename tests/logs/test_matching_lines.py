"""The lines an RE2 pattern matches: the direct route equals a line-by-line reference."""

from __future__ import annotations

import random
from typing import Any

import pytest
import re2

from prodguardian.logs.sources.matching_lines import matching_lines, span_search

PATTERN = re2.compile(rb'"severity"[ \t]*:[ \t]*"(?:ERROR|WARNING)"|"status"[ \t]*:[ \t]*5\d\d\b|x')
PIECES = (
    b'"severity":"ERROR"',
    b'"severity" : "WARNING"',
    b'"severity":"INFO"',
    b'"status":503',
    b'"status":200',
    b'"status":5000',
    b"x",
    b"y",
    b'{"a":1}',
    b"",
)


class PublicOnly:
    """A pattern with only the public API, as another release of the library might be."""

    def __init__(self, pattern: Any) -> None:
        self._pattern = pattern

    def search(self, data: bytes, pos: int, endpos: int) -> Any:
        return self._pattern.search(data, pos, endpos)


def block(rng: random.Random) -> bytes:
    lines = [b",".join(rng.choice(PIECES) for _ in range(rng.randint(0, 5))) for _ in range(80)]
    return b"\n".join(lines) + b"\n"


def reference(data: bytes, start: int, end: int) -> dict[int, int]:
    found: dict[int, int] = {}
    pos = start
    for line in data[start:end].split(b"\n")[:-1]:
        if PATTERN.search(line) is not None:
            found[pos] = pos + len(line)
        pos += len(line) + 1
    return found


@pytest.mark.parametrize("seed", range(40))
def test_direct_and_public_routes_find_the_same_lines(seed: int) -> None:
    rng = random.Random(seed)
    prefix, data = b"junk\n" * rng.randint(0, 3), block(rng)
    whole = prefix + data + b"cut line"
    start, end = len(prefix), len(prefix) + len(data)
    expected = reference(whole, start, end)
    assert matching_lines(PATTERN, whole, start, end) == expected
    assert matching_lines(PublicOnly(PATTERN), whole, start, end) == expected
    assert list(expected) == sorted(expected)


def test_the_search_answers_like_the_public_api() -> None:
    data = b'ab "status":504 cd x'
    direct, public = span_search(PATTERN), span_search(PublicOnly(PATTERN))
    for pos in range(len(data) + 1):
        assert direct(data, pos, len(data)) == public(data, pos, len(data))
    assert direct(b"nothing", 0, 7) == -1


def test_the_installed_library_takes_the_direct_route() -> None:
    # If a release drops the compiled regexp's span answer, scans stay right but get slower:
    # this says so.
    assert span_search(PATTERN).__name__ == "search"
