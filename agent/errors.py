"""ProdGuardian's exceptions, one tree.

::

    ProdGuardianError
    ├── ConfigError            a config file cannot be read, parsed or validated
    │   └── RunbookError       a runbook file is invalid (prodguardian.runbooks.loader)
    ├── RegistryError          a plugin (check kind, log or trace source) is duplicated or broken
    ├── CheckError             a check could not run; the runner turns it into UNKNOWN
    │   └── SourceError        a log or trace source failed (unreachable, auth, bad answer)
    ├── SlackError             Slack settings or delivery (prodguardian.slack.errors)
    ├── UnknownItemError       no such follow-up, incident or check (prodguardian.slack.stores)
    └── ServerStartError       ``serve`` cannot start (prodguardian.server.run)

Errors that pydantic validators raise stay ``ValueError`` (interpolation, conditions): the loader
turns them into one ConfigError naming the key.

Library errors are translated at the boundary (``raise CheckError(...) from exc``), so callers
only ever catch these.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Self


class ProdGuardianError(Exception):
    """Base of every error ProdGuardian raises on purpose."""


class ConfigError(ProdGuardianError):
    """A config file cannot be used. The message names the file, the key path and the fix."""

    def __init__(self, message: str, *, path: Path | None = None, key: str | None = None) -> None:
        self.path = path
        self.key = key
        self.detail = message
        where = ""
        if path is not None:
            where = f"{path}: "
        if key:
            where += f"{key}: "
        super().__init__(f"{where}{message}")

    @classmethod
    def from_problems(cls, path: Path, problems: Sequence[tuple[str, str]]) -> Self:
        """One error for every ``(key path, message)`` problem of a file, all named at once."""
        if len(problems) == 1:
            key, message = problems[0]
            return cls(message, path=path, key=key)
        lines = "\n".join(f"  {key}: {message}" for key, message in problems)
        return cls(f"{len(problems)} problems:\n{lines}", path=path)


class RegistryError(ProdGuardianError):
    """A check plugin is unknown, registered twice, or does not follow the Check contract."""


class CheckError(ProdGuardianError):
    """A check could not run. Its message becomes the UNKNOWN result's summary."""


class SourceError(CheckError):
    """A source (logs, traces) failed; the message says what the user should fix."""
