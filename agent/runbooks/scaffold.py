"""A runbook to start from, written from a failure no runbook covers.

The patterns are the failure's own words with the parts that change between occurrences (ids,
numbers, hex, quoted values) generalised, so the new runbook matches the next occurrence too.
"""

from __future__ import annotations

import re
import shlex

import re2
import yaml

from prodguardian.runbooks.subject import MatchSubject

#: Characters of the message a scaffold pattern is built from.
PATTERN_SOURCE_CHARS = 120

_VARIABLE = re.compile(
    r"(?P<uuid>\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b)"
    r"|(?P<hex>\b(?:0x)?(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b)"
    r"|(?P<squote>'[^'\n]{0,80}')"
    r"|(?P<dquote>\"[^\"\n]{0,80}\")"
    r"|(?P<number>\d+(?:\.\d+)?)"
)
_GENERIC = {
    "uuid": r"[0-9a-fA-F-]{36}",
    "hex": r"(?:0x)?[0-9a-fA-F]+",
    "squote": r"'[^']*'",
    "dquote": r'"[^"]*"',
    "number": r"\d+(?:\.\d+)?",
}


def generalize(message: str) -> str:
    """An RE2 pattern matching ``message`` and its variants (other ids, numbers, quoted values)."""
    source = message.strip().splitlines()[0] if message.strip() else ""
    source = source[:PATTERN_SOURCE_CHARS]
    out: list[str] = []
    position = 0
    for found in _VARIABLE.finditer(source):
        out.append(_escape(source[position : found.start()]))
        out.append(_GENERIC[str(found.lastgroup)])
        position = found.end()
    out.append(_escape(source[position:]))
    return "".join(out)


def suggested_id(subject: MatchSubject) -> str:
    """A runbook id from the failure's type and first words (``runtimeerror-database-…``)."""
    words = re.findall(r"[a-z]+", f"{subject.exception_type} {subject.message}".lower())[:6]
    slug = "-".join(w for w in words if len(w) > 1)[:48].strip("-")
    return slug or "new-runbook"


def scaffold(
    subject: MatchSubject,
    *,
    runbook_id: str | None = None,
    title: str | None = None,
    severity: str = "high",
) -> str:
    """A runbook file (front matter and body) for ``subject``, ready to complete and save."""
    rule: dict[str, object] = {}
    if subject.exception_type:
        rule["exception_type"] = f"(^|\\.){_escape(subject.exception_type.rsplit('.', 1)[-1])}$"
    pattern = generalize(subject.message)
    if pattern:
        rule["message"] = pattern
    elif subject.conditions:
        rule["conditions"] = generalize(subject.conditions[0])
    if subject.http_statuses:
        rule["http_statuses"] = list(subject.http_statuses)
    if not rule:
        rule["text"] = generalize(subject.text) or "TODO"
    if subject.check_name:
        follow_up: dict[str, object] = {
            "after": "+30m",
            "verify": {"rerun": [subject.check_name], "expect": "OK"},
        }
    else:
        follow_up = {"after": "+30m", "remind": "Re-run the checks and confirm the error is gone."}
    front = {
        "id": runbook_id or suggested_id(subject),
        "title": title or f"TODO: name this failure ({subject.label[:60]})",
        "severity": severity,
        "match": [rule],
        "follow_ups": [follow_up],
    }
    header = yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=100)
    quoted = subject.label.replace("`", "'")
    return (
        f"---\n{header}---\n\n"
        f"## Symptoms\n\nTODO: what the team sees. The failure that started this runbook:\n\n"
        f"    {quoted}\n\n"
        f"## Cause\n\nTODO: why it happens.\n\n"
        f"## Fix\n\n1. TODO: the first thing to do, with its command:\n\n"
        f"   ```\n   gcloud run services describe {{service}} --region {{region}}\n   ```\n\n"
        f"## Verification\n\nTODO: how to know the fix worked.\n"
    )


def scaffold_command(subject: MatchSubject) -> str:
    """The CLI command that writes :func:`scaffold` of ``subject`` into ``./runbooks``."""
    signature = subject.label
    if subject.exception_type and not signature.startswith(subject.exception_type):
        signature = f"{subject.exception_type}: {signature}"
    return f"prodguardian runbooks new --from-signature {shlex.quote(signature)} -o runbooks/"


def _escape(text: str) -> str:
    escaped: str = re2.escape(text)
    # re2.escape escapes spaces and punctuation that need no escaping; keep patterns readable.
    return re.sub(r"\\([ :,'\"=/<>@#%&;!-])", r"\1", escaped)
