"""Evidence a check attaches to its result: why it says what it says.

Each kind is a frozen model with a ``type`` tag, so the JSON form is self-describing and the
union below stays a stable, documented schema.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from prodguardian.status import Status


class _Evidence(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FailedCondition(_Evidence):
    """A condition of a probe that did not hold, e.g. ``db == "up"`` when the body said "down"."""

    type: Literal["condition"] = "condition"
    condition: str
    expected: str
    actual: str
    status: Status = Status.CRITICAL


class Observation(_Evidence):
    """A fact worth showing that is not a failed condition (a response excerpt, a cert date)."""

    type: Literal["observation"] = "observation"
    label: str
    text: str
    value: str | None = None
    """The fact as a bare value for programs (e.g. the revision name), when there is one."""


class LogLine(_Evidence):
    """One log entry shown as evidence."""

    type: Literal["log_line"] = "log_line"
    timestamp: datetime | None = None
    severity: str | None = None
    text: str
    revision: str | None = None


class ErrorSignature(_Evidence):
    """One distinct failure found in logs, with how often and when it happened.

    ``fingerprint`` is stable across variants of the same failure (other ids, line numbers,
    memory sizes): exception type + normalised message + top application frame.
    """

    type: Literal["error_signature"] = "error_signature"
    fingerprint: str
    exception_type: str | None = None
    message: str
    frame: str | None = None
    count: int
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    revisions: tuple[str, ...] = ()
    http_statuses: tuple[int, ...] = ()
    sample: str
    """The latest occurrence's text."""
    peak_sample: str | None = None
    """For resource-limit messages, the occurrence with the highest figure (the memory peak)
    when it is not the latest one."""
    before_deploy: bool = False
    frames: tuple[str, ...] = ()
    """Every frame of the traceback, outermost first (``path/to/module.py in function``)."""
    level: Literal["error", "warning"] = "error"
    """Errors drive a log check's status; warnings are reported apart (unless configured)."""
    severity: str | None = None
    """The highest log severity seen (``ERROR``, ``WARNING``...)."""
    signal: bool = False
    """It set the check's status by itself (a critical pattern, errors clustered at instance
    starts): the runbook that explains it ranks first."""
    before_deploy_counted: bool = False
    """From before the deploy, yet counted in the status: the new revision had too little
    traffic (or errors of its own), so the whole window decided. Its runbook is reported."""


class SlowRoute(_Evidence):
    """One route's latency and errors over a window, from spans, with traces worth opening."""

    type: Literal["slow_route"] = "slow_route"
    service: str
    route: str
    count: int
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    window_s: float
    status: Status
    reason: str = ""
    """Which threshold it crossed, e.g. ``p95 1,820 ms > 1,000 ms``; empty when within."""
    example_trace_ids: tuple[str, ...] = ()


class BurnRate(_Evidence):
    """How fast an SLO's error budget burns over one window (1.0 = exactly on budget)."""

    type: Literal["burn_rate"] = "burn_rate"
    window_s: float
    requests: int
    errors: int
    burn_rate: float
    threshold: float
    """The burn rate at which this window's alert rule fires."""
    alert: Literal["page", "ticket"]
    firing: bool
    budget_remaining: float
    """Share of the whole period's error budget left (negative once overspent)."""


Evidence = Annotated[
    FailedCondition | Observation | LogLine | ErrorSignature | SlowRoute | BurnRate,
    Field(discriminator="type"),
]
