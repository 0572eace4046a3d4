"""Reading a config file: YAML → ``${VAR}`` interpolation → validated models → check objects.

Every problem becomes one :class:`ConfigError` that names the file, each bad key path and what
to fix; all problems of a file are reported at once.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from prodguardian.check import Check
from prodguardian.config.interpolation import (
    BadReferenceError,
    MissingVariableError,
    interpolate,
)
from prodguardian.config.keypath import format_key_path
from prodguardian.config.models import CHECK_SPEC_KEYS, CheckSpec, Config
from prodguardian.config.schedule_rules import schedule_problems
from prodguardian.config.validation_errors import describe_validation_error
from prodguardian.errors import ConfigError
from prodguardian.logs.config_sources import build_log_sources, split_log_source_options
from prodguardian.logs.source import LogSource
from prodguardian.registry import CheckRegistry


@dataclass(frozen=True)
class LoadedConfig:
    """A validated config and the checks it configures, ready to run."""

    path: Path
    config: Config
    checks: tuple[Check[Any], ...]
    log_sources: Mapping[str, LogSource] = field(default_factory=dict)

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
    """Read and validate ``path``; raise :class:`ConfigError` naming every problem."""
    path = Path(path)
    raw = _read_yaml(path)
    try:
        raw = interpolate(raw, os.environ if env is None else env)
    except (MissingVariableError, BadReferenceError) as exc:
        raise ConfigError(str(exc), path=path, key=exc.key) from None
    config = _validate(path, split_log_source_options(_split_check_params(raw)))
    registry = registry if registry is not None else CheckRegistry.from_entry_points()
    checks = _build_checks(path, config, registry, problems=schedule_problems(config))
    sources, problems = build_log_sources(
        config.log_sources, checks, base_dir=path.resolve().parent
    )
    if problems:
        raise ConfigError.from_problems(path, problems)
    return LoadedConfig(path=path, config=config, checks=checks, log_sources=sources)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the file: {exc}", path=path) from None
    try:
        data = yaml.safe_load(text)
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


def _validate(path: Path, raw: dict[str, Any]) -> Config:
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        problems = describe_validation_error(exc, model=Config)
        # A kind's own keys sit beside the common ones in the file, so show them there.
        problems = [(key.replace(".params", ""), msg) for key, msg in problems]
        raise ConfigError.from_problems(path, problems) from None


def _build_checks(
    path: Path, config: Config, registry: CheckRegistry, *, problems: list[tuple[str, str]]
) -> tuple[Check[Any], ...]:
    checks: list[Check[Any]] = []
    for index, spec in enumerate(config.checks):
        at: tuple[str | int, ...] = ("checks", index)
        cls = registry.get(spec.kind)
        if cls is None:
            problems.append((format_key_path((*at, "kind")), _unknown_kind(spec, registry)))
            continue
        try:
            params: BaseModel = cls.Params.model_validate(spec.params)
        except ValidationError as exc:
            problems += describe_validation_error(
                exc, model=cls.Params, prefix=at, extra_known=CHECK_SPEC_KEYS
            )
            continue
        timeout = spec.timeout or config.runner.default_timeout
        checks.append(cls(name=spec.name, kind=spec.kind, params=params, timeout_s=timeout))
    if problems:
        raise ConfigError.from_problems(path, problems)
    return tuple(checks)


def _unknown_kind(spec: CheckSpec, registry: CheckRegistry) -> str:
    kinds = registry.kinds()
    close = difflib.get_close_matches(spec.kind, kinds, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown check kind {spec.kind!r}{hint}; installed kinds: {', '.join(kinds) or 'none'}"
