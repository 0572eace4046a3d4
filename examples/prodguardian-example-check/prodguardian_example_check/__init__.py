"""``kind: tcp_port``: is a TCP port accepting connections, and how fast?

An example of a third-party check kind for ProdGuardian (see docs/plugins.md)::

    checks:
      - {name: postgres-port, kind: tcp_port, host: 127.0.0.1, port: 5432, degraded_after: 200ms}
"""

from __future__ import annotations

import asyncio
import time

from pydantic import BaseModel, ConfigDict, Field

from prodguardian import Check, CheckContext, CheckResult, Status
from prodguardian.config import Duration
from prodguardian.evidence import FailedCondition

__all__ = ["TcpPortCheck", "TcpPortParams"]


class TcpPortParams(BaseModel):
    """``kind: tcp_port``."""

    model_config = ConfigDict(frozen=True, extra="forbid")  # typos must be config errors

    host: str = Field(min_length=1)
    """The host name or address to connect to."""
    port: int = Field(ge=1, le=65535)
    """The TCP port."""
    degraded_after: Duration | None = None
    """A connection slower than this is DEGRADED (``200ms``, ``1s``)."""


class TcpPortCheck(Check[TcpPortParams]):
    """Connect to a TCP port: CRITICAL when refused or unreachable, DEGRADED when slow."""

    Params = TcpPortParams

    async def run(self, ctx: CheckContext) -> CheckResult:
        p = self.params
        target = f"{p.host}:{p.port}"
        started = time.perf_counter()
        try:
            # Leave a little of the deadline so a hung connect is reported here, with the
            # target, rather than as the runner's generic timeout.
            async with asyncio.timeout(max(ctx.timeout_s - 0.2, 0.1)):
                _, writer = await asyncio.open_connection(p.host, p.port)
        except (OSError, TimeoutError) as exc:
            reason = _reason(exc)
            return CheckResult(
                status=Status.CRITICAL,
                summary=f"{target} does not accept connections: {reason}",
                evidence=(
                    FailedCondition(
                        condition="accepts TCP connections",
                        expected=f"a connection to {target}",
                        actual=reason,
                    ),
                ),
            )
        elapsed = time.perf_counter() - started
        writer.close()
        await writer.wait_closed()
        metrics = {"connect_s": elapsed}
        if p.degraded_after is not None and elapsed > p.degraded_after:
            return CheckResult(
                status=Status.DEGRADED,
                summary=f"{target} accepted a connection in {elapsed * 1000:.0f} ms",
                metrics=metrics,
                evidence=(
                    FailedCondition(
                        condition="connects quickly",
                        expected=f"≤ {p.degraded_after * 1000:.0f} ms",
                        actual=f"{elapsed * 1000:.0f} ms",
                        status=Status.DEGRADED,
                    ),
                ),
            )
        return CheckResult(
            status=Status.OK,
            summary=f"{target} accepts connections ({elapsed * 1000:.1f} ms)",
            metrics=metrics,
        )


def _reason(exc: OSError) -> str:
    """Why a connection failed, in words (asyncio's messages name the call, not the cause)."""
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return exc.strerror or str(exc)
