"""Conditions on a JSON body: parsing ``components.database.status == "up"`` and judging it.

The language, small on purpose::

    condition := path [operator literal] | path "exists"
    path      := segment ( "." key | "[" index "]" | '["' quoted key '"]' )*
    segment   := key | "[" index "]" | '["' quoted key '"]'
    key       := letters (any script), digits, "_" and "-", not starting with a digit or "-"
    index     := an integer; negative counts from the end (items[-1] is the last item)
    operator  := "==" | "!=" | "<" | "<=" | ">" | ">="
    literal   := a JSON scalar: "a string", 12, 1.5, -3, true, false, null

A bare path, like ``path exists``, holds when the path is present (whatever its value, even
``false`` or ``null``); write ``ok == true`` to require a true value. ``==`` and ``!=`` compare
JSON values (``1 == 1.0``, but ``true != 1``); ordering operators compare two numbers or two
strings, anything else fails the condition and says why. A path missing from the body fails
the condition with the actual value ``missing``.
"""

from __future__ import annotations

import enum
import json
import math
import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "MISSING",
    "MISSING_TEXT",
    "Condition",
    "ConditionSyntaxError",
    "Evaluation",
    "Operator",
    "PathSegment",
    "evaluate",
    "format_json_value",
    "parse_condition",
]

#: The ``actual`` of a condition whose path is not in the body.
MISSING_TEXT = "missing"

PathSegment = str | int
"""A key of an object (``str``) or an index into a list (``int``)."""


class Operator(enum.StrEnum):
    """How a condition compares the value at its path with its literal."""

    EQ = "=="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    EXISTS = "exists"


class ConditionSyntaxError(ValueError):
    """A condition that does not parse; the message quotes it and says what to write."""

    def __init__(self, text: str, problem: str) -> None:
        self.text = text
        self.problem = problem
        super().__init__(
            f"malformed condition {text!r}: {problem}; write e.g. 'db == \"up\"', "
            "'items[0].count >= 1' or 'components.database exists'"
        )


