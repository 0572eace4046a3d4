"""Scanning JSON lines in ``LogEntry`` shape, fast.

Most lines of an hour of logs only need counting. The scanner reads the file in blocks of
whole lines (4 MiB, scanned where they were read, never copied) and lets C code do the per-byte
work: :mod:`~prodguardian.logs.sources.json_labels` collects every line's ``timestamp`` and
``revision_name`` (and ``service_name`` when scoped) with proof that each line holds each key
exactly once, and a few RE2 passes find the few lines that may matter (a severity at or above
the wanted one, a wanted HTTP status, a traceback piece, a wanted literal). Only those are parsed
(orjson) and judged exactly; the rest are counted by revision in bulk, comparing ISO timestamps
as strings. A block with anything unusual (a key seen twice or missing, an escaped value, an
offset timestamp, one on a window bound) is read line by line on the exact path, so the fast
path never changes a result, only its speed.
"""

from __future__ import annotations

import io
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import accumulate
from typing import IO, Any

import orjson
import re2

from prodguardian.logs.entry import SEVERITY_ALIASES, LogEntry, Severity, parse_timestamp
from prodguardian.logs.query import LogQuery, RevisionTraffic, Traffic
from prodguardian.logs.scan_sink import ScanSink
from prodguardian.logs.sources.json_labels import REVISION, SERVICE, Block, block_labels, values
from prodguardian.logs.sources.matching_lines import matching_lines

BLOCK = 4 << 20
CHECK_EVERY = 4096
_PIECE = (
    rb"(?:[ \t]|\\[tn]|Traceback|During handling|The above exception"
    rb"|(?:[a-z_]\w*\.)*[A-Z]\w*(?:Error|Exception|Exit|Interrupt|Warning|Disconnect|Closed\w*"
    rb"|Timeout)\b)"
)
_LITERAL = re.compile(r"[A-Za-z0-9 _,;:!?@#%&=<>/\[\]{}()'.-]+")
_REGEX_SPECIAL = set(".^$*+?{}[]\\|()")


@dataclass(slots=True)
class _Counter:
    count: int = 0
    since_split: int = 0
    first: bytes = b"\xff"
    last: bytes = b""


@dataclass(frozen=True, slots=True)
class _Plan:
    fast: bool
    lo: bytes
    hi: bytes
    split: bytes | None
    service: bytes | None
    revision: bytes | None
    wanted: tuple[Any, ...]
    """Compiled RE2 patterns that together mark every line that may matter (a superset)."""


def _plan(query: LogQuery) -> _Plan:
    scope, interest = query.scope, query.interest
    fast = scope.only_labels and interest.min_severity != Severity.DEFAULT
    # Each pattern starts on a byte that is rare in log lines (the end of its key: a key ending
    # so is a superset), so RE2 skips ahead with memchr; starting on '"', as a pattern on a
    # whole key must, stopped at each of the ~70 quotes of a line and cost twice as much.
    passes: list[bytes] = []
    if interest.min_severity is not None:
        names = [s.name.encode() for s in Severity if s >= interest.min_severity]
        names += [a.encode() for a, s in SEVERITY_ALIASES.items() if s >= interest.min_severity]
        # Severities not spelled in capitals ("error", 500) are judged by the exact path; a
        # string starting with a digit is never a severity ("latency":"0.2s" is not wanted).
        passes.append(
            rb'y"[ \t]*:[ \t]*(?:"(?:' + b"|".join(names) + rb')"'
            rb'|[^" \t]|"(?:[^A-Z"0-9]|[A-Z][^A-Z"]))'
        )
    minimum = interest.min_http_status
    codes = {c for c in range(100, 600) if minimum is not None and c >= minimum}
    codes |= set(interest.http_statuses)
    if codes:
        alternation = b"|".join(str(c).encode() for c in sorted(codes))
        # Four digits are out of range: the exact path judges them.
        passes.append(rb'us"[ \t]*:[ \t]*"?(?:(?:' + alternation + rb")\b|[1-9][0-9]{3})")
    passes.append(rb'Payload"[ \t]*:[ \t]*"' + _PIECE)  # "textPayload"
    passes.append(rb'ge"[ \t]*:[ \t]*"' + _PIECE)  # "message"
    if interest.text is not None:
        if _is_literal(interest.text):
            passes.append(re.escape(interest.text.encode()))
        else:
            fast = False
    return _Plan(
        fast=fast,
        lo=_key(query.window.start),
        hi=_key(query.window.end),
        split=_key(query.split_at) if query.split_at is not None else None,
        service=scope.service.encode() if scope.service is not None else None,
        revision=scope.revision.encode() if scope.revision is not None else None,
        wanted=tuple(re2.compile(pattern) for pattern in passes),
    )


