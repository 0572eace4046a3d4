"""Logs as one JSON object per line on stdout, in the shape Google Cloud Logging reads.

Cloud Run's logging agent turns each stdout line that is a JSON object into a structured entry:
``severity`` sets the level, ``message`` the text, and the ``logging.googleapis.com/trace``,
``.../spanId`` and ``.../trace_sampled`` fields link the entry to its trace, so the console shows
a request's log lines under its trace. The trace fields come from the current OpenTelemetry span.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import TextIO

from opentelemetry import trace

TRACE_KEY = "logging.googleapis.com/trace"
SPAN_KEY = "logging.googleapis.com/spanId"
SAMPLED_KEY = "logging.googleapis.com/trace_sampled"
SOURCE_KEY = "logging.googleapis.com/sourceLocation"

_SEVERITY = {
    logging.DEBUG: "DEBUG",
    logging.INFO: "INFO",
    logging.WARNING: "WARNING",
    logging.ERROR: "ERROR",
    logging.CRITICAL: "CRITICAL",
}
# Attributes every LogRecord has; anything else came through `extra=` and is logged as a field.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
}


class CloudLoggingFormatter(logging.Formatter):
    """One JSON object per record: severity, message, time, logger, trace link, extras.

    With ``project`` (default ``$GOOGLE_CLOUD_PROJECT``) the trace field is the full resource
    name ``projects/P/traces/T`` that Cloud Logging links; without, the bare trace id.
    """

    def __init__(self, *, project: str | None = None) -> None:
        super().__init__()
        self.project = project if project is not None else os.environ.get("GOOGLE_CLOUD_PROJECT")

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info:
            # Error Reporting finds the stack trace in the message of an ERROR entry.
            message = f"{message}\n{self.formatException(record.exc_info)}"
        elif record.stack_info:
            message = f"{message}\n{record.stack_info}"
        doc: dict[str, object] = {
            "severity": _severity(record.levelno),
            "message": message,
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "logger": record.name,
            SOURCE_KEY: {
                "file": record.pathname,
                "line": str(record.lineno),
                "function": record.funcName,
            },
        }
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            trace_id = f"{context.trace_id:032x}"
            doc[TRACE_KEY] = (
                f"projects/{self.project}/traces/{trace_id}" if self.project else trace_id
            )
            doc[SPAN_KEY] = f"{context.span_id:016x}"
            doc[SAMPLED_KEY] = context.trace_flags.sampled
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in doc:
                doc[key] = value
        return json.dumps(doc, default=str, ensure_ascii=False)


def _severity(levelno: int) -> str:
    if levelno in _SEVERITY:
        return _SEVERITY[levelno]
    if levelno >= logging.CRITICAL:
        return "CRITICAL"
    return (
        _SEVERITY[max(level for level in _SEVERITY if level <= levelno)]
        if levelno >= 10
        else "DEFAULT"
    )


def install_json_logging(
    *, stream: TextIO | None = None, level: int = logging.INFO, project: str | None = None
) -> logging.Handler:
    """Send the root logger's records to ``stream`` (default stdout) as Cloud Logging JSON.

    Replaces the root logger's handlers; returns the new handler.
    """
    handler = logging.StreamHandler(stream if stream is not None else sys.stdout)
    handler.setFormatter(CloudLoggingFormatter(project=project))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler
