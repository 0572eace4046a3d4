"""The config file's shape, as pydantic models. Unknown keys are errors everywhere."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from prodguardian.config.duration import Duration

CHECK_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"

#: Keys every check entry has; every other key of the entry belongs to its kind's Params.
CHECK_SPEC_KEYS = frozenset(
    {
        "name",
        "kind",
        "timeout",
        "description",
        "interval",
        "failure_threshold",
        "success_threshold",
        "repeat_interval",
        "flapping",
        "depends_on",
    }
)

#: The shortest schedule interval a check may have.
MIN_INTERVAL_S = 1.0


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ServiceConfig(_Model):
    """The production service being watched; its facts fill runbook placeholders."""

    name: str = "service"
    """The service's name, as runbooks and messages call it (``{service}`` in a runbook)."""
    project: str | None = None
    """Its Google Cloud project id (``{project}`` in a runbook)."""
    region: str | None = None
    """Its region, e.g. ``europe-west1`` (``{region}`` in a runbook)."""


class RunnerConfig(_Model):
    """How checks are run."""

    concurrency: int = Field(default=500, ge=1, le=10_000)
    """How many checks run at once."""
    default_timeout: Duration = 10.0
    """The timeout of a check that sets none."""


class RunbooksConfig(_Model):
    """Where runbooks come from: the built-in library and the user's own directories."""

    directories: tuple[str, ...] = ()
    """Directories of runbook files, relative to the config file; later ones win on equal ids."""
    builtin: bool = True
    """Load the built-in runbooks (a user runbook with the same id replaces a built-in one)."""


_SLACK_SECRET_KEYS = {
    "bot_token": "SLACK_BOT_TOKEN",
    "token": "SLACK_BOT_TOKEN",
    "signing_secret": "SLACK_SIGNING_SECRET",
    "app_token": "SLACK_APP_TOKEN",
}


