"""``${VAR}`` and ``${VAR:-default}`` in config values, resolved from the environment.

``$${`` writes a literal ``${``. A variable that is unset and has no default is an error that
names the key it was needed for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from prodguardian.config.keypath import format_key_path

_REFERENCE = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{([^}]*)\}?")


class MissingVariableError(ValueError):
    """An environment variable a config value needs is not set."""

    def __init__(self, variable: str, key: str) -> None:
        self.variable = variable
        self.key = key
        super().__init__(
            f"environment variable {variable} is not set "
            f"(export it, or give a default: ${{{variable}:-value}})"
        )


class BadReferenceError(ValueError):
    """A ``${...}`` that is not a valid reference."""

    def __init__(self, text: str, key: str) -> None:
        self.key = key
        super().__init__(
            f"{text!r} is not a valid reference; write ${{NAME}} or ${{NAME:-default}} "
            "(NAME: letters, digits, underscore), or $${ for a literal ${"
        )


ReferenceProblem = MissingVariableError | BadReferenceError


def interpolate(value: Any, env: Mapping[str, str], path: tuple[str | int, ...] = ()) -> Any:
    """A copy of a parsed YAML tree with every ``${VAR}`` in its strings resolved.

    Raises the first :class:`MissingVariableError` or :class:`BadReferenceError`.
    """
    resolved, problems = interpolate_all(value, env, path)
    if problems:
        raise problems[0]
    return resolved


def interpolate_all(
    value: Any, env: Mapping[str, str], path: tuple[str | int, ...] = ()
) -> tuple[Any, list[ReferenceProblem]]:
    """:func:`interpolate`, collecting every problem instead of stopping at the first; a string
    with a problem is kept as written."""
    problems: list[ReferenceProblem] = []
    return _walk(value, env, path, problems), problems


def _walk(
    value: Any, env: Mapping[str, str], path: tuple[str | int, ...], problems: list[Any]
) -> Any:
    if isinstance(value, str):
        try:
            return _interpolate_text(value, env, path)
        except (MissingVariableError, BadReferenceError) as exc:
            problems.append(exc)
            return value
    if isinstance(value, dict):
        return {k: _walk(v, env, (*path, str(k)), problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, env, (*path, i), problems) for i, v in enumerate(value)]
    return value


def _interpolate_text(text: str, env: Mapping[str, str], path: tuple[str | int, ...]) -> str:
    if "$" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        whole = match.group(0)
        if whole == "$${":
            return "${"
        name, default, bad = match.group(1), match.group(2), match.group(3)
        if name is None:
            raise BadReferenceError(whole if bad is None else f"${{{bad}}}", format_key_path(path))
        if name in env:
            return env[name]
        if default is not None:
            return default
        raise MissingVariableError(name, format_key_path(path))

    return _REFERENCE.sub(replace, text)
