"""ProdGuardian's own telemetry: spans, metrics, ``/metrics`` and Cloud Logging JSON logs.

``instruments`` (what the runner, receiver and notifier record into) and ``json_logging`` are
light; ``sdk`` (providers, exporters, FastAPI instrumentation) is imported on first use of
:func:`setup_telemetry` or :class:`Telemetry`, so a one-shot ``prodguardian check`` skips it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prodguardian.telemetry.instruments import Instruments, current, install
from prodguardian.telemetry.json_logging import CloudLoggingFormatter, install_json_logging

if TYPE_CHECKING:
    from prodguardian.telemetry.sdk import Telemetry, setup_telemetry

__all__ = [
    "CloudLoggingFormatter",
    "Instruments",
    "Telemetry",
    "current",
    "install",
    "install_json_logging",
    "setup_telemetry",
]


def __getattr__(name: str) -> Any:
    if name in ("Telemetry", "setup_telemetry"):
        from prodguardian.telemetry import sdk

        return getattr(sdk, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
