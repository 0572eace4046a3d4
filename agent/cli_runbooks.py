"""``prodguardian runbooks``: list, show, validate, match and start runbooks.

The library is the one a config asks for (built-in runbooks plus its ``runbooks.directories``)
when a config file is found, the built-in one otherwise; ``--dir`` adds directories.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import sys
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO

import click
from pydantic import TypeAdapter
from rich.console import Console
from rich.markdown import Markdown
from rich.table import Table
from rich.text import Text

from prodguardian.cli_time import DURATION, parse_time_option
from prodguardian.config import load_config
from prodguardian.runbooks import (
    Observed,
    RunbookFinding,
    RunbookLibrary,
    RunbookMatch,
    correlate_observed,
    from_text,
    load_library,
)
from prodguardian.runbooks.correlator import service_values
from prodguardian.runbooks.entries import split_entries
from prodguardian.runbooks.entry_time import WindowFilter
from prodguardian.runbooks.loader import check_directory, parse_runbook
from prodguardian.runbooks.model import ID_PATTERN, Severity, format_offset
from prodguardian.runbooks.scaffold import scaffold, suggested_id
from prodguardian.runbooks.terminal_view import render_findings

DEFAULT_CONFIG = "prodguardian.yaml"
EXIT_NO_RUNBOOK = 1
#: A single word ending like this names a file, and a missing one is an error, not text.
_LOG_SUFFIXES = frozenset({".log", ".txt", ".json", ".jsonl", ".out", ".err"})
EXIT_INVALID = 3

_FINDINGS = TypeAdapter(tuple[RunbookFinding, ...])


class _Source:
    """Where the library comes from: a config (if any), extra directories, built-ins or not."""

    def __init__(self, config: Path | None, dirs: tuple[Path, ...], builtin: bool) -> None:
        self.config, self.dirs, self.builtin = config, dirs, builtin

    def library(self) -> tuple[RunbookLibrary, dict[str, str]]:
        directories: list[Path] = []
        values: dict[str, str] = {}
        builtin = self.builtin
        config = self._config_path()
        if config is not None:
            loaded = load_config(config)
            section = loaded.config.runbooks
            base = loaded.path.parent
            directories += [(base / Path(d).expanduser()).resolve() for d in section.directories]
            builtin = builtin and section.builtin
            values = service_values(loaded.config.service)
        return load_library([*directories, *self.dirs], builtin=builtin), values

    def _config_path(self) -> Path | None:
        if self.config is not None:
            return self.config
        default = Path(os.environ.get("PRODGUARDIAN_CONFIG", DEFAULT_CONFIG))
        return default if default.is_file() else None


_pass_source = click.make_pass_decorator(_Source)


@click.group("runbooks")
@click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="Config whose runbooks section to use (default: $PRODGUARDIAN_CONFIG or "
    "./prodguardian.yaml when it exists; otherwise the built-in runbooks only).",
)
@click.option(
    "--dir",
    "dirs",
    multiple=True,
    type=click.Path(path_type=Path, exists=True),
    help="Also load the runbooks of this directory (repeatable; later ones win on equal ids).",
)
@click.option("--no-builtin", is_flag=True, help="Leave out the built-in runbooks.")
@click.pass_context
def runbooks(
    ctx: click.Context, config_path: Path | None, dirs: tuple[Path, ...], no_builtin: bool
) -> None:
    """Runbooks: what a failure is and what to do about it (docs/runbooks.md).

    The library is the built-in runbooks plus the config's runbooks.directories (-c) and
    --dir; options of this group go before the subcommand.

    \b
    Examples:
      prodguardian runbooks list
      prodguardian runbooks -c prodguardian.yaml match "RuntimeError: Database connection lost"
      prodguardian runbooks --dir runbooks/ validate
    """
    ctx.obj = _Source(config_path, dirs, not no_builtin)


@runbooks.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@_pass_source
def list_runbooks(source: _Source, as_json: bool) -> int:
    """List the runbooks of the library.

    \b
    Examples:
      prodguardian runbooks list
      prodguardian runbooks --dir my-runbooks/ list --json
    """
    library, _ = source.library()
    if as_json:
        rows = [
            {"id": r.id, "title": r.title, "severity": r.severity.value, "source": r.source}
            for r in library.runbooks
        ]
        click.echo(json.dumps(rows, indent=2))
        return 0
    table = Table(show_header=True, header_style="bold", box=None)
    table.add_column("Id", no_wrap=True)
    table.add_column("Severity", no_wrap=True)
    table.add_column("Follow-ups", justify="right", no_wrap=True)
    table.add_column("Title", overflow="fold")
    for runbook in library.runbooks:
        title = Text(runbook.title)
        if not runbook.builtin:
            title.append(f" ({runbook.source})", style="dim")
        table.add_row(runbook.id, runbook.severity.value, str(len(runbook.follow_ups)), title)
    console = Console()
    console.print(table)
    if library.overridden:
        console.print(Text(f"overridden by user runbooks: {', '.join(library.overridden)}"))
    return 0


@runbooks.command("show")
@click.argument("runbook_id")
@click.option("--raw", is_flag=True, help="Print the Markdown body as it is written.")
@_pass_source
def show(source: _Source, runbook_id: str, raw: bool) -> int:
    """Show one runbook: when it applies, its follow-ups, and its body.

    \b
    Example:
      prodguardian runbooks show db-connection-lost
    """
    library, _ = source.library()
    runbook = library.get(runbook_id)
    if runbook is None:
        ids = [r.id for r in library.runbooks]
        close = difflib.get_close_matches(runbook_id, ids, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise click.UsageError(f"no runbook {runbook_id!r}{hint}; known: {', '.join(ids)}")
    head = [
        f"{runbook.title}",
        f"id: {runbook.id} · severity: {runbook.severity.value} · source: {runbook.source}",
        "matches when:",
    ]
    for rule in runbook.match:
        parts = [
            f"{name} ~ {' | '.join(map(str, value))}"
            for name, value in rule.model_dump().items()
            if value
        ]
        head.append("  - " + " AND ".join(parts))
    if runbook.follow_ups:
        head.append("follow-ups:")
    for item in runbook.follow_ups:
        what = item.remind if item.remind is not None else (item.verify and item.verify.describe())
        head.append(f"  - {format_offset(item.after)} {what}")
    if raw:
        click.echo("\n".join(head) + "\n\n" + runbook.body)
    else:
        console = Console()
        console.print(Text("\n".join(head)))
        console.print(Markdown(runbook.body))
    return 0


@runbooks.command("validate")
@click.argument("path", required=False, type=click.Path(path_type=Path, exists=True))
@_pass_source
def validate(source: _Source, path: Path | None) -> int:
    """Validate a runbook directory or file (default: the whole library); exit 3 if invalid.

    \b
    Examples:
      prodguardian runbooks validate
      prodguardian runbooks validate my-runbooks/
    """
    if path is None:
        library, _ = source.library()
        click.echo(f"library: {len(library)} runbooks valid")
        return 0
    loaded, errors = check_directory(path)
    for runbook in loaded:
        click.echo(f"ok       {runbook.id}  ({runbook.source})")
    for error in errors:
        click.echo(f"invalid  {error}", err=True)
    if errors:
        click.echo(f"{len(errors)} invalid, {len(loaded)} valid", err=True)
        return EXIT_INVALID
    if not loaded:
        click.echo(f"{path}: no runbook files (*.md)", err=True)
        return EXIT_INVALID
    click.echo(f"{len(loaded)} valid")
    return 0


@runbooks.command("match")
@click.argument("text_or_file")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.option("--check-kind", default="", help="Match as evidence of a check of this kind.")
@click.option("--check-name", default="", help="Match as evidence of the check of this name.")
@click.option(
    "--at",
    metavar="TIME",
    callback=parse_time_option,
    help="Only the entries of the window that ended at TIME (ISO 8601, e.g. "
    "2025-10-11T12:21:00Z): try runbooks on the logs of a past incident.",
)
@click.option(
    "--window",
    "window_s",
    type=DURATION,
    default="1h",
    show_default=True,
    help="With --at: how long the window is (30m, 2h, ...).",
)
@_pass_source
def match(
    source: _Source,
    text_or_file: str,
    as_json: bool,
    check_kind: str,
    check_name: str,
    at: datetime | None,
    window_s: float,
) -> int:
    """Which runbooks apply to a log line, a traceback or a log file (``-``: stdin).

    Each entry of a file (a JSON line, or a text line with the traceback under it) is matched;
    with --at, only those whose time falls in the window that ended then.
    Exit code: 0 when every entry has a runbook, 1 when some entry has none.

    \b
    Examples:
      prodguardian runbooks match "RuntimeError: Database connection is not available."
      prodguardian runbooks match service.log --json
      tail -n 200 app.log | prodguardian runbooks match -
    """
    library, values = source.library()
    entries: Iterable[str] = split_entries(_lines(text_or_file))
    window = None
    if at is not None:
        window = WindowFilter(start=at - timedelta(seconds=window_s), end=at)
        entries = window.keep(entries)
    observed = (
        Observed(from_text(entry, check_kind=check_kind, check_name=check_name))
        for entry in entries
    )
    findings = correlate_observed(observed, library.matcher, values)
    if window is not None and (window.outside or window.timeless):
        click.echo(
            f"--at: left out {window.outside} entries outside {window.start:%Y-%m-%d %H:%M:%S}"
            f"–{window.end:%H:%M:%S} UTC and {window.timeless} without a time",
            err=True,
        )
    if as_json:
        click.echo(_FINDINGS.dump_json(findings, indent=2).decode())
    elif findings:
        Console().print(*render_findings(findings))
    else:
        click.echo("nothing to match", err=True)
    unmatched = any(not isinstance(f, RunbookMatch) for f in findings)
    return EXIT_NO_RUNBOOK if unmatched or not findings else 0


@runbooks.command("new")
@click.option(
    "--from-signature",
    "signature",
    required=True,
    help="The failure to start from: a log line, a traceback, a file, or - for stdin.",
)
@click.option("--id", "runbook_id", default=None, help="The runbook id (default: from the text).")
@click.option("--title", default=None, help="The runbook title.")
@click.option(
    "--severity",
    type=click.Choice([s.value for s in Severity]),
    default=Severity.HIGH.value,
    show_default=True,
    help="How bad the failure is.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Directory to write ID.md into (default: print to stdout).",
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def new(
    signature: str,
    runbook_id: str | None,
    title: str | None,
    severity: str,
    output: Path | None,
    force: bool,
) -> int:
    """Write a runbook scaffold for a failure no runbook covers.

    \b
    Example:
      prodguardian runbooks new --from-signature "KeyError: 'user_id'" -o runbooks/
    """
    entries = list(split_entries(_lines(signature)))
    if not entries:
        raise click.UsageError("--from-signature is empty: give a log line or a traceback")
    subject = from_text(entries[-1])
    if runbook_id is not None and not re.fullmatch(ID_PATTERN, runbook_id):
        raise click.UsageError(
            f"--id {runbook_id!r}: use lowercase letters, digits and dashes (max 64)"
        )
    text = scaffold(subject, runbook_id=runbook_id, title=title, severity=severity)
    parse_runbook(text, source="<scaffold>")  # a scaffold that does not load would be a bug
    if output is None:
        click.echo(text, nl=False)
        return 0
    output.mkdir(parents=True, exist_ok=True)
    target = output / f"{runbook_id or suggested_id(subject)}.md"
    if target.exists() and not force:
        raise click.UsageError(f"{target} exists; pass --force to overwrite it")
    target.write_text(text, encoding="utf-8")
    click.echo(f"wrote {target}; complete its TODOs, then: prodguardian runbooks validate {output}")
    return 0


def _lines(text_or_file: str) -> Iterator[str]:
    """Lines of stdin (``-``), of a file when the argument names one, or of the text itself."""
    if text_or_file == "-":
        yield from _stream(sys.stdin)
        return
    path = Path(text_or_file)
    one_word = len(text_or_file) < 4096 and not any(c.isspace() for c in text_or_file)
    if one_word and path.suffix in _LOG_SUFFIXES and not path.is_file():
        raise click.UsageError(f"{text_or_file}: no such file (to match it as text, quote a line)")
    if one_word and path.is_file():
        try:
            with path.open(encoding="utf-8", errors="replace") as handle:
                yield from _stream(handle)
        except OSError as exc:
            raise click.FileError(str(path), hint=str(exc)) from None
        return
    yield from text_or_file.splitlines()


def _stream(handle: TextIO) -> Iterator[str]:
    yield from handle


__all__ = ["runbooks"]
