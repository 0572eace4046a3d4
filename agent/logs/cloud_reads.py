"""How the ``cloud_logging`` source reads a query at the cost of its errors, not of its traffic.

* A query that needs no denominator (``log_count``) lists only what it wants.
* A query that needs one takes it from a metrics source when one fits the scope (Cloud Run's
  request count), and lists only the interesting entries (errors, warnings, the scope's text).
* Otherwise a first page of the scope says how busy it is: a quiet scope is listed whole
  (exact, as always); a busy one is listed as ``interest OR sample(insertId, f)``: interesting
  entries whole and exact, the others a sample of about ``sample_target`` entries that is
  scaled up, with a 95 % interval (:mod:`prodguardian.logs.counting`).
* Every listing is incremental (:mod:`prodguardian.logs.incremental`): a state per query keeps
  what was read, and the next run lists only what arrived since, with an overlap.

The pages come from a :data:`Lister` (the source's budgeted, retrying client), so this module
decides and the source does the I/O. A Monitoring failure falls back to the logs and says so;
when the logs cannot be read within the budget either, both reasons are in the error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Literal

from prodguardian.errors import SourceError
from prodguardian.logs.cloud_filter import build_filter, interest_clause, sample_clause, untimed
from prodguardian.logs.counting import Counting, choose_fraction, estimate_total
from prodguardian.logs.entry import LogEntry
from prodguardian.logs.incremental import (
    KeptEntry,
    ReadPlan,
    ReadState,
    ReadStateStore,
    insert_id_of,
    merge,
    plan_read,
    state_key,
)
from prodguardian.logs.metrics_source import MetricsError, MetricsSource
from prodguardian.logs.query import LogQuery, LogWindow, RevisionTraffic, Traffic
from prodguardian.logs.read_budget import ReadQuotaError
from prodguardian.logs.scan_sink import ScanSink
from prodguardian.logs.traceback_grouping import looks_like_piece

CHECK_EVERY = 256
#: A sample state whose size drifted this far from the target is read cold again.
DRIFT = 4


@dataclass(frozen=True, slots=True)
class Page:
    """One page of ``entries.list``: each item parsed (None: unreadable) with its JSON."""

    items: list[tuple[LogEntry | None, Mapping[str, Any]]]
    more: bool


Lister = Callable[[str], Iterator[Page]]
"""Lists a filter page by page (each page one budgeted list call)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadSettings:
    """The source options that shape reads (see ``CloudLoggingConfig``)."""

    counting: Literal["auto", "list"] = "auto"
    sample_target: int = 2000
    incremental: bool = True
    overlap: timedelta = timedelta(seconds=30)
    resource_type: str | None = None
    extra: str | None = None
    max_entries: int = 500_000


