"""TLS for the ``http`` check: client contexts, the peer certificate, and why verification failed.

The peer certificate is read as DER and parsed with ``cryptography``, so its expiry is known
even when verification is off, and even after verification failed (a second handshake that
does not verify fetches it for the evidence).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ssl
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.x509.oid import NameOID

__all__ = [
    "CertInfo",
    "client_ssl_context",
    "fetch_peer_certificate",
    "parse_certificate",
    "peer_certificate_der",
    "verification_failure_reason",
]

_DAY_S = 86400.0

# OpenSSL X509_V_ERR_* codes whose wording we pin, so messages do not change with OpenSSL.
_VERIFY_REASONS = {
    9: "certificate is not yet valid",
    10: "certificate has expired",
    18: "self-signed certificate",
    19: "self-signed certificate in certificate chain",
    20: "certificate issuer is not trusted (unable to get local issuer certificate)",
    21: "certificate chain is incomplete (unable to verify the first certificate)",
    23: "certificate has been revoked",
}
_HOSTNAME_MISMATCH = 62
_IP_MISMATCH = 64


@dataclass(frozen=True, slots=True)
class CertInfo:
    """What the evidence shows of a server certificate."""

    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime
    self_signed: bool

    def days_left(self, now: datetime) -> float:
        """Days until expiry (negative once expired)."""
        return (self.not_after - now).total_seconds() / _DAY_S

    def describe(self) -> str:
        """``CN=api.example.com, issued by CN=R3, valid 2026-01-01 → 2026-04-01``."""
        issuer = "self-signed" if self.self_signed else f"issued by {self.issuer}"
        return (
            f"{self.subject}, {issuer}, valid {self.not_before:%Y-%m-%d %H:%M} → "
            f"{self.not_after:%Y-%m-%d %H:%M} UTC"
        )


def _name(name: x509.Name) -> str:
    common = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    if common:
        return f"CN={common[0].value!s}"
    return name.rfc4514_string() or "(empty name)"


def parse_certificate(der: bytes) -> CertInfo | None:
    """Parse a DER certificate; None if it cannot be parsed (the probe says so elsewhere)."""
    try:
        cert = x509.load_der_x509_certificate(der)
        return CertInfo(
            subject=_name(cert.subject),
            issuer=_name(cert.issuer),
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            self_signed=cert.issuer == cert.subject,
        )
    except ValueError:
        return None


@functools.lru_cache(maxsize=32)
def client_ssl_context(verify: bool, ca_file: str | None) -> ssl.SSLContext:
    """The client context for a probe; cached, since loading CA bundles costs milliseconds.

    With ``verify`` off the handshake accepts any certificate, but the certificate is still
    sent by the server and read for its expiry.
    """
    if not verify:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=ca_file)


def verification_failure_reason(error: ssl.SSLCertVerificationError, host: str) -> str:
    """A short, stable reason for a failed verification: ``certificate has expired``."""
    code = getattr(error, "verify_code", None)
    if code in (_HOSTNAME_MISMATCH, _IP_MISMATCH):
        return f"certificate is not valid for {host} (hostname mismatch)"
    if code in _VERIFY_REASONS:
        return _VERIFY_REASONS[code]
    message = getattr(error, "verify_message", None) or getattr(error, "reason", None)
    return str(message or error)


def peer_certificate_der(transport: asyncio.BaseTransport | None) -> bytes | None:
    """The DER certificate of the TLS peer of ``transport``, if it is a TLS transport."""
    if transport is None:
        return None
    ssl_object = transport.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    return der if isinstance(der, bytes) else None


async def fetch_peer_certificate(host: str, port: int) -> bytes | None:
    """Handshake without verification to read a server's certificate; None if that fails.

    Used after a failed verification, to say *which* certificate was refused and when it
    expires. The caller bounds the time (``asyncio.timeout``).
    """
    context = client_ssl_context(False, None)
    try:
        _reader, writer = await asyncio.open_connection(
            host, port, ssl=context, server_hostname=host
        )
    except (OSError, ssl.SSLError):
        return None
    try:
        return peer_certificate_der(writer.transport)
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()
