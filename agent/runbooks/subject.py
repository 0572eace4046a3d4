"""What a runbook is matched against: one piece of evidence, split into the fields rules name.

Every text is bounded (:data:`MAX_MATCH_CHARS`, head and tail kept: a Cloud Run message says
what it is at the start, a traceback at the end), so a 10 MB log line costs bounded time.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import NamedTuple

from prodguardian.evidence import ErrorSignature, FailedCondition, LogLine

MAX_MATCH_CHARS = 64 * 1024
#: Characters of evidence quoted in an explanation or a label.
EXCERPT_CHARS = 200

_HEAD = MAX_MATCH_CHARS * 3 // 4
_TAIL = MAX_MATCH_CHARS - _HEAD
_EXCEPTION_SUFFIXES = (
    "Error",
    "Exception",
    "Warning",
    "Disconnect",
    "Exit",
    "Interrupt",
    "ClosedOK",
    "ClosedError",
    "Closed",
    "Timeout",
)
_TYPE_NAME = re.compile(r"(?:[A-Za-z_]\w*\.)*[A-Z]\w*")
_TYPE_NAMES: dict[str, bool] = {}
_TYPE_NAMES_KEPT = 1024
_TRACEBACK_TAIL_LINES = 40
#: How far into a text HTTP statuses are looked for.
_STATUS_SCAN_CHARS = 4096
_HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def _word(word: str) -> str:
    """``\\bword`` written ``w(?<=\\bw)ord``: every branch of :data:`_STATUS` then starts with a
    literal character, which lets ``re`` skip ahead to where one could begin."""
    return f"{word[0]}(?<=\\b{word[0]}){word[1:]}"


_STATUS = re.compile(
    "|".join(
        [
            r"HTTP/\d(?:\.\d)?\"?\s+(\d{3})\b",
            r"\"status\":\s?(\d{3})\b",
            _word("status") + r"(?:_code|Code)?[=:]\s?(\d{3})\b",
            *(_word(method) + r"\s+(?:\S+\s+)?(\d{3})\b" for method in _HTTP_METHODS),
        ]
    )
)
_OPERATOR = re.compile(r"^\s*(.+?)\s*(?:==|!=|<=|>=|=~|!~|<|>|\bin\b|\bcontains\b)")
_STATUS_NAMES = frozenset({"status", "status_code", "http_status", "code"})


def bounded(text: str) -> str:
    """``text`` cut to :data:`MAX_MATCH_CHARS`, keeping its head and its tail."""
    if len(text) <= MAX_MATCH_CHARS:
        return text
    return f"{text[:_HEAD]}\n[… {len(text) - MAX_MATCH_CHARS} characters cut …]\n{text[-_TAIL:]}"


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """One line of at most ``limit`` characters."""
    if len(text) <= limit and "\n" not in text and "  " not in text and "\t" not in text:
        return text.strip()
    line = " ".join(text.split()) if len(text) <= 4 * limit else " ".join(text[: 4 * limit].split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


class MatchSubject(NamedTuple):
    """One piece of evidence as the matcher sees it. Empty fields are simply not matched.

    A named tuple: immutable, and cheap to build for each of many log lines.
    """

    label: str
    """A short description of the evidence, for explanations."""
    exception_type: str = ""
    message: str = ""
    frames: str = ""
    text: str = ""
    conditions: tuple[str, ...] = ()
    http_statuses: tuple[int, ...] = ()
    check_kind: str = ""
    check_name: str = ""
    occurrences: int = 1
    """How many log entries this evidence stands for."""
    revisions: tuple[str, ...] = ()
    first_seen: datetime | None = None
    last_seen: datetime | None = None

    def field_texts(self, field: str) -> tuple[str, ...]:
        """The texts the patterns of ``field`` are searched in."""
        if field == "conditions":
            return self.conditions
        value: str = getattr(self, field)
        return (value,) if value else ()


def from_signature(
    sig: ErrorSignature, *, check_kind: str = "", check_name: str = ""
) -> MatchSubject:
    """An error signature: exception type, message, top frame plus the full traceback."""
    head = f"{sig.exception_type}: {sig.message}" if sig.exception_type else sig.message
    sample = bounded(sig.sample)
    frames = "\n".join(part for part in (sig.frame or "", *sig.frames, sample) if part)
    text = sample if head in sample else f"{head}\n{sample}"
    if sig.peak_sample:  # the figures of the worst occurrence fill the runbook's commands
        text = f"{text}\n{bounded(sig.peak_sample)}"
    return MatchSubject(
        label=excerpt(head),
        exception_type=sig.exception_type or "",
        message=bounded(sig.message),
        frames=frames,
        text=bounded(text),
        http_statuses=sig.http_statuses,
        check_kind=check_kind,
        check_name=check_name,
        occurrences=sig.count,
        revisions=sig.revisions,
        first_seen=sig.first_seen,
        last_seen=sig.last_seen,
    )


def from_condition(
    cond: FailedCondition, *, check_kind: str = "", check_name: str = ""
) -> MatchSubject:
    """A failed probe condition, matched as observed (``db == "down"``) and as configured."""
    lhs_match = _OPERATOR.match(cond.condition)
    lhs = lhs_match.group(1) if lhs_match else cond.condition.strip()
    observed = f"{lhs} == {_literal(cond.actual)}"
    configured = f"{cond.condition} (expected {cond.expected}, got {cond.actual})"
    statuses: tuple[int, ...] = ()
    if lhs.rsplit(".", 1)[-1].lower() in _STATUS_NAMES and cond.actual.strip().isdigit():
        code = int(cond.actual.strip())
        statuses = (code,) if 100 <= code <= 599 else ()
    return MatchSubject(
        label=excerpt(configured),
        message=bounded(configured),
        text=bounded(configured),
        conditions=(bounded(observed), bounded(configured)),
        http_statuses=statuses,
        check_kind=check_kind,
        check_name=check_name,
    )


def from_log_line(line: LogLine, *, check_kind: str = "", check_name: str = "") -> MatchSubject:
    """A log line, read like raw text."""
    return from_text(
        line.text,
        check_kind=check_kind,
        check_name=check_name,
        revisions=(line.revision,) if line.revision else (),
    )


def from_text(
    text: str,
    *,
    check_kind: str = "",
    check_name: str = "",
    revisions: tuple[str, ...] = (),
) -> MatchSubject:
    """Raw text: a log line, a JSON LogEntry, or a whole traceback."""
    if len(text) > MAX_MATCH_CHARS:
        text = bounded(text)
    json_statuses: tuple[int, ...] = ()
    if text[:1] in ("{", " ", "\t", "\n"):
        text, json_statuses = _unwrap_json_entry(text)
    # Most lines name no exception and hold no status: the words every exception suffix
    # holds, and the markers a status follows, rule that out in a few scans, written here to
    # spare such lines a call (this runs for every line of a log file).
    if (
        "Error" in text
        or "Exception" in text
        or "Warning" in text
        or "Disconnect" in text
        or "Exit" in text
        or "Interrupt" in text
        or "Closed" in text
        or "Timeout" in text
    ):
        exception_type, message = _exception(text)
    else:
        exception_type, message = "", text.strip()
    if not json_statuses:
        head = text[:_STATUS_SCAN_CHARS]
        if (
            "tatus" in head
            or "GET " in head
            or "DELETE " in head
            or "HEAD " in head
            # The markers with a P only when there is a P at all (one scan for one character).
            or (
                "P" in head
                and (
                    "HTTP/" in head
                    or "POST " in head
                    or "PUT " in head
                    or "PATCH " in head
                    or "OPTIONS " in head
                )
            )
        ):
            json_statuses = _statuses(head)
    label = f"{exception_type}: {message}" if exception_type else text
    # :func:`excerpt`'s test for a label fit to show as it is, again without a call.
    if (
        len(label) <= EXCERPT_CHARS
        and "\n" not in label
        and "  " not in label
        and "\t" not in label
    ):
        label = label.strip()
    else:
        label = excerpt(label)
    # Every field in order, straight into the tuple (``MatchSubject._make`` without its
    # checks).
    return tuple.__new__(
        MatchSubject,
        (
            label,
            exception_type,
            message,
            text if ('File "' in text or "Traceback" in text) else "",
            text,
            (),
            json_statuses,
            check_kind,
            check_name,
            1,
            revisions,
            None,
            None,
        ),
    )


def _exception(text: str) -> tuple[str, str]:
    """The last ``Type: message`` line of ``text``, or no type and the text as message.

    Only for a text holding one of the words every exception suffix holds (see
    :func:`from_text`).
    """
    lines = text.rstrip().splitlines()
    if len(lines) == 1:  # a log line: the common case, without the traceback walk
        line = lines[0]
        if line[0] not in " \t" or line.lstrip().startswith("raise "):
            found = _exception_in_line(line)
            if found is not None:
                return found
        return "", text.strip()
    for line in reversed(lines[-_TRACEBACK_TAIL_LINES:]):
        if line.startswith((" ", "\t")) and not line.lstrip().startswith("raise "):
            continue
        found = _exception_in_line(line.rstrip())
        if found is not None:
            return found
        if "Traceback" not in text:
            break
    return "", text.strip()


def _exception_in_line(line: str) -> tuple[str, str] | None:
    """``("pkg.SomeError", "message")`` from a line holding ``pkg.SomeError: message``."""
    start = 0
    # "Type: message" has a space after its colon; the colons of a timestamp do not.
    while (colon := line.find(": ", start)) != -1:
        token = line[line.rfind(" ", 0, colon) + 1 : colon].lstrip("[(|:")
        # A known type name is one dict look-up away; a new token goes through the regex.
        if token.endswith(_EXCEPTION_SUFFIXES) and (_TYPE_NAMES.get(token) or _is_type_name(token)):
            return token, line[colon + 2 :].strip()
        start = colon + 2
    token = line[line.rfind(" ") + 1 :].lstrip("[(|:").removesuffix(":")
    if token.endswith(_EXCEPTION_SUFFIXES) and _is_type_name(token):
        return token, ""
    return None


def _is_type_name(token: str) -> bool:
    """Whether ``token`` is a (dotted) class name; remembered, as the same types keep coming."""
    known = _TYPE_NAMES.get(token)
    if known is None:
        known = _TYPE_NAME.fullmatch(token) is not None
        if len(_TYPE_NAMES) >= _TYPE_NAMES_KEPT:
            _TYPE_NAMES.clear()
        _TYPE_NAMES[token] = known
    return known


def _statuses(head: str) -> tuple[int, ...]:
    """The HTTP statuses in ``head``, a text's start holding a status marker."""
    found = []
    for match in _STATUS.finditer(head):
        code = int(next(g for g in match.groups() if g))
        if 100 <= code <= 599 and code not in found:
            found.append(code)
    return tuple(found)


