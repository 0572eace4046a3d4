"""Reading runbook files: front matter → a validated :class:`Runbook`, or an error naming the
file and the key.

A runbook file starts with a line ``---``, then YAML, then a line ``---``, then Markdown.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from prodguardian.config.validation_errors import describe_validation_error
from prodguardian.config.yaml_limits import YamlLimitError, load_yaml
from prodguardian.errors import ConfigError
from prodguardian.runbooks.body import missing_sections
from prodguardian.runbooks.model import FrontMatter, Runbook
from prodguardian.runbooks.placeholders import KNOWN_PLACEHOLDERS, unknown_placeholders

RUNBOOK_SUFFIX = ".md"
#: Files in a runbook directory that are documentation, not runbooks.
IGNORED_FILES = frozenset({"README.md", "readme.md", "index.md"})


class RunbookError(ConfigError):
    """A runbook file cannot be used; the message names the file, the key and the fix."""


def parse_runbook(text: str, *, source: str, builtin: bool = False) -> Runbook:
    """The runbook in ``text`` (read from ``source``); :class:`RunbookError` if invalid."""
    path = Path(source)
    raw, body = _split_front_matter(text, path)
    try:
        front = FrontMatter.model_validate(raw)
    except ValidationError as exc:
        problems = describe_validation_error(exc, model=FrontMatter)
        raise RunbookError.from_problems(path, problems) from None
    problems = _body_problems(front, body)
    if problems:
        raise RunbookError.from_problems(path, problems)
    return Runbook(
        id=front.id,
        title=front.title,
        severity=front.severity,
        match=front.match,
        exclude=front.exclude,
        follow_ups=front.follow_ups,
        body=body.strip("\n") + "\n",
        source=source,
        builtin=builtin,
    )


def load_runbook_file(path: Path) -> Runbook:
    """Read and validate one runbook file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RunbookError(f"cannot read the file: {exc}", path=path) from None
    return parse_runbook(text, source=str(path))


def runbook_files(directory: Path) -> list[Path]:
    """The runbook files of ``directory`` (``*.md``, sorted), or the file itself."""
    if directory.is_file():
        return [directory]
    if not directory.is_dir():
        raise RunbookError("runbook directory not found", path=directory)
    return sorted(p for p in directory.glob(f"*{RUNBOOK_SUFFIX}") if p.name not in IGNORED_FILES)


def check_directory(directory: Path) -> tuple[list[Runbook], list[RunbookError]]:
    """Every runbook of ``directory`` that loads, and an error for each one that does not."""
    runbooks: list[Runbook] = []
    errors: list[RunbookError] = []
    for path in runbook_files(directory):
        try:
            runbooks.append(load_runbook_file(path))
        except RunbookError as exc:
            errors.append(exc)
    errors += duplicate_ids(runbooks)
    return runbooks, errors


def load_directory(directory: Path) -> tuple[Runbook, ...]:
    """Every runbook of ``directory``; one :class:`RunbookError` listing all problems if any."""
    runbooks, errors = check_directory(directory)
    if errors:
        if len(errors) == 1:
            raise errors[0]
        lines = "\n".join(f"  {e}" for e in errors)
        raise RunbookError(f"{len(errors)} invalid runbooks:\n{lines}", path=directory)
    return tuple(runbooks)


def duplicate_ids(runbooks: Iterable[Runbook]) -> list[RunbookError]:
    """An error for each id used by two files of the same directory."""
    first: dict[str, Runbook] = {}
    errors = []
    for runbook in runbooks:
        if runbook.id in first:
            errors.append(
                RunbookError(
                    f"id {runbook.id!r} is also used by {first[runbook.id].source}; "
                    "ids must be unique within a directory",
                    path=Path(runbook.source),
                    key="id",
                )
            )
        else:
            first[runbook.id] = runbook
    return errors


def _split_front_matter(text: str, path: Path) -> tuple[dict[str, Any], str]:
    lines = text.removeprefix("\ufeff").splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise RunbookError(
            "missing front matter: the file must start with a line '---', then the YAML keys "
            "(id, title, severity, match, follow_ups), then a line '---', then the Markdown body",
            path=path,
        )
    end = next((i for i, line in enumerate(lines[1:], 1) if line.strip() in ("---", "...")), None)
    if end is None:
        raise RunbookError(
            "the front matter is not closed: add a line '---' after the YAML keys", path=path
        )
    try:
        raw = load_yaml("".join(lines[1:end]))
    except YamlLimitError as exc:
        raise RunbookError(f"front matter: {exc}", path=path) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 2}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        message = f"{where}invalid YAML in the front matter: {problem}"
        raise RunbookError(message, path=path) from None
    if not isinstance(raw, dict):
        raise RunbookError(
            "the front matter must be a mapping of keys (id, title, severity, match, follow_ups)",
            path=path,
        )
    return raw, "".join(lines[end + 1 :])


def _body_problems(front: FrontMatter, body: str) -> list[tuple[str, str]]:
    problems = []
    missing = missing_sections(body)
    if missing:
        problems.append(
            ("(body)", "missing Markdown sections: " + ", ".join(f"'## {m}'" for m in missing))
        )
    known = ", ".join(KNOWN_PLACEHOLDERS)
    unknown = unknown_placeholders(body)
    if unknown:
        names = ", ".join(f"{{{n}}}" for n in unknown)
        problems.append(
            ("(body)", f"unknown placeholders {names}; known: {known} (write {{{{x}}}} for {{x}})")
        )
    for index, follow_up in enumerate(front.follow_ups):
        unknown = unknown_placeholders(follow_up.remind or "")
        if unknown:
            names = ", ".join(f"{{{n}}}" for n in unknown)
            problems.append((f"follow_ups[{index}].remind", f"unknown placeholders {names}"))
    return problems