class CloudReader:
    """One scan's reads; see the module docstring."""

    def __init__(
        self,
        settings: ReadSettings,
        *,
        lister: Lister,
        states: ReadStateStore,
        metrics: MetricsSource | None,
    ) -> None:
        self.settings = settings
        self._lister = lister
        self._states = states
        self._metrics = metrics
        self._listed = 0
        self._unreadable = 0

    def read(self, sink: ScanSink) -> Traffic:
        """Read ``sink.query`` into ``sink``; the traffic, with how it was counted."""
        query = sink.query
        if not query.count_all:
            return self._replay(self._interesting(sink), sink)
        if self.settings.counting == "list":
            return self._list_everything(sink)
        note = reason = ""
        # The metric must count the source's resource type too, not only the scope's labels.
        scope = replace(
            query.scope, resource_type=query.scope.resource_type or self.settings.resource_type
        )
        if self._metrics is not None and self._metrics.fits(scope):
            try:
                counts = self._metrics.request_counts(
                    query.scope, query.window, split_at=query.split_at, deadline=sink.deadline
                )
            except MetricsError as exc:
                reason = str(exc)
                note = f"{reason}; counted from the logs instead"
            else:
                state = self._interesting(sink)
                requests = sum(1 for k in state.kept if k.raw and k.raw.get("httpRequest"))
                if counts.traffic.total >= requests:
                    self._replay(state, sink)
                    traffic = counts.traffic
                    traffic.unreadable = self._unreadable
                    traffic.counting = Counting(
                        method="metric", metric=counts.metric, http_5xx=counts.http_5xx
                    )
                    return traffic
                reason = (
                    f"Cloud Monitoring counted {counts.traffic.total:,} requests in scope but "
                    f"the logs hold {requests:,} request entries among the errors alone, so "
                    "the metric does not fit this scope"
                )
                note = f"{reason}; counted from the logs instead"
        try:
            return self._counted(sink, note)
        except ReadQuotaError as exc:
            if reason:
                raise ReadQuotaError(
                    f"{reason}; counting from the logs instead hit the {exc}"
                ) from exc
            raise

    # -- the three reads -------------------------------------------------------------------

    def _interesting(self, sink: ScanSink) -> ReadState:
        """The in-scope entries the query wants, incrementally; every one kept whole."""
        query = sink.query
        only = LogQuery(window=query.window, scope=query.scope, interest=query.interest)
        key = state_key(untimed(self._filter(only, count_all=False)), "interest")
        previous = self._states.load(key) if self.settings.incremental else None
        plan = plan_read(previous, query.window, overlap=self.settings.overlap)
        flt = self._filter(only, count_all=False, window=_range(plan))
        listed = self._keep(self._lister(flt), sink, keep_raw=lambda _: True)
        return self._save(merge(plan, listed, key=key, window=query.window))

    def _counted(self, sink: ScanSink, note: str) -> Traffic:
        """Every in-scope entry counted: listed whole when quiet, sampled when busy."""
        query, target = sink.query, self.settings.sample_target
        key = state_key(untimed(self._filter(query, count_all=True)), "count")
        previous = self._states.load(key) if self.settings.incremental else None
        if previous is not None and _drifted(previous, target):
            previous = None
        fraction = previous.fraction if previous is not None else 1.0
        plan = plan_read(previous, query.window, overlap=self.settings.overlap, fraction=fraction)
        if plan.incremental:
            listed = self._keep(self._count_pages(query, plan, fraction), sink, fraction=fraction)
        else:
            fraction, listed = self._cold_count(query, sink)
        state = self._save(merge(plan, listed, key=key, window=query.window, fraction=fraction))
        traffic = self._replay(state, sink)
        if state.fraction < 1.0:
            sampled = sum(1 for k in state.kept if k.raw is None)
            exact = traffic.total
            _scale_in(traffic, state, sink)
            _, low, high = estimate_total(exact, sampled, state.fraction)
            traffic.counting = Counting(
                method="sampled", low=low, high=high, fraction=state.fraction, sampled=sampled
            )
        if note:
            traffic.counting = replace(traffic.counting or Counting(method="listed"), note=note)
        return traffic

    def _cold_count(self, query: LogQuery, sink: ScanSink) -> tuple[float, list[KeptEntry]]:
        """A first page of the scope decides: all of it (quiet) or a sample (busy)."""
        pages = self._lister(self._filter(query, count_all=True))
        first = next(pages, None)
        if first is None:
            return 1.0, []
        stamps = [e.timestamp for e, _ in first.items if e is not None]
        fraction = 1.0
        if first.more and stamps:
            covered = (max(stamps) - query.window.start).total_seconds()
            window_s = (query.window.end - query.window.start).total_seconds()
            fraction = choose_fraction(
                len(first.items), covered, window_s, target=self.settings.sample_target
            )
        if fraction >= 1.0:
            return 1.0, self._keep(_chain(first, pages), sink, fraction=1.0)
        close = getattr(pages, "close", None)
        if close is not None:
            close()
        whole = ReadPlan(start=query.window.start, end=query.window.end, previous=None)
        pages_ = self._count_pages(query, whole, fraction)
        return fraction, self._keep(pages_, sink, fraction=fraction)

    def _list_everything(self, sink: ScanSink) -> Traffic:
        """Today's plain path (``counting: list``): every entry, no state, streamed."""
        for page in self._lister(self._filter(sink.query, count_all=True)):
            for entry, _ in page.items:
                self._tick(sink)
                if entry is None:
                    sink.traffic.unreadable += 1
                elif sink.query.window.contains(entry.timestamp):
                    sink.offer(entry)
        return sink.finish()

    # -- pieces ------------------------------------------------------------------------------

    def _count_pages(self, query: LogQuery, plan: ReadPlan, fraction: float) -> Iterator[Page]:
        flt = self._filter(query, count_all=True, window=_range(plan))
        if fraction < 1.0:
            wanted = interest_clause(query.interest)
            either = f"({wanted} OR {sample_clause(fraction)})" if wanted else None
            flt = f"{flt}\n{either or sample_clause(fraction)}"
        return self._lister(flt)

    def _keep(
        self,
        pages: Iterable[Page],
        sink: ScanSink,
        *,
        fraction: float = 1.0,
        keep_raw: Callable[[LogEntry], bool] | None = None,
    ) -> list[KeptEntry]:
        wants = sink.query.interest.wants
        if keep_raw is None:

            def keep_raw(entry: LogEntry) -> bool:
                return wants(entry) or (fraction >= 1.0 and looks_like_piece(entry.text))

        out: list[KeptEntry] = []
        for page in pages:
            for entry, raw in page.items:
                self._tick(sink)
                if entry is None:
                    self._unreadable += 1
                    continue
                out.append(
                    KeptEntry(
                        timestamp=entry.timestamp,
                        insert_id=insert_id_of(raw, entry.timestamp),
                        revision=entry.revision,
                        raw=raw if keep_raw(entry) else None,
                    )
                )
        return out

    def _replay(self, state: ReadState, sink: ScanSink) -> Traffic:
        """Hand the state to the sink: whole entries offered, the others counted. A sample's
        counted-only entries are left for :func:`_scale_in`."""
        for kept in state.kept:
            if kept.raw is not None:
                entry = LogEntry.from_json(kept.raw)
                sink.offer(entry)
            elif state.fraction >= 1.0:
                sink.count(kept.revision, kept.timestamp)
        traffic = sink.finish()
        traffic.unreadable += self._unreadable
        return traffic

    def _tick(self, sink: ScanSink) -> None:
        self._listed += 1
        if not self._listed % CHECK_EVERY:
            sink.check_deadline(self._listed)
        if self._listed > self.settings.max_entries:
            raise SourceError(
                f"more than {self.settings.max_entries:,} entries match in Cloud Logging; "
                "narrow the window or scope, or raise max_entries of the log source"
            )

    def _filter(self, query: LogQuery, *, count_all: bool, window: LogWindow | None = None) -> str:
        shaped = LogQuery(
            window=window or query.window,
            scope=query.scope,
            interest=query.interest,
            count_all=count_all,
        )
        return build_filter(
            shaped, resource_type=self.settings.resource_type, extra=self.settings.extra
        )

    def _save(self, state: ReadState) -> ReadState:
        if self.settings.incremental:
            self._states.save(state)
        return state


