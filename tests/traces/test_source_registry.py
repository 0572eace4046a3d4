"""Trace source plugins: found by entry point, a bad one named, a bad spec explained."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import EntryPoint

import pytest

from prodguardian.traces import source as source_module
from prodguardian.traces.jaeger_source import JaegerSource
from prodguardian.traces.receiver_source import ReceiverSource
from prodguardian.traces.source import open_source, source_kinds, validate_source_spec


@pytest.fixture
def fresh_registry() -> Iterator[None]:
    source_module._load_kinds.cache_clear()
    yield
    source_module._load_kinds.cache_clear()


def test_the_built_in_sources_are_installed() -> None:
    kinds = source_kinds()
    assert kinds["receiver"] is ReceiverSource
    assert kinds["jaeger"] is JaegerSource
    assert isinstance(open_source({"kind": "receiver"}), ReceiverSource)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("receiver", "expected a mapping such as {kind: receiver}"),
        ({"kind": "tempo"}, "unknown trace source kind 'tempo'; installed: jaeger, receiver"),
        ({"kind": "receiver", "url": "x"}, "receiver source: url: Extra inputs are not permitted"),
        ({"kind": "jaeger"}, "jaeger source: url: Field required"),
        ({"kind": "jaeger", "url": "ftp://x"}, "jaeger source: url: URL scheme should be"),
    ],
)
def test_bad_specs_say_what_to_fix(spec: object, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("{", r"\{").replace("}", r"\}")):
        validate_source_spec(spec)


def test_a_spec_is_normalised() -> None:
    spec = validate_source_spec({"kind": "jaeger", "url": "http://jaeger:16686"})
    assert spec == {"kind": "jaeger", "url": "http://jaeger:16686/", "limit": 1500, "headers": {}}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("prodguardian.traces.nowhere:Source", "failed to import: ModuleNotFoundError"),
        ("prodguardian.traces.model:RouteLatency", "is not a TraceSource"),
    ],
)
def test_a_broken_plugin_is_named(
    fresh_registry: None, monkeypatch: pytest.MonkeyPatch, value: str, message: str
) -> None:
    broken = EntryPoint(name="broken", value=value, group=source_module.ENTRY_POINT_GROUP)
    monkeypatch.setattr(source_module, "entry_points", lambda group: [broken])
    with pytest.raises(ValueError, match=f"trace source 'broken' .*{message}"):
        source_kinds()
