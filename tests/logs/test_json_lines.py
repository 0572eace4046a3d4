"""The JSON-lines fast path never changes a result: it must agree with the exact slow path."""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from prodguardian.errors import SourceError
from prodguardian.logs.entry import LogEntry, Severity
from prodguardian.logs.query import Interest, LogQuery, LogScope, LogWindow, Traffic
from prodguardian.logs.scan_sink import ScanSink
from prodguardian.logs.sources.json_lines import scan_lines
from tests.logs.collected_entries import Collect

END = datetime(2025, 10, 11, 12, 31, 0, 250000, tzinfo=UTC)
START = END - timedelta(hours=1)
SPLIT = datetime(2025, 10, 11, 12, 21, 0, 500000, tzinfo=UTC)


def stamp(rng: random.Random) -> str:
    pick = rng.random()
    if pick < 0.05:
        return START.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + rng.choice(["000Z", "100Z", "400Z"])
    if pick < 0.1:
        return SPLIT.strftime("%Y-%m-%dT%H:%M:%S") + rng.choice(["Z", ".4Z", ".6Z"])
    if pick < 0.15:
        return END.strftime("%Y-%m-%dT%H:%M:%S") + rng.choice(["Z", ".2Z", ".3Z"])
    ts = START + timedelta(seconds=rng.uniform(-600, 4200))
    if pick < 0.2:
        return (ts + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S.%f+02:00")
    if pick < 0.25:
        return ts.strftime("%Y-%m-%dT%H:%M:%SZ")
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"


def line(rng: random.Random, odd: float) -> str:
    """A Cloud Run-like line; with probability about ``odd``, something unusual in it."""
    if rng.random() > odd:
        return clean_line(rng)
    pick = rng.random()
    if pick < 0.2:
        return rng.choice(["not json", "", "[1, 2]", '{"textPayload": "no time"}', "{"])
    entry: dict[str, Any] = {"timestamp": stamp(rng)}
    if rng.random() < 0.9:
        labels = {"service_name": rng.choice(["emergence-app", "other"])}
        if rng.random() < 0.8:
            labels["revision_name"] = rng.choice(["app-00041-a", "app-00042-b"])
        entry["resource"] = {"type": "cloud_run_revision", "labels": labels}
    if rng.random() < 0.8:
        entry["severity"] = rng.choice(
            ["INFO", "INFO", "DEFAULT", "WARNING", "ERROR", "CRITICAL", "error", 500, "Info"]
        )
    kind = rng.random()
    if kind < 0.4:
        entry["httpRequest"] = {
            "requestMethod": "GET",
            "requestUrl": rng.choice(["/a", "/b}c", "/.env"]),
            "status": rng.choice([200, 200, 101, 404, 429, 500, 503, 5000, "503"]),
        }
    elif kind < 0.7:
        entry["textPayload"] = rng.choice(
            [
                "hello",
                "Database reconnected successfully",
                "Traceback (most recent call last):",
                '  File "/app/x.py", line 1, in f',
                "ValueError: nope",
                'quoted "status": 500 inside',
            ]
        )
    else:
        payload: dict[str, Any] = {"message": rng.choice(["hi", "  indented", "x"])}
        if rng.random() < 0.3:
            payload["timestamp"] = "1999-01-01T00:00:00Z"
        if rng.random() < 0.3:
            payload["severity"] = "ERROR"
        if rng.random() < 0.3:
            payload["status"] = 500
        if rng.random() < 0.2:
            payload["service_name"] = "other"
        entry["jsonPayload"] = payload
    if rng.random() < 0.5:
        entry["labels"] = {"instanceId": rng.choice(["i1", "i2"])}
    spaced = rng.random() < 0.2
    return json.dumps(entry, separators=(", ", ": ") if spaced else (",", ":"))


def clean_line(rng: random.Random) -> str:
    """The usual shape: one timestamp, one revision, compact JSON."""
    ts = START + timedelta(seconds=rng.uniform(-300, 3900))
    if rng.random() < 0.02:
        stamp_text = SPLIT.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"
    else:
        stamp_text = ts.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"
    entry: dict[str, Any] = {
        "resource": {
            "type": "cloud_run_revision",
            "labels": {
                "service_name": rng.choice(["emergence-app", "emergence-app", "other"]),
                "revision_name": rng.choice(["app-00041-a", "app-00042-b"]),
            },
        },
        "timestamp": stamp_text,
        "severity": rng.choice(["INFO"] * 8 + ["WARNING", "ERROR", "DEFAULT"]),
    }
    if rng.random() < 0.5:
        entry["httpRequest"] = {
            "requestMethod": "GET",
            "requestUrl": "/a",
            "status": rng.choice([200] * 12 + [404, 429, 500, 5000]),
        }
    else:
        entry["textPayload"] = rng.choice(
            ["hello"] * 10 + ["Database reconnected successfully", "  File x", "ValueError: v"]
        )
    return json.dumps(entry, separators=(",", ":"))


def scan(
    lines: list[bytes], query: LogQuery, block_size: int
) -> tuple[Traffic, list[LogEntry], int]:
    got = Collect()
    sink = ScanSink(query, got, deadline=time.monotonic() + 60)
    fast = scan_lines(lines, sink, block_size=block_size)
    return sink.finish(), got.entries, fast


def summary(traffic: Traffic) -> dict[str | None, tuple[int, int, str, str]]:
    def sec(ts: datetime | None) -> str:
        return ts.strftime("%H:%M:%S") if ts else "-"

    return {
        r: (s.count, s.since_split, sec(s.first_seen), sec(s.last_seen))
        for r, s in traffic.revisions.items()
    }


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(
    "scope",
    [LogScope(), LogScope(service="emergence-app"), LogScope(revision="app-00042-b")],
)
@pytest.mark.parametrize(
    "interest",
    [
        Interest(),
        Interest(min_severity=Severity.ERROR, min_http_status=None, http_statuses=frozenset({429})),
        Interest(min_severity=None, min_http_status=None, text="Database reconnected"),
    ],
)
def test_fast_and_slow_paths_agree(seed: int, scope: LogScope, interest: Interest) -> None:
    rng = random.Random(seed)
    lines = [line(rng, odd=0.03).encode() + b"\n" for _ in range(1500)]
    block_size = rng.choice([1500, 4000, 20000])
    window = LogWindow(start=START, end=END)
    fast = LogQuery(window=window, scope=scope, interest=interest, split_at=SPLIT)
    # A scope with a match-all text regex sends every line down the exact path.
    slow_scope = LogScope(service=scope.service, revision=scope.revision, text="")
    slow = LogQuery(window=window, scope=slow_scope, interest=interest, split_at=SPLIT)
    fast_traffic, fast_entries, fast_lines = scan(lines, fast, block_size)
    slow_traffic, slow_entries, slow_lines = scan(lines, slow, block_size)
    assert summary(fast_traffic) == summary(slow_traffic)
    assert fast_traffic.unreadable == slow_traffic.unreadable
    assert fast_entries == slow_entries
    assert fast_traffic.total > 100
    assert slow_lines == 0
    assert fast_lines > 300  # the fast path was really taken, on clean blocks


@pytest.mark.parametrize("seed", range(3))
def test_unusual_lines_everywhere_still_agree(seed: int) -> None:
    rng = random.Random(100 + seed)
    lines = [line(rng, odd=1.0).encode() + b"\n" for _ in range(800)]
    window = LogWindow(start=START, end=END)
    fast = LogQuery(window=window, split_at=SPLIT)
    slow = LogQuery(window=window, scope=LogScope(text=""), split_at=SPLIT)
    a, b = scan(lines, fast, 1000), scan(lines, slow, 1000)
    assert summary(a[0]) == summary(b[0])
    assert a[1] == b[1]


def test_the_scan_stops_at_its_deadline() -> None:
    lines = [b'{"timestamp":"2025-10-11T12:00:00Z","severity":"INFO"}\n'] * 20_000
    query = LogQuery(window=LogWindow(start=START, end=END))
    sink = ScanSink(query, Collect(), deadline=time.monotonic() - 1)
    with pytest.raises(SourceError, match="ran out of time"):
        scan_lines(lines, sink)


def run_line(rng: random.Random, revision: str, odd: float) -> str:
    """Cloud Run's shape with the revision of the current run; about ``odd`` of them a trap
    for the one-revision proof (a second revision or timestamp key, none, another revision)."""
    line_text = clean_line(rng)
    entry = json.loads(line_text)
    entry["resource"]["labels"] = {
        "service_name": "emergence-app",
        "revision_name": revision,
        "location": "europe-west1",
    }
    if rng.random() < odd:
        trap = rng.randrange(4)
        if trap == 0:
            # The shared text around a nested copy, the resource naming another revision.
            labels = dict(entry["resource"]["labels"])
            entry["resource"]["labels"] = {"revision_name": "app-00043-c"}
            stamp = entry.pop("timestamp")
            entry["jsonPayload"] = {"labels": labels}
            entry["timestamp"] = stamp
        elif trap == 1:
            del entry["resource"]["labels"]["revision_name"]
        elif trap == 2:
            entry["resource"]["labels"]["revision_name"] = "app-00043-c"
        else:
            entry["jsonPayload"] = {"timestamp": "2025-10-11T12:00:00Z"}
    return json.dumps(entry, separators=(",", ":"))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("odd", [0.0, 0.002, 0.02])
@pytest.mark.parametrize("scope", [LogScope(), LogScope(revision="app-00042-b")])
def test_runs_of_one_revision_agree(seed: int, odd: float, scope: LogScope) -> None:
    rng = random.Random(300 + seed)
    lines: list[bytes] = []
    revision = "app-00041-a"
    for _ in range(3000):
        if rng.random() < 0.003:
            revision = "app-00042-b" if revision == "app-00041-a" else "app-00041-a"
        lines.append(run_line(rng, revision, odd).encode() + b"\n")
    block_size = rng.choice([3000, 20000, 100000])
    window = LogWindow(start=START, end=END)
    fast = LogQuery(window=window, scope=scope, split_at=SPLIT)
    slow_scope = LogScope(revision=scope.revision, text="")
    slow = LogQuery(window=window, scope=slow_scope, split_at=SPLIT)
    fast_traffic, fast_entries, fast_lines = scan(lines, fast, block_size)
    slow_traffic, slow_entries, _ = scan(lines, slow, block_size)
    assert summary(fast_traffic) == summary(slow_traffic)
    assert fast_traffic.unreadable == slow_traffic.unreadable
    assert fast_entries == slow_entries
    if odd == 0.0:
        assert fast_lines == len(lines)
