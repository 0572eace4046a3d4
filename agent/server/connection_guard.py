"""Guards uvicorn lacks: a deadline for a request's headers, and a cap on open connections.

uvicorn times out an idle keep-alive connection only until its first byte arrives, and sends
503 only once a request's headers are complete. A slow client (slowloris: a header byte a second)
therefore holds a connection forever, and enough of them exhaust the server. Here every
connection must deliver a request's complete headers within ``header_timeout_s`` of connecting
(or of its previous response), and a connection beyond ``max_connections`` open ones is closed
at once.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("prodguardian.server")

#: Log one refused connection in this many, so an attack does not flood the log.
LOG_EVERY = 1000


@dataclass(frozen=True, kw_only=True)
class ConnectionLimits:
    """``serve``'s connection guards (``--header-timeout``, ``--max-connections``)."""

    header_timeout_s: float = 10.0
    """Seconds a connection has to send a request's complete headers."""
    max_connections: int = 1000
    """Open connections at once; one more is closed as soon as it is accepted."""
    keep_alive_s: float = 5.0
    """Seconds an idle keep-alive connection stays open between requests."""

    def __post_init__(self) -> None:
        if self.header_timeout_s <= 0:
            raise ValueError("header_timeout_s must be positive")
        if self.max_connections < 1:
            raise ValueError("max_connections must be at least 1")


def guarded_protocol(limits: ConnectionLimits) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol class with ``limits`` enforced (``uvicorn.Config(http=…)``)."""

    class GuardedHttpToolsProtocol(HttpToolsProtocol):
        refused = 0

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            over = len(self.connections) >= limits.max_connections
            self._header_deadline: asyncio.TimerHandle | None = None
            super().connection_made(transport)
            if over:
                _note_refusal(type(self), limits.max_connections)
                transport.close()
                return
            self._arm_header_deadline()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm_header_deadline()
            super().connection_lost(exc)

        def on_headers_complete(self) -> None:
            self._disarm_header_deadline()
            super().on_headers_complete()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.pipeline and not self.transport.is_closing():
                self._arm_header_deadline()  # the next request on this connection

        def _arm_header_deadline(self) -> None:
            self._disarm_header_deadline()
            self._header_deadline = self.loop.call_later(
                limits.header_timeout_s, self._headers_too_slow
            )

        def _disarm_header_deadline(self) -> None:
            handle = getattr(self, "_header_deadline", None)
            if handle is not None:
                handle.cancel()
                self._header_deadline = None

        def _headers_too_slow(self) -> None:
            self._header_deadline = None
            if not self.transport.is_closing():
                self.transport.close()

    return GuardedHttpToolsProtocol


def _note_refusal(cls: Any, cap: int) -> None:
    cls.refused += 1
    if cls.refused % LOG_EVERY == 1:
        log.warning(
            "refused a connection: %d are open (--max-connections); %d refused so far",
            cap,
            cls.refused,
        )
