"""What a running check may use: its time budget, the shared HTTP client, the active deploy."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiohttp

from prodguardian.deploy import ActiveDeploy


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
