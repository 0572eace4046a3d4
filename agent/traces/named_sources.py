"""Trace checks name a source under the config's top-level ``trace_sources:``, like log checks.

::

    trace_sources:
      spans: {type: receiver}
      jaeger: {type: jaeger, url: "http://jaeger:16686"}
    checks:
      - {name: latency, kind: trace_latency, service: api, source: jaeger}

The older inline form (``source: {kind: jaeger, url: ...}``) still works and earns a
deprecation warning that shows the named form to write instead.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from prodguardian.config.models import TraceSourceSpec


@dataclass(frozen=True, slots=True)
class ResolvedParams:
    """A trace check's params with ``source`` made inline, and what to tell the user."""

    params: dict[str, Any]
    deprecation: str | None = None
    problem: str | None = None


def resolve_trace_source(
    params: Mapping[str, Any], named: Mapping[str, TraceSourceSpec], *, check: str
) -> ResolvedParams:
    """Replace ``source: NAME`` by the named source's spec; flag the inline form."""
    value = params.get("source")
    if isinstance(value, str):
        spec = named.get(value)
        if spec is None:
            close = difflib.get_close_matches(value, list(named), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            known = ", ".join(sorted(named)) or "none; add a trace_sources: section"
            return ResolvedParams(
                dict(params), problem=f"no trace source named {value!r}{hint}; configured: {known}"
            )
        return ResolvedParams({**params, "source": {"kind": spec.type, **spec.options}})
    if isinstance(value, Mapping):
        kind = value.get("kind", "receiver")
        options = ", ".join(f"{k}: {v}" for k, v in value.items() if k != "kind")
        entry = f"{{type: {kind}{', ' + options if options else ''}}}"
        return ResolvedParams(
            dict(params),
            deprecation=(
                f"check {check!r}: an inline trace source (source: {{kind: {kind}, ...}}) is "
                f"deprecated; name it under trace_sources: (e.g. `trace_sources: {{{kind}: "
                f"{entry}}}`) and write `source: {kind}`"
            ),
        )
    return ResolvedParams(dict(params))
