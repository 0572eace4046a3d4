"""Which follow-ups exist and when they are due: pure decisions over their specs.

An item's spec is a :class:`~prodguardian.runbooks.findings.PlannedFollowUp` (a runbook's
follow-up with its placeholders filled, or one of ``followups.after_deploy``). Items of a
runbook wait for the fix: they are due ``after`` past the deploy marked while their incident is
open, or past the incident's resolution if no deploy was marked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import ValidationError

from prodguardian.config.keypath import format_key_path
from prodguardian.config.models import Config, FollowUpsConfig
from prodguardian.config.validation_errors import describe_validation_error
from prodguardian.runbooks.findings import PlannedFollowUp
from prodguardian.runbooks.model import FollowUp, format_offset
from prodguardian.runbooks.placeholders import fill

Kind = Literal["remind", "verify"]


@dataclass(frozen=True, kw_only=True)
class ItemTiming:
    """When an item is due, retried or repeated, and when it expires."""

    due_at: datetime
    expires_at: datetime


def kind_of(spec: PlannedFollowUp) -> Kind:
    return "verify" if spec.verify is not None else "remind"


def timing(spec: PlannedFollowUp, *, fixed_at: datetime, defaults: FollowUpsConfig) -> ItemTiming:
    """An item's due time ``after`` past the fix, and its expiry."""
    due = fixed_at + timedelta(seconds=spec.after_s)
    expires = spec.expires_s if spec.expires_s is not None else defaults.expire_after
    return ItemTiming(due_at=due, expires_at=due + timedelta(seconds=expires))


def retry_after(spec: PlannedFollowUp, defaults: FollowUpsConfig) -> timedelta:
    """How long a failed or unverifiable verification waits before it runs again."""
    return timedelta(seconds=spec.retry_s if spec.retry_s is not None else defaults.retry)


def repeat_after(spec: PlannedFollowUp, defaults: FollowUpsConfig) -> timedelta:
    """How long a reminder waits before it is repeated."""
    return timedelta(seconds=spec.repeat_s if spec.repeat_s is not None else defaults.repeat)


def on_fail(spec: PlannedFollowUp, defaults: FollowUpsConfig) -> Literal["reopen", "remind"]:
    return spec.on_fail or defaults.on_fail


def from_follow_up(item: FollowUp, values: Mapping[str, str]) -> PlannedFollowUp:
    """A configured follow-up as an item spec (placeholders filled from ``values``)."""
    return PlannedFollowUp(
        after=format_offset(item.after),
        after_s=item.after.total_seconds(),
        remind=fill(item.remind, values) if item.remind is not None else None,
        verify=item.verify,
        retry_s=item.retry,
        repeat_s=item.repeat,
        expires_s=item.expires.total_seconds() if item.expires is not None else None,
        on_fail=item.on_fail,
    )


def after_deploy_items(config: Config, values: Mapping[str, str]) -> list[PlannedFollowUp]:
    """The deploy checklist (``followups.after_deploy``) as item specs."""
    return [
        from_follow_up(FollowUp.model_validate(raw), values)
        for raw in config.followups.after_deploy
    ]


def followup_problems(
    config: Config, check_names: Sequence[str], kinds: Sequence[str]
) -> list[tuple[str, str]]:
    """Problems of ``followups:``: bad items, rerun names that are no check, no log source."""
    problems: list[tuple[str, str]] = []
    for index, raw in enumerate(config.followups.after_deploy):
        at: tuple[str | int, ...] = ("followups", "after_deploy", index)
        try:
            item = FollowUp.model_validate(raw)
        except ValidationError as exc:
            problems += describe_validation_error(exc, model=FollowUp, prefix=at)
            continue
        if item.verify is None:
            continue
        for position, name in enumerate(item.verify.rerun):
            if name != "*" and name not in check_names and name not in kinds:
                problems.append(
                    (
                        format_key_path((*at, "verify", "rerun", position)),
                        f"no check or kind named {name!r}; configured checks: "
                        f"{', '.join(check_names)} (or '*' for every check)",
                    )
                )
        if item.verify.log_count is not None and verification_source(config) is None:
            problems.append(
                (
                    format_key_path((*at, "verify", "log_count")),
                    "a log_count verification needs a log source: set followups.log_source "
                    "or configure a log check",
                )
            )
    source = config.followups.log_source
    if source is not None and source not in config.log_sources:
        known = ", ".join(sorted(config.log_sources)) or "none"
        problems.append(
            ("followups.log_source", f"no log source named {source!r} (configured: {known})")
        )
    return problems


def verification_source(config: Config) -> str | None:
    """The log source ``log_count`` verifications read."""
    if config.followups.log_source is not None:
        return config.followups.log_source
    for spec in config.checks:
        source = spec.params.get("source")
        if isinstance(source, str) and source in config.log_sources:
            return source
    return next(iter(config.log_sources), None)
