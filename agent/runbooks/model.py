"""A runbook as its front matter declares it: when it applies, and what follows a fix.

The models validate everything a file can get wrong (unknown keys, offsets, HTTP statuses,
patterns RE2 cannot compile), so a loaded :class:`Runbook` is always usable.
"""

from __future__ import annotations

import enum
import re
from datetime import timedelta
from typing import Annotated, Any, Literal

import re2
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from prodguardian.config.duration import Duration
from prodguardian.status import Status

ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"

_OFFSET = re.compile(r"(\d+)(m|h|d|w)")
_OFFSET_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class Severity(enum.StrEnum):
    """How bad the failure a runbook covers is, for ordering and for the reader."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        """3 for critical down to 0 for low."""
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.CRITICAL: 3, Severity.HIGH: 2, Severity.MEDIUM: 1, Severity.LOW: 0}


def re2_options() -> Any:
    """RE2 options for runbook patterns: errors are raised, not also printed by RE2."""
    options = re2.Options()
    options.log_errors = False
    return options


def compile_pattern(pattern: str) -> Any:
    """``pattern`` compiled by RE2; ValueError with RE2's reason when it cannot be."""
    try:
        return re2.compile(pattern, re2_options())
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise ValueError(
            f"RE2 cannot compile the pattern {pattern!r}: {reason} (RE2 has no backreferences "
            "or lookaround; see https://github.com/google/re2/wiki/Syntax)"
        ) from None


def parse_offset(value: object) -> timedelta:
    """``+30m``, ``+24h``, ``+7d``, ``+1h30m``, ``+2w`` or ``now`` → a timedelta."""
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected an offset such as +30m, +24h, +7d or now, got {value!r}")
    text = value.strip().replace(" ", "")
    if text == "now":
        return timedelta(0)
    body = text.removeprefix("+")
    if not body or _OFFSET.sub("", body):
        raise ValueError(f"expected an offset such as +30m, +24h, +7d or now, got {value!r}")
    seconds = sum(int(n) * _OFFSET_UNITS[unit] for n, unit in _OFFSET.findall(body))
    return timedelta(seconds=seconds)


def format_offset(delta: timedelta) -> str:
    """The inverse of :func:`parse_offset`: ``now``, ``+30m``, ``+1h30m``, ``+7d``."""
    seconds = int(delta.total_seconds())
    if seconds == 0:
        return "now"
    out = "+"
    # Whole days read better from three days on; +24h and +48h stay in hours.
    units = (
        (("d", 86400), ("h", 3600), ("m", 60)) if seconds >= 3 * 86400 else (("h", 3600), ("m", 60))
    )
    for unit, size in units:
        amount, seconds = divmod(seconds, size)
        if amount:
            out += f"{amount}{unit}"
    return out


def _patterns(value: object) -> object:
    """A single pattern may be written without a list; every one must compile under RE2."""
    items = [value] if isinstance(value, str) else value
    if isinstance(items, list | tuple):
        for item in items:
            if isinstance(item, str):
                compile_pattern(item)
    return items


def _names(value: object) -> object:
    return [value] if isinstance(value, str) else value


def _http_statuses(value: object) -> object:
    items = [value] if isinstance(value, int | str) else value
    if not isinstance(items, list | tuple):
        return items
    out = []
    for item in items:
        text = str(item).strip().lower()
        if isinstance(item, bool) or not re.fullmatch(r"[1-5](\d\d|xx)", text):
            raise ValueError(
                f"expected an HTTP status such as 429 or a class such as 5xx, got {item!r}"
            )
        out.append(text)
    return out