class SlackConfig(_Model):
    """Slack: where alerts go, how /check_prod answers, who may change things.

    Tokens and the signing secret are never read from the file: they come from the environment
    (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_APP_TOKEN; SLACK_API_URL for the API base URL).
    """

    alerts_channel: str | None = None
    """Channel id (C…) that background alerts post to."""
    response_type: Literal["in_channel", "ephemeral"] = "in_channel"
    """How /check_prod posts its report: for the whole channel, or only for the caller."""
    allowed_users: tuple[str, ...] = ()
    """User ids (U…/W…) allowed to run mutating commands (deploy, done, ack, silence)."""
    allowed_user_groups: tuple[str, ...] = ()
    """User group ids (S…) whose members may run mutating commands."""
    allowed_channels: tuple[str, ...] = ()
    """Channel ids where anyone may run mutating commands."""

    @field_validator("allowed_users", "allowed_user_groups", "allowed_channels")
    @classmethod
    def _are_slack_ids(cls, ids: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        prefixes = {"allowed_users": "UW", "allowed_user_groups": "S", "allowed_channels": "CG"}
        first = prefixes[str(info.field_name)]
        for value in ids:
            if not re.fullmatch(rf"[{first}][A-Z0-9]{{2,}}", value):
                raise ValueError(
                    f"{value!r} is not a Slack id; expected an id starting with "
                    f"{' or '.join(first)} (copy it from the profile or channel details in Slack)"
                )
        return ids

    @model_validator(mode="before")
    @classmethod
    def _no_secrets_in_the_file(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key, variable in _SLACK_SECRET_KEYS.items():
                if key in data:
                    raise ValueError(
                        f"'{key}' must not be written in the config file; "
                        f"set the environment variable {variable} instead"
                    )
        return data


class FlappingConfig(_Model):
    """Open an incident when ``failures`` of the last ``of`` runs failed, even if not in a row."""

    of: int = Field(ge=2, le=100)
    """How many of the latest runs are looked at."""
    failures: int = Field(ge=1)
    """How many of them must have failed (at most ``of``)."""

    @model_validator(mode="after")
    def _fits(self) -> FlappingConfig:
        if self.failures > self.of:
            raise ValueError(f"failures ({self.failures}) cannot exceed of ({self.of})")
        return self


class MonitoringConfig(_Model):
    """The background schedule's defaults; each check may override them with the same keys."""

    enabled: bool = True
    """Run the checks on their schedule in ``serve`` (``watch`` always does)."""
    interval: Duration = 60.0
    """How often each check runs."""
    jitter: Duration | None = None
    """Spread of the checks' first runs, so they do not all start at once (default: the
    interval, at most 10 s)."""
    failure_threshold: int = Field(default=2, ge=1, le=100)
    """Failing (or unverifiable) runs in a row that open an incident."""
    success_threshold: int = Field(default=2, ge=1, le=100)
    """Passing runs in a row that resolve it."""
    repeat_interval: Duration = 3600.0
    """How often an open, unacknowledged incident is reminded of in its thread."""
    flapping: FlappingConfig | None = None
    """Also open an incident when N of the last M runs failed."""


class MaintenanceWindow(_Model):
    """A planned window: checks still run and are recorded, alerts wait until it ends."""

    start: datetime
    """When it starts (ISO 8601, e.g. ``2025-10-11T22:00:00Z``)."""
    end: datetime
    """When it ends: alerts held back in the window go out only if the problem outlasts it."""
    checks: tuple[str, ...] = ()
    """The checks it covers (empty: every check)."""
    reason: str | None = None
    """Why, for the people who read the alerts."""


class FollowUpsConfig(_Model):
    """Follow-up checklists: after a deploy, and the defaults of every follow-up item."""

    after_deploy: tuple[dict[str, Any], ...] = ()
    """The checklist of every deploy mark: items shaped as a runbook's ``follow_ups``."""
    log_source: str | None = None
    """Where ``log_count`` verifications read (default: the source of the first log check)."""
    retry: Duration = 3600.0
    """A failed or unverifiable verification runs again after this."""
    repeat: Duration = 4 * 3600.0
    """A reminder is repeated this often until someone marks it done."""
    expire_after: Duration = 7 * 86400.0
    """An item still open this long after it was due expires."""
    on_fail: Literal["reopen", "remind"] = "remind"
    """A failed verification reopens its (resolved) incident, or only says so in the thread."""


class StateConfig(_Model):
    """Where ProdGuardian keeps what it knows across restarts."""

    url: str | None = None
    """SQLAlchemy URL: default ``sqlite+aiosqlite:///prodguardian.db`` beside the config file;
    ``postgresql+asyncpg://user@host/db`` (or ``postgresql+psycopg://``) for several replicas."""
    keep_runs: Duration = 30 * 86400.0
    """How long check runs are kept (pruned hourly)."""
    leader_check_interval: Duration = 2.0
    """Several replicas (PostgreSQL): how often the leader re-checks its lock and the others
    try to take it."""
    leader_lease: Duration = 8.0
    """Several replicas (PostgreSQL): how long a leader that stopped answering (paused,
    partitioned) keeps the lock before PostgreSQL ends its session and another takes over."""
    heartbeat_interval: Duration = 3.0
    """How often each replica writes its heartbeat row (``prodguardian status``)."""

    @model_validator(mode="after")
    def _lease_outlasts_checks(self) -> StateConfig:
        if self.leader_lease < 3 * self.leader_check_interval:
            raise ValueError(
                f"leader_lease ({self.leader_lease:g}s) must be at least 3 × "
                f"leader_check_interval ({self.leader_check_interval:g}s), or a leader loses "
                "its lock between two checks"
            )
        return self


class CheckSpec(_Model):
    """One configured check: the common keys, and its kind's own parameters."""

    name: str = Field(pattern=CHECK_NAME_PATTERN)
    """The check's unique name: what reports, ``--only`` and ``/check_prod <check>`` use."""
    kind: str
    """Its kind: ``http``, ``log_errors``, ``log_count``, ``trace_latency``, ``slo_burn`` or a
    plugin's; the kind's own keys sit beside the common ones (see Check kinds below)."""
    timeout: Duration | None = None
    """How long one run may take before it is UNKNOWN (default ``runner.default_timeout``)."""
    description: str | None = None
    """A sentence for the people who read the report."""
    interval: Duration | None = None
    """How often the check runs in the background (default ``monitoring.interval``)."""
    failure_threshold: int | None = Field(default=None, ge=1, le=100)
    """Failing runs in a row that open an incident (default ``monitoring.failure_threshold``)."""
    success_threshold: int | None = Field(default=None, ge=1, le=100)
    """Passing runs in a row that resolve it (default ``monitoring.success_threshold``)."""
    repeat_interval: Duration | None = None
    """How often its open incident is reminded of (default ``monitoring.repeat_interval``)."""
    flapping: FlappingConfig | None = None
    """Its own N-of-M rule (default ``monitoring.flapping``)."""
    depends_on: tuple[str, ...] = ()
    """Checks this one needs: while one of them fails, this one's failures join its incident."""
    params: dict[str, Any] = Field(default_factory=dict)


class LogSourceSpec(_Model):
    """One named log source under ``log_sources:``: its ``type`` and that type's options."""

    type: str
    """The source's type: ``file``, ``cloud_logging`` or a plugin's; the type's own keys sit
    beside it (see Log source types below)."""
    options: dict[str, Any] = Field(default_factory=dict)


class MetricsSourceSpec(_Model):
    """One named metrics source under ``metrics_sources:``: its ``type`` and that type's options."""

    type: str
    """The kind of source: ``cloud_monitoring``."""
    options: dict[str, Any] = Field(default_factory=dict)
    """That kind's own keys, written beside ``type`` (see the source's section)."""


class TraceSourceSpec(_Model):
    """One named trace source under ``trace_sources:`` (``type: receiver`` or ``jaeger``...)."""

    type: str
    """The kind of source: ``receiver`` (spans posted to ``/v1/traces``) or ``jaeger``."""
    options: dict[str, Any] = Field(default_factory=dict)
    """That kind's own keys, written beside ``type`` (see the source's section)."""


class Config(_Model):
    """A whole ProdGuardian config file."""

    service: ServiceConfig = ServiceConfig()
    """The service being watched."""
    runner: RunnerConfig = RunnerConfig()
    """How checks are run."""
    slack: SlackConfig = SlackConfig()
    """Alerts, the ``/check_prod`` answer, and who may change things."""
    runbooks: RunbooksConfig = RunbooksConfig()
    """Where runbooks come from."""
    log_sources: dict[str, LogSourceSpec] = Field(default_factory=dict)
    """Named log sources that log checks refer to (``source: prod-logs``)."""
    metrics_sources: dict[str, MetricsSourceSpec] = Field(default_factory=dict)
    """Named metrics sources that log sources take request counts from (``metrics_source:``)."""
    trace_sources: dict[str, TraceSourceSpec] = Field(default_factory=dict)
    """Named trace sources that trace checks refer to (``source: spans``)."""
    monitoring: MonitoringConfig = MonitoringConfig()
    """The background schedule's defaults (``serve`` and ``watch``)."""
    maintenance: tuple[MaintenanceWindow, ...] = ()
    """Planned windows in which alerts wait."""
    state: StateConfig = StateConfig()
    """The state store."""
    followups: FollowUpsConfig = FollowUpsConfig()
    """Follow-up checklists and their defaults."""
    checks: list[CheckSpec] = Field(min_length=1)
    """The checks: the common keys below, plus the keys of each check's kind."""

    @field_validator("checks")
    @classmethod
    def _names_are_unique(cls, checks: list[CheckSpec]) -> list[CheckSpec]:
        seen: set[str] = set()
        for spec in checks:
            if spec.name in seen:
                raise ValueError(f"check name {spec.name!r} is used twice; names must be unique")
            seen.add(spec.name)
        return checks
