"""The fast path's filter passes (each starting on a rare byte) mark every line that the
single whole-key pattern they replaced marked, and still pass over ordinary lines."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
import re2

from prodguardian.logs.classify import Classifier
from prodguardian.logs.entry import SEVERITY_ALIASES, Severity
from prodguardian.logs.query import Interest, LogQuery, LogWindow
from prodguardian.logs.sources.json_lines import _PIECE, _plan
from prodguardian.logs.sources.matching_lines import matching_lines

END = datetime(2025, 10, 11, 13, 0, tzinfo=UTC)
SEVERITIES = [s.name for s in Severity] + list(SEVERITY_ALIASES) + ["error", "Warn", " ERROR"]
VALUES = ['"0.2s"', "500", '"5"', "null", '{"a":1}', '"x"', '"\\u0045RROR"', "true"]
TEXTS = ["ok", " indented", "Traceback (most", "ValueError: x", "db.Timeout", "\\tfoo"]


def whole_key_pattern(interest: Interest) -> re2._Regexp:
    """The single pattern the passes replaced (from the previous version of the plan), less
    severity strings that start with a digit: no such string is a severity (tested below)."""
    assert interest.min_severity is not None
    names = [s.name.encode() for s in Severity if s >= interest.min_severity]
    names += [a.encode() for a, s in SEVERITY_ALIASES.items() if s >= interest.min_severity]
    minimum = interest.min_http_status
    codes = {c for c in range(100, 600) if minimum is not None and c >= minimum}
    codes |= set(interest.http_statuses)
    alternation = b"|".join(str(c).encode() for c in sorted(codes))
    return re2.compile(
        b"|".join(
            [
                rb'"severity"[ \t]*:[ \t]*"(?:' + b"|".join(names) + rb')"',
                rb'"severity"[ \t]*:[ \t]*(?:[^" \t]|"(?:[^A-Z"0-9]|[A-Z][^A-Z"]))',
                rb'"status"[ \t]*:[ \t]*"?(?:' + alternation + rb")\b",
                rb'"status"[ \t]*:[ \t]*"?[1-9][0-9]{3}',
                rb'"(?:textPayload|message)"[ \t]*:[ \t]*"' + _PIECE,
            ]
        )
    )


def random_line(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(1, 4)):
        key = rng.choice(["severity", "status", "latency", "textPayload", "message", "priority"])
        space = rng.choice(["", " "])
        if key == "severity" and rng.random() < 0.7:
            value = f'"{rng.choice(SEVERITIES)}"'
        elif key == "status" and rng.random() < 0.7:
            value = rng.choice(["", '"']) + str(rng.choice([200, 404, 429, 500, 503, 1000]))
        elif key in ("textPayload", "message"):
            value = f'"{rng.choice(TEXTS)}"'
        else:
            value = rng.choice(VALUES)
        parts.append(f'"{key}"{space}:{space}{value}')
    return "{" + ",".join(parts) + "}"


def query(interest: Interest) -> LogQuery:
    return LogQuery(window=LogWindow(start=END - timedelta(hours=1), end=END), interest=interest)


@pytest.mark.parametrize("seed", range(30))
def test_the_passes_mark_every_line_the_whole_key_pattern_marked(seed: int) -> None:
    rng = random.Random(seed)
    interest = rng.choice(
        [
            Classifier().interest(),
            Interest(min_severity=Severity.ERROR, min_http_status=500),
            Interest(min_severity=Severity.WARNING, http_statuses=frozenset({429})),
        ]
    )
    data = ("\n".join(random_line(rng) for _ in range(300)) + "\n").encode()
    marked: set[int] = set()
    for pattern in _plan(query(interest)).wanted:
        marked |= set(matching_lines(pattern, data, 0, len(data)))
    before = set(matching_lines(whole_key_pattern(interest), data, 0, len(data)))
    assert before <= marked


def test_ordinary_request_lines_are_not_marked() -> None:
    line = (
        b'{"severity":"INFO","httpRequest":{"status":200,"latency":"0.25s"},'
        b'"textPayload":"GET /api ok"}\n'
    )
    for pattern in _plan(query(Classifier().interest())).wanted:
        assert matching_lines(pattern, line * 3, 0, len(line) * 3) == {}


@pytest.mark.parametrize("value", ["0.2s", "500", "5", "9 ERROR", "1\tWARNING", "0x1F"])
def test_a_severity_string_starting_with_a_digit_is_no_severity(value: str) -> None:
    assert Severity.parse(value) is Severity.DEFAULT
    line = f'{{"severity":"{value}","textPayload":"x"}}\n'.encode()
    for pattern in _plan(query(Classifier().interest())).wanted:
        assert matching_lines(pattern, line, 0, len(line)) == {}
