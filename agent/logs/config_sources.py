"""The config's top-level ``log_sources:``: named, typed sources that checks refer to by name.

::

    log_sources:
      prod-logs: {type: cloud_logging, project: emergence-469005}
      local: {type: file, path: logs/app.jsonl}
    checks:
      - {name: errors, kind: log_errors, source: prod-logs}
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from prodguardian.check import Check
from prodguardian.config.keypath import format_key_path
from prodguardian.config.validation_errors import describe_validation_error
from prodguardian.logs.metrics_source import MetricsSource, MetricsSourceRegistry
from prodguardian.logs.source import LogSource, LogSourceRegistry

SOURCE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
COMMON_KEYS = frozenset({"type"})


NAMED_SOURCE_SECTIONS = ("log_sources", "metrics_sources", "trace_sources")


def split_log_source_options(raw: dict[str, Any]) -> dict[str, Any]:
    """Move each named source's type-specific keys under ``options`` (as checks' go under
    params), in every top-level section of named sources."""
    for section in NAMED_SOURCE_SECTIONS:
        raw = _split_section(raw, section)
    return raw


def _split_section(raw: dict[str, Any], section: str) -> dict[str, Any]:
    sources = raw.get(section)
    if not isinstance(sources, dict):
        return raw
    split: dict[str, Any] = {}
    for name, entry in sources.items():
        if isinstance(entry, dict) and "options" not in entry:
            split[name] = {
                **{k: v for k, v in entry.items() if k in COMMON_KEYS},
                "options": {k: v for k, v in entry.items() if k not in COMMON_KEYS},
            }
        else:
            split[name] = entry
    return {**raw, section: split}


def build_log_sources(
    specs: Mapping[str, Any],
    checks: Sequence[Check[Any]],
    *,
    base_dir: Path,
    registry: LogSourceRegistry | None = None,
    check_indices: Sequence[int] | None = None,
    metrics: Mapping[str, MetricsSource] | None = None,
) -> tuple[dict[str, LogSource], list[tuple[str, str]]]:
    """The sources, and ``(key path, problem)`` for every bad source or dangling reference.

    ``specs`` maps a name to an object with ``type`` and ``options`` (the config model);
    ``check_indices`` are the checks' positions in the file (default: 0, 1, 2 …). A source
    whose options name a ``metrics_source`` gets it through ``use_metrics()``.
    """
    problems: list[tuple[str, str]] = []
    sources: dict[str, LogSource] = {}
    if specs:
        registry = registry or LogSourceRegistry.from_entry_points()
    for name, spec in specs.items():
        at: tuple[str | int, ...] = ("log_sources", name)
        if not SOURCE_NAME.match(name):
            problems.append(
                (format_key_path(at), "a source name uses letters, digits, '.', '_' or '-'")
            )
            continue
        assert registry is not None
        kind = registry.get(spec.type)
        if kind is None:
            close = difflib.get_close_matches(spec.type, registry.kinds(), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(
                (
                    format_key_path((*at, "type")),
                    f"unknown log source type {spec.type!r}{hint}; installed: "
                    f"{', '.join(registry.kinds()) or 'none'}",
                )
            )
            continue
        try:
            options = kind.Config.model_validate(spec.options)
        except ValidationError as exc:
            problems += describe_validation_error(
                exc, model=kind.Config, prefix=at, extra_known=COMMON_KEYS
            )
            continue
        source = kind.from_config(options, base_dir=base_dir)
        wanted = getattr(options, "metrics_source", None)
        if isinstance(wanted, str):
            found = (metrics or {}).get(wanted)
            if found is None:
                problems.append(
                    (
                        format_key_path((*at, "metrics_source")),
                        _no_such("metrics source", wanted, metrics or {}, "metrics_sources"),
                    )
                )
                continue
            source.use_metrics(found)  # type: ignore[attr-defined]
        sources[name] = source
    indices = list(range(len(checks))) if check_indices is None else list(check_indices)
    problems += _dangling(specs, list(zip(indices, checks, strict=True)))
    return sources, problems


def _dangling(
    specs: Mapping[str, Any], checks: Sequence[tuple[int, Check[Any]]]
) -> list[tuple[str, str]]:
    problems = []
    for index, check in checks:
        if not getattr(type(check), "uses_log_source", False):
            continue
        name = getattr(check.params, "source", None)
        if not isinstance(name, str) or name in specs:
            continue
        close = difflib.get_close_matches(name, list(specs), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        known = ", ".join(sorted(specs)) or "none; add a log_sources: section"
        problems.append(
            (
                format_key_path(("checks", index, "source")),
                f"no log source named {name!r}{hint}; configured: {known}",
            )
        )
    return problems


def build_metrics_sources(
    specs: Mapping[str, Any],
    *,
    base_dir: Path,
    registry: MetricsSourceRegistry | None = None,
) -> tuple[dict[str, MetricsSource], list[tuple[str, str]]]:
    """The config's ``metrics_sources:``, and ``(key path, problem)`` for every bad one."""
    problems: list[tuple[str, str]] = []
    sources: dict[str, MetricsSource] = {}
    if specs:
        registry = registry or MetricsSourceRegistry.from_entry_points()
    for name, spec in specs.items():
        at: tuple[str | int, ...] = ("metrics_sources", name)
        if not SOURCE_NAME.match(name):
            problems.append(
                (format_key_path(at), "a source name uses letters, digits, '.', '_' or '-'")
            )
            continue
        assert registry is not None
        kind = registry.get(spec.type)
        if kind is None:
            problems.append(
                (
                    format_key_path((*at, "type")),
                    f"unknown metrics source type {spec.type!r}; installed: "
                    f"{', '.join(registry.kinds()) or 'none'}",
                )
            )
            continue
        try:
            options = kind.Config.model_validate(spec.options)
        except ValidationError as exc:
            problems += describe_validation_error(
                exc, model=kind.Config, prefix=at, extra_known=COMMON_KEYS
            )
            continue
        sources[name] = kind.from_config(options, base_dir=base_dir)
    return sources, problems


def _no_such(what: str, name: str, known: Mapping[str, Any], section: str) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    names = ", ".join(sorted(known)) or f"none; add a {section}: section"
    return f"no {what} named {name!r}{hint}; configured: {names}"
