"""What a check returns, and what the runner records around it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from prodguardian.evidence import Evidence
from prodguardian.status import Status


class CheckResult(BaseModel):
    """The outcome of one check: status, a one-line summary, metrics and evidence."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: Status
    summary: str
    metrics: Mapping[str, float] = Field(default_factory=dict)
    evidence: tuple[Evidence, ...] = ()

    @classmethod
    def unknown(cls, reason: str) -> CheckResult:
        """A check that could not run, with the reason as its summary."""
        return cls(status=Status.UNKNOWN, summary=reason)


class CheckRun(BaseModel):
    """One check's result as the runner saw it: which check, when, and how long it took."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    kind: str
    started_at: datetime
    duration_s: float
    result: CheckResult

    @property
    def status(self) -> Status:
        return self.result.status
