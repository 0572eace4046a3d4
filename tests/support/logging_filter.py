"""Enough of the Cloud Logging filter language for the stand-in: parse, compile, select.

AND/OR/NOT (OR binds tighter, as in the real language), parentheses, ``= != > >= < <= =~ !~ :``
on dotted fields (timestamps and severities compare as such), and ``sample(FIELD, FRACTION)``,
a deterministic hash of the field below the fraction. A filter compiles to closures once, and
its top-level ``timestamp`` bounds come out apart so that the stand-in can bisect on them. A
bare regex is refused with the real API's "regular expressions must begin and end with '\"'".
"""

from __future__ import annotations

import hashlib
import json
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from prodguardian.logs.entry import Severity, parse_timestamp

Entry = Mapping[str, Any]


class UnparseableFilterError(ValueError):
    """The filter is not valid Logging query language (as far as the stand-in knows it)."""


_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<op>>=|<=|!=|=~|!~|=|>|<|:)|(?P<paren>[()])'
    r"|(?P<word>[^\s()=<>!:~\"]+))"
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise UnparseableFilterError(f"unexpected character at {pos}: {text[pos : pos + 20]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


class _Parser:
    """Recursive descent: ``and := or (AND? or)*``; ``or := unary (OR unary)*`` (OR binds
    tighter, as in the real language); ``unary := NOT unary | ( and ) | field op value``."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.i = 0

    def parse(self) -> Any:
        node = self._and()
        if self.i != len(self.tokens):
            raise UnparseableFilterError(f"unexpected {self.tokens[self.i][1]!r}")
        return node

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def _at(self, ahead: int) -> tuple[str, str] | None:
        i = self.i + ahead
        return self.tokens[i] if i < len(self.tokens) else None

    def _sample(self) -> Any:
        """``sample(FIELD, FRACTION)``: the tokenizer keeps the comma on the field's word."""
        self.i += 2
        words = []
        while (tok := self._peek()) is not None and tok != ("paren", ")"):
            words.append(tok[1])
            self.i += 1
        if self._peek() != ("paren", ")"):
            raise UnparseableFilterError("missing ')' after sample(")
        self.i += 1
        parts = [p.strip() for p in " ".join(words).split(",")]
        try:
            field, fraction = parts[0], float(parts[1])
        except (IndexError, ValueError):
            raise UnparseableFilterError("sample() takes a field and a fraction") from None
        if not 0.0 <= fraction <= 1.0:
            raise UnparseableFilterError("sample() fraction must be between 0 and 1")
        return ("sample", field, fraction)

    def _and(self) -> Any:
        nodes = [self._or()]
        while (tok := self._peek()) is not None and tok != ("paren", ")"):
            if tok == ("word", "AND"):
                self.i += 1
            nodes.append(self._or())
        return ("and", nodes)

    def _or(self) -> Any:
        nodes = [self._unary()]
        while self._peek() == ("word", "OR"):
            self.i += 1
            nodes.append(self._unary())
        return ("or", nodes)

    def _unary(self) -> Any:
        tok = self._peek()
        if tok is None:
            raise UnparseableFilterError("unexpected end of filter")
        if tok in (("word", "NOT"), ("op", "-")):
            self.i += 1
            return ("not", self._unary())
        if tok == ("word", "sample") and self._at(1) == ("paren", "("):
            return self._sample()
        if tok == ("paren", "("):
            self.i += 1
            node = self._and()
            if self._peek() != ("paren", ")"):
                raise UnparseableFilterError("missing ')'")
            self.i += 1
            return node
        if tok[0] != "word" or self.i + 2 > len(self.tokens):
            raise UnparseableFilterError(f"expected a field, got {tok[1]!r}")
        field = tok[1]
        op_tok = self.tokens[self.i + 1]
        if op_tok[0] != "op" or self.i + 2 >= len(self.tokens):
            raise UnparseableFilterError(f"expected an operator after {field!r}")
        kind, value = self.tokens[self.i + 2]
        self.i += 3
        op = op_tok[1]
        if op in ("=~", "!~") and kind != "str":
            raise UnparseableFilterError("regular expressions must begin and end with '\"'")
        if kind == "str":
            value = json.loads(value)
        elif kind != "word":
            raise UnparseableFilterError(f"expected a value after {field} {op}")
        return ("cmp", field, op, value)


def _lookup(entry: Entry, field: str) -> Any:
    value: Any = entry
    for part in field.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _compare(actual: Any, op: str, expected: str, field: str) -> bool:
    if actual is None:
        return op in ("!=", "!~")
    if op in ("=~", "!~"):
        found = re.search(expected, str(actual)) is not None
        return found if op == "=~" else not found
    if op == ":":
        return expected.lower() in str(actual).lower()
    left: Any
    right: Any
    if field == "severity":
        left, right = Severity.parse(actual), Severity.parse(expected)
    elif field.endswith("timestamp"):
        left, right = parse_timestamp(str(actual)), parse_timestamp(expected)
    elif isinstance(actual, int | float) and not isinstance(actual, bool):
        left, right = actual, float(expected)
    else:
        left, right = str(actual), expected
    outcome = {
        "=": left == right,
        "!=": left != right,
        ">": left > right,
        ">=": left >= right,
        "<": left < right,
        "<=": left <= right,
    }[op]
    return bool(outcome)


def _sampled(value: Any, fraction: float) -> bool:
    digest = hashlib.blake2b(str(value).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < fraction


def _compile(node: Any) -> Callable[[Entry], bool]:
    """The node as one closure, so a busy hour is filtered in seconds, not minutes."""
    kind = node[0]
    if kind in ("and", "or"):
        parts = [_compile(n) for n in node[1]]
        if len(parts) == 1:
            return parts[0]
        if kind == "and":
            # Plain loops: a generator per entry costs seconds over a busy hour.
            def all_of(e: Entry) -> bool:
                for part in parts:  # noqa: SIM110
                    if not part(e):
                        return False
                return True

            return all_of

        def any_of(e: Entry) -> bool:
            for part in parts:  # noqa: SIM110
                if part(e):
                    return True
            return False

        return any_of
    if kind == "not":
        inner = _compile(node[1])
        return lambda e: not inner(e)
    if kind == "sample":
        _, field, fraction = node
        return lambda e: _sampled(_lookup(e, field), fraction)
    _, field, op, value = node
    if op in ("=~", "!~"):
        pattern = re.compile(value)
        want = op == "=~"

        def regex(e: Entry) -> bool:
            actual = _lookup(e, field)
            if actual is None:
                return not want
            return (pattern.search(str(actual)) is not None) is want

        return regex
    fast = _fast_compare(field, op, value)
    if fast is not None:
        return fast
    return lambda e: _compare(_lookup(e, field), op, value, field)


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


def _fast_compare(field: str, op: str, value: str) -> Callable[[Entry], bool] | None:
    """Severity and numeric comparisons with their right side parsed once (busy hours)."""
    compare = _OPS.get(op)
    if compare is None:
        return None
    parts = field.split(".")
    if field == "severity":
        right = Severity.parse(value)
        return lambda e: compare(Severity.parse(e.get("severity")), right)
    try:
        number: float | None = float(value)
    except ValueError:
        number = None
    if number is None and op not in ("=", "!="):
        return None
    equal = op == "="

    def numeric(e: Entry) -> bool:
        actual: Any = e
        for part in parts:
            if type(actual) is not dict:
                return op == "!="
            actual = actual.get(part)
        if actual is None:
            return op == "!="
        if type(actual) is str and number is None:
            return (actual == value) is equal
        if number is not None and isinstance(actual, int | float) and not isinstance(actual, bool):
            return compare(actual, number)
        return _compare(actual, op, value, field)

    return numeric


def time_bounds(tree: Any) -> tuple[datetime | None, datetime | None, Any]:
    """Top-level ``timestamp >=``/``<=`` clauses as bounds, and the tree without them."""
    low = high = None
    rest = []
    for node in tree[1]:
        leaf = node[1][0] if node[0] == "or" and len(node[1]) == 1 else node
        if leaf[0] == "cmp" and leaf[1] == "timestamp" and leaf[2] in (">=", "<="):
            ts = parse_timestamp(leaf[3])
            if leaf[2] == ">=":
                low = ts if low is None else max(low, ts)
            else:
                high = ts if high is None else min(high, ts)
        else:
            rest.append(node)
    return low, high, ("and", rest)


def parse_filter(filter_text: str) -> Any:
    """The filter's tree (an empty filter selects everything)."""
    return _Parser(filter_text).parse() if filter_text.strip() else ("and", [])


def compile_filter(tree: Any) -> Callable[[Entry], bool]:
    """The tree as one predicate on an entry."""
    return _compile(tree)


def matching(entries: Sequence[Entry], filter_text: str) -> list[Entry]:
    """The entries the filter selects (raises :class:`UnparseableFilterError`)."""
    check = compile_filter(parse_filter(filter_text))
    return [e for e in entries if check(e)]
