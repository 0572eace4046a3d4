"""Which error signatures a *critical* runbook covers, asked by a check before it decides.

``log_errors`` withholds a rate verdict over too few entries (``min_entries``), but an error a
critical runbook describes (the database is gone) must still fail the check on a quiet service.
The check gets this as a plain function in its context, so it never loads runbooks itself.
"""

from __future__ import annotations

from collections.abc import Callable

from prodguardian.evidence import ErrorSignature
from prodguardian.runbooks.matcher import RunbookMatcher
from prodguardian.runbooks.model import Severity
from prodguardian.runbooks.subject import from_signature

#: ``(signature, check kind, check name)`` → the id of a critical runbook that covers it, or None.
CriticalRunbookOf = Callable[[ErrorSignature, str, str], str | None]


def critical_runbook_finder(matcher: RunbookMatcher) -> CriticalRunbookOf:
    """A :data:`CriticalRunbookOf` answering from ``matcher``'s runbooks."""

    def find(sig: ErrorSignature, check_kind: str, check_name: str) -> str | None:
        subject = from_signature(sig, check_kind=check_kind, check_name=check_name)
        for candidate in matcher.match(subject):
            if candidate.runbook.severity is Severity.CRITICAL:
                return candidate.runbook.id
        return None

    return find
