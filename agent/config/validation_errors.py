"""Pydantic validation errors turned into lines a user can act on.

Each line names the key path and what is wrong; an unknown key comes with the closest known
one (``unknown key 'timout' (did you mean 'timeout'?)``).
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Iterable, Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from prodguardian.config.keypath import format_key_path

Loc = tuple[str | int, ...]


def describe_validation_error(
    error: ValidationError,
    *,
    model: type[BaseModel],
    prefix: Loc = (),
    extra_known: Iterable[str] = (),
) -> list[tuple[str, str]]:
    """``(key path, message)`` for each problem in ``error``, raised validating ``model``."""
    problems: list[tuple[str, str]] = []
    for item in error.errors(include_url=False):
        loc: Loc = tuple(item["loc"])
        kind = item["type"]
        if kind == "extra_forbidden":
            key = str(loc[-1]) if loc else "?"
            known = _known_keys(model, loc[:-1])
            if known is not None and not loc[:-1]:
                known |= set(extra_known)
            message = f"unknown key {key!r}{_suggestion(key, known)}"
        elif kind == "missing":
            message = "required key is missing"
        else:
            message = str(item["msg"]).removeprefix("Value error, ")
            if "input" in item and not isinstance(item["input"], dict | list):
                message += f" (got {item['input']!r})"
        problems.append((format_key_path((*prefix, *loc)) or "(top level)", message))
    return problems


def _suggestion(key: str, known: set[str] | None) -> str:
    if not known:
        return ""
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f"; known keys: {', '.join(sorted(known))}"


def _known_keys(model: type[BaseModel], loc: Sequence[str | int]) -> set[str] | None:
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, int):
            args = get_args(current)
            if not args:
                return None
            current = args[0]
        elif isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part)
            if field is None:
                return None
            current = field.annotation
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        else:
            return None
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return {f.alias or name for name, f in current.model_fields.items()}
    return None


def _unwrap(tp: Any) -> Any:
    origin = get_origin(tp)
    if origin is Annotated:
        return _unwrap(get_args(tp)[0])
    if origin is Union or origin is types.UnionType:
        members = [a for a in get_args(tp) if a is not type(None)]
        for member in members:
            inner = _unwrap(member)
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner
        return _unwrap(members[0]) if len(members) == 1 else tp
    return tp
