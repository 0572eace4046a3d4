"""One style for sources: log, metrics and trace sources named at the top level of the config."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from prodguardian.config import load_config
from prodguardian.config.loader import LoadedConfig
from prodguardian.errors import ConfigError
from prodguardian.logs.sources.cloud_logging import CloudLoggingSource
from prodguardian.logs.sources.cloud_monitoring import CloudMonitoringSource

METRICS = """
metrics_sources:
  run-requests: {type: cloud_monitoring, project: shop-prod}
log_sources:
  prod-logs: {type: cloud_logging, project: shop-prod, metrics_source: run-requests}
checks:
  - {name: errors, kind: log_errors, source: prod-logs}
"""

TRACES = """
trace_sources:
  spans: {type: receiver}
  jaeger: {type: jaeger, url: "http://jaeger:16686"}
checks:
  - {name: latency, kind: trace_latency, service: api, source: jaeger}
  - {name: slo, kind: slo_burn, service: api, source: spans}
"""


def load(tmp_path: Path, text: str) -> LoadedConfig:
    path = tmp_path / "pg.yaml"
    path.write_text(text)
    return load_config(path, env={})


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    return str(caught.value)


def test_a_log_source_takes_its_counts_from_a_named_metrics_source(tmp_path: Path) -> None:
    loaded = load(tmp_path, METRICS)
    source = loaded.log_sources["prod-logs"]
    assert isinstance(source, CloudLoggingSource)
    assert isinstance(source.metrics, CloudMonitoringSource)
    assert source.metrics.config.project == "shop-prod"


def test_an_unknown_metrics_source_names_the_key_and_the_known_ones(tmp_path: Path) -> None:
    text = METRICS.replace("metrics_source: run-requests", "metrics_source: run-request")
    message = error_of(tmp_path, text)
    assert "log_sources.prod-logs.metrics_source" in message
    assert "no metrics source named 'run-request' (did you mean 'run-requests'?)" in message


def test_a_bad_metrics_source_option_names_its_key(tmp_path: Path) -> None:
    message = error_of(tmp_path, METRICS.replace("project: shop-prod}", "projct: shop-prod}", 1))
    assert "metrics_sources.run-requests" in message
    assert "projct" in message


def test_an_unknown_metrics_source_type_is_refused(tmp_path: Path) -> None:
    message = error_of(tmp_path, METRICS.replace("type: cloud_monitoring", "type: prometheus"))
    assert "unknown metrics source type 'prometheus'; installed: cloud_monitoring" in message


def test_trace_checks_name_a_top_level_trace_source(tmp_path: Path) -> None:
    loaded = load(tmp_path, TRACES)
    latency, slo = loaded.checks
    assert latency.params.source["kind"] == "jaeger"
    assert latency.params.source["url"].startswith("http://jaeger:16686")
    assert slo.params.source == {"kind": "receiver"}
    assert loaded.deprecations == ()


def test_the_inline_trace_source_still_works_with_a_deprecation_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = """
checks:
  - name: latency
    kind: trace_latency
    service: api
    source: {kind: jaeger, url: "http://jaeger:16686"}
"""
    with caplog.at_level(logging.WARNING):
        loaded = load(tmp_path, text)
    assert loaded.checks[0].params.source["kind"] == "jaeger"
    [note] = loaded.deprecations
    assert "check 'latency': an inline trace source" in note
    assert "trace_sources:" in note
    assert "write `source: jaeger`" in note
    assert note in caplog.text


def test_an_unknown_trace_source_name_is_a_config_error(tmp_path: Path) -> None:
    message = error_of(tmp_path, TRACES.replace("source: jaeger}", "source: jaegr}"))
    assert "checks[0].source" in message
    assert "no trace source named 'jaegr' (did you mean 'jaeger'?)" in message