@dataclass(frozen=True, slots=True)
class Condition:
    """A parsed condition. ``text`` is what the user wrote, kept for messages."""

    text: str
    path: tuple[PathSegment, ...]
    operator: Operator
    literal: Any = None


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Whether a condition held on a body, and what was found there (for the evidence).

    The texts are built only when read: a passing condition usually never shows them.
    """

    holds: bool
    condition: Condition
    value: Any
    """The value at the condition's path, or :data:`MISSING` when the path is absent."""
    comparable: bool = True

    @property
    def expected(self) -> str:
        """``== "up"`` or ``present``."""
        if self.condition.operator is Operator.EXISTS:
            return "present"
        return f"{self.condition.operator.value} {format_json_value(self.condition.literal)}"

    @property
    def actual(self) -> str:
        """The value found, as JSON, or ``missing``; says why when types cannot be ordered."""
        if self.value is MISSING:
            return MISSING_TEXT
        text = format_json_value(self.value)
        if not self.comparable:
            literal = _kind(self.condition.literal)
            text += f" ({_kind(self.value)}, not comparable with {literal})"
        return text


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""The value of a path that is not in the body."""


_KEY = re.compile(r"[^\W\d][\w-]*")
_INDEX = re.compile(r"\[\s*(-?\d+)\s*\]")
_QUOTED_KEY = re.compile(r'\[\s*("(?:[^"\\]|\\.)*")\s*\]')
_OPERATOR = re.compile(r"==|!=|<=|>=|<|>|exists\b")


def parse_condition(text: str) -> Condition:
    """Parse one condition; raise :class:`ConditionSyntaxError` naming what is wrong."""
    if not isinstance(text, str):
        raise ConditionSyntaxError(repr(text), "a condition must be a string")
    source = text.strip()
    if not source:
        raise ConditionSyntaxError(text, "it is empty")
    path, pos = _parse_path(text, source)
    rest = source[pos:].lstrip()
    if not rest:
        return Condition(text=source, path=path, operator=Operator.EXISTS)
    op_match = _OPERATOR.match(rest)
    if op_match is None:
        shown = _path_text(path)
        raise ConditionSyntaxError(
            text,
            f"expected an operator (==, !=, <, <=, >, >=, exists) after the path {shown!r}, "
            f"got {rest!r}",
        )
    operator = Operator(op_match.group(0))
    literal_text = rest[op_match.end() :].strip()
    if operator is Operator.EXISTS:
        if literal_text:
            raise ConditionSyntaxError(text, f"nothing may follow 'exists', got {literal_text!r}")
        return Condition(text=source, path=path, operator=operator)
    return Condition(
        text=source, path=path, operator=operator, literal=_parse_literal(text, literal_text)
    )


def _parse_path(text: str, source: str) -> tuple[tuple[PathSegment, ...], int]:
    segments: list[PathSegment] = []
    pos = 0
    while True:
        if segments and source.startswith(".", pos):
            key = _KEY.match(source, pos + 1)
            if key is None:
                raise ConditionSyntaxError(text, f"'.' at position {pos} must be followed by a key")
            segments.append(key.group(0))
            pos = key.end()
        elif source.startswith("[", pos):
            if (index := _INDEX.match(source, pos)) is not None:
                segments.append(int(index.group(1)))
                pos = index.end()
            elif (quoted := _QUOTED_KEY.match(source, pos)) is not None:
                segments.append(json.loads(quoted.group(1)))
                pos = quoted.end()
            else:
                raise ConditionSyntaxError(
                    text,
                    f"'[' at position {pos} must hold a list index like [0] "
                    'or a quoted key like ["my key"]',
                )
        elif not segments and (key := _KEY.match(source, pos)) is not None:
            segments.append(key.group(0))
            pos = key.end()
        elif not segments:
            raise ConditionSyntaxError(
                text,
                "it must start with a path such as db, components.database.status "
                "or items[0].status",
            )
        else:
            return tuple(segments), pos


def _parse_literal(text: str, literal_text: str) -> Any:
    if not literal_text:
        raise ConditionSyntaxError(text, 'the operator needs a value after it, e.g. "up" or 1')
    try:
        value = json.loads(literal_text)
    except ValueError:
        hint = ""
        if literal_text[:1] in "'" or _KEY.fullmatch(literal_text):
            hint = ' (strings need double quotes: "up")'
        raise ConditionSyntaxError(text, f"{literal_text!r} is not a JSON value{hint}") from None
    if isinstance(value, dict | list):
        raise ConditionSyntaxError(
            text, "the value must be a string, number, true, false or null, not an object or list"
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise ConditionSyntaxError(text, f"{literal_text!r} is not a finite number")
    return value


def _path_text(path: tuple[PathSegment, ...]) -> str:
    out = ""
    for seg in path:
        if isinstance(seg, int):
            out += f"[{seg}]"
        elif _KEY.fullmatch(seg):
            out += f".{seg}" if out else seg
        else:
            out += f"[{json.dumps(seg)}]"
    return out


def _resolve(body: Any, path: tuple[PathSegment, ...]) -> Any:
    value = body
    for seg in path:
        if isinstance(seg, int):
            if not isinstance(value, list) or not -len(value) <= seg < len(value):
                return MISSING
            value = value[seg]
        else:
            if not isinstance(value, dict) or seg not in value:
                return MISSING
            value = value[seg]
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _json_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a is b
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    if type(a) is not type(b):
        return False
    return bool(a == b)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if _is_number(value):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def format_json_value(value: Any, *, limit: int = 80) -> str:
    """A short JSON rendering of ``value`` for evidence, cut with ``…`` past ``limit``."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def evaluate(condition: Condition, body: Any) -> Evaluation:
    """Judge ``condition`` on a decoded JSON ``body``. Pure."""
    op = condition.operator
    value = _resolve(body, condition.path)
    if value is MISSING:
        return Evaluation(False, condition, value)
    if op is Operator.EXISTS:
        return Evaluation(True, condition, value)
    literal = condition.literal
    if op is Operator.EQ:
        return Evaluation(_json_equal(value, literal), condition, value)
    if op is Operator.NE:
        return Evaluation(not _json_equal(value, literal), condition, value)
    comparable = (_is_number(value) and _is_number(literal)) or (
        isinstance(value, str) and isinstance(literal, str)
    )
    if not comparable:
        return Evaluation(False, condition, value, comparable=False)
    if op is Operator.LT:
        holds = value < literal
    elif op is Operator.LE:
        holds = value <= literal
    elif op is Operator.GT:
        holds = value > literal
    else:
        holds = value >= literal
    return Evaluation(bool(holds), condition, value)
