"""``log_sources:`` in the config, the plugin registry, and references from checks."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from prodguardian.config import load_config
from prodguardian.errors import ConfigError, RegistryError
from prodguardian.logs.source import LogSourceRegistry
from prodguardian.logs.sources.cloud_logging import CloudLoggingSource
from prodguardian.logs.sources.file import FileSource


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "prodguardian.yaml"
    path.write_text(text)
    return path


def test_named_sources_are_built_and_reach_the_loaded_config(tmp_path: Path) -> None:
    loaded = load_config(
        write(
            tmp_path,
            """
log_sources:
  prod-logs: {type: cloud_logging, project: emergence-469005, page_size: 500}
  local: {type: file, path: logs/app.jsonl}
checks:
  - {name: errors, kind: log_errors, source: prod-logs, scope: {service: emergence-app}}
  - {name: reconnects, kind: log_count, source: local, pattern: Database reconnected}
""",
        )
    )
    prod, local = loaded.log_sources["prod-logs"], loaded.log_sources["local"]
    assert isinstance(prod, CloudLoggingSource)
    assert prod.config.page_size == 500
    assert isinstance(local, FileSource)
    assert local.path == tmp_path / "logs" / "app.jsonl"


def test_a_check_naming_an_unknown_source_is_a_config_error_naming_the_key(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        """
log_sources:
  prod-logs: {type: file, path: x.jsonl}
checks:
  - {name: errors, kind: log_errors, source: prod-log}
""",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.key == "checks[0].source"
    assert "no log source named 'prod-log' (did you mean 'prod-logs'?)" in str(caught.value)


def test_unknown_types_and_options_are_reported_by_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
log_sources:
  a: {type: cloud_loging, project: p}
  b: {type: file, paht: x.jsonl}
checks:
  - {name: errors, kind: log_errors, source: a}
""",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    text = str(caught.value)
    assert "log_sources.a.type: unknown log source type 'cloud_loging'" in text
    assert "(did you mean 'cloud_logging'?)" in text
    assert "log_sources.b.paht: unknown key 'paht' (did you mean 'path'?)" in text


def test_the_built_in_kinds_are_registered() -> None:
    registry = LogSourceRegistry.from_entry_points()
    assert {"file", "cloud_logging"} <= set(registry.kinds())


def test_a_broken_plugin_stops_start_up_naming_it() -> None:
    bad = EntryPoint(name="bad", value="prodguardian.logs.entry:Severity", group="x")
    with pytest.raises(RegistryError, match=r"'bad'.*no Config model"):
        LogSourceRegistry.from_entry_points([bad])
    missing = EntryPoint(name="gone", value="prodguardian.nowhere:Source", group="x")
    with pytest.raises(RegistryError, match=r"'gone'.*failed to import"):
        LogSourceRegistry.from_entry_points([missing])
    twice = EntryPoint(name="file", value="prodguardian.logs.sources.file:FileSource", group="x")
    with pytest.raises(RegistryError, match="registered twice"):
        LogSourceRegistry.from_entry_points([twice, twice])
