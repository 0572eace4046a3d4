"""Runbooks: the library, the RE2 matcher, and the correlator that puts them in reports.

A runbook is a Markdown file with YAML front matter saying when it applies and what follows a
fix. :func:`load_library` reads the built-in runbooks and the user's; the library's matcher
tests every pattern in one pass; :func:`correlate` turns a report's failures into findings.
"""

from prodguardian.runbooks.body import Step
from prodguardian.runbooks.catalog import (
    RunbookLibrary,
    builtin_runbooks,
    cached_library,
    library_for_config,
    load_library,
)
from prodguardian.runbooks.correlator import Observed, correlate, correlate_observed
from prodguardian.runbooks.findings import (
    Explanation,
    NoRunbook,
    PlannedFollowUp,
    RunbookFinding,
    RunbookMatch,
)
from prodguardian.runbooks.loader import RunbookError, load_directory, parse_runbook
from prodguardian.runbooks.matcher import Candidate, RunbookMatcher
from prodguardian.runbooks.model import FollowUp, MatchRule, Runbook, Severity, Verification
from prodguardian.runbooks.subject import MatchSubject, from_text

__all__ = [
    "Candidate",
    "Explanation",
    "FollowUp",
    "MatchRule",
    "MatchSubject",
    "NoRunbook",
    "Observed",
    "PlannedFollowUp",
    "Runbook",
    "RunbookError",
    "RunbookFinding",
    "RunbookLibrary",
    "RunbookMatch",
    "RunbookMatcher",
    "Severity",
    "Step",
    "Verification",
    "builtin_runbooks",
    "cached_library",
    "correlate",
    "correlate_observed",
    "from_text",
    "library_for_config",
    "load_directory",
    "load_library",
    "parse_runbook",
]
