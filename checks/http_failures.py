"""aiohttp's exceptions translated into :class:`ProbeFailure` values with precise reasons.

This is the boundary where library errors stop: the check never lets one escape, and every
way a target can fail reads as a sentence an on-call engineer can act on.
"""

from __future__ import annotations

import errno
import re
import socket
import ssl

import aiohttp
from yarl import URL

from prodguardian.checks.http_outcome import FailureKind, ProbeFailure
from prodguardian.checks.http_tls import CertInfo, verification_failure_reason

__all__ = ["failure_from_exception", "timeout_failure"]


def timeout_failure(
    *, budget_s: float, elapsed_s: float, got_headers: bool, body_bytes: int
) -> ProbeFailure:
    """The probe's own deadline passed (a little before the check's timeout)."""
    if got_headers:
        summary = (
            f"response body not complete within {budget_s:.3g} s "
            f"(headers arrived, {body_bytes} bytes of body read)"
        )
    else:
        summary = f"no response within {budget_s:.3g} s"
    return ProbeFailure(
        kind=FailureKind.TIMEOUT,
        summary=summary,
        condition="response within the timeout",
        expected=f"a complete response within {budget_s:.3g} s",
        actual=summary,
        elapsed_s=elapsed_s,
    )


def failure_from_exception(
    exc: aiohttp.ClientError,
    *,
    url: URL,
    elapsed_s: float,
    max_redirects: int,
    cert: CertInfo | None = None,
) -> ProbeFailure:
    """Describe why a request to ``url`` failed. Pure: looks only at the exception."""
    if isinstance(exc, aiohttp.TooManyRedirects):
        return _too_many_redirects(exc, elapsed_s=elapsed_s, max_redirects=max_redirects)
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return _certificate_failure(exc, elapsed_s=elapsed_s, cert=cert)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return _connect_failure(exc, elapsed_s=elapsed_s)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return _failure(
            FailureKind.DISCONNECTED,
            f"the server closed the connection without a response ({url.host})",
            condition="HTTP response",
            expected="an HTTP response",
            elapsed_s=elapsed_s,
        )
    if isinstance(exc, aiohttp.ClientPayloadError):
        return _failure(
            FailureKind.PROTOCOL,
            f"the response body broke off: {_payload_problem(exc)}",
            condition="HTTP response body",
            expected="a complete response body",
            elapsed_s=elapsed_s,
        )
    if isinstance(exc, aiohttp.ClientResponseError):
        return _failure(
            FailureKind.PROTOCOL,
            f"not a valid HTTP response: {_one_line(str(exc.message or exc.status))}",
            condition="HTTP response",
            expected="a valid HTTP response",
            elapsed_s=elapsed_s,
        )
    if isinstance(exc, aiohttp.RedirectClientError | aiohttp.InvalidURL):
        return _failure(
            FailureKind.REDIRECTS,
            f"cannot follow the redirect: {_first_line(exc)}",
            condition="redirect",
            expected="a redirect to an http(s) URL",
            elapsed_s=elapsed_s,
        )
    if isinstance(exc, ConnectionResetError):
        return _failure(
            FailureKind.DISCONNECTED,
            f"the connection to {url.host} was reset during the request",
            condition="HTTP response",
            expected="an HTTP response",
            elapsed_s=elapsed_s,
        )
    if isinstance(exc, aiohttp.ClientOSError):
        return _os_failure(exc, url=url, elapsed_s=elapsed_s)
    return _failure(
        FailureKind.PROTOCOL,
        f"request failed: {type(exc).__name__}: {_first_line(exc)}",
        condition="HTTP response",
        expected="an HTTP response",
        elapsed_s=elapsed_s,
    )


