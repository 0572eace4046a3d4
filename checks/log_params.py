"""Parameters shared by the log checks: which source, which window, which scope."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Literal

import re2
from pydantic import BaseModel, ConfigDict, Field, field_validator

from prodguardian.config.duration import Duration
from prodguardian.context import CheckContext
from prodguardian.errors import CheckError
from prodguardian.logs.entry import Severity
from prodguardian.logs.query import LogScope, LogWindow
from prodguardian.logs.source import LogSource

SeverityName = Literal[
    "DEFAULT", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY"
]
#: Time kept back from the check's timeout so a slow source ends with its own, clearer error.
DEADLINE_MARGIN_S = 0.25


def validate_regex(value: str) -> str:
    """A regex both Python and RE2 (Cloud Logging's syntax) accept, or a ValueError saying why."""
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from None
    try:
        re2.compile(value)
    except Exception as exc:  # re2 raises its own error type
        raise ValueError(
            f"not valid RE2, the regex syntax of Cloud Logging ({exc}); avoid look-arounds "
            "and back-references"
        ) from None
    return value


class ScopeParams(BaseModel):
    """Which entries count at all: the denominator of a rate."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    service: str | None = None
    """``resource.labels.service_name``."""
    revision: str | None = None
    """``resource.labels.revision_name``: one Cloud Run revision only."""
    resource_type: str | None = None
    """``resource.type``, e.g. ``cloud_run_revision`` (default: the source's)."""
    labels: dict[str, str] = Field(default_factory=dict)
    """Other ``resource.labels`` that must match exactly."""
    text: str | None = None
    """A regex on the message, e.g. ``WebSocket`` for WebSocket traffic only."""
    url: str | None = None
    """A regex on ``httpRequest.requestUrl``, e.g. ``/ws/``."""

    @field_validator("text", "url")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        return None if value is None else validate_regex(value)

    @field_validator("labels")
    @classmethod
    def _label_keys(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
                raise ValueError(f"{key!r} is not a label name (letters, digits, underscores)")
        return value

    def to_scope(self) -> LogScope:
        return LogScope(
            resource_type=self.resource_type,
            service=self.service,
            revision=self.revision,
            resource_labels=dict(self.labels),
            text=self.text,
            url=self.url,
        )


class LogCheckParams(BaseModel):
    """The keys every log check has."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str = Field(min_length=1)
    """The name of a source under the config's top-level ``log_sources:``."""
    window: Duration = 3600.0
    """How far back each run reads, ending now."""
    scope: ScopeParams = ScopeParams()
    """Which entries count at all (the denominator of a rate); every key set must match."""

    def window_at(self, ctx: CheckContext) -> LogWindow:
        return LogWindow(start=ctx.now - timedelta(seconds=self.window), end=ctx.now)


def severity_of(name: SeverityName | None) -> Severity | None:
    return None if name is None else Severity[name]


def log_source(ctx: CheckContext, name: str) -> LogSource:
    """The source the check names; a CheckError (→ UNKNOWN) when the run has none by that name."""
    source = ctx.log_sources.get(name)
    if source is None:
        known = ", ".join(sorted(ctx.log_sources)) or "none"
        raise CheckError(
            f"no log source named {name!r} in this run (configured: {known}); "
            "add it under log_sources: in the config"
        )
    return source


def deadline_of(ctx: CheckContext) -> float:
    """The scan's deadline as a ``time.monotonic()`` value."""
    return time.monotonic() + max(ctx.timeout_s - DEADLINE_MARGIN_S, 0.05)


def format_window(seconds: float) -> str:
    if seconds % 3600 == 0:
        return f"{int(seconds // 3600)}h"
    if seconds % 60 == 0:
        return f"{int(seconds // 60)}m"
    return f"{seconds:g}s"
