"""The ``file`` log source: JSON lines in ``LogEntry`` shape, or plain text with a pattern.

The file is streamed line by line (gzip too), never loaded whole, in a worker thread so the
event loop stays free, and abandoned at the check's deadline.
"""

from __future__ import annotations

import asyncio
import gzip
import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, ClassVar, Literal, cast

from pydantic import BaseModel, ConfigDict, field_validator

from prodguardian.errors import SourceError
from prodguardian.logs.query import LogQuery, Traffic
from prodguardian.logs.scan_sink import EntryConsumer, ScanSink
from prodguardian.logs.sources.json_lines import scan_json_lines
from prodguardian.logs.sources.text_lines import DEFAULT_PATTERN, TextFormat, scan_text_lines

_BUFFER = 1 << 20


class FileSourceConfig(BaseModel):
    """``type: file`` options."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    """The log file; relative paths are relative to the config file. ``.gz`` is read as gzip."""
    format: Literal["json", "text"] = "json"
    """``json``: one Cloud Logging ``LogEntry`` per line; ``text``: lines read with ``pattern``."""
    pattern: str = DEFAULT_PATTERN
    """``text`` only: a regex with groups ``timestamp`` and ``message`` (and optionally
    ``severity``, ``revision``, ``service``) matching the first line of each entry."""
    timestamp_format: str | None = None
    """``text`` only: a ``strptime`` format when timestamps are not ISO 8601."""

    @field_validator("pattern")
    @classmethod
    def _pattern_has_groups(cls, value: str) -> str:
        try:
            compiled = re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
        missing = {"timestamp", "message"} - set(compiled.groupindex)
        if missing:
            raise ValueError(
                f"the pattern needs the named groups {', '.join(sorted(missing))} "
                "(e.g. (?P<timestamp>...) and (?P<message>.*))"
            )
        return value


class FileSource:
    """Reads one log file per scan."""

    Config: ClassVar[type[BaseModel]] = FileSourceConfig

    def __init__(self, path: Path, config: FileSourceConfig) -> None:
        self.path = path
        self.config = config
        self._format = TextFormat(
            pattern=re.compile(config.pattern), timestamp_format=config.timestamp_format
        )

    @classmethod
    def from_config(cls, config: FileSourceConfig, *, base_dir: Path) -> FileSource:
        path = Path(config.path).expanduser()
        return cls(path if path.is_absolute() else base_dir / path, config)

    def __repr__(self) -> str:
        return f"<FileSource {str(self.path)!r} format={self.config.format}>"

    async def scan(self, query: LogQuery, consumer: EntryConsumer, *, deadline: float) -> Traffic:
        sink = ScanSink(query, consumer, deadline=deadline)
        return await asyncio.to_thread(self._scan, sink)

    def _scan(self, sink: ScanSink) -> Traffic:
        with self._open() as stream:
            try:
                if self.config.format == "json":
                    scan_json_lines(stream, sink)
                else:
                    text = (line.decode("utf-8", errors="replace") for line in stream)
                    scan_text_lines(text, sink, self._format)
            except (zlib.error, gzip.BadGzipFile) as exc:
                # A damaged gzip stream or header (a truncated one is an EOFError, below).
                raise SourceError(
                    f"the gzip log file {self.path} is corrupt: {exc}; copy it again or "
                    "check it with `gzip -t`"
                ) from exc
            except (OSError, EOFError) as exc:
                raise SourceError(f"cannot read the log file {self.path}: {exc}") from exc
        traffic = sink.finish()
        if traffic.unreadable and not traffic.total:
            hint = (
                "is it JSON lines in Cloud Logging's LogEntry shape? For plain text set "
                "format: text (and a pattern)"
                if self.config.format == "json"
                else "does the pattern match its lines? Check the source's pattern"
            )
            raise SourceError(
                f"the log file {self.path} has {traffic.unreadable:,} unreadable lines and "
                f"no readable entry: {hint}"
            )
        return traffic

    @contextmanager
    def _open(self) -> Iterator[IO[bytes]]:
        try:
            if self.path.suffix == ".gz":
                stream: IO[bytes] = cast(IO[bytes], gzip.open(self.path, "rb"))  # noqa: SIM115
            else:
                stream = open(self.path, "rb", buffering=_BUFFER)  # noqa: SIM115
        except FileNotFoundError:
            raise SourceError(
                f"the log file {self.path} does not exist; check the log source's path"
            ) from None
        except IsADirectoryError:
            raise SourceError(f"{self.path} is a directory, not a log file") from None
        except PermissionError:
            raise SourceError(
                f"no permission to read the log file {self.path}; fix its permissions"
            ) from None
        except OSError as exc:
            raise SourceError(f"cannot open the log file {self.path}: {exc}") from exc
        with stream:
            yield stream
