"""Per-line timestamps and revisions of a block: proved, or refused (never guessed)."""

from __future__ import annotations

import io
import json
import random

import pytest

from prodguardian.logs.sources.json_labels import Block, block_labels
from prodguardian.logs.sources.json_lines import blocks


def cloud_run(revision: str | None, second: int, **extra: object) -> bytes:
    labels = {"service_name": "svc"}
    if revision is not None:
        labels.update(revision_name=revision, location="europe-west1")
    entry = {
        "insertId": f"{second:012x}",
        "resource": {"type": "cloud_run_revision", "labels": labels},
        "timestamp": f"2025-10-11T12:{second // 60:02d}:{second % 60:02d}.123456Z",
        "severity": "INFO",
        **extra,
    }
    return json.dumps(entry, separators=(",", ":")).encode() + b"\n"


def block_of(lines: list[bytes]) -> tuple[Block, int]:
    data = b"".join(lines)
    return Block(data, 0, len(data)), len(lines)


def test_one_revision_is_proved_for_the_whole_block() -> None:
    block, n = block_of([cloud_run("app-1", s) for s in range(50)])
    labels = block_labels(block, n)
    assert labels is not None
    assert labels.single
    assert labels.revisions == [b"app-1"] * n
    assert labels.stamps[0] == b"2025-10-11T12:00:00"
    assert labels.stamps[-1] == b"2025-10-11T12:00:49"


def test_mixed_revisions_are_read_line_by_line() -> None:
    lines = [cloud_run("app-1" if s % 3 else "app-2", s) for s in range(30)]
    block, n = block_of(lines)
    labels = block_labels(block, n)
    assert labels is not None
    assert not labels.single
    assert labels.revisions == [b"app-1" if s % 3 else b"app-2" for s in range(30)]


def test_a_different_revision_between_agreeing_first_middle_and_last_lines() -> None:
    lines = [cloud_run("app-1", s) for s in range(31)]
    lines[7] = cloud_run("app-2", 7)
    block, n = block_of(lines)
    labels = block_labels(block, n)
    assert labels is not None
    assert labels.revisions[7] == b"app-2"
    assert labels.revisions.count(b"app-1") == 30


@pytest.mark.parametrize(
    "trap",
    [
        # One line names the revision twice (a nested copy), another not at all: the totals
        # still match the line count, but not line by line.
        {3: cloud_run("app-1", 3, jsonPayload={"revision_name": "app-1"}), 9: cloud_run(None, 9)},
        # Every line holds the shared text, but one names a second revision elsewhere.
        {3: cloud_run("app-1", 3, jsonPayload={"revision_name": "app-2"})},
        {3: cloud_run("app-1", 3, labels={"revision_name": "app-1", "location": "elsewhere"})},
        # A nested timestamp next to the real one.
        {5: cloud_run("app-1", 5, jsonPayload={"timestamp": "2025-10-11T12:59:59Z"})},
        # A line without a timestamp, and one with an offset timestamp.
        {4: b'{"resource":{"labels":{"revision_name":"app-1"}},"severity":"INFO"}\n'},
        {6: cloud_run("app-1", 6).replace(b".123456Z", b".1+02:00")},
    ],
)
def test_anything_short_of_proof_is_refused(trap: dict[int, bytes]) -> None:
    lines = [cloud_run("app-1", s) for s in range(20)]
    for index, line in trap.items():
        lines[index] = line
    block, n = block_of(lines)
    assert block_labels(block, n) is None


@pytest.mark.parametrize("seed", range(5))
def test_blocks_cover_the_stream_exactly_in_whole_lines(seed: int) -> None:
    rng = random.Random(seed)
    lines = [b"x" * rng.choice([0, 1, 5, 40, 300]) for _ in range(400)]
    data = b"\n".join(lines) + rng.choice([b"", b"\n"])
    size = rng.choice([1, 7, 64, 1000, 1 << 16])
    out = list(blocks(io.BytesIO(data), size))
    joined = b"".join(b.data[b.start : b.end] for b in out)
    assert joined == (data if data.endswith(b"\n") else data + b"\n")
    for b in out:
        assert b.end > b.start
        assert b.data[b.end - 1 : b.end] == b"\n"
        assert b.start == 0 or b.data[b.start - 1 : b.start] == b"\n"
