"""The hand-written example of docs/logs.md is read as the docs say."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path

from prodguardian.logs.entry import Severity
from prodguardian.logs.query import Interest, LogQuery, LogWindow
from prodguardian.logs.sources.file import FileSource, FileSourceConfig
from tests.logs.collected_entries import Collect

DOCS = Path(__file__).resolve().parents[2] / "docs" / "logs.md"


def documented_lines() -> list[str]:
    blocks: list[str] = re.findall(r"```json\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    [block] = blocks
    return block.strip().splitlines()


async def test_the_five_documented_lines_are_all_read(tmp_path: Path) -> None:
    lines = documented_lines()
    assert len(lines) == 5
    (tmp_path / "app.jsonl").write_text("\n".join([*lines, "not json"]) + "\n")
    source = FileSource.from_config(FileSourceConfig(path="app.jsonl"), base_dir=tmp_path)
    window = LogWindow(
        start=datetime(2025, 10, 11, 12, 0, tzinfo=UTC),
        end=datetime(2025, 10, 11, 12, 30, tzinfo=UTC),
    )
    collect = Collect()
    query = LogQuery(window=window, interest=Interest(min_severity=Severity.DEFAULT))
    traffic = await source.scan(query, collect, deadline=time.monotonic() + 10)
    assert traffic.total == 5
    assert traffic.unreadable == 1
    texts = [e.text for e in collect.entries]
    assert "RuntimeError: Database connection is not available." in texts
    assert "slow query took 2.3 s" in texts
    statuses = [e.http.status for e in collect.entries if e.http is not None]
    assert statuses == [500]
    assert {e.revision for e in collect.entries} >= {"emergence-app-00043-fix"}
