"""Message normalisation: the variable parts of a message replaced by placeholders.

Identifiers of every shape (uuids, long hex, tokens mixing letters and digits) become one
placeholder, ``<id>``, since a service may name the same thing either way.

Two occurrences of one failure differ in ids, numbers, timestamps, memory sizes, quoted values;
after :func:`normalise_message` they read the same, so they share a fingerprint.
"""

from __future__ import annotations

import functools
import re

MAX_NORMALISED = 300

# One pass, alternatives in priority order: wider shapes first, so a timestamp is not eaten as
# three numbers. Status codes are kept: an HTTP or API status is not an id.
_PARTS = (
    ("code", r"\b(?:(?:[Ee]rror )?[Cc]ode:?|[Ss]tatus(?: code)?:?|HTTP)\s?[1-5]\d\d\b"),
    ("ts", r"\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?"),
    ("time", r"\b\d\d:\d\d:\d\d(?:[.,]\d+)?\b"),
    ("uuid", r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"),
    ("dq", r'"(?:[^"\\\n]|\\.)*"'),
    ("sq", r"(?<![A-Za-z0-9])'(?:[^'\\\n]|\\.)*'"),
    ("size", r"\b\d+(?:\.\d+)?\s?(?i:[KMGT]i?B|[KMGT]i|bytes)\b"),
    ("hex", r"\b0x[0-9a-fA-F]+\b"),
    ("hexid", r"\b(?=[0-9a-fA-F]*[a-fA-F])(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{8,}\b"),
    ("id", r"\b(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{8,}\b"),
    ("n", r"(?<![\w.])[+-]?\d+(?:\.\d+)?(?![\d.])"),
    ("space", r"\s{2,}|[\t\n\r\f\v]"),
)
_VARIABLE = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in _PARTS))
_PLACEHOLDERS = {
    "ts": "<ts>",
    "time": "<ts>",
    "uuid": "<id>",
    "dq": "<str>",
    "sq": "<str>",
    "size": "<size>",
    "hex": "<hex>",
    "hexid": "<id>",
    "id": "<id>",
    "n": "<n>",
    "space": " ",
}


def _placeholder(match: re.Match[str]) -> str:
    kind = match.lastgroup or ""
    if kind == "code":
        return " ".join(match.group().split())
    return _PLACEHOLDERS[kind]


# A run of ASCII digits standing alone between spaces (or the ends), other than three digits
# (a status code may keep those): whatever its value or length, exactly one part matches it,
# ``n`` (or ``size`` before a unit, or ``dq``/``sq`` around it), always as a placeholder, and no
# other part's match depends on it. So such runs can all be written "0" before the cache
# lookup: "item 52341" and "item 907" share one cache entry, and the slow regex runs once.
_LONE_NUMBER = re.compile(r"(?<![^ \t])(?:[0-9]{4,}|[0-9]{1,2})(?![^ \t])")


def normalise_message(message: str) -> str:
    """``message`` with ids, numbers, hex, uuids, quoted values, timestamps and sizes removed."""
    return _normalise(_LONE_NUMBER.sub("0", message))


@functools.lru_cache(maxsize=8192)
def _normalise(message: str) -> str:
    return _VARIABLE.sub(_placeholder, message).strip()[:MAX_NORMALISED]


_STATIC_SUFFIX = re.compile(
    r"\.(js|mjs|css|map|png|jpe?g|gif|svg|ico|webp|woff2?|ttf|eot|txt|json|html?)$", re.IGNORECASE
)
_ID_SEGMENT = re.compile(
    r"^(?:\d+|[0-9a-fA-F]{8,}|[0-9a-fA-F-]{36}|(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_-]{12,})$"
)


def normalise_route(path: str) -> str:
    """A request path as a route: static files grouped by folder and type, id segments as ``{id}``.

    ``/assets/index-8f3a1c.js`` → ``/assets/*.js``; ``/api/sessions/42/messages`` →
    ``/api/sessions/{id}/messages``.
    """
    path = path.split("?", 1)[0].split("#", 1)[0] or "/"
    segments = path.split("/")
    static = _STATIC_SUFFIX.search(segments[-1])
    if static:
        segments[-1] = f"*.{static.group(1).lower()}"
    return "/".join(
        "{id}" if _ID_SEGMENT.match(s) and not s.startswith("*.") else s for s in segments
    )
