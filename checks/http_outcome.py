"""What one probe observed: a response, or the precise way it failed. Plain values, no I/O."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from prodguardian.checks.http_tls import CertInfo

__all__ = ["FailureKind", "ProbeFailure", "ProbeResponse"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeResponse:
    """An HTTP response as the probe read it (body capped at ``max_body``)."""

    status_code: int
    reason: str
    url: str
    """The URL that answered (after redirects)."""
    redirects: tuple[str, ...] = ()
    """The URLs that redirected, in order, before ``url`` answered."""
    content_type: str | None = None
    charset: str | None = None
    location: str | None = None
    body: bytes = b""
    body_complete: bool = True
    """False when the body went on past ``max_body`` and was cut there."""
    headers_s: float
    """Seconds until the response headers arrived."""
    total_s: float
    """Seconds until the (capped) body was read: the response time."""
    cert: CertInfo | None = None
    """The certificate of the server that answered, for https."""


class FailureKind(enum.StrEnum):
    """How a probe can fail to get a response."""

    DNS = "dns"
    REFUSED = "refused"
    CONNECT = "connect"
    TIMEOUT = "timeout"
    TLS = "tls"
    REDIRECTS = "redirects"
    DISCONNECTED = "disconnected"
    PROTOCOL = "protocol"


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeFailure:
    """A probe that got no usable response, and why, in words for the summary and evidence."""

    kind: FailureKind
    summary: str
    """One line: ``connection refused by 127.0.0.1:8765``."""
    condition: str
    """What did not hold, for the evidence: ``TCP connect to 127.0.0.1:8765``."""
    expected: str
    actual: str
    elapsed_s: float
    detail: str | None = None
    """The library's own message, when it adds something."""
    cert: CertInfo | None = None
