"""Reading a config file: YAML → ``${VAR}`` interpolation → validated models → check objects.

Every problem becomes one :class:`ConfigError` that names the file, each bad key path and what
to fix; all problems of a file are reported at once.
"""

from __future__ import annotations

import difflib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from prodguardian.check import Check
from prodguardian.config.interpolation import interpolate_all
from prodguardian.config.keypath import format_key_path
from prodguardian.config.models import (
    CHECK_SPEC_KEYS,
    CheckSpec,
    Config,
    LogSourceSpec,
    MetricsSourceSpec,
    RunnerConfig,
    TraceSourceSpec,
)
from prodguardian.config.schedule_rules import schedule_problems
from prodguardian.config.validation_errors import describe_validation_error
from prodguardian.config.yaml_limits import YamlLimitError, load_yaml
from prodguardian.errors import ConfigError
from prodguardian.logs.config_sources import (
    build_log_sources,
    build_metrics_sources,
    split_log_source_options,
)
from prodguardian.logs.source import LogSource
from prodguardian.registry import CheckRegistry
from prodguardian.traces.named_sources import resolve_trace_source

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadedConfig:
    """A validated config and the checks it configures, ready to run."""

    path: Path
    config: Config
    checks: tuple[Check[Any], ...]
    log_sources: Mapping[str, LogSource] = field(default_factory=dict)
    deprecations: tuple[str, ...] = ()
    """Old forms the file still uses, each with the form to write instead."""

    def select(self, names: list[str]) -> tuple[Check[Any], ...]:
        """The checks named, in config order; an unknown name is a ConfigError."""
        if not names:
            return self.checks
        # The schedule selects a check or two a hundred times a second: no pass over them all.
        positions = self._positions
        unknown = [n for n in names if n not in positions]
        if unknown:
            raise ConfigError(
                f"no check named {', '.join(map(repr, unknown))}; "
                f"configured checks: {', '.join(sorted(positions))}",
                path=self.path,
            )
        return tuple(self.checks[i] for i in sorted({positions[n] for n in names}))

    @cached_property
    def _positions(self) -> dict[str, int]:
        """Each check's place in the config, by name."""
        return {c.name: i for i, c in enumerate(self.checks)}


def load_config(
    path: str | Path,
    *,
    registry: CheckRegistry | None = None,
    env: Mapping[str, str] | None = None,
) -> LoadedConfig:
    """Read and validate ``path``; raise :class:`ConfigError` naming every problem.

    Every level is checked even when another one failed (an unknown top-level key does not
    hide a typo inside a check): problems are collected section by section, then raised at once.
    """
    path = Path(path)
    raw = _read_yaml(path)
    raw, unresolved = interpolate_all(raw, os.environ if env is None else env)
    problems = [(exc.key or "(top level)", str(exc)) for exc in unresolved]
    raw = split_log_source_options(_split_check_params(raw))
    config, invalid = _validate(raw)
    problems += invalid
    sections = _Sections.of(config) if config is not None else _Sections.leniently(raw)
    registry = registry if registry is not None else CheckRegistry.from_entry_points()
    deprecations: list[str] = []
    checks, bad_checks = _build_checks(sections, registry, deprecations)
    problems += bad_checks
    if config is not None:
        problems += _cross_key_problems(config)
    base_dir = path.resolve().parent
    metrics, bad_metrics = build_metrics_sources(sections.metrics_sources, base_dir=base_dir)
    problems += bad_metrics
    sources, bad_sources = build_log_sources(
        sections.log_sources,
        [check for _, check in checks],
        base_dir=base_dir,
        check_indices=[index for index, _ in checks],
        metrics=metrics,
    )
    problems += bad_sources
    if problems or config is None:
        raise ConfigError.from_problems(path, _unique(problems, len(unresolved)))
    for note in deprecations:
        log.warning("%s: %s", path, note)
    return LoadedConfig(
        path=path,
        config=config,
        checks=tuple(check for _, check in checks),
        log_sources=sources,
        deprecations=tuple(deprecations),
    )


_M = TypeVar("_M", bound=BaseModel)


@dataclass(frozen=True)
class _Sections:
    """What the later stages need: check specs (with their index), sources, default timeout."""

    checks: tuple[tuple[int, CheckSpec], ...]
    log_sources: Mapping[str, LogSourceSpec]
    default_timeout: float
    trace_sources: Mapping[str, TraceSourceSpec]
    metrics_sources: Mapping[str, MetricsSourceSpec]

    @classmethod
    def of(cls, config: Config) -> _Sections:
        return cls(
            checks=tuple(enumerate(config.checks)),
            log_sources=config.log_sources,
            default_timeout=config.runner.default_timeout,
            trace_sources=config.trace_sources,
            metrics_sources=config.metrics_sources,
        )

    @classmethod
    def leniently(cls, raw: dict[str, Any]) -> _Sections:
        """Each check and source that is valid on its own, from a file whose whole is not
        (their own problems are already among the whole file's)."""
        entries = raw.get("checks")
        checks = [
            (index, spec)
            for index, entry in enumerate(entries if isinstance(entries, list) else [])
            if (spec := _valid_or_none(CheckSpec, entry)) is not None
        ]
        raw_sources = raw.get("log_sources")
        sources = {
            str(name): source
            for name, entry in (raw_sources.items() if isinstance(raw_sources, dict) else [])
            if (source := _valid_or_none(LogSourceSpec, entry)) is not None
        }
        runner = _valid_or_none(RunnerConfig, raw.get("runner") or {}) or RunnerConfig()
        return cls(
            tuple(checks),
            sources,
            runner.default_timeout,
            _valid_entries(TraceSourceSpec, raw.get("trace_sources")),
            _valid_entries(MetricsSourceSpec, raw.get("metrics_sources")),
        )


