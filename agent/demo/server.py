"""The demo's server: ``serve``'s status page at ``/`` and its OTLP receiver, without Slack.

It serves in the story's event loop, over the same watch service, so the page shows the
incident as it unfolds; the receiver feeds the process's trace store on the demo's clock,
which the ``trace_latency`` check reads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from prodguardian.demo.clock import DemoClock
from prodguardian.server.run import running_server
from prodguardian.server.status_page import status_router
from prodguardian.traces.receiver import ReceiverLimits, traces_router, watched_services
from prodguardian.traces.shared import use_shared_store
from prodguardian.traces.store import TraceStore
from prodguardian.watch.service import WatchService


def demo_app(watch: WatchService, store: TraceStore) -> FastAPI:
    """The status page, its JSON API, and ``POST /v1/traces``."""
    app = FastAPI(title="ProdGuardian demo", docs_url=None, redoc_url=None)
    app.include_router(status_router(watch))
    limits = ReceiverLimits(services=watched_services(watch.loaded.checks))
    app.include_router(traces_router(store, limits=limits))
    return app


@asynccontextmanager
async def demo_server(watch: WatchService, clock: DemoClock) -> AsyncIterator[str]:
    """Serve :func:`demo_app` on 127.0.0.1 for the block; yields its URL."""
    store = TraceStore(clock=lambda: clock.now().timestamp())
    use_shared_store(store)
    async with running_server(demo_app(watch, store)) as url:
        yield url
