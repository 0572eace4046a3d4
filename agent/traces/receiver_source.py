"""The ``receiver`` trace source: the spans sent to this process's ``POST /v1/traces``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from prodguardian.context import CheckContext
from prodguardian.errors import SourceError
from prodguardian.traces.model import RequestCounts, RouteLatency
from prodguardian.traces.shared import shared_store
from prodguardian.traces.source import TraceSource
from prodguardian.traces.store import TraceStore


class ReceiverParams(BaseModel):
    """The receiver source takes no options."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class ReceiverSource(TraceSource):
    """Reads the receiver's rolling sketches: every request the service reported, not a sample."""

    Params: ClassVar[type[BaseModel]] = ReceiverParams
    counts_requests: ClassVar[bool] = True

    @property
    def kind(self) -> str:
        return "receiver"

    @staticmethod
    def _store(ctx: CheckContext) -> TraceStore:
        return ctx.trace_store if ctx.trace_store is not None else shared_store()

    async def route_latency(
        self, ctx: CheckContext, *, service: str, window_s: float
    ) -> list[RouteLatency]:
        try:
            return self._store(ctx).route_latency(service, window_s, now=ctx.now.timestamp())
        except ValueError as exc:
            raise SourceError(f"{exc}; shorten the check's window") from None

    async def request_counts(
        self, ctx: CheckContext, *, service: str, windows: Sequence[float]
    ) -> list[RequestCounts]:
        store = self._store(ctx)
        now = ctx.now.timestamp()
        try:
            return [store.request_counts(service, w, now=now) for w in windows]
        except ValueError as exc:
            raise SourceError(f"{exc}; shorten the SLO period") from None
