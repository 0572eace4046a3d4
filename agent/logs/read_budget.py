"""A per-project budget of Cloud Logging list calls per minute, shared by every check and command.

Cloud Logging grants a project 60 ``entries.list`` calls a minute by default, for every reader of
that project (the console, other tools, ProdGuardian). ProdGuardian takes a share of it
(``list_calls_per_minute``, default 30) and never goes past that share:

* :meth:`ReadBudget.acquire` is called before every list call (every page). It returns at once
  when the last minute holds fewer calls than the budget; otherwise it waits for the oldest call
  to leave the minute, when that is still before the caller's deadline, and raises
  :class:`ReadQuotaError` (→ UNKNOWN "read quota", with the figures) when it is not.
* :meth:`ReadBudget.exhausted` is called on a 429 ``RESOURCE_EXHAUSTED``: somebody else used the
  project's quota, so nobody here calls again until the budget's clock says the minute has
  passed (or the server's ``Retry-After``, whichever is later). Retries go through
  :meth:`acquire` like any call: no blind exponential retries against an exhausted quota.

One budget per (endpoint, project) lives in the process (:func:`shared_budget`); it is
thread-safe, because sources read in worker threads. Nothing of it survives a restart: a new
process starts with a full minute, which is why the default leaves half the quota to others.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from prodguardian.errors import SourceError

WINDOW_S = 60.0
DEFAULT_CALLS_PER_MINUTE = 30
#: Time kept for the call itself after a wait: waiting until the very deadline is useless.
CALL_MARGIN_S = 0.5


class ReadQuotaError(SourceError):
    """A read would exceed the project's list-call budget before the caller's deadline."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BudgetFigures:
    """What a budget looks like at one moment, for messages and metrics."""

    project: str
    per_minute: int
    used: int
    free_in_s: float
    """Seconds until the next call may go out (0 when one may go now)."""


class ReadBudget:
    """A sliding one-minute window of list calls for one project. See the module docstring."""

    def __init__(
        self,
        project: str,
        *,
        per_minute: int = DEFAULT_CALLS_PER_MINUTE,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_minute < 1:
            raise ValueError("a read budget needs at least one call a minute")
        self.project = project
        self.per_minute = per_minute
        self.window_s = window_s
        """The length of the quota's "minute" (shorter only in tests)."""
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._calls: deque[float] = deque()
        self._blocked_until = 0.0
        self.calls = 0
        """Every call granted since the budget was made (for benchmarks and tests)."""
        self.waited_s = 0.0
        self.throttled = 0
        """How many 429s were reported."""

    def limit_to(self, per_minute: int) -> None:
        """Lower the budget (two sources of one project: the smaller share wins)."""
        with self._lock:
            self.per_minute = min(self.per_minute, per_minute)

    def figures(self) -> BudgetFigures:
        with self._lock:
            now = self._clock()
            self._forget(now)
            return BudgetFigures(
                project=self.project,
                per_minute=self.per_minute,
                used=len(self._calls),
                free_in_s=max(self._free_at(now) - now, 0.0),
            )

    def acquire(self, *, deadline: float, what: str = "a Cloud Logging list call") -> None:
        """Take one call, waiting when that still meets ``deadline`` (a ``time.monotonic()``
        value; the budget's own clock may differ, only the time left is compared)."""
        while True:
            with self._lock:
                now = self._clock()
                self._forget(now)
                free_at = self._free_at(now)
                if free_at <= now:
                    self._calls.append(now)
                    self.calls += 1
                    return
                left = deadline - time.monotonic()
                if free_at - now + CALL_MARGIN_S > left:
                    raise ReadQuotaError(self._refusal(now, free_at, left, what))
            self._sleep(free_at - now)
            self.waited_s += free_at - now

    def exhausted(self, retry_after_s: float | None = None) -> None:
        """Cloud Logging answered 429: hold every call until the minute has passed."""
        with self._lock:
            now = self._clock()
            self.throttled += 1
            self._forget(now)
            # The server counts calls we cannot see (other readers), so the whole minute after
            # our oldest call must pass, and never less than what the server asked for.
            until = (self._calls[0] if self._calls else now) + self.window_s
            if retry_after_s is not None:
                until = max(until, now + retry_after_s)
            self._blocked_until = max(self._blocked_until, until)

    def _forget(self, now: float) -> None:
        while self._calls and self._calls[0] <= now - self.window_s:
            self._calls.popleft()

    def _free_at(self, now: float) -> float:
        at = self._blocked_until
        if len(self._calls) >= self.per_minute:
            at = max(at, self._calls[len(self._calls) - self.per_minute] + self.window_s)
        return max(at, now)

    def _refusal(self, now: float, free_at: float, left: float, what: str) -> str:
        wait = free_at - now
        why = (
            f"{len(self._calls)} of its {self.per_minute} list calls a minute are used"
            if self._blocked_until <= now
            else "Cloud Logging answered 429 RESOURCE_EXHAUSTED (other readers use the quota)"
        )
        return (
            f"read quota: project {self.project!r}: {why}; {what} would have to wait "
            f"{wait:.1f} s, past this check's deadline (in {max(left, 0):.1f} s). "
            "Raise the check's timeout, run it less often, or raise list_calls_per_minute of "
            "the log source (Cloud Logging allows 60 a minute per project by default)"
        )


_lock = threading.Lock()
_budgets: dict[tuple[str, str], ReadBudget] = {}


def shared_budget(
    project: str,
    *,
    endpoint: str | None,
    per_minute: int,
    window_s: float = WINDOW_S,
    clock: Callable[[], float] = time.monotonic,
) -> ReadBudget:
    """The process's budget for ``project`` at ``endpoint`` (None: the real API); the first
    call makes it, later ones can only lower its share."""
    key = (endpoint or "logging.googleapis.com", project)
    with _lock:
        budget = _budgets.get(key)
        if budget is None:
            budget = _budgets[key] = ReadBudget(
                project, per_minute=per_minute, window_s=window_s, clock=clock
            )
        else:
            budget.limit_to(per_minute)
        return budget


def forget_shared_budgets() -> None:
    """Drop every shared budget (tests, and embedders that reload everything)."""
    with _lock:
        _budgets.clear()