def _valid_or_none(model: type[_M], value: Any) -> _M | None:
    try:
        return model.model_validate(value)
    except ValidationError:
        return None


def _valid_entries(model: type[_M], section: Any) -> dict[str, _M]:
    """The entries of a named section that are valid on their own."""
    entries = section.items() if isinstance(section, dict) else []
    return {
        str(name): valid
        for name, entry in entries
        if (valid := _valid_or_none(model, entry)) is not None
    }


def _unique(problems: list[tuple[str, str]], unset: int) -> list[tuple[str, str]]:
    """Each problem once. The first ``unset`` are unset variables: their keys keep only that
    problem (the value, left as ``${VAR}``, fails validation too, which says nothing new)."""
    unset_keys = {key for key, _ in problems[:unset]}
    echoes = [(k, m) for k, m in problems[unset:] if k not in unset_keys]
    return list(dict.fromkeys([*problems[:unset], *echoes]))


def _cross_key_problems(config: Config) -> list[tuple[str, str]]:
    """Problems that span several keys: the schedule, and the follow-up checklists."""
    # Imported here: follow-ups build on the runbook model, which builds on this loader.
    from prodguardian.followups.plan import followup_problems

    names = [c.name for c in config.checks]
    kinds = sorted({c.kind for c in config.checks})
    return schedule_problems(config) + followup_problems(config, names, kinds)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the file: {exc}", path=path) from None
    try:
        data = load_yaml(text)
    except YamlLimitError as exc:
        raise ConfigError(str(exc), path=path) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}invalid YAML: {problem}", path=path) from None
    if not isinstance(data, dict):
        raise ConfigError(
            "the top level must be a mapping with at least a 'checks' list", path=path
        )
    return data


def _split_check_params(raw: dict[str, Any]) -> dict[str, Any]:
    """Move each check entry's kind-specific keys under ``params``."""
    checks = raw.get("checks")
    if not isinstance(checks, list):
        return raw
    split = []
    for entry in checks:
        if isinstance(entry, dict) and "params" not in entry:
            common = {k: v for k, v in entry.items() if k in CHECK_SPEC_KEYS}
            common["params"] = {k: v for k, v in entry.items() if k not in CHECK_SPEC_KEYS}
            split.append(common)
        else:
            split.append(entry)
    return {**raw, "checks": split}


def _validate(raw: dict[str, Any]) -> tuple[Config | None, list[tuple[str, str]]]:
    try:
        return Config.model_validate(raw), []
    except ValidationError as exc:
        problems = describe_validation_error(exc, model=Config)
        # A kind's own keys sit beside the common ones in the file, so show them there.
        return None, [(key.replace(".params", ""), msg) for key, msg in problems]


def _build_checks(
    sections: _Sections, registry: CheckRegistry, deprecations: list[str]
) -> tuple[list[tuple[int, Check[Any]]], list[tuple[str, str]]]:
    """The checks (with their index in the file), and the problems of the others."""
    checks: list[tuple[int, Check[Any]]] = []
    problems: list[tuple[str, str]] = []
    for index, spec in sections.checks:
        at: tuple[str | int, ...] = ("checks", index)
        cls = registry.get(spec.kind)
        if cls is None:
            problems.append((format_key_path((*at, "kind")), _unknown_kind(spec, registry)))
            continue
        raw_params = spec.params
        if getattr(cls, "uses_trace_source", False):
            resolved = resolve_trace_source(raw_params, sections.trace_sources, check=spec.name)
            if resolved.problem is not None:
                problems.append((format_key_path((*at, "source")), resolved.problem))
                continue
            if resolved.deprecation is not None:
                deprecations.append(resolved.deprecation)
            raw_params = resolved.params
        try:
            params: BaseModel = cls.Params.model_validate(raw_params)
        except ValidationError as exc:
            problems += describe_validation_error(
                exc, model=cls.Params, prefix=at, extra_known=CHECK_SPEC_KEYS
            )
            continue
        timeout = spec.timeout or sections.default_timeout
        checks.append(
            (index, cls(name=spec.name, kind=spec.kind, params=params, timeout_s=timeout))
        )
    return checks, problems


def _unknown_kind(spec: CheckSpec, registry: CheckRegistry) -> str:
    kinds = registry.kinds()
    close = difflib.get_close_matches(spec.kind, kinds, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown check kind {spec.kind!r}{hint}; installed kinds: {', '.join(kinds) or 'none'}"