def _is_literal(pattern: str) -> bool:
    return bool(_LITERAL.fullmatch(pattern)) and not (set(pattern) & _REGEX_SPECIAL)


def _key(ts: datetime) -> bytes:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S").encode()


def blocks(stream: IO[bytes], size: int = BLOCK) -> Iterable[Block]:
    """``stream`` in blocks of whole lines, about ``size`` bytes each.

    Each read is scanned where it lies: copying megabytes to join a line cut at the end of a
    read cost more than a regex pass. The cut line, joined with its rest from the next read,
    is a small block of its own.
    """
    carry: list[bytes] = []  # the start of a line cut by the end of the reads before
    while data := stream.read(size):
        first = data.find(b"\n")
        if first < 0:
            carry.append(data)  # a line longer than a read
            continue
        start = 0
        if carry:
            start = first + 1
            joined = b"".join([*carry, data[:start]])
            yield Block(joined, 0, len(joined))
        end = data.rfind(b"\n") + 1
        if end > start:
            yield Block(data, start, end)
        carry = [data[end:]] if end < len(data) else []
    if carry:
        joined = b"".join([*carry, b"\n"])
        yield Block(joined, 0, len(joined))


def scan_json_lines(stream: IO[bytes], sink: ScanSink, *, block_size: int = BLOCK) -> int:
    """Scan a binary stream of JSON lines into ``sink``; return how many lines took the fast
    path (for tests and benchmarks)."""
    plan = _plan(sink.query)
    counters: dict[bytes | None, _Counter] = {}
    done = fast = 0
    for block in blocks(stream, block_size):
        n = block.data.count(b"\n", block.start, block.end)
        if plan.fast and _scan_block(block, n, plan, counters, sink):
            fast += n
        else:
            for line in block.data[block.start : block.end].split(b"\n"):
                _slow(line, sink)
        done += n
        sink.check_deadline(done)
    _merge(counters, sink.traffic)
    return fast


def scan_lines(lines: Iterable[bytes], sink: ScanSink, *, block_size: int = BLOCK) -> int:
    """Scan an iterable of lines (small inputs, tests) into ``sink``."""
    data = b"".join(line if line.endswith(b"\n") else line + b"\n" for line in lines)
    return scan_json_lines(io.BytesIO(data), sink, block_size=block_size)


