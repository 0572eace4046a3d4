"""What a running check may use: its time budget, the shared HTTP client, the active deploy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import aiohttp

from prodguardian.deploy import ActiveDeploy

if TYPE_CHECKING:
    from prodguardian.logs.source import LogSource
    from prodguardian.runbooks.critical import CriticalRunbookOf
    from prodguardian.traces.store import TraceStore


class HttpClient:
    """One pooled ``aiohttp`` session shared by every check of a run, opened on first use.

    Sharing it is what lets 500 probes run at once without 500 connection pools.
    """

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        """The run's session; created on first use, inside the running event loop."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=60, enable_cleanup_closed=True)
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=True,
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


@dataclass(kw_only=True)
class CheckContext:
    """Handed to :meth:`Check.run`. One per check execution; the HTTP client is shared."""

    timeout_s: float
    http: HttpClient
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    deploy: ActiveDeploy | None = None
    log_sources: Mapping[str, LogSource] = field(default_factory=dict)
    """The configured log sources by name (``log_sources:`` in the config)."""
    trace_store: TraceStore | None = None
    """The OTLP receiver's store; None means the process's shared one (``serve``'s receiver)."""
    critical_runbook: CriticalRunbookOf | None = None
    """Which critical runbook covers an error signature (None: no runbooks in this run)."""