def _unwrap_json_entry(text: str) -> tuple[str, tuple[int, ...]]:
    """A Cloud Logging LogEntry as JSON → its payload text and ``httpRequest.status``."""
    stripped = text.strip()
    if not (stripped.startswith("{") and stripped.endswith("}")):
        return text, ()
    try:
        entry = json.loads(stripped)
    except ValueError:
        return text, ()
    if not isinstance(entry, dict):
        return text, ()
    payload = entry.get("textPayload")
    json_payload = entry.get("jsonPayload")
    if payload is None and isinstance(json_payload, dict):
        payload = json_payload.get("message") or json_payload.get("msg")
    request = entry.get("httpRequest")
    statuses: tuple[int, ...] = ()
    if isinstance(request, dict) and isinstance(request.get("status"), int):
        statuses = (request["status"],)
        if payload is None:
            method = request.get("requestMethod", "")
            url = request.get("requestUrl", "")
            payload = f"{method} {url} {request['status']}".strip()
    if not isinstance(payload, str):
        return text, statuses
    return payload, statuses


def _literal(value: str) -> str:
    stripped = value.strip()
    if stripped.startswith('"') or stripped in ("true", "false", "null"):
        return stripped
    try:
        float(stripped)
    except ValueError:
        return json.dumps(stripped)
    return stripped