def _scan_block(
    block: Block, n: int, plan: _Plan, counters: dict[bytes | None, _Counter], sink: ScanSink
) -> bool:
    """Count a block of ``n`` lines on the fast path; ``False`` when it must be read line by
    line instead."""
    labels = block_labels(block, n)
    if labels is None:
        return False
    stamps, revisions = labels.stamps, labels.revisions
    data, first, end = block
    services: list[bytes] | None = None
    if plan.service is not None:
        services = values(block, SERVICE, b'"service_name"', n)
        if services is None:
            return False
    wanted: dict[int, int] = {}
    for pattern in plan.wanted:
        wanted.update(matching_lines(pattern, data, first, end))
    if len(plan.wanted) > 1:
        wanted = dict(sorted(wanted.items()))  # in file order: tracebacks are joined in order
    lo, hi, split = plan.lo, plan.hi, plan.split
    earliest, latest = min(stamps), max(stamps)
    if (
        lo < earliest
        and latest < hi
        and (split is None or latest < split or earliest > split)
        and (plan.revision is None or set(revisions) == {plan.revision})
        and (services is None or set(services) == {plan.service})
    ):
        tally = Counter({revisions[0]: n}) if labels.single else Counter(revisions)
        for start, stop in wanted.items():
            line = data[start:stop]
            if labels.single:
                tally[revisions[0]] -= 1
            else:
                found_revision = REVISION.search(line)
                tally[found_revision.group(1) if found_revision else None] -= 1
            _slow(line, sink)
        _count_uniform(stamps, revisions, tally, split, counters, (earliest, latest))
        return True
    lines = data[first:end].split(b"\n")
    starts = list(accumulate(map((1).__add__, map(len, lines)), initial=first))
    wanted_lines = {bisect_right(starts, pos) - 1 for pos in wanted}
    for index in range(n):
        t19 = stamps[index]
        if index in wanted_lines or t19 in (lo, hi) or t19 == split:
            _slow(lines[index], sink)
            continue
        revision = revisions[index]
        if not lo < t19 < hi:
            continue
        if plan.revision is not None and revision != plan.revision:
            continue
        if services is not None and services[index] != plan.service:
            continue
        _count(counters, revision, t19, split is not None and t19 > split)
    return True


def _count_uniform(
    stamps: list[bytes],
    revisions: list[bytes | None],
    tally: Counter[bytes | None],
    split: bytes | None,
    counters: dict[bytes | None, _Counter],
    extent: tuple[bytes, bytes],
) -> None:
    """A block wholly inside the window and on one side of the split (its stamps ``extent``
    from earliest to latest): count in bulk."""
    after = split is not None and stamps[0] > split
    if len(tally) == 1:
        spans = {revision: extent for revision in tally}
    else:
        spans = {}
        for revision, t19 in zip(revisions, stamps, strict=True):
            span = spans.get(revision)
            if span is None:
                spans[revision] = (t19, t19)
            elif t19 < span[0] or t19 > span[1]:
                spans[revision] = (min(span[0], t19), max(span[1], t19))
    for revision, count in tally.items():
        if count <= 0:
            continue
        counter = counters.get(revision)
        if counter is None:
            counter = counters[revision] = _Counter()
        counter.count += count
        if after:
            counter.since_split += count
        first, last = spans[revision]
        counter.first = min(counter.first, first)
        counter.last = max(counter.last, last)


def _count(
    counters: dict[bytes | None, _Counter], revision: bytes | None, t19: bytes, after: bool
) -> None:
    counter = counters.get(revision)
    if counter is None:
        counter = counters[revision] = _Counter()
    counter.count += 1
    if after:
        counter.since_split += 1
    if t19 < counter.first:
        counter.first = t19
    if t19 > counter.last:
        counter.last = t19


def _slow(raw: bytes, sink: ScanSink) -> None:
    """Parse the line whole and decide exactly."""
    raw = raw.strip()
    if not raw:
        return
    try:
        data = orjson.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("not an object")
        entry = LogEntry.from_json(data)
    except (orjson.JSONDecodeError, ValueError):
        sink.traffic.unreadable += 1
        return
    if not sink.query.window.contains(entry.timestamp):
        return
    if not sink.query.scope.contains(entry):
        return
    sink.offer(entry)


def _merge(counters: dict[bytes | None, _Counter], traffic: Traffic) -> None:
    for revision, counter in counters.items():
        name = revision.decode() if revision is not None else None
        first = parse_timestamp(counter.first.decode() + "Z")
        last = parse_timestamp(counter.last.decode() + "Z")
        slot = traffic.revisions.get(name)
        if slot is None:
            slot = traffic.revisions[name] = RevisionTraffic()
        slot.count += counter.count
        slot.since_split += counter.since_split
        slot.first_seen = first if slot.first_seen is None else min(slot.first_seen, first)
        slot.last_seen = last if slot.last_seen is None else max(slot.last_seen, last)
