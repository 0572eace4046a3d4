"""One log entry, in the shape of Cloud Logging's ``LogEntry``, whatever source it came from."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit


class Severity(enum.IntEnum):
    """Cloud Logging's severities, with its numeric values (so ``>=`` means what it says)."""

    DEFAULT = 0
    DEBUG = 100
    INFO = 200
    NOTICE = 300
    WARNING = 400
    ERROR = 500
    CRITICAL = 600
    ALERT = 700
    EMERGENCY = 800

    @classmethod
    def parse(cls, value: object) -> Severity:
        """``"ERROR"``, ``"warn"``, ``500`` or ``None`` → a severity (unknown → DEFAULT)."""
        if value is None:
            return cls.DEFAULT
        if isinstance(value, int) and not isinstance(value, bool):
            return max((s for s in cls if s.value <= value), default=cls.DEFAULT)
        found = _BY_NAME.get(value) if isinstance(value, str) else None
        if found is not None:
            return found
        return _BY_NAME.get(str(value).strip().upper(), cls.DEFAULT)


SEVERITY_ALIASES = {
    "WARN": Severity.WARNING,
    "ERR": Severity.ERROR,
    "FATAL": Severity.CRITICAL,
    "CRIT": Severity.CRITICAL,
    "EXCEPTION": Severity.ERROR,
}
_BY_NAME: dict[str, Severity] = {**{s.name: s for s in Severity}, **SEVERITY_ALIASES}


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpRequest:
    """The part of ``httpRequest`` that matters for errors: method, URL and status."""

    method: str | None = None
    url: str | None = None
    status: int | None = None

    @property
    def path(self) -> str | None:
        """The URL's path without host, query or fragment (``/api/health``)."""
        if not self.url:
            return None
        return urlsplit(self.url).path or "/"


@dataclass(frozen=True, slots=True, kw_only=True)
class LogEntry:
    """A log entry. ``text`` is the message (``textPayload`` or ``jsonPayload.message``)."""

    timestamp: datetime
    severity: Severity = Severity.DEFAULT
    text: str = ""
    resource_type: str | None = None
    resource_labels: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    http: HttpRequest | None = None
    log_name: str | None = None

    @property
    def revision(self) -> str | None:
        """The Cloud Run revision that wrote it, when the entry says."""
        return self.resource_labels.get("revision_name")

    @property
    def service(self) -> str | None:
        return self.resource_labels.get("service_name")

    @property
    def instance(self) -> str | None:
        """The instance (container) that wrote it: pieces of one traceback share it."""
        return self.labels.get("instanceId")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LogEntry:
        """Build from a ``LogEntry`` JSON object; raise ``ValueError`` when it is not one."""
        get = data.get
        raw_ts = get("timestamp") or get("receiveTimestamp")
        if not isinstance(raw_ts, str):
            raise ValueError("no 'timestamp' string")
        resource = get("resource")
        if type(resource) is not dict and not isinstance(resource, Mapping):
            resource = {}
        request = get("httpRequest")
        kind = resource.get("type")
        log_name = get("logName")
        return cls(
            timestamp=parse_timestamp(raw_ts),
            severity=Severity.parse(get("severity")),
            text=payload_text(data),
            resource_type=kind if isinstance(kind, str) else None,
            resource_labels=_str_mapping(resource.get("labels")),
            labels=_str_mapping(get("labels")),
            http=_http_request(request) if request is not None else None,
            log_name=log_name if isinstance(log_name, str) else None,
        )


def parse_timestamp(value: str) -> datetime:
    """An RFC 3339 timestamp (``Z`` or offset, up to nanoseconds) → an aware UTC datetime."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return _parse_timestamp_slowly(value)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed if parsed.tzinfo is UTC else parsed.astimezone(UTC)


def _parse_timestamp_slowly(value: str) -> datetime:
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    dot = text.find(".")
    if dot != -1:
        # Python keeps microseconds only; Cloud Logging writes up to nanoseconds.
        end = dot + 1
        while end < len(text) and text[end].isdigit():
            end += 1
        text = text[: dot + 1] + text[dot + 1 : end][:6].ljust(6, "0") + text[end:]
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def payload_text(data: Mapping[str, Any]) -> str:
    """The human text of an entry: ``textPayload``, or the message inside ``jsonPayload``."""
    text = data.get("textPayload")
    if isinstance(text, str):
        return text
    payload = data.get("jsonPayload")
    if isinstance(payload, Mapping):
        for key in ("message", "msg", "text"):
            value = payload.get(key)
            if isinstance(value, str):
                extra = payload.get("stack_trace") or payload.get("exc_info")
                return f"{value}\n{extra}" if isinstance(extra, str) and extra else value
        return str(dict(payload))
    return ""


def _http_request(value: object) -> HttpRequest | None:
    if type(value) is not dict and not isinstance(value, Mapping):
        return None
    status = value.get("status")
    try:
        status_int = int(status) if status is not None else None
    except (TypeError, ValueError):
        status_int = None
    return HttpRequest(
        method=_str_or_none(value.get("requestMethod")),
        url=_str_or_none(value.get("requestUrl")),
        status=status_int,
    )


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _str_mapping(value: object) -> Mapping[str, str]:
    if type(value) is dict:
        for item in value.values():
            if type(item) is not str:
                break
        else:
            return value  # a fresh dict from the JSON parser, already all strings
    if not isinstance(value, Mapping):
        return {}
    return {str(k): str(v) for k, v in value.items()}
