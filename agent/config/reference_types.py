"""How a config field's type and default read in the configuration reference.

A type reads as the YAML a user writes (``list of string``, ``duration``), not as Python
(``tuple[str, ...]``, ``float``); a default reads as YAML too (``1h``, ``[]``, ``null``).
"""

from __future__ import annotations

import enum
import json
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import AnyHttpUrl, AnyUrl, BaseModel, BeforeValidator, PlainSerializer, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from prodguardian.checks.http_params import parse_byte_size
from prodguardian.config.duration import parse_duration
from prodguardian.runbooks.model import format_offset, parse_offset
from prodguardian.traces.model import window_text

#: Types known by the function that parses them; each has a paragraph in the reference's intro.
_NAMED_BY_PARSER: dict[Callable[..., Any], str] = {
    parse_duration: "duration",
    parse_byte_size: "size",
    parse_offset: "offset",
}

_SCALARS: dict[Any, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    datetime: "date-time",
    Path: "path",
    SecretStr: "secret",
    AnyUrl: "URL",
    AnyHttpUrl: "URL",
    Any: "any",
}


@dataclass(frozen=True)
class Nested:
    """A model a field holds, to document in its own section at ``path``."""

    path: str
    model: type[BaseModel]


@dataclass(frozen=True)
class TypeText:
    """A field's type as it reads, and the models it holds."""

    text: str
    nested: tuple[Nested, ...] = ()


def describe_type(annotation: Any, metadata: Sequence[Any], path: str) -> TypeText:
    """``annotation`` (with pydantic's ``metadata``) as it reads for a field at ``path``."""
    base, extra = _unwrap(annotation)
    metadata = [*metadata, *extra]
    named = _named(metadata)
    if named is not None:
        return TypeText(named + _constraints(metadata, named))
    described = _describe(
        base, path, inline=_serialised_as_other(metadata), narrowed=_narrowed(metadata)
    )
    return TypeText(described.text + _constraints(metadata, described.text), described.nested)


def _describe(tp: Any, path: str, *, inline: bool = False, narrowed: bool = False) -> TypeText:
    tp, metadata = _unwrap(tp)
    named = _named(metadata)
    if named is not None:
        return TypeText(named)
    inline = inline or _serialised_as_other(metadata)
    narrowed = narrowed or _narrowed(metadata)
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        parts = [_describe(arg, path) for arg in get_args(tp) if arg is not type(None)]
        return TypeText(
            " or ".join(p.text for p in parts), tuple(n for p in parts for n in p.nested)
        )
    if origin is Literal:
        return TypeText("one of " + ", ".join(f"`{v}`" for v in get_args(tp)))
    if origin is tuple and Ellipsis not in get_args(tp):
        return TypeText("[" + ", ".join(_describe(a, path).text for a in get_args(tp)) + "]")
    if origin in (list, tuple, set, frozenset):
        args = get_args(tp)
        item = _describe(args[0], path + "[]") if args else TypeText("any")
        return TypeText("list of " + _plural(item.text), item.nested)
    if origin is dict:
        _, value = get_args(tp) or (str, Any)
        item = _describe(value, path + ".<name>")
        return TypeText("map of name to " + item.text, item.nested)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        if inline or tp.__pydantic_decorators__.model_serializers:
            return TypeText(_words(tp.__name__))
        return TypeText("object", (Nested(path, tp),))
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        if narrowed:  # a validator accepts only some members: the field's docstring says which
            return TypeText("string")
        return TypeText("one of " + ", ".join(f"`{m.value}`" for m in tp))
    return TypeText(_SCALARS.get(tp, getattr(tp, "__name__", str(tp))))


def describe_default(info: FieldInfo) -> str:
    """The default of a field as YAML, or ``required``."""
    if info.is_required():
        return "required"
    value = info.default
    if value is PydanticUndefined and info.default_factory is not None:
        value = info.default_factory()  # type: ignore[call-arg]
    named = _named(info.metadata)
    if named == "duration" and isinstance(value, int | float):
        return f"`{window_text(float(value))}`"
    if named == "size" and isinstance(value, int):
        return f"`{_size_text(value)}`"
    if isinstance(value, timedelta):
        return f"`{format_offset(value)}`"
    if isinstance(value, BaseModel) and not type(value).__pydantic_decorators__.model_serializers:
        return "see below"
    return f"`{_yaml_text(value)}`"


def _yaml_text(value: Any) -> str:
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", by_alias=True)
    elif isinstance(value, enum.Enum):
        value = value.value
    elif isinstance(value, tuple | list):
        value = [v.model_dump(mode="json") if isinstance(v, BaseModel) else v for v in value]
    if isinstance(value, str):
        plain = value and value.strip() == value and value[0] not in "[{\"'*&!|>%@`"
        return value if plain else json.dumps(value)
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)


def _size_text(size: int) -> str:
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size % factor == 0:
            return f"{size // factor}{unit}"
    return f"{size}B"


def _unwrap(tp: Any) -> tuple[Any, list[Any]]:
    if get_origin(tp) is Annotated:
        base, *metadata = get_args(tp)
        inner, more = _unwrap(base)
        return inner, [*metadata, *more]
    return tp, []


def _named(metadata: Sequence[Any]) -> str | None:
    for item in metadata:
        if isinstance(item, BeforeValidator) and item.func in _NAMED_BY_PARSER:
            return _NAMED_BY_PARSER[item.func]
    return None


def _narrowed(metadata: Sequence[Any]) -> bool:
    return any(isinstance(item, BeforeValidator) for item in metadata)


def _serialised_as_other(metadata: Sequence[Any]) -> bool:
    return any(isinstance(item, PlainSerializer) for item in metadata)


_BOUNDS = (("ge", "≥ {}"), ("gt", "> {}"), ("le", "≤ {}"), ("lt", "< {}"))


def _constraints(metadata: Sequence[Any], type_text: str) -> str:
    parts: list[str] = []
    for item in metadata:
        for attr, form in _BOUNDS:
            bound = getattr(item, attr, None)
            if bound is not None:
                parts.append(form.format(f"{bound:,}" if isinstance(bound, int) else bound))
        unit = "item" if type_text.startswith(("list", "map")) else "character"
        if (length := getattr(item, "min_length", None)) is not None:
            parts.append("not empty" if length == 1 else f"at least {length} {unit}s")
        if (length := getattr(item, "max_length", None)) is not None:
            parts.append(f"at most {length} {unit}s")
        if (pattern := getattr(item, "pattern", None)) is not None:
            parts.append(f"matching `{pattern}`")
    return "".join(f", {p}" for p in parts)


def _words(name: str) -> str:
    out = "".join(f" {c.lower()}" if c.isupper() else c for c in name).strip()
    return out


def _plural(text: str) -> str:
    first, _, rest = text.partition(" ")
    if first in ("one", "list", "map", "[") or first.startswith("["):
        return text
    return f"{first}s {rest}".strip() if rest else f"{first}s"