def _failure(
    kind: FailureKind,
    summary: str,
    *,
    condition: str,
    expected: str,
    elapsed_s: float,
    actual: str | None = None,
    detail: str | None = None,
    cert: CertInfo | None = None,
) -> ProbeFailure:
    return ProbeFailure(
        kind=kind,
        summary=summary,
        condition=condition,
        expected=expected,
        actual=actual or summary,
        elapsed_s=elapsed_s,
        detail=detail,
        cert=cert,
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def _one_line(text: str, limit: int = 200) -> str:
    """A library message on one line: whitespace collapsed, caret markers dropped, cut."""
    words = [w for w in text.split() if w != "^"]
    joined = " ".join(words)
    return joined if len(joined) <= limit else joined[: limit - 1] + "…"


_INNER_MESSAGE = re.compile(r"message='([^']*)'")


def _payload_problem(exc: aiohttp.ClientPayloadError) -> str:
    # aiohttp wraps the parser's error: "Response payload is not completed: <X: 400,
    # message='Not enough data ... (received 5 of 100 bytes).'>"; the inner message is the news.
    text = str(exc)
    inner = _INNER_MESSAGE.search(text)
    return _one_line(inner.group(1) if inner else text).rstrip(".")


def _too_many_redirects(
    exc: aiohttp.TooManyRedirects, *, elapsed_s: float, max_redirects: int
) -> ProbeFailure:
    visited = [resp.url for resp in exc.history]
    last = visited[-1] if visited else exc.request_info.real_url
    targets = list(visited)
    if exc.history:
        location = exc.history[-1].headers.get("Location")
        if location:
            targets.append(exc.history[-1].url.join(URL(location)))
    cycle = _first_cycle(targets)
    label = "redirect loop" if cycle else "too many redirects"
    summary = f"{label}: more than {max_redirects} redirects (last: {last})"
    shown = cycle or targets[-4:]
    return _failure(
        FailureKind.REDIRECTS,
        summary,
        condition="redirects",
        expected=f"a final response within {max_redirects} redirects",
        actual=f"{label}: {' → '.join(str(u) for u in shown)}",
        elapsed_s=elapsed_s,
    )


def _first_cycle(urls: list[URL]) -> list[URL]:
    """The first stretch of ``urls`` that comes back to where it started; [] if none."""
    first_seen: dict[URL, int] = {}
    for index, url in enumerate(urls):
        if url in first_seen:
            return urls[first_seen[url] : index + 1]
        first_seen[url] = index
    return []


def _certificate_failure(
    exc: aiohttp.ClientConnectorCertificateError, *, elapsed_s: float, cert: CertInfo | None
) -> ProbeFailure:
    error = exc.certificate_error
    reason = (
        verification_failure_reason(error, exc.host)
        if isinstance(error, ssl.SSLCertVerificationError)
        else _first_line(error)
    )
    return _failure(
        FailureKind.TLS,
        f"TLS verification failed for {exc.host}:{exc.port}: {reason}",
        condition="TLS certificate verification",
        expected="a certificate trusted for this host and currently valid",
        actual=reason,
        elapsed_s=elapsed_s,
        detail=_first_line(error),
        cert=cert,
    )


def _connect_failure(exc: aiohttp.ClientConnectorError, *, elapsed_s: float) -> ProbeFailure:
    where = f"{exc.host}:{exc.port}"
    os_error = exc.os_error
    if isinstance(exc, aiohttp.ClientConnectorDNSError) or isinstance(os_error, socket.gaierror):
        why = os_error.strerror or str(os_error)
        return _failure(
            FailureKind.DNS,
            f"DNS lookup failed for {exc.host}: {why}",
            condition=f"DNS lookup of {exc.host}",
            expected="an address",
            actual=why,
            elapsed_s=elapsed_s,
        )
    if isinstance(exc, aiohttp.ClientSSLError):
        why = _first_line(os_error)
        return _failure(
            FailureKind.TLS,
            f"TLS handshake with {where} failed: {why}",
            condition="TLS handshake",
            expected="a TLS handshake",
            actual=why,
            elapsed_s=elapsed_s,
        )
    if isinstance(os_error, ConnectionRefusedError) or os_error.errno == errno.ECONNREFUSED:
        return _failure(
            FailureKind.REFUSED,
            f"connection refused by {where} (nothing listening?)",
            condition=f"TCP connect to {where}",
            expected="an accepted connection",
            actual="connection refused",
            elapsed_s=elapsed_s,
        )
    why = os_error.strerror or _first_line(os_error)
    return _failure(
        FailureKind.CONNECT,
        f"cannot connect to {where}: {why}",
        condition=f"TCP connect to {where}",
        expected="an accepted connection",
        actual=why,
        elapsed_s=elapsed_s,
    )


def _os_failure(exc: aiohttp.ClientOSError, *, url: URL, elapsed_s: float) -> ProbeFailure:
    if exc.errno in (errno.ECONNRESET, errno.EPIPE):
        summary = f"the connection to {url.host} was reset during the request"
        kind = FailureKind.DISCONNECTED
    else:
        summary = f"network error talking to {url.host}: {exc.strerror or _first_line(exc)}"
        kind = FailureKind.CONNECT
    return _failure(
        kind,
        summary,
        condition="HTTP response",
        expected="an HTTP response",
        elapsed_s=elapsed_s,
    )
