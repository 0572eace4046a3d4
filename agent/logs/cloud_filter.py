"""Building a Cloud Logging filter from a query, pushing as much filtering as possible to it.

Two traps are avoided by construction: the filter always has explicit ``timestamp>=`` and
``timestamp<=`` clauses (the client library otherwise adds its own 24 h one), and every regex
is a double-quoted string (a bare one makes the API answer "Unparseable filter").
"""

from __future__ import annotations

from datetime import UTC, datetime

from prodguardian.logs.query import Interest, LogQuery, LogScope


def quote(value: str) -> str:
    """A Logging-filter string literal: double quotes, backslashes and quotes escaped."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def rfc3339(ts: datetime) -> str:
    """``2025-10-11T12:21:00Z`` (microseconds kept when there are some)."""
    utc = ts.astimezone(UTC)
    if utc.microsecond:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def build_filter(
    query: LogQuery, *, resource_type: str | None = None, extra: str | None = None
) -> str:
    """The whole filter for ``query``: scope, window, and (without ``count_all``) interest."""
    clauses = _scope_clauses(query.scope, resource_type)
    clauses.append(f"timestamp>={quote(rfc3339(query.window.start))}")
    clauses.append(f"timestamp<={quote(rfc3339(query.window.end))}")
    if not query.count_all:
        wanted = interest_clause(query.interest)
        if wanted:
            clauses.append(wanted)
    if extra:
        clauses.append(f"({extra})")
    return "\n".join(clauses)


def text_regex_clause(pattern: str) -> str:
    """A regex on the message, wherever the entry keeps it."""
    q = quote(pattern)
    return f"(textPayload=~{q} OR jsonPayload.message=~{q})"


def interest_clause(interest: Interest) -> str:
    """``(severity>=WARNING OR httpRequest.status>=500 OR ...)``, or ``""`` for "everything"."""
    parts: list[str] = []
    if interest.min_severity is not None:
        parts.append(f"severity>={interest.min_severity.name}")
    if interest.min_http_status is not None:
        parts.append(f"httpRequest.status>={interest.min_http_status}")
    parts.extend(f"httpRequest.status={status}" for status in sorted(interest.http_statuses))
    if interest.text is not None:
        parts.append(text_regex_clause(interest.text))
    if not parts:
        return ""
    return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


def _scope_clauses(scope: LogScope, resource_type: str | None) -> list[str]:
    clauses: list[str] = []
    kind = scope.resource_type or resource_type
    if kind:
        clauses.append(f"resource.type={quote(kind)}")
    if scope.service is not None:
        clauses.append(f"resource.labels.service_name={quote(scope.service)}")
    if scope.revision is not None:
        clauses.append(f"resource.labels.revision_name={quote(scope.revision)}")
    for key, value in sorted(scope.resource_labels.items()):
        clauses.append(f"resource.labels.{key}={quote(value)}")
    if scope.text is not None:
        clauses.append(text_regex_clause(scope.text))
    if scope.url is not None:
        clauses.append(f"httpRequest.requestUrl=~{quote(scope.url)}")
    return clauses


def sample_clause(fraction: float) -> str:
    """Logging's deterministic sample of entries by ``insertId`` (``0 < fraction < 1``)."""
    return f"sample(insertId, {fraction:.6g})"


def untimed(filter_text: str) -> str:
    """A built filter without its ``timestamp`` bounds: the identity of a query over time."""
    return "\n".join(line for line in filter_text.splitlines() if not line.startswith("timestamp"))
