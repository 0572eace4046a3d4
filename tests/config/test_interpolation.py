from __future__ import annotations

import pytest

from prodguardian.config.interpolation import (
    BadReferenceError,
    MissingVariableError,
    interpolate,
)


def test_variables_defaults_and_escapes_resolve_in_nested_values() -> None:
    tree = {
        "url": "${HOST}/api",
        "items": ["${PORT:-8080}", 3, None],
        "literal": "$${NOT_A_VAR}",
        "empty_default": "${UNSET:-}",
    }
    assert interpolate(tree, {"HOST": "http://x"}) == {
        "url": "http://x/api",
        "items": ["8080", 3, None],
        "literal": "${NOT_A_VAR}",
        "empty_default": "",
    }


def test_a_missing_variable_names_the_key_and_the_variable() -> None:
    with pytest.raises(MissingVariableError) as caught:
        interpolate({"checks": [{"url": "${TARGET}/x"}]}, {})
    assert caught.value.key == "checks[0].url"
    assert "TARGET" in str(caught.value)
    assert "${TARGET:-value}" in str(caught.value)


@pytest.mark.parametrize("text", ["${}", "${1BAD}", "${unterminated"])
def test_malformed_references_are_errors(text: str) -> None:
    with pytest.raises(BadReferenceError):
        interpolate({"a": text}, {})
