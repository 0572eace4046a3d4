"""The incident datasets (tests/data/incidents), and both sources set up to read them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from prodguardian.logs.source import LogSource
from prodguardian.logs.sources.cloud_logging import CloudLoggingConfig, CloudLoggingSource
from prodguardian.logs.sources.file import FileSource, FileSourceConfig
from tests.support.cloud_logging_standin import CloudLoggingStandIn

INCIDENTS = Path(__file__).resolve().parent.parent / "data" / "incidents"
NOW = datetime(2025, 10, 11, 12, 31, 0, tzinfo=UTC)
DEPLOY = datetime(2025, 10, 11, 12, 21, 0, tzinfo=UTC)
PROJECT = "emergence-469005"


def dataset(name: str) -> Path:
    return INCIDENTS / name


def entries(name: str) -> list[dict[str, Any]]:
    with dataset(name).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def file_source(name: str, **options: Any) -> FileSource:
    config = FileSourceConfig(path=str(dataset(name)), **options)
    return FileSource.from_config(config, base_dir=INCIDENTS)


def cloud_source(endpoint: str, **options: Any) -> CloudLoggingSource:
    options.setdefault("backoff", 0.01)
    config = CloudLoggingConfig(project=PROJECT, api_endpoint=endpoint, anonymous=True, **options)
    return CloudLoggingSource.from_config(config, base_dir=INCIDENTS)


@contextmanager
def source_for(kind: str, name: str, **options: Any) -> Iterator[tuple[LogSource, Any]]:
    """``(source, stand-in or None)`` reading dataset ``name`` through ``kind``."""
    if kind == "file":
        yield file_source(name), None
        return
    with CloudLoggingStandIn(entries(name), max_page_size=40) as standin:
        yield cloud_source(standin.endpoint, page_size=25, **options), standin


def shifted(name: str, to: datetime, *, drop_revisions: bool = False) -> list[dict[str, Any]]:
    """Dataset ``name`` moved in time so that its NOW becomes ``to``."""
    delta = to - NOW
    out = []
    for entry in entries(name):
        moved = dict(entry)
        for key in ("timestamp", "receiveTimestamp"):
            ts = datetime.fromisoformat(str(entry[key]).replace("Z", "+00:00")) + delta
            moved[key] = ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        if drop_revisions:
            moved["resource"] = {
                "type": "cloud_run_revision",
                "labels": {
                    k: v for k, v in entry["resource"]["labels"].items() if k != "revision_name"
                },
            }
        out.append(moved)
    return out


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows))
    return path


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)
