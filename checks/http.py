"""The ``http`` check: probe a health endpoint and judge the answer.

The I/O lives here; the parameters (:mod:`.http_params`), the condition language
(:mod:`.http_conditions`), the translation of library errors (:mod:`.http_failures`) and every
decision (:mod:`.http_verdict`) live in their own pure modules.

Every outcome of the target is a result, never an exception: refused, unresolvable, silent,
slow, broken TLS, a redirect loop, garbage. The probe keeps its own deadline a little under the
check's timeout, so it says "no response within 4.5 s" itself instead of being abandoned.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import ssl
import time
from dataclasses import dataclass
from typing import ClassVar

import aiohttp
from yarl import URL

from prodguardian import __version__
from prodguardian.check import Check
from prodguardian.checks.http_failures import failure_from_exception, timeout_failure
from prodguardian.checks.http_outcome import ProbeFailure, ProbeResponse
from prodguardian.checks.http_params import HttpParams
from prodguardian.checks.http_tls import (
    CertInfo,
    client_ssl_context,
    fetch_peer_certificate,
    parse_certificate,
    peer_certificate_der,
)
from prodguardian.checks.http_verdict import judge_failure, judge_response
from prodguardian.context import CheckContext
from prodguardian.errors import CheckError
from prodguardian.result import CheckResult

__all__ = ["HttpCheck", "HttpParams", "request_budget"]

USER_AGENT = f"ProdGuardian/{__version__} (http check)"
READ_CHUNK = 64 * 1024
# The probe's own deadline governs; this only replaces the session's 5-minute default.
_NO_LIBRARY_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=None)


def request_budget(timeout_s: float) -> float:
    """The probe's own deadline: a little under the check's, to report a timeout itself.

    It leaves 10 % of the timeout, at least 0.1 s and at most 1 s, for judging and returning.
    """
    margin = min(1.0, max(0.1, timeout_s * 0.1))
    return max(timeout_s - margin, timeout_s * 0.5)


@dataclass
class _Progress:
    """How far the exchange got, for a precise timeout message."""

    headers_at: float | None = None
    body_bytes: int = 0


class HttpCheck(Check[HttpParams]):
    """Probe an HTTP(S) endpoint: status code, JSON conditions, body, latency, TLS expiry."""

    Params: ClassVar[type[HttpParams]] = HttpParams

    async def run(self, ctx: CheckContext) -> CheckResult:
        params = self.params
        budget = request_budget(ctx.timeout_s)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget
        started = time.perf_counter()
        progress = _Progress()
        url = params.parsed_url
        try:
            async with asyncio.timeout_at(deadline):
                response = await self._exchange(ctx, url, started, progress)
        except TimeoutError:
            failure = timeout_failure(
                budget_s=budget,
                elapsed_s=time.perf_counter() - started,
                got_headers=progress.headers_at is not None,
                body_bytes=progress.body_bytes,
            )
        except aiohttp.ClientConnectorCertificateError as exc:
            port = exc.port or (443 if url.scheme == "https" else 80)
            cert = await _certificate_by_handshake(exc.host, port, deadline)
            failure = self._failure(exc, url, started, cert=cert)
        except aiohttp.ClientError as exc:
            failure = self._failure(exc, url, started)
        else:
            final = URL(response.url)
            if response.cert is None and final.scheme == "https" and final.host:
                # The connection closed before its certificate could be read from it.
                cert = await _certificate_by_handshake(final.host, final.port or 443, deadline)
                response = dataclasses.replace(response, cert=cert)
            return judge_response(params, response, now=ctx.now)
        return judge_failure(params, failure, now=ctx.now)

    def _failure(
        self,
        exc: aiohttp.ClientError,
        url: URL,
        started: float,
        *,
        cert: CertInfo | None = None,
    ) -> ProbeFailure:
        return failure_from_exception(
            exc,
            url=url,
            elapsed_s=time.perf_counter() - started,
            max_redirects=self.params.max_redirects,
            cert=cert,
        )

    def _request_headers(self) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT, **self.params.headers}
        for name, secret in self.params.headers_from_env.items():
            headers[name] = secret.value.get_secret_value()
        return headers

    def _ssl_context(self) -> ssl.SSLContext:
        tls = self.params.tls
        try:
            return client_ssl_context(tls.verify, str(tls.ca_file) if tls.ca_file else None)
        except (OSError, ssl.SSLError) as exc:
            # It loaded at config time; it changed since. The check cannot run: UNKNOWN.
            raise CheckError(f"cannot load tls.ca_file {str(tls.ca_file)!r}: {exc}") from exc

    async def _exchange(
        self, ctx: CheckContext, url: URL, started: float, progress: _Progress
    ) -> ProbeResponse:
        params = self.params
        session = ctx.http.session()
        async with session.request(
            params.method,
            url,
            headers=self._request_headers(),
            ssl=self._ssl_context(),
            allow_redirects=params.follow_redirects,
            max_redirects=params.max_redirects,
            timeout=_NO_LIBRARY_TIMEOUT,
        ) as resp:
            headers_at = progress.headers_at = time.perf_counter()
            der = peer_certificate_der(_transport_of(resp))
            if params.method == "HEAD":
                body, complete = b"", True
            else:
                body, complete = await _read_capped(resp, params.max_body, progress)
            total_s = time.perf_counter() - started
            if not complete:
                # Do not drain the rest of an oversized body into a pooled connection.
                resp.close()
        final = resp.url
        return ProbeResponse(
            status_code=resp.status,
            reason=resp.reason or "",
            url=str(final),
            redirects=tuple(str(r.url) for r in resp.history),
            content_type=resp.content_type if "Content-Type" in resp.headers else None,
            charset=_charset(resp),
            location=resp.headers.get("Location"),
            body=body,
            body_complete=complete,
            headers_s=headers_at - started,
            total_s=total_s,
            cert=parse_certificate(der) if der is not None else None,
        )


def _transport_of(resp: aiohttp.ClientResponse) -> asyncio.BaseTransport | None:
    """The transport that carried ``resp``, to read the peer certificate from."""
    if resp.connection is not None:
        return resp.connection.transport
    # aiohttp hands the connection back to the pool as soon as a small body is buffered, before
    # we can look; the protocol stays on the response (private in aiohttp 3.x). Without it,
    # the probe falls back to a second handshake (tested: tests/checks/test_http_tls.py).
    protocol = getattr(resp, "_protocol", None)
    transport = getattr(protocol, "transport", None)
    return transport if isinstance(transport, asyncio.BaseTransport) else None


def _charset(resp: aiohttp.ClientResponse) -> str | None:
    try:
        return resp.charset
    except (ValueError, LookupError):
        return None


async def _read_capped(
    resp: aiohttp.ClientResponse, limit: int, progress: _Progress
) -> tuple[bytes, bool]:
    """Read at most ``limit`` bytes of the body; False if there was more."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(READ_CHUNK):
        chunks.append(chunk)
        size += len(chunk)
        progress.body_bytes = size
        if size > limit:
            return b"".join(chunks)[:limit], False
    return b"".join(chunks), True


async def _certificate_by_handshake(host: str, port: int, deadline: float) -> CertInfo | None:
    """A server's certificate by a handshake of its own, if there is time left before the
    probe's deadline: the one that failed verification, or one we could not read otherwise."""
    loop = asyncio.get_running_loop()
    if deadline - loop.time() < 0.05:
        return None
    der: bytes | None = None
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout_at(deadline):
            der = await fetch_peer_certificate(host, port)
    return parse_certificate(der) if der is not None else None
