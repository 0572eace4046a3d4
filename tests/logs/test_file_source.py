"""The file source: JSON lines or text, gzip, streamed; clear errors for bad files."""

from __future__ import annotations

import gzip
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from prodguardian.errors import SourceError
from prodguardian.logs.entry import Severity
from prodguardian.logs.query import Interest, LogQuery, LogWindow, Traffic
from prodguardian.logs.sources.file import FileSource, FileSourceConfig
from tests.logs.collected_entries import Collect
from tests.logs.incident_data import NOW, dataset

WINDOW = LogWindow(start=NOW - timedelta(hours=1), end=NOW)


async def scan(source: FileSource, query: LogQuery | None = None) -> tuple[Traffic, Collect]:
    got = Collect()
    traffic = await source.scan(
        query or LogQuery(window=WINDOW), got, deadline=time.monotonic() + 30
    )
    return traffic, got


def source(path: Path, **options: object) -> FileSource:
    config = FileSourceConfig(path=path.name, **options)
    return FileSource.from_config(config, base_dir=path.parent)


async def test_relative_paths_are_relative_to_the_config_and_gzip_is_read(tmp_path: Path) -> None:
    packed = tmp_path / "logs.jsonl.gz"
    packed.write_bytes(gzip.compress(dataset("incident-01-database.jsonl").read_bytes()))
    traffic, got = await scan(source(packed))
    assert traffic.total == 80
    assert sum(1 for e in got.entries if e.severity >= Severity.ERROR) == 9


async def test_text_logs_keep_tracebacks_with_their_line(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text(
        "2025-10-11 12:00:00,120 ERROR [api] request failed\n"
        "Traceback (most recent call last):\n"
        '  File "/app/api.py", line 3, in handle\n'
        "ValueError: bad\n"
        "2025-10-11 12:00:01,000 INFO [api] fine\n"
        "garbage before nothing\n"
    )
    pattern = r"^(?P<timestamp>\S+ \S+) (?P<severity>[A-Z]+) \[(?P<service>\w+)\] (?P<message>.*)$"
    traffic, got = await scan(
        source(log, format="text", pattern=pattern, timestamp_format="%Y-%m-%d %H:%M:%S,%f")
    )
    assert traffic.total == 2
    [error] = got.entries
    assert error.text.endswith("ValueError: bad\ngarbage before nothing") is False
    assert error.text.splitlines()[0] == "request failed"
    assert error.text.splitlines()[-1] == "ValueError: bad"
    assert error.service == "api"
    assert error.timestamp == datetime(2025, 10, 11, 12, 0, 0, 120000, tzinfo=UTC)


def test_a_text_pattern_needs_its_groups() -> None:
    with pytest.raises(ValidationError, match="named groups message"):
        FileSourceConfig(path="x", format="text", pattern=r"(?P<timestamp>\S+)")
    with pytest.raises(ValidationError, match="not a valid regular expression"):
        FileSourceConfig(path="x", format="text", pattern="(")


async def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist; check the log source's path"):
        await scan(source(tmp_path / "nope.jsonl"))


async def test_a_directory_is_not_a_log_file(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    with pytest.raises(SourceError, match="is a directory"):
        await scan(source(tmp_path / "dir"))


async def test_a_file_of_garbage_says_what_format_was_expected(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("hello\nworld\n")
    with pytest.raises(SourceError, match="set format: text"):
        await scan(source(bad))


async def test_an_empty_window_is_not_an_error(tmp_path: Path) -> None:
    traffic, got = await scan(
        FileSource.from_config(
            FileSourceConfig(path=str(dataset("incident-01-database.jsonl"))), base_dir=tmp_path
        ),
        LogQuery(window=LogWindow(start=NOW + timedelta(days=1), end=NOW + timedelta(days=2))),
    )
    assert traffic.total == 0
    assert not got.entries


async def test_a_pattern_interest_hands_over_only_matching_lines() -> None:
    src = FileSource.from_config(
        FileSourceConfig(path=str(dataset("incident-01-hotfix.jsonl"))), base_dir=Path(".")
    )
    _, got = await scan(
        src,
        LogQuery(
            window=WINDOW,
            interest=Interest(min_severity=None, min_http_status=None, text="reconnected"),
            count_all=False,
        ),
    )
    assert [e.text for e in got.entries] == ["Database reconnected successfully"] * 2


async def test_a_corrupt_gzip_file_is_named_with_what_is_wrong(tmp_path: Path) -> None:
    packed = bytearray(gzip.compress(dataset("incident-01-database.jsonl").read_bytes()))
    middle = len(packed) // 2
    packed[middle : middle + 64] = bytes(64)  # damaged in the middle, whole length kept
    corrupt = tmp_path / "logs.jsonl.gz"
    corrupt.write_bytes(bytes(packed))
    with pytest.raises(SourceError) as caught:
        await scan(source(corrupt))
    message = str(caught.value)
    assert str(corrupt) in message
    assert "is corrupt" in message
    assert "gzip -t" in message


async def test_a_truncated_gzip_file_is_named(tmp_path: Path) -> None:
    packed = gzip.compress(dataset("incident-01-database.jsonl").read_bytes())
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(SourceError, match=f"cannot read the log file {cut}"):
        await scan(source(cut))


async def test_a_gz_file_that_is_not_gzip_is_named(tmp_path: Path) -> None:
    fake = tmp_path / "plain.jsonl.gz"
    fake.write_bytes(dataset("incident-01-database.jsonl").read_bytes())
    with pytest.raises(SourceError, match=f"the gzip log file {fake} is corrupt"):
        await scan(source(fake))
