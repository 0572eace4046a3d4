"""Which entries are errors, which are warnings, which are noise: a pure decision, by config."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

from prodguardian.logs.entry import LogEntry, Severity
from prodguardian.logs.query import Interest

#: Paths that vulnerability scanners probe on every public host; their 4xx are noise.
BOT_SCAN_PATHS = (
    r"^/\.env",
    r"^/wp-(?:admin|login|content|includes)",
    r"^/\.git(?:/|$)",
    r"^/xmlrpc\.php",
    r"^/phpmyadmin",
    r"^/(?:cgi-bin|vendor/phpunit)/",
    r"\.(?:php|asp|aspx|jsp)$",
)


class Level(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NOISE = "noise"
    OTHER = "other"


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """Severity at or above ``min_severity``, or an HTTP status at/above or in a list."""

    min_severity: Severity | None = None
    min_http_status: int | None = None
    http_statuses: frozenset[int] = frozenset()

    def matches(self, entry: LogEntry) -> bool:
        if self.min_severity is not None and entry.severity >= self.min_severity:
            return True
        status = entry.http.status if entry.http is not None else None
        if status is None:
            return False
        if self.min_http_status is not None and status >= self.min_http_status:
            return True
        return status in self.http_statuses


@dataclass(frozen=True, slots=True, kw_only=True)
class Classifier:
    """Noise first (bot scans, ignored messages), then errors, then warnings."""

    errors: Rule = Rule(min_severity=Severity.ERROR, min_http_status=500)
    warnings: Rule = Rule(min_severity=Severity.WARNING, http_statuses=frozenset({429}))
    noise_paths: tuple[str, ...] = BOT_SCAN_PATHS
    noise_messages: tuple[str, ...] = ()
    _paths: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)
    _messages: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_paths", tuple(re.compile(p) for p in self.noise_paths))
        object.__setattr__(self, "_messages", tuple(re.compile(p) for p in self.noise_messages))

    def level(self, entry: LogEntry) -> Level:
        if self._is_noise(entry):
            return Level.NOISE
        if self.errors.matches(entry):
            return Level.ERROR
        if self.warnings.matches(entry):
            return Level.WARNING
        return Level.OTHER

    def interest(self) -> Interest:
        """What a source must hand over for this classifier to see every error and warning."""
        severities = [r.min_severity for r in (self.errors, self.warnings) if r.min_severity]
        statuses = [r.min_http_status for r in (self.errors, self.warnings) if r.min_http_status]
        return Interest(
            min_severity=min(severities) if severities else None,
            min_http_status=min(statuses) if statuses else None,
            http_statuses=self.errors.http_statuses | self.warnings.http_statuses,
        )

    def _is_noise(self, entry: LogEntry) -> bool:
        http = entry.http
        if http is not None and http.status is not None and 400 <= http.status < 500:
            path = http.path or ""
            if any(p.search(path) for p in self._paths):
                return True
        return bool(self._messages) and any(p.search(entry.text) for p in self._messages)
