"""A traceback written line by line comes out as one entry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prodguardian.logs.entry import LogEntry, Severity
from prodguardian.logs.traceback_grouping import TracebackGrouper, looks_like_piece

T0 = datetime(2025, 10, 11, 12, 0, tzinfo=UTC)
LINES = [
    "Exception in ASGI application",
    "Traceback (most recent call last):",
    '  File "/app/x.py", line 1, in f',
    "    g()",
    "starlette.websockets.WebSocketDisconnect: (1001, None)",
]


def piece(
    text: str, ms: int, *, instance: str = "i-1", severity: Severity = Severity.DEFAULT
) -> LogEntry:
    return LogEntry(
        timestamp=T0 + timedelta(milliseconds=ms),
        severity=severity,
        text=text,
        resource_labels={"revision_name": "r-1"},
        labels={"instanceId": instance},
    )


def group(entries: list[LogEntry]) -> list[LogEntry]:
    out: list[LogEntry] = []
    grouper = TracebackGrouper(out.append)
    for e in entries:
        grouper.offer(e)
    grouper.finish()
    return out


def test_pieces_of_one_traceback_join_with_the_highest_severity() -> None:
    pieces = [
        piece(t, i, severity=Severity.ERROR if i == 0 else Severity.DEFAULT)
        for i, t in enumerate(LINES)
    ]
    [joined] = group(pieces)
    assert joined.text == "\n".join(LINES)
    assert joined.severity is Severity.ERROR
    assert joined.timestamp == T0


def test_interleaved_instances_stay_apart() -> None:
    a = [piece(t, 2 * i, instance="a") for i, t in enumerate(LINES[1:])]
    b = [piece(t, 2 * i + 1, instance="b") for i, t in enumerate(LINES[1:])]
    mixed = [x for pair in zip(a, b, strict=True) for x in pair]
    out = group(mixed)
    assert len(out) == 2
    assert all(e.text == "\n".join(LINES[1:]) for e in out)


def test_a_new_traceback_after_a_closed_one_is_a_new_entry() -> None:
    first = [piece(t, i) for i, t in enumerate(LINES[1:])]
    second = [piece(t, 10 + i) for i, t in enumerate(LINES[1:])]
    assert len(group(first + second)) == 2


def test_chained_tracebacks_stay_together() -> None:
    chained = [
        *LINES[1:],
        "During handling of the above exception, another exception occurred:",
        *LINES[1:],
    ]
    [joined] = group([piece(t, i) for i, t in enumerate(chained)])
    assert joined.text.count("Traceback") == 2


def test_a_long_pause_or_an_unrelated_line_ends_a_group() -> None:
    late = [piece(LINES[1], 0), piece(LINES[2], 5_000)]
    assert len(group(late)) == 2
    unrelated = [piece(LINES[1], 0), piece(LINES[2], 1), piece("GET /api/health 200", 2)]
    assert [e.text for e in group(unrelated)][-1] == "GET /api/health 200"


def test_plain_lines_pass_through_untouched() -> None:
    plain = [piece("hello", 0), piece("world", 1)]
    assert group(plain) == plain
    assert looks_like_piece("  File x")
    assert looks_like_piece("ValueError: x")
    assert not looks_like_piece("hello")
    assert not looks_like_piece("")


def test_open_groups_stay_bounded() -> None:
    out: list[LogEntry] = []
    grouper = TracebackGrouper(out.append)
    for i in range(3000):
        grouper.offer(
            piece("Exception in ASGI application", i, instance=f"i-{i}", severity=Severity.ERROR)
        )
    assert len(out) >= 2000  # the oldest were let go as they were
    grouper.finish()
    assert len(out) == 3000
