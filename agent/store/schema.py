"""The state store's tables (SQLAlchemy 2 declarative). Alembic migrations must match them.

Times are stored as naive UTC and read back as aware UTC (:class:`UtcDateTime`), the same on
SQLite and PostgreSQL. Reports and results are stored as their pydantic JSON.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime, stored without a zone."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: store aware UTC times only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime}


class CheckRunRow(Base):
    """One run of one check (pruned after ``state.keep_runs``)."""

    __tablename__ = "check_runs"
    __table_args__ = (Index("ix_check_runs_check_started", "check_name", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    check_name: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime]
    duration_s: Mapped[float] = mapped_column(Float)
    summary: Mapped[str] = mapped_column(Text)
    signatures: Mapped[list[str]] = mapped_column(JSON, default=list)
    runbooks: Mapped[list[str]] = mapped_column(JSON, default=list)


class CheckStateRow(Base):
    """A check's recent outcomes (the incident policy's track) and its latest run."""

    __tablename__ = "check_state"

    check_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures_in_row: Mapped[int] = mapped_column(Integer, default=0)
    unknown_in_row: Mapped[int] = mapped_column(Integer, default=0)
    ok_in_row: Mapped[int] = mapped_column(Integer, default=0)
    recent: Mapped[str] = mapped_column(String(128), default="")
    last_run: Mapped[str | None] = mapped_column(Text, nullable=True)
    """The latest :class:`~prodguardian.result.CheckRun`, as JSON."""
    updated_at: Mapped[datetime]


class IncidentRow(Base):
    """An incident: one check failing (or unverifiable) from open to resolved."""

    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_open", "check_name", "resolved_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    check_name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    opened_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    affected: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Dependants whose failures folded into this incident."""
    report: Mapped[str | None] = mapped_column(Text, nullable=True)
    """The latest report of its checks, as JSON: the alert is rendered from it."""
    runbooks: Mapped[list[str]] = mapped_column(JSON, default=list)
    signatures: Mapped[list[str]] = mapped_column(JSON, default=list)
    root_outbox_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The outbox row of the alert's first message (set once the alert is written)."""
    last_notified_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_summary: Mapped[str] = mapped_column(Text, default="")
    last_updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class IncidentEventRow(Base):
    """Something that happened to an incident: opened, escalated, acknowledged, resolved …"""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")
    by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class SilenceRow(Base):
    """Alerts for a check or an incident held back until ``until``."""

    __tablename__ = "silences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    target: Mapped[str] = mapped_column(String(64), index=True)
    until: Mapped[datetime]
    by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    lifted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class DeployMarkRow(Base):
    """A deploy mark: revision X went out at ``since``."""

    __tablename__ = "deploy_marks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    revision: Mapped[str | None] = mapped_column(String(128), nullable=True)
    since: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    source: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    service: Mapped[str | None] = mapped_column(String(128), nullable=True)
    by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    outbox_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The announcement in the alerts channel: its thread holds the checklist's verdicts."""


class ReportRow(Base):
    """A full report (the latest is what ``/check_prod status`` shows)."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    finished_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    status: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)


class OutboxRow(Base):
    """A message to Slack, written before it is sent and marked with Slack's ``ts`` after.

    ``state``: ``pending`` (to send), ``sending`` (a send started: after a crash its fate is
    looked up before sending again), ``sent``, ``superseded`` (a newer update replaced it).
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_state_group", "state", "group_key", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    """A unique id put in the message's metadata, to find it in Slack after a crash."""
    group_key: Mapped[str] = mapped_column(String(64))
    """Messages of one group (an incident) are delivered in order."""
    action: Mapped[str] = mapped_column(String(16))
    """``post``, ``reply`` (in the thread of ``parent_id``) or ``update`` (``parent_id``)."""
    channel: Mapped[str] = mapped_column(String(64))
    parent_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    payload: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    ts: Mapped[str | None] = mapped_column(String(32), nullable=True)
    sent_channel: Mapped[str | None] = mapped_column(String(64), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    term: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The leadership term that claimed it (several replicas)."""


class FollowUpRow(Base):
    """A follow-up item: a reminder for a person or a verification the bot runs."""

    __tablename__ = "followups"
    __table_args__ = (Index("ix_followups_state_due", "state", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    text: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16), default="remind")
    spec: Mapped[str | None] = mapped_column(Text, nullable=True)
    """The item's definition (what to verify, repeat, expiry), as JSON."""
    source: Mapped[str | None] = mapped_column(String(128), nullable=True)
    incident_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    deploy_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    thread_outbox_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime]
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    next_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="open")
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    term: Mapped[int | None] = mapped_column(Integer, nullable=True)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    last_verdict: Mapped[str | None] = mapped_column(String(16), nullable=True)
    last_detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    done_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ReplicaRow(Base):
    """A running ProdGuardian process that checked in (heartbeat)."""

    __tablename__ = "replicas"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[datetime]
    seen_at: Mapped[datetime]
    leader: Mapped[bool] = mapped_column(Boolean, default=False)
    term: Mapped[int | None] = mapped_column(Integer, nullable=True)


class LeaderTermRow(Base):
    """The leadership terms handed out (several replicas); the highest is current."""

    __tablename__ = "leader_terms"

    term: Mapped[int] = mapped_column(Integer, primary_key=True)
    replica_id: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