Patterns = Annotated[tuple[str, ...], BeforeValidator(_patterns)]
"""RE2 patterns; a single string is a one-item list."""
Names = Annotated[tuple[str, ...], BeforeValidator(_names)]
HttpStatuses = Annotated[tuple[str, ...], BeforeValidator(_http_statuses)]
Offset = Annotated[timedelta, BeforeValidator(parse_offset)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


#: The fields of a rule that are RE2 patterns, in the order the matcher scores them.
PATTERN_FIELDS = ("exception_type", "message", "frames", "text", "conditions")


class MatchRule(_Model):
    """One way a runbook applies. Every field the rule sets must hit; within a field, any item.

    Pattern fields are RE2 searches (unanchored; write ``^``/``$`` to anchor, ``(?i)`` to ignore
    case) over one part of the evidence: ``exception_type`` (``RuntimeError``), ``message`` (the
    exception message or log text), ``frames`` (the top frame and the whole traceback), ``text``
    (everything the evidence says), ``conditions`` (failed probe conditions as observed, e.g.
    ``db == "down"``). ``http_statuses`` are codes or classes (``429``, ``5xx``);
    ``check_kinds``/``check_names`` restrict the rule to some checks.
    """

    exception_type: Patterns = ()
    message: Patterns = ()
    frames: Patterns = ()
    text: Patterns = ()
    conditions: Patterns = ()
    http_statuses: HttpStatuses = ()
    check_kinds: Names = ()
    check_names: Names = ()

    @model_validator(mode="after")
    def _sets_something(self) -> MatchRule:
        if not any(getattr(self, name) for name in type(self).model_fields):
            raise ValueError(
                "a match rule needs at least one of: " + ", ".join(type(self).model_fields)
            )
        return self

    def patterns(self, field: str) -> tuple[str, ...]:
        """The patterns of one of :data:`PATTERN_FIELDS`."""
        value: tuple[str, ...] = getattr(self, field)
        return value


def _rules(value: object) -> object:
    return [value] if isinstance(value, dict) else value


Rules = Annotated[tuple[MatchRule, ...], BeforeValidator(_rules)]


class LogCountExpectation(_Model):
    """Count log entries matching ``pattern`` over ``window``; expect fewer than a rate."""

    pattern: str
    """An RE2 regex on the log message (``Database reconnected successfully``)."""
    window: Duration
    """How far back to count, ending when the item is due (``24h``)."""
    below_per_hour: float | None = Field(default=None, gt=0)
    """Passes when the hourly rate over the window is below this."""
    below_per_minute: float | None = Field(default=None, gt=0)
    """Passes when the per-minute rate over the window is below this."""
    at_most: int | None = Field(default=None, ge=0)
    """At most this many entries over the whole window (0: none at all)."""

    @model_validator(mode="after")
    def _one_limit(self) -> LogCountExpectation:
        compile_pattern(self.pattern)
        limits = [self.below_per_hour, self.below_per_minute, self.at_most]
        if sum(limit is not None for limit in limits) != 1:
            raise ValueError("set exactly one of below_per_hour, below_per_minute, at_most")
        return self

    def describe(self) -> str:
        """``'Database reconnected' < 5/h over 24h``."""
        window = format_offset(timedelta(seconds=self.window)).removeprefix("+")
        if self.at_most is not None:
            limit = "none" if self.at_most == 0 else f"at most {self.at_most}"
            return f"{limit} matching {self.pattern!r} over {window}"
        if self.below_per_hour is not None:
            return f"{self.pattern!r} < {self.below_per_hour:g}/h over {window}"
        return f"{self.pattern!r} < {self.below_per_minute:g}/min over {window}"


class Verification(_Model):
    """A check the bot runs itself: re-run checks expecting a status, or count a log event."""

    rerun: Names = ()
    """Check names or kinds to run again; ``"*"`` for every check."""
    expect: Status = Status.OK
    """The status the re-run must have (``OK``) to pass."""
    log_count: LogCountExpectation | None = None
    """Count a log event instead of re-running checks (exactly one of ``rerun`` or this)."""

    @model_validator(mode="after")
    def _one_kind(self) -> Verification:
        if bool(self.rerun) == (self.log_count is not None):
            raise ValueError("set exactly one of rerun (with expect) or log_count")
        return self

    def describe(self) -> str:
        """One line saying what will be verified."""
        if self.log_count is not None:
            return "count " + self.log_count.describe()
        what = "every check" if "*" in self.rerun else ", ".join(self.rerun)
        return f"re-run {what}, expect {self.expect.value}"


class FollowUp(_Model):
    """What to do at ``after`` past the fix: remind a person, or verify something."""

    after: Offset
    """When it is due, after the fix (the deploy mark, or the resolution): ``+30m``, ``+24h``."""
    remind: str | None = None
    """A reminder for people, posted when due and repeated until someone clicks *Done*."""
    verify: Verification | None = None
    """A verification the bot runs itself when due (exactly one of ``remind`` or this)."""
    retry: Duration | None = None
    """A failed (or unverifiable) verification runs again after this (default: followups.retry)."""
    repeat: Duration | None = None
    """A reminder is repeated this often until done (default: followups.repeat)."""
    expires: Offset | None = None
    """The item expires this long after it was due (default: followups.expire_after)."""
    on_fail: Literal["reopen", "remind"] | None = None
    """A failed verification reopens its incident, or only says so (default: followups.on_fail)."""

    @model_validator(mode="after")
    def _one_action(self) -> FollowUp:
        if (self.remind is None) == (self.verify is None):
            raise ValueError("a follow-up needs exactly one of remind (text) or verify")
        return self


class FrontMatter(_Model):
    """The YAML front matter of a runbook file."""

    id: str = Field(pattern=ID_PATTERN)
    title: str = Field(min_length=1)
    severity: Severity
    match: Rules
    exclude: Rules = ()
    """Rules that veto a match (e.g. the same message from an upstream provider)."""
    follow_ups: tuple[FollowUp, ...] = ()

    @model_validator(mode="after")
    def _has_rules(self) -> FrontMatter:
        if not self.match:
            raise ValueError("match needs at least one rule")
        return self


class Runbook(_Model):
    """A loaded runbook: its front matter, its Markdown body, and where it came from."""

    id: str
    title: str
    severity: Severity
    match: tuple[MatchRule, ...]
    exclude: tuple[MatchRule, ...] = ()
    follow_ups: tuple[FollowUp, ...] = ()
    body: str
    source: str
    """The file it was read from (or ``builtin:<file>``)."""
    builtin: bool = False
