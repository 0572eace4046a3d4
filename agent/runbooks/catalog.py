"""The runbook library: the built-in runbooks plus the user's directories, by id.

A user runbook with the id of a built-in one replaces it; between user directories, the one
listed later wins. The library compiles its matcher once, on first use.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from prodguardian.runbooks.loader import RUNBOOK_SUFFIX, load_directory, parse_runbook
from prodguardian.runbooks.matcher import RunbookMatcher
from prodguardian.runbooks.model import Runbook

if TYPE_CHECKING:
    from prodguardian.config.loader import LoadedConfig

BUILTIN_PACKAGE = "prodguardian.runbooks.library"


class RunbookLibrary:
    """Runbooks by id, in a stable order (built-in first, then each directory's files)."""

    def __init__(self, runbooks: Iterable[Runbook]) -> None:
        by_id: dict[str, Runbook] = {}
        overridden: list[str] = []
        for runbook in runbooks:
            if runbook.id in by_id:
                overridden.append(runbook.id)
            by_id[runbook.id] = runbook
        self._by_id = by_id
        self.overridden = tuple(overridden)
        """Ids whose earlier definition (built-in or an earlier directory) was replaced."""
        self._matcher: RunbookMatcher | None = None

    @property
    def runbooks(self) -> tuple[Runbook, ...]:
        return tuple(self._by_id.values())

    def get(self, runbook_id: str) -> Runbook | None:
        return self._by_id.get(runbook_id)

    def __len__(self) -> int:
        return len(self._by_id)

    @property
    def matcher(self) -> RunbookMatcher:
        """The compiled matcher over every runbook (built on first use)."""
        if self._matcher is None:
            self._matcher = RunbookMatcher(self.runbooks)
        return self._matcher


@functools.cache
def builtin_runbooks() -> tuple[Runbook, ...]:
    """The runbooks shipped with ProdGuardian, validated like any other."""
    package = files(BUILTIN_PACKAGE)
    found = sorted(
        (entry for entry in package.iterdir() if entry.name.endswith(RUNBOOK_SUFFIX)),
        key=lambda entry: entry.name,
    )
    return tuple(
        parse_runbook(
            entry.read_text(encoding="utf-8"), source=f"builtin:{entry.name}", builtin=True
        )
        for entry in found
    )


def load_library(directories: Sequence[Path] = (), *, builtin: bool = True) -> RunbookLibrary:
    """The built-in runbooks (unless ``builtin`` is false) overridden by each directory in turn."""
    runbooks: list[Runbook] = list(builtin_runbooks()) if builtin else []
    for directory in directories:
        runbooks.extend(load_directory(directory))
    return RunbookLibrary(runbooks)


@functools.lru_cache(maxsize=16)
def cached_library(directories: tuple[Path, ...], builtin: bool) -> RunbookLibrary:
    """:func:`load_library`, loaded once per (directories, builtin) for the process."""
    return load_library(directories, builtin=builtin)


def library_for_config(loaded: LoadedConfig) -> RunbookLibrary:
    """The library a config asks for (its ``runbooks:`` section), loaded once per process.

    Directories are relative to the config file. Invalid runbooks raise :class:`RunbookError`.
    """
    section = loaded.config.runbooks
    base = loaded.path.parent
    directories = tuple((base / Path(d).expanduser()).resolve() for d in section.directories)
    return cached_library(directories, section.builtin)
