"""JSON log lines in the shape Cloud Logging reads, linked to the current trace."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

from prodguardian.telemetry.json_logging import (
    SAMPLED_KEY,
    SPAN_KEY,
    TRACE_KEY,
    CloudLoggingFormatter,
    install_json_logging,
)


def _record(
    level: int = logging.INFO, msg: str = "hello %s", *args: object, **extra: object
) -> logging.LogRecord:
    record = logging.LogRecord("pg.test", level, "/app/x.py", 12, msg, args or ("world",), None)
    record.__dict__.update(extra)
    return record


def test_a_line_has_severity_message_time_and_source() -> None:
    doc = json.loads(CloudLoggingFormatter(project=None).format(_record(logging.WARNING)))
    assert doc["severity"] == "WARNING"
    assert doc["message"] == "hello world"
    assert doc["logger"] == "pg.test"
    assert doc["time"].endswith("+00:00")
    assert doc["logging.googleapis.com/sourceLocation"]["line"] == "12"
    assert TRACE_KEY not in doc


def test_inside_a_span_the_line_links_to_the_trace() -> None:
    tracer = TracerProvider().get_tracer("t")
    formatter = CloudLoggingFormatter(project="my-proj")
    with tracer.start_as_current_span("work") as span:
        doc = json.loads(formatter.format(_record()))
    ctx = span.get_span_context()
    assert doc[TRACE_KEY] == f"projects/my-proj/traces/{ctx.trace_id:032x}"
    assert doc[SPAN_KEY] == f"{ctx.span_id:016x}"
    assert doc[SAMPLED_KEY] is True


def test_an_unsampled_trace_says_so_and_no_project_gives_the_bare_id() -> None:
    tracer = TracerProvider(sampler=ALWAYS_OFF).get_tracer("t")
    with tracer.start_as_current_span("work") as span:
        doc = json.loads(CloudLoggingFormatter(project=None).format(_record()))
    assert doc[TRACE_KEY] == f"{span.get_span_context().trace_id:032x}"
    assert doc[SAMPLED_KEY] is False


def test_the_project_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "env-proj")
    assert CloudLoggingFormatter().project == "env-proj"


def test_exceptions_go_into_the_message_for_error_reporting() -> None:
    try:
        raise ValueError("bad input")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, "f.py", 1, "failed", (), None)
        import sys

        record.exc_info = sys.exc_info()
    doc = json.loads(CloudLoggingFormatter(project=None).format(record))
    assert doc["severity"] == "ERROR"
    assert doc["message"].startswith("failed\nTraceback (most recent call last):")
    assert "ValueError: bad input" in doc["message"]


@pytest.mark.parametrize(
    ("level", "severity"),
    [
        (5, "DEFAULT"),
        (logging.DEBUG, "DEBUG"),
        (25, "INFO"),
        (logging.CRITICAL, "CRITICAL"),
        (60, "CRITICAL"),
    ],
)
def test_severity_mapping(level: int, severity: str) -> None:
    assert json.loads(CloudLoggingFormatter().format(_record(level)))["severity"] == severity


def test_extras_become_fields_and_odd_values_are_strings() -> None:
    doc = json.loads(CloudLoggingFormatter().format(_record(check="api", took=object())))
    assert doc["check"] == "api"
    assert doc["took"].startswith("<object object")


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_install_sends_the_root_logger_to_the_stream(restore_root: None) -> None:
    stream = io.StringIO()
    install_json_logging(stream=stream, level=logging.INFO, project="p")
    logging.getLogger("prodguardian.test").info("ready on port %d", 8080)
    logging.getLogger("prodguardian.test").debug("not shown")
    (line,) = stream.getvalue().splitlines()
    assert json.loads(line)["message"] == "ready on port 8080"
