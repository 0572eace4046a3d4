"""Raw log text split into entries: one per line, except that a traceback stays one entry.

Used by ``prodguardian runbooks match FILE``: a pasted traceback, a text log, or JSON lines
exported from Cloud Logging. Streams its input; chained tracebacks ("During handling of the
above exception…") stay with the traceback they continue.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

_TRACEBACK = "Traceback (most recent call last)"
_CHAIN = (
    "During handling of the above exception",
    "The above exception was the direct cause",
)


def split_entries(lines: Iterable[str]) -> Iterator[str]:
    """The entries of ``lines`` (with or without line ends), in order; blank lines dropped."""
    current: list[str] = []
    in_traceback = has_traceback = chained = False
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        if line[0] in " \t":
            current.append(line)
            continue
        if line.startswith(_CHAIN):
            current.append(line)
            chained = True
            continue
        if line.startswith(_TRACEBACK):
            if current and has_traceback and not chained:
                yield "\n".join(current)
                current = []
            current.append(line)
            in_traceback = has_traceback = True
            chained = False
            continue
        if in_traceback:
            current.append(line)  # the exception line that ends the traceback
            in_traceback = False
            continue
        if current:
            yield "\n".join(current)
        current = [line]
        has_traceback = chained = False
    if current:
        yield "\n".join(current)
