"""What a report says about runbooks: the ones that matched, and the failures no runbook covers.

Plain frozen values, part of the report's JSON schema; they import nothing from the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from prodguardian.runbooks.body import Step
from prodguardian.runbooks.model import Severity, Verification


class _Finding(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Explanation(_Finding):
    """One reason a runbook matched: which pattern (or status, check) matched what."""

    field: str
    """The rule field: exception_type, message, frames, text, conditions, http_statuses …"""
    pattern: str
    matched: str
    """An excerpt of the evidence around what the pattern matched."""


class PlannedFollowUp(_Finding):
    """A follow-up of a matched runbook, with its placeholders filled."""

    after: str
    """The offset past the fix: ``now``, ``+30m``, ``+24h``, ``+7d``."""
    after_s: float
    remind: str | None = None
    verify: Verification | None = None
    retry_s: float | None = None
    repeat_s: float | None = None
    expires_s: float | None = None
    on_fail: Literal["reopen", "remind"] | None = None

    @property
    def text(self) -> str:
        """One line: the reminder, or what will be verified."""
        if self.remind is not None:
            return self.remind
        return self.verify.describe() if self.verify is not None else ""


class RunbookMatch(_Finding):
    """A runbook that applies to what a run found, and why."""

    type: Literal["runbook"] = "runbook"
    id: str
    title: str
    severity: Severity
    score: float
    """How specific the best matching rule is; higher is a better match."""
    checks: tuple[str, ...]
    """The checks whose evidence matched."""
    evidence: tuple[str, ...]
    """Short descriptions of the evidence that matched (first few)."""
    count: int
    """Occurrences of the matched evidence (error signatures count their log entries)."""
    failing: bool = True
    """False when only passing checks showed it (e.g. warnings below a threshold): a heads-up."""
    why: tuple[Explanation, ...]
    first_steps: tuple[Step, ...]
    follow_ups: tuple[PlannedFollowUp, ...]
    placeholders: Mapping[str, str] = Field(default_factory=dict)
    """The values used to fill the commands (service, region, revision, memory_next …)."""
    source: str
    explains: tuple[str, ...] = ()
    """What put it where it ranks: the signal that decided the status, the earliest failure,
    how many of the failing entries it covers."""


class NoRunbook(_Finding):
    """A failure that no runbook covers, with a scaffold to start one."""

    type: Literal["no_runbook"] = "no_runbook"
    check: str
    evidence: str
    count: int
    fingerprint: str | None = None
    suggested_id: str
    command: str
    """The CLI command that writes the scaffold into a runbook directory."""
    scaffold: str
    """The scaffold itself: a runbook file to complete and save."""


RunbookFinding = Annotated[RunbookMatch | NoRunbook, Field(discriminator="type")]
