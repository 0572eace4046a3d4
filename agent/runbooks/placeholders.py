"""Placeholders in runbook commands (``{service}``, ``{memory_next}``) and the values they take.

Values come from the config (service, region, project) and from the evidence that matched
(revision names, the memory limit and peak Cloud Run logged). A placeholder without a value
is written ``<name>``, so a half-filled command fails in the shell instead of doing harm.
``{{name}}`` stands for a literal ``{name}``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

from prodguardian.logs.resource_usage import memory_usage

KNOWN_PLACEHOLDERS: Mapping[str, str] = {
    "service": "the service name (config: service.name)",
    "region": "the region (config: service.region)",
    "project": "the cloud project (config: service.project)",
    "revision": "the revision the failure was seen on",
    "check": "the name of the check that failed",
    "route": "the HTTP route of the failing requests",
    "memory_limit": "the memory limit Cloud Run reported, e.g. 1Gi",
    "memory_peak": "the memory used when the limit was exceeded, e.g. 1062Mi",
    "memory_next": "the next Cloud Run memory size at or above max(2 × limit, 1.25 × peak)",
    "last_good_revision": "the newest revision the log window shows serving without an error",
}

#: Cloud Run's memory sizes, in MiB.
CLOUD_RUN_MEMORY_MIB = (128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768)

_PLACEHOLDER = re.compile(r"\{\{([a-z_][a-z0-9_]*)\}\}|\{([a-z_][a-z0-9_]*)\}")
_REVISION = re.compile(r"[Rr]evision '([A-Za-z0-9][A-Za-z0-9-]{0,62})'")
_ROUTE = re.compile(r"\b(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (/[^\s\"?]{0,200})")
#: Punctuation that ends a sentence or a log prefix, never a route ("POST /api/x: 500").
_ROUTE_TRAILERS = ":;,.)]}'"
#: How much of a text the value extractors look at (the values sit near the start).
_SCAN_CHARS = 4096


def placeholders_in(text: str) -> list[str]:
    """The placeholder names used in ``text`` (not the escaped ``{{name}}`` ones)."""
    return [m.group(2) for m in _PLACEHOLDER.finditer(text) if m.group(2)]


def unknown_placeholders(text: str) -> list[str]:
    """Names in ``text`` that are not :data:`KNOWN_PLACEHOLDERS`, in order, once each."""
    seen: dict[str, None] = {}
    for name in placeholders_in(text):
        if name not in KNOWN_PLACEHOLDERS:
            seen.setdefault(name)
    return list(seen)


def fill(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each ``{name}`` replaced by its value, or by ``<name>`` without one."""

    def replace(match: re.Match[str]) -> str:
        if match.group(1):
            return "{" + match.group(1) + "}"
        name = match.group(2)
        return values.get(name) or f"<{name}>"

    return _PLACEHOLDER.sub(replace, text)


def format_memory(mib: int) -> str:
    """Cloud Run's notation: ``512Mi``, ``2Gi``."""
    if mib >= 1024 and mib % 1024 == 0:
        return f"{mib // 1024}Gi"
    return f"{mib}Mi"


def next_memory_size(limit_mib: float, peak_mib: float) -> int | None:
    """The smallest Cloud Run size at or above max(2 × limit, 1.25 × peak), in MiB.

    None when even the largest size is too small (the fix is then not more memory).
    """
    needed = max(2 * limit_mib, 1.25 * peak_mib)
    for size in CLOUD_RUN_MEMORY_MIB:
        if size >= math.ceil(needed):
            return size
    return None


def values_from_texts(texts: Iterable[str]) -> dict[str, str]:
    """Placeholder values found in evidence texts: revision, route and memory sizes."""
    values: dict[str, str] = {}
    limit = peak = 0.0
    for text in texts:
        head = text[:_SCAN_CHARS]
        usage = memory_usage(head)
        if usage is not None:
            limit, peak = max(limit, usage[0]), max(peak, usage[1])
        if "revision" not in values and (match := _REVISION.search(head)):
            values["revision"] = match.group(1)
        if "route" not in values and (match := _ROUTE.search(head)):
            values["route"] = match.group(1).rstrip(_ROUTE_TRAILERS)
    if limit:
        values["memory_limit"] = format_memory(round(limit))
        values["memory_peak"] = format_memory(round(peak))
        size = next_memory_size(limit, peak)
        if size is not None:
            values["memory_next"] = format_memory(size)
    return values
