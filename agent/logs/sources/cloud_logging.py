"""The ``cloud_logging`` log source: Google Cloud Logging through ``google-cloud-logging``.

REST transport (``_use_grpc=False``), a filter built here (window, scope, and interest when no
denominator is needed), transport-level retries under the project's list-call budget
(:mod:`prodguardian.logs.read_budget`). What to list is decided by
:mod:`prodguardian.logs.cloud_reads`: counts from a metrics source or a sample, only the
interesting entries whole, incrementally between runs. The client is synchronous, so a scan
runs in a worker thread bounded by the check's deadline. Every failure becomes a
:class:`~prodguardian.errors.SourceError` that says what to fix.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal

import requests
from google.api_core import exceptions as api_errors
from google.auth import default as default_credentials
from google.auth import exceptions as auth_errors
from google.auth.credentials import AnonymousCredentials, Credentials
from google.cloud.logging import ASCENDING, Client
from pydantic import BaseModel, ConfigDict, Field

from prodguardian.config.duration import Duration
from prodguardian.errors import SourceError
from prodguardian.logs.cloud_reads import CloudReader, Page, ReadSettings
from prodguardian.logs.entry import LogEntry
from prodguardian.logs.incremental import MemoryReadStates, ReadStateStore
from prodguardian.logs.metrics_source import MetricsSource
from prodguardian.logs.query import LogQuery, Traffic
from prodguardian.logs.read_budget import DEFAULT_CALLS_PER_MINUTE, ReadBudget, shared_budget
from prodguardian.logs.scan_sink import EntryConsumer, ScanSink
from prodguardian.logs.sources.cloud_transport import DeadlineExceededError, RetryingSession

SCOPES = ("https://www.googleapis.com/auth/logging.read",)


class CloudLoggingConfig(BaseModel):
    """``type: cloud_logging`` options."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    project: str = Field(min_length=1)
    """The Google Cloud project whose logs are read (credentials: Application Default
    Credentials)."""
    api_endpoint: str | None = None
    """Another endpoint (an emulator or a local stand-in), e.g. ``http://127.0.0.1:8085``."""
    anonymous: bool = False
    """Send no credentials (only for an emulator or a stand-in)."""
    resource_type: str | None = "cloud_run_revision"
    """Only entries of this ``resource.type`` (null: any)."""
    filter: str | None = None
    """Extra Logging-filter text ANDed to every query."""
    page_size: int = Field(default=1000, ge=1, le=1000)
    """Entries asked for per ``entries.list`` call (Cloud Logging's maximum is 1000)."""
    max_entries: int = Field(default=500_000, ge=1)
    """Stop with an error past this many entries rather than read forever."""
    max_retries: int = Field(default=4, ge=0, le=10)
    """Retries of a call that failed with a retryable error (429, 5xx, network)."""
    backoff: float = Field(default=0.5, gt=0, le=30)
    """Seconds before the first retry; doubled (with jitter) for each next one."""
    request_timeout: float = Field(default=30.0, gt=0, le=300)
    """Seconds one call may take (never past the check's deadline)."""
    list_calls_per_minute: int = Field(default=DEFAULT_CALLS_PER_MINUTE, ge=1, le=6000)
    """This process's share of the project's list quota (Cloud Logging allows 60 a minute),
    shared by every check and command that reads the project."""
    metrics_source: str | None = None
    """A name under ``metrics_sources:``: request counts come from it when it fits the scope."""
    counting: Literal["auto", "list"] = "auto"
    """``auto``: a metric, else a sample for busy scopes; ``list``: list every entry."""
    sample_target: int = Field(default=2000, ge=100, le=100_000)
    """Entries a sample aims at (about ±4.4 % on the denominator at 2,000)."""
    incremental: bool = True
    """Keep what was read between runs and list only what arrived since."""
    incremental_overlap: Duration = Field(default=30.0, ge=0, le=3600)
    """Re-read this much before the last read, for entries that reach Cloud Logging late."""


