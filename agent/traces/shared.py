"""The process's one receiver store, shared by ``POST /v1/traces`` and the ``receiver`` source.

``serve`` mounts :func:`~prodguardian.traces.receiver.traces_router` without a store and the
checks read through the ``receiver`` trace source without one: both meet here. Tests and
embedders pass their own :class:`TraceStore` (or set ``CheckContext.trace_store``) instead.
"""

from __future__ import annotations

import threading

from prodguardian.traces.store import TraceStore

_lock = threading.Lock()
_store: TraceStore | None = None


def shared_store() -> TraceStore:
    """The process-wide store, created with default limits on first use."""
    global _store
    with _lock:
        if _store is None:
            _store = TraceStore()
        return _store


def use_shared_store(store: TraceStore) -> None:
    """Make ``store`` the process's store (the demo's, whose clock runs ahead of real time)."""
    global _store
    with _lock:
        _store = store
