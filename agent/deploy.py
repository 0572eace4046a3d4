"""The active deploy: the one place checks read "what changed last, and when" from."""

from __future__ import annotations

import enum
from datetime import datetime

from pydantic import BaseModel, ConfigDict


class DeploySource(enum.StrEnum):
    """Where the active deploy came from, in order of authority."""

    COMMAND_LINE = "command_line"
    DEPLOY_MARK = "deploy_mark"
    LOGS = "logs"


class ActiveDeploy(BaseModel):
    """The deploy that the report splits before/after on.

    Either field may be missing: a revision name alone (per-revision split from log labels),
    a time alone (split at that instant), or both.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    revision: str | None = None
    since: datetime | None = None
    source: DeploySource = DeploySource.COMMAND_LINE
    note: str | None = None
