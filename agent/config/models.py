"""The config file's shape, as pydantic models. Unknown keys are errors everywhere."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from prodguardian.config.duration import Duration

CHECK_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"

#: Keys every check entry has; every other key of the entry belongs to its kind's Params.
CHECK_SPEC_KEYS = frozenset({"name", "kind", "timeout", "description"})


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ServiceConfig(_Model):
    """The production service being watched; its facts fill runbook placeholders."""

    name: str = "service"
    project: str | None = None
    region: str | None = None


class RunnerConfig(_Model):
    """How checks are run."""

    concurrency: int = Field(default=500, ge=1, le=10_000)
    """How many checks run at once."""
    default_timeout: Duration = 10.0
    """The timeout of a check that sets none."""


class CheckSpec(_Model):
    """One configured check: the common keys, and its kind's own parameters."""

    name: str = Field(pattern=CHECK_NAME_PATTERN)
    kind: str
    timeout: Duration | None = None
    description: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class Config(_Model):
    """A whole ProdGuardian config file."""

    service: ServiceConfig = ServiceConfig()
    runner: RunnerConfig = RunnerConfig()
    checks: list[CheckSpec] = Field(min_length=1)

    @field_validator("checks")
    @classmethod
    def _names_are_unique(cls, checks: list[CheckSpec]) -> list[CheckSpec]:
        seen: set[str] = set()
        for spec in checks:
            if spec.name in seen:
                raise ValueError(f"check name {spec.name!r} is used twice; names must be unique")
            seen.add(spec.name)
        return checks
