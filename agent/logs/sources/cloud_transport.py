"""The HTTP transport under the Cloud Logging client: deadline-bound, retrying 429 and 5xx.

Retrying at the transport re-sends the same page request, so paging resumes exactly where it
failed. Every attempt is bounded by the scan's deadline; the number of retries is bounded too.
With a :class:`~prodguardian.logs.read_budget.ReadBudget`, every attempt first takes a call from
it, and a 429 waits by the budget's clock (until the minute has passed) instead of backing off
blindly; when that wait would pass the deadline, the budget raises ``ReadQuotaError``.
"""

from __future__ import annotations

import random
import time
from typing import Any

import requests
from google.auth.credentials import Credentials
from google.auth.transport.requests import AuthorizedSession

from prodguardian.logs.read_budget import ReadBudget

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER_S = 10.0


class DeadlineExceededError(requests.Timeout):
    """The scan's deadline passed before a request could be sent."""


class RetryingSession(AuthorizedSession):
    """An authorised ``requests`` session that retries 429/5xx and dropped connections."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        deadline: float,
        max_retries: int,
        backoff_s: float,
        request_timeout_s: float,
        budget: ReadBudget | None = None,
    ) -> None:
        super().__init__(credentials)  # type: ignore[no-untyped-call]
        self.deadline = deadline
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.request_timeout_s = request_timeout_s
        self.budget = budget
        self.retries = 0
        self.last_status: int | None = None

    def request(  # type: ignore[override]
        self, method: str, url: str, data: Any = None, headers: Any = None, **kwargs: Any
    ) -> requests.Response:
        attempt = 0
        while True:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0.05:
                raise DeadlineExceededError("the check's deadline passed")
            if self.budget is not None:
                self.budget.acquire(deadline=self.deadline)
                remaining = self.deadline - time.monotonic()
            kwargs["timeout"] = min(self.request_timeout_s, remaining)
            try:
                response: requests.Response = super().request(  # type: ignore[no-untyped-call]
                    method, url, data=data, headers=headers, **kwargs
                )
            except requests.ConnectionError:
                if not self._may_retry(attempt, None):
                    raise
            else:
                self.last_status = response.status_code
                if (
                    response.status_code == 429
                    and self.budget is not None
                    and attempt < self.max_retries
                ):
                    self.budget.exhausted(_retry_after(response))
                elif response.status_code not in RETRY_STATUSES or not self._may_retry(
                    attempt, response
                ):
                    return response
            attempt += 1
            self.retries += 1

    def _may_retry(self, attempt: int, response: requests.Response | None) -> bool:
        if attempt >= self.max_retries:
            return False
        delay = self.backoff_s * (2**attempt) * (0.5 + random.random() / 2)
        if response is not None:
            delay = max(delay, _retry_after(response))
        if time.monotonic() + delay >= self.deadline - 0.05:
            return False
        time.sleep(delay)
        return True


def _retry_after(response: requests.Response) -> float:
    value = response.headers.get("Retry-After", "")
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER_S)
    except ValueError:
        return 0.0
