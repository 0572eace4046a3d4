"""Error signatures: one fingerprint per distinct failure, stable across its variants.

A signature is exception type + normalised message + top application frame (the innermost
frame that is neither the standard library nor an installed package). Entries without a
traceback get one too: Cloud Run's system messages, HTTP responses by route, plain log lines.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass

from prodguardian.logs.entry import LogEntry
from prodguardian.logs.normalise import normalise_message, normalise_route

SAMPLE_LIMIT = 4000
TRUNCATION_MARKER = "\n… [{n} characters truncated] …\n"
MESSAGE_LIMIT = 500

_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line \d+, in (?P<func>\S+)')
# Frame lines, found after a newline (the text is searched with one put in front): a literal
# first character lets the regex engine skip ahead, where ``^`` made it try every position.
_FRAMES = re.compile(r'\n[ \t]*File "([^"]+)", line \d+, in (\S+)')
_EXCEPTION_LINE = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?::\s?(?P<message>.*))?$")
_INLINE_EXCEPTION = re.compile(
    r"^(?P<type>(?:[a-z_][\w]*\.)*[A-Z]\w*(?:Error|Exception|Exit|Interrupt|Warning|Disconnect|Closed\w*)):\s?(?P<message>.*)$"
)
_NOT_EXCEPTION = ("Traceback", "During handling", "The above exception")
_LIBRARY_MARKERS = ("site-packages/", "dist-packages/", "<frozen ", "<string>")
_STDLIB = re.compile(r"/(?:usr/(?:local/)?)?lib/python\d\.\d+/")
_APP_ROOTS = re.compile(r"^(?:.*?/(?:app|workspace|srv|code|usr/src/app|home/[^/]+)/)?(?:src/)?")
_LIBRARY_PATH = re.compile(r"^.*?(?:site|dist)-packages/")


@dataclass(frozen=True, slots=True, kw_only=True)
class Signature:
    """What identifies a failure: ``message`` is this occurrence's, ``normalised`` shared."""

    fingerprint: str
    exception_type: str | None
    message: str
    normalised: str
    frame: str | None
    frames: tuple[str, ...] = ()
    http_status: int | None = None


def signature_of(entry: LogEntry) -> Signature:
    """The signature of one entry (a whole traceback counts as one entry)."""
    found = _facts(entry)
    if isinstance(found, Signature):
        return found
    exc_type, message, frame, frames = found
    return _build(exc_type, message, frame=frame, frames=frames)


def fingerprint_of(entry: LogEntry) -> tuple[str, int | None]:
    """``signature_of(entry)``'s fingerprint and HTTP status, without building the rest."""
    found = _facts(entry)
    if isinstance(found, Signature):
        return found.fingerprint, found.http_status
    exc_type, message, frame, _ = found
    return _fingerprint(exc_type, normalise_message(message.strip()), frame), None


_Facts = tuple[str | None, str, str | None, tuple[str, ...]]
"""Exception type, message, top application frame, every frame."""


def _facts(entry: LogEntry) -> Signature | _Facts:
    """What identifies an entry: an HTTP response's (cached) signature, or the facts to build
    one from."""
    text = entry.text.strip("\n")
    if "Traceback (most recent call last)" in text or _FRAME.search(text):
        return _from_traceback(text)
    http = entry.http
    if http is not None and http.status is not None:
        route = normalise_route(http.path or "/")
        return _http_signature(
            http.status, (http.method or "GET").upper(), route, _first_line(text)
        )
    first = _first_line(text)
    inline = _INLINE_EXCEPTION.match(first)
    exc_type = inline.group("type") if inline else None
    message = inline.group("message") if inline else first
    return exc_type, message, None, ()


@functools.lru_cache(maxsize=4096)
def _http_signature(status: int, method: str, route: str, first: str) -> Signature:
    """An HTTP response's signature: by status, method, route and its message, if any."""
    message = f"HTTP {status} {method} {route}"
    extra = f": {first}" if first else ""
    key = f"http|{status}|{method}|{route}|{normalise_message(first)}"
    return Signature(
        fingerprint=_hash(key),
        exception_type=None,
        message=f"{message}{extra}"[:MESSAGE_LIMIT],
        normalised=f"{message}{': ' + normalise_message(first) if first else ''}",
        frame=None,
        http_status=status,
    )


