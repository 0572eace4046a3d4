"""The parts of a ``log_errors`` verdict beyond rates, as pure functions.

- **After a deploy** (:func:`deploy_basis`): which entries decide the status while the new
  revision has served only a few requests. Clean so far → judged on them (OK, *recovering*);
  errors of its own → the whole window decides, and the older errors it counts are marked so
  their runbook is in the report.
- **Refused requests** (:class:`RefusedParams`, :func:`count_refused`): HTTP 429 and Cloud
  Run's "no available instance" answers are failed requests, named as such in the summary.
- **The deciding signal** (:func:`critical_signal`, :func:`mark_signatures`): the signature
  that set the status by itself, so the runbook explaining it ranks first.
- **Cold starts** (:class:`ColdStartParams`, :func:`cold_start_signature`): 5xx clustered
  within seconds of an instance start on the same instance.
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from prodguardian.checks.log_params import validate_regex
from prodguardian.config.duration import Duration
from prodguardian.evidence import ErrorSignature
from prodguardian.logs.cold_start import START_PATTERN, ColdStartErrors
from prodguardian.logs.deploy_split import DeploySplit
from prodguardian.logs.query import Traffic

#: What the report tells a reader to do while the new revision's sample is small.
RECHECK_AFTER = "+30 min"


class RefusedParams(BaseModel):
    """``refused:`` — requests the service (or Cloud Run) refused: a refused user has failed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    count_as: Literal["errors", "warnings"] = "errors"
    """``errors``: they count in the error rate as failed requests (default); ``warnings``:
    429s are warnings, as before (a 503 is a 5xx and stays an error)."""
    http_statuses: tuple[int, ...] = (429,)
    """Response statuses that mean "refused" (request-log entries only)."""
    messages: tuple[str, ...] = (r"(?i)no available instance",)
    """Regexes on a failed response's text that mean "refused" (Cloud Run's 503/429/500 when
    it has no instance to route to)."""

    @field_validator("http_statuses")
    @classmethod
    def _statuses(cls, values: tuple[int, ...]) -> tuple[int, ...]:
        for value in values:
            if not 400 <= value <= 599:
                raise ValueError(f"{value} is not an HTTP error status (400-599)")
        return values

    @field_validator("messages")
    @classmethod
    def _regexes(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(validate_regex(v) for v in values)


class ColdStartParams(BaseModel):
    """``cold_start:`` — 5xx clustered within ``within`` of an instance start, same instance."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    """Look for 5xx clustered at instance starts (``false``: never)."""
    start_pattern: str = START_PATTERN
    """A regex on the line that says an instance started (Cloud Run's system log)."""
    within: Duration = 20.0
    """How long after its start an instance's 5xx count as cold-start errors."""
    min_errors: int = Field(default=3, ge=1)
    """Clustered 5xx needed before the pattern is reported at all."""
    min_share: float = Field(default=50.0, ge=0, le=100)
    """Percent of the 5xx (that name their instance) that must be clustered at starts."""
    status: Literal["DEGRADED", "CRITICAL"] = "DEGRADED"
    """The status the cold-start pattern gives the check when it is found."""

    @field_validator("start_pattern")
    @classmethod
    def _regex(cls, value: str) -> str:
        return validate_regex(value)

    def triggered(self, found: ColdStartErrors) -> bool:
        return len(found.clustered) >= self.min_errors and found.share >= self.min_share


class DeployBasis(enum.Enum):
    """Which entries decide the status when there is a deploy to split on."""

    SINCE = "since"
    """Enough traffic since the deploy: its entries alone decide."""
    RECOVERING = "recovering"
    """A few entries since the deploy, none an error: judged on them, marked too few to be sure."""
    WINDOW = "window"
    """Nothing since the deploy, or errors among its few entries: the whole window decides."""


def deploy_basis(
    since_entries: int, since_errors: int, min_since: int, *, old_errors_go_on: bool = False
) -> DeployBasis:
    """Which entries decide, from what the new revision has served so far.

    ``old_errors_go_on``: errors counted as "before the deploy" still happen after it (the old
    revision still serves part of the traffic): a clean start of the new one proves nothing.
    """
    if since_entries >= min_since:
        return DeployBasis.SINCE
    if since_entries > 0 and since_errors == 0 and not old_errors_go_on:
        return DeployBasis.RECOVERING
    return DeployBasis.WINDOW


def deployed_at(split: DeploySplit, traffic: Traffic) -> datetime | None:
    """When the deploy took effect: its time, else the new revision's first entry."""
    if split.since is not None:
        return split.since
    slot = traffic.revisions.get(split.revision) if split.revision is not None else None
    return slot.first_seen if slot is not None else None


def old_errors_go_on(signatures: Iterable[ErrorSignature], deployed_at: datetime | None) -> bool:
    """Whether an error from before the deploy was last seen after ``deployed_at``."""
    if deployed_at is None:
        return False
    return any(
        s.before_deploy and s.last_seen is not None and s.last_seen > deployed_at
        for s in signatures
    )


def recovering_note(since_entries: int, min_since: int) -> str:
    """What the report says while a clean new revision has served only a few entries."""
    return (
        f"recovering: 0 errors in {since_entries} entries since the deploy, too few to be sure "
        f"(< {min_since}); re-check at {RECHECK_AFTER} to verify"
    )


def window_note(
    since_entries: int,
    since_errors: int,
    min_since: int,
    deploy: str,
    *,
    old_errors_go_on: bool = False,
) -> str:
    """Why the whole window decides although there is a deploy."""
    if since_entries < min_since and since_errors == 0 and old_errors_go_on:
        return (
            f"only {since_entries} entries since the {deploy} (< {min_since}, "
            "`min_entries_since_deploy`) and the older "
            "revision's errors go on after it, so the whole window decides"
        )
    if since_entries == 0:
        return f"no entries since the {deploy} yet, so the whole window decides"
    errors = "1 is an error" if since_errors == 1 else f"{since_errors} are errors"
    return (
        f"only {since_entries} entries since the {deploy} (< {min_since}, "
        f"`min_entries_since_deploy`) and {errors}, "
        "so the whole window decides"
    )


def critical_signal(
    signatures: Iterable[ErrorSignature], patterns: Sequence[re.Pattern[str]]
) -> ErrorSignature | None:
    """The first signature whose message or sample matches a critical pattern."""
    for sig in signatures:
        if any(p.search(sig.message) or p.search(sig.sample) for p in patterns):
            return sig
    return None


def mark_signatures(
    signatures: Iterable[ErrorSignature],
    *,
    signal: ErrorSignature | None,
    window_decides: bool,
) -> list[ErrorSignature]:
    """``signatures`` with the deciding signal flagged, and the errors from before the deploy
    flagged as counted when the whole window decided."""
    out = []
    for sig in signatures:
        update: dict[str, bool] = {}
        if signal is not None and _same(sig, signal):
            update["signal"] = True
        if window_decides and sig.before_deploy and sig.level == "error":
            update["before_deploy_counted"] = True
        out.append(sig.model_copy(update=update) if update else sig)
    return out


def _same(a: ErrorSignature, b: ErrorSignature) -> bool:
    return a.fingerprint == b.fingerprint and a.before_deploy == b.before_deploy


@dataclass(frozen=True, slots=True)
class Refused:
    """How many of some error signatures' entries are refused requests, and how they said so."""

    count: int
    by_kind: tuple[tuple[str, int], ...]
    """``("429", entries)`` or ``("503 no available instance", entries)``, most first."""

    def describe(self) -> str:
        """``75 refused requests (HTTP 429 ×60, 503 no available instance ×15)``."""
        parts = ", ".join(f"{kind} ×{n}" for kind, n in self.by_kind)
        return f"{self.count} refused requests (HTTP {parts})"


def count_refused(signatures: Iterable[ErrorSignature], params: RefusedParams) -> Refused:
    """The entries of ``signatures`` that are refused requests: a refused status, or a failed
    response whose text says it was refused."""
    statuses = set(params.http_statuses)
    patterns = [re.compile(m) for m in params.messages]
    by_kind: dict[str, int] = {}
    for sig in signatures:
        if not sig.http_statuses:
            continue
        kind = next((str(s) for s in sig.http_statuses if s in statuses), None)
        if kind is None:
            said = next(
                (m for p in patterns if (m := p.search(sig.message) or p.search(sig.sample))),
                None,
            )
            if said is not None:
                kind = f"{sig.http_statuses[0]} {said.group(0).lower()}"
        if kind is not None:
            by_kind[kind] = by_kind.get(kind, 0) + sig.count
    ranked = tuple(sorted(by_kind.items(), key=lambda item: (-item[1], item[0])))
    return Refused(count=sum(by_kind.values()), by_kind=ranked)


def refused_phrase(refused: Refused, count_as: str) -> str:
    """The summary's words for refused requests, saying how they were counted."""
    if count_as == "errors":
        return f"{refused.describe()}, counted as failed requests"
    return f"{refused.describe()}, counted as warnings (refused.count_as: warnings)"


def cold_start_signature(found: ColdStartErrors) -> ErrorSignature:
    """The cold-start pattern as one error signature: what a runbook matches and a reader sees."""
    clustered = found.clustered
    seconds = found.within.total_seconds()
    statuses = tuple(sorted({f.status for f in clustered}))
    codes = "/".join(str(s) for s in statuses)
    starts = len(found.starts)
    message = (
        f"HTTP {codes} within {seconds:g} s of an instance start on the same instance "
        f"({len(clustered)} responses after {starts} of {found.all_starts} instance starts)"
    )
    lines = []
    for start in found.starts[:3]:
        after = [f for f in clustered if f.instance == start.instance and f.at >= start.at]
        delays = [(f.at - start.at).total_seconds() for f in after]
        routes = sorted({f.route for f in after})
        lines.append(
            f"{start.at:%H:%M:%S} {start.text} (instance …{start.instance[-8:]})\n"
            f"  then HTTP {codes} ×{len(after)} within {max(delays, default=0):.1f} s: "
            + ", ".join(routes[:4])
        )
    revisions = tuple(sorted({f.revision for f in clustered if f.revision}))
    return ErrorSignature(
        fingerprint="cold-start-"
        + hashlib.blake2b(f"{codes}|{','.join(revisions)}".encode(), digest_size=6).hexdigest(),
        message=message,
        count=len(clustered),
        first_seen=clustered[0].at,
        last_seen=clustered[-1].at,
        revisions=revisions,
        http_statuses=statuses,
        sample="\n".join(lines),
        level="error",
        severity="ERROR",
        signal=True,
    )


def cold_start_reason(found: ColdStartErrors) -> str:
    """The reason line: how many 5xx, what share, how close to the starts."""
    return (
        f"{len(found.clustered)} of {found.failures} 5xx ({found.share:.0f} %) came within "
        f"{found.within.total_seconds():g} s of an instance start on the same instance "
        "(cold starts serving before warm-up)"
    )


def within(params: ColdStartParams) -> timedelta:
    """The cold-start window as a timedelta."""
    return timedelta(seconds=params.within)