class CloudLoggingSource:
    """One Cloud Logging project."""

    Config: ClassVar[type[BaseModel]] = CloudLoggingConfig

    def __init__(self, config: CloudLoggingConfig, *, states: ReadStateStore | None = None) -> None:
        self.config = config
        self.last_filter: str | None = None
        self.states: ReadStateStore = states if states is not None else MemoryReadStates()
        """What incremental reads keep between runs (in memory unless a store is given)."""
        self.metrics: MetricsSource | None = None

    def use_metrics(self, metrics: MetricsSource) -> None:
        """Take request counts from ``metrics`` (the config's ``metrics_source``)."""
        self.metrics = metrics

    @property
    def budget(self) -> ReadBudget:
        """The project's list-call budget, shared with every other reader of it here."""
        cfg = self.config
        return shared_budget(
            cfg.project, endpoint=cfg.api_endpoint, per_minute=cfg.list_calls_per_minute
        )

    @classmethod
    def from_config(cls, config: CloudLoggingConfig, *, base_dir: Path) -> CloudLoggingSource:
        return cls(config)

    def __repr__(self) -> str:
        where = self.config.api_endpoint or "logging.googleapis.com"
        return f"<CloudLoggingSource project={self.config.project!r} at {where}>"

    async def scan(self, query: LogQuery, consumer: EntryConsumer, *, deadline: float) -> Traffic:
        sink = ScanSink(query, consumer, deadline=deadline)
        remaining = max(deadline - time.monotonic(), 0.01)
        try:
            return await asyncio.wait_for(asyncio.to_thread(self._scan, sink), remaining + 0.5)
        except TimeoutError:
            raise SourceError(self._timeout_message()) from None

    def _scan(self, sink: ScanSink) -> Traffic:
        cfg = self.config
        session = RetryingSession(
            self._credentials(),
            deadline=sink.deadline,
            max_retries=cfg.max_retries,
            backoff_s=cfg.backoff,
            request_timeout_s=cfg.request_timeout,
            budget=self.budget,
        )
        options = {"api_endpoint": cfg.api_endpoint} if cfg.api_endpoint else None
        flt = ""

        def pages(filter_text: str) -> Iterator[Page]:
            nonlocal flt
            flt = self.last_filter = filter_text
            listing = client.list_entries(  # type: ignore[no-untyped-call]
                resource_names=[f"projects/{cfg.project}"],
                filter_=filter_text,
                order_by=ASCENDING,
                page_size=cfg.page_size,
            )
            # The client yields entries one by one and fetches the next page only when asked
            # for its first entry, so cutting at page_size never costs a call it would not make.
            page: list[Mapping[str, Any]] = []
            for item in listing:
                page.append(item.to_api_repr())
                if len(page) == cfg.page_size:
                    yield Page([(_to_entry(r), r) for r in page], True)
                    page = []
            if page:
                yield Page([(_to_entry(r), r) for r in page], False)

        try:
            client = Client(  # type: ignore[no-untyped-call]
                project=cfg.project,
                credentials=session.credentials,
                _http=session,
                _use_grpc=False,
                client_options=options,
            )
            reader = CloudReader(
                self._settings(), lister=pages, states=self.states, metrics=self.metrics
            )
            return reader.read(sink)
        except SourceError:
            raise
        except Exception as exc:
            raise SourceError(self._explain(exc, flt, session)) from exc
        finally:
            session.close()  # type: ignore[no-untyped-call]

    def _settings(self) -> ReadSettings:
        cfg = self.config
        return ReadSettings(
            counting=cfg.counting,
            sample_target=cfg.sample_target,
            incremental=cfg.incremental,
            overlap=timedelta(seconds=cfg.incremental_overlap),
            resource_type=cfg.resource_type,
            extra=cfg.filter,
            max_entries=cfg.max_entries,
        )

    def _credentials(self) -> Credentials:
        if self.config.anonymous:
            return AnonymousCredentials()  # type: ignore[no-untyped-call]
        try:
            credentials, _ = default_credentials(scopes=SCOPES)
        except auth_errors.DefaultCredentialsError as exc:
            raise SourceError(
                "no Google credentials found for Cloud Logging: run `gcloud auth "
                "application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS to a "
                f"service-account key file ({exc})"
            ) from exc
        result: Credentials = credentials
        return result

    def _timeout_message(self) -> str:
        return (
            "Cloud Logging did not answer within the check's timeout; raise the check's "
            "timeout or narrow its window"
        )

    def _explain(self, exc: Exception, flt: str, session: RetryingSession) -> str:
        project = self.config.project
        where = self.config.api_endpoint or "logging.googleapis.com"
        # A 401 makes the session refresh its credentials; when that fails, so did they.
        refused = auth_errors.RefreshError | auth_errors.InvalidOperation
        if isinstance(exc, api_errors.Unauthenticated | refused):
            return (
                "Cloud Logging rejected the credentials (401): refresh them with `gcloud auth "
                "application-default login` or point GOOGLE_APPLICATION_CREDENTIALS at a valid key"
            )
        if isinstance(exc, api_errors.Forbidden | api_errors.PermissionDenied):
            return (
                f"permission denied reading logs of project {project!r} (403): grant the caller "
                "roles/logging.viewer on that project, and check that the project id is right"
            )
        if isinstance(exc, api_errors.NotFound):
            return f"Cloud Logging does not know project {project!r} (404): check the project id"
        if isinstance(exc, api_errors.BadRequest):
            return f"Cloud Logging rejected the query (400): {exc.message}; filter sent:\n{flt}"
        if isinstance(exc, api_errors.TooManyRequests | api_errors.ServerError):
            return (
                f"Cloud Logging kept failing ({exc.code}) after {session.retries} retries; "
                "it is rate-limiting or unavailable, try again later"
            )
        if isinstance(exc, DeadlineExceededError | requests.Timeout):
            return self._timeout_message()
        if isinstance(exc, requests.ConnectionError):
            return (
                f"cannot reach Cloud Logging at {where}: {_short(exc)}; check the network, "
                "a proxy, or the source's api_endpoint"
            )
        if isinstance(exc, auth_errors.GoogleAuthError):
            return f"Google credentials failed ({_short(exc)}): refresh or replace them"
        if isinstance(exc, ValueError | KeyError | TypeError | json.JSONDecodeError):
            return (
                f"Cloud Logging at {where} answered something that is not a list of log "
                f"entries ({type(exc).__name__}: {_short(exc)}); check api_endpoint"
            )
        return f"reading Cloud Logging failed: {type(exc).__name__}: {_short(exc)}"


def _to_entry(raw: Mapping[str, Any]) -> LogEntry | None:
    try:
        return LogEntry.from_json(raw)
    except (ValueError, TypeError, AttributeError):
        return None


def _short(exc: BaseException, limit: int = 300) -> str:
    text = str(exc).replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "…"