def truncate_sample(text: str, limit: int = SAMPLE_LIMIT) -> str:
    """``text`` cut to about ``limit`` characters, keeping its head and its (telling) tail."""
    if len(text) <= limit:
        return text
    head = limit * 3 // 8
    tail = limit - head
    cut = len(text) - head - tail
    return text[:head] + TRUNCATION_MARKER.format(n=cut) + text[-tail:]


def _from_traceback(text: str) -> _Facts:
    quick = _from_plain_traceback(text)
    if quick is not None:
        return quick
    lines = text.splitlines()
    frames: list[tuple[str, str]] = []
    exc_type: str | None = None
    message = ""
    for index, line in enumerate(lines):
        if not line or line[0].isspace():
            frame = _FRAME.match(line) if 'File "' in line else None
            if frame:
                frames.append((frame.group("path"), frame.group("func")))
            continue
        if line.startswith(_NOT_EXCEPTION):
            continue
        found = _EXCEPTION_LINE.match(line)
        if found and frames and _follows_frames(lines, index):
            exc_type = found.group("type")
            message = found.group("message") or ""
    if exc_type is None:
        exc_type, message = _last_exception_guess(lines)
    app_frames = [f for f in frames if _is_application(f[0])]
    top = app_frames[-1] if app_frames else None
    rendered = tuple(_render_frame(p, f) for p, f in frames)
    return exc_type, message, _render_frame(*top) if top else None, rendered


def _from_plain_traceback(text: str) -> _Facts | None:
    """The common shape, read without walking every line: frames, then one exception line."""
    cut = text.rfind("\n")
    last = text[cut + 1 :]
    if cut < 0 or not last or last[0].isspace() or last.startswith(_NOT_EXCEPTION):
        return None
    found = _EXCEPTION_LINE.match(last)
    previous = text[text.rfind("\n", 0, cut) + 1 : cut]
    if found is None or not previous[:1].isspace():
        return None
    frames = tuple(_FRAMES.findall("\n" + text))
    if not frames:
        return None
    top, rendered = _frame_facts(frames)
    return found.group("type"), found.group("message") or "", top, rendered


@functools.lru_cache(maxsize=4096)
def _frame_facts(frames: tuple[tuple[str, str], ...]) -> tuple[str | None, tuple[str, ...]]:
    """The top application frame and every frame, rendered (one failure repeats its frames)."""
    app_frames = [f for f in frames if _is_application(f[0])]
    top = _render_frame(*app_frames[-1]) if app_frames else None
    return top, tuple(_render_frame(p, f) for p, f in frames)


def _follows_frames(lines: list[str], index: int) -> bool:
    """True when the line at ``index`` comes after a frame's source line (an exception line)."""
    for back in range(index - 1, -1, -1):
        previous = lines[back]
        if not previous.strip():
            continue
        return previous[:1].isspace()
    return False


def _last_exception_guess(lines: list[str]) -> tuple[str | None, str]:
    for line in reversed(lines):
        found = _INLINE_EXCEPTION.match(line.strip())
        if found:
            return found.group("type"), found.group("message")
    return None, _first_line("\n".join(lines))


def _build(
    exc_type: str | None, message: str, *, frame: str | None, frames: tuple[str, ...]
) -> Signature:
    message = message.strip()
    normalised = normalise_message(message)
    return Signature(
        fingerprint=_fingerprint(exc_type, normalised, frame),
        exception_type=exc_type,
        message=message[:MESSAGE_LIMIT],
        normalised=normalised,
        frame=frame,
        frames=frames,
    )


@functools.lru_cache(maxsize=8192)
def _fingerprint(exc_type: str | None, normalised: str, frame: str | None) -> str:
    return _hash(f"{exc_type or ''}|{normalised}|{frame or ''}")


@functools.lru_cache(maxsize=4096)
def _is_application(path: str) -> bool:
    if any(marker in path for marker in _LIBRARY_MARKERS):
        return False
    return not _STDLIB.search(path)


@functools.lru_cache(maxsize=4096)
def _render_frame(path: str, func: str) -> str:
    library = _LIBRARY_PATH.sub("", path, count=1)
    short = library if library != path else _APP_ROOTS.sub("", path, count=1)
    return f"{short.lstrip('/')} in {func}"


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:MESSAGE_LIMIT]
    return ""


def _hash(key: str) -> str:
    return hashlib.blake2b(key.encode("utf-8"), digest_size=8).hexdigest()
