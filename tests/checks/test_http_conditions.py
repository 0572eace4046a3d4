"""The JSON condition language: parsing, every operator, and the errors a user sees."""

from __future__ import annotations

from typing import Any

import pytest

from prodguardian.checks.http_conditions import (
    MISSING_TEXT,
    ConditionSyntaxError,
    Operator,
    evaluate,
    format_json_value,
    parse_condition,
)

BODY: dict[str, Any] = {
    "ok": True,
    "db": "up",
    "count": 3,
    "ratio": 0.25,
    "none": None,
    "flag": False,
    "components": {"database": {"status": "up"}},
    "items": [{"status": "up"}, {"status": "down", "tags": ["a", "b"]}],
    "odd key": {"x-y": 1},
}


@pytest.mark.parametrize(
    ("text", "path", "operator", "literal"),
    [
        ('db == "up"', ("db",), Operator.EQ, "up"),
        (
            'components.database.status=="up"',
            ("components", "database", "status"),
            Operator.EQ,
            "up",
        ),
        ("items[0].status != null", ("items", 0, "status"), Operator.NE, None),
        ("items[-1].tags[1] exists", ("items", -1, "tags", 1), Operator.EXISTS, None),
        ("count < 5", ("count",), Operator.LT, 5),
        ("count <= 3", ("count",), Operator.LE, 3),
        ("ratio > -0.5", ("ratio",), Operator.GT, -0.5),
        ("ratio >= 1e-3", ("ratio",), Operator.GE, 0.001),
        ("ok", ("ok",), Operator.EXISTS, None),
        ('["odd key"]["x-y"] == 1', ("odd key", "x-y"), Operator.EQ, 1),
        ("[0].status exists", (0, "status"), Operator.EXISTS, None),
        ('  db   ==   "a == b"  ', ("db",), Operator.EQ, "a == b"),
        ("flag == false", ("flag",), Operator.EQ, False),
        ('db-status == "up"', ("db-status",), Operator.EQ, "up"),
        ('état.base == "prête"', ("état", "base"), Operator.EQ, "prête"),
    ],
)
def test_parse(text: str, path: tuple[Any, ...], operator: Operator, literal: Any) -> None:
    condition = parse_condition(text)
    assert condition.path == path
    assert condition.operator is operator
    assert condition.literal == literal
    assert type(condition.literal) is type(literal)
    assert condition.text == text.strip()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "it is empty"),
        ('db = "up"', "expected an operator (==, !=, <, <=, >, >=, exists) after the path 'db'"),
        ("db == up", "'up' is not a JSON value (strings need double quotes"),
        ("db == 'up'", "is not a JSON value (strings need double quotes"),
        ("db ==", "the operator needs a value after it"),
        (".db", "it must start with a path"),
        ("a..b", "'.' at position 1 must be followed by a key"),
        ("items[x]", "'[' at position 5 must hold a list index"),
        ("a == [1]", "not an object or list"),
        ("a exists 1", "nothing may follow 'exists'"),
        ("a == NaN", "is not a finite number"),
        ('== "up"', "it must start with a path"),
    ],
)
def test_malformed_conditions_say_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(ConditionSyntaxError) as caught:
        parse_condition(text)
    assert problem in str(caught.value)
    assert repr(text) in str(caught.value)


@pytest.mark.parametrize(
    ("text", "holds", "actual"),
    [
        ('db == "up"', True, '"up"'),
        ('db == "down"', False, '"up"'),
        ('db != "down"', True, '"up"'),
        ('db != "up"', False, '"up"'),
        ("count == 3.0", True, "3"),
        ("ok == 1", False, "true"),
        ("count == true", False, "3"),
        ("none == null", True, "null"),
        ("flag == false", True, "false"),
        ("count < 4", True, "3"),
        ("count < 3", False, "3"),
        ("count <= 3", True, "3"),
        ("count > 3", False, "3"),
        ("count >= 3", True, "3"),
        ("ratio > 0.2", True, "0.25"),
        ('db < "z"', True, '"up"'),
        ('db >= "v"', False, '"up"'),
        ("items[1].status exists", True, '"down"'),
        ("items[-1].tags[0]", True, '"a"'),
        ("none exists", True, "null"),
        ("flag", True, "false"),
        ('components.database.status == "up"', True, '"up"'),
        ('["odd key"]["x-y"] >= 1', True, "1"),
    ],
)
def test_evaluate(text: str, holds: bool, actual: str) -> None:
    result = evaluate(parse_condition(text), BODY)
    assert result.holds is holds
    assert result.actual == actual


@pytest.mark.parametrize(
    "text",
    [
        'missing == "up"',
        "components.cache.status exists",
        "items[2].status exists",
        "items[-3] exists",
        "db.sub exists",
        "items.status exists",
        "components[0] exists",
    ],
)
def test_missing_paths_fail_with_actual_missing(text: str) -> None:
    result = evaluate(parse_condition(text), BODY)
    assert result.holds is False
    assert result.actual == MISSING_TEXT


@pytest.mark.parametrize(
    ("text", "actual"),
    [
        ('count > "2"', "3 (a number, not comparable with a string)"),
        ("db < 5", '"up" (a string, not comparable with a number)'),
        ("ok < 5", "true (a boolean, not comparable with a number)"),
        ("none > 0", "null (null, not comparable with a number)"),
        (
            "components > 0",
            '{"database": {"status": "up"}} (an object, not comparable with a number)',
        ),
        ("items[1].tags > 0", '["a", "b"] (a list, not comparable with a number)'),
    ],
)
def test_ordering_needs_comparable_types(text: str, actual: str) -> None:
    result = evaluate(parse_condition(text), BODY)
    assert result.holds is False
    assert result.actual == actual


def test_expected_text() -> None:
    assert evaluate(parse_condition('db == "x"'), BODY).expected == '== "x"'
    assert evaluate(parse_condition("a exists"), BODY).expected == "present"


def test_top_level_list_body() -> None:
    assert evaluate(parse_condition('[0].status == "up"'), [{"status": "up"}]).holds
    assert not evaluate(parse_condition("db exists"), [1, 2]).holds


def test_format_json_value_is_short() -> None:
    assert format_json_value("x" * 500).endswith("…")
    assert len(format_json_value("x" * 500)) == 80
    assert format_json_value({"b": 1, "a": "é"}) == '{"a": "é", "b": 1}'