def _range(plan: ReadPlan) -> LogWindow:
    return LogWindow(start=plan.start, end=plan.end)


def _chain(first: Page, rest: Iterator[Page]) -> Iterator[Page]:
    yield first
    yield from rest


def _drifted(state: ReadState, target: int) -> bool:
    """A state to read cold again: a sample grown or shrunk far from its target, or a whole
    listing that has become busy enough to sample."""
    counted = sum(1 for k in state.kept if k.raw is None)
    if state.fraction >= 1.0:
        return counted > DRIFT * target
    return not target / DRIFT <= counted <= target * DRIFT


def _scale_in(traffic: Traffic, state: ReadState, sink: ScanSink) -> None:
    """Add a sample's counted-only entries to ``traffic``, each standing for 1/fraction."""
    split = sink.query.split_at
    sampled: dict[str | None, RevisionTraffic] = {}
    for kept in state.kept:
        if kept.raw is None:
            slot = sampled.setdefault(kept.revision, RevisionTraffic())
            slot.add(kept.timestamp, after_split=split is not None and kept.timestamp >= split)
    for revision, slot in sampled.items():
        into = traffic.revisions.setdefault(revision, RevisionTraffic())
        into.count += round(slot.count / state.fraction)
        into.since_split += round(slot.since_split / state.fraction)
        for ts in (slot.first_seen, slot.last_seen):
            if ts is not None:
                into.first_seen = ts if into.first_seen is None else min(into.first_seen, ts)
                into.last_seen = ts if into.last_seen is None else max(into.last_seen, ts)
