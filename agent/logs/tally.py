"""Adding up error and warning entries into signatures, split before/after the deploy later.

Memory stays bounded whatever the number of entries: one group per (level, fingerprint,
revision, at-or-after ``split_at``), at most :data:`MAX_GROUPS` of them, each with one sample.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from prodguardian.evidence import ErrorSignature
from prodguardian.logs.classify import Classifier, Level
from prodguardian.logs.deploy_split import DeploySplit
from prodguardian.logs.entry import LogEntry, Severity
from prodguardian.logs.resource_usage import memory_usage
from prodguardian.logs.signature import (
    Signature,
    fingerprint_of,
    signature_of,
    truncate_sample,
)

MAX_GROUPS = 2000
OVERFLOW = "(more distinct signatures than ProdGuardian keeps apart)"


@dataclass(slots=True)
class _Group:
    """One group's figures; its signature and sample come from its latest entry, built once
    when the group is reported (every entry only needs its fingerprint)."""

    latest: LogEntry
    severity: Severity
    overflow: bool = False
    count: int = 0
    first: datetime | None = None
    last: datetime | None = None
    statuses: set[int] = field(default_factory=set)
    peak: LogEntry | None = None
    """The entry with the highest memory figure, for resource-limit messages."""
    peak_mib: float = 0.0

    def add(self, entry: LogEntry, http_status: int | None) -> None:
        self.count += 1
        if self.first is None or entry.timestamp < self.first:
            self.first = entry.timestamp
        if self.last is None or entry.timestamp >= self.last:
            self.last = entry.timestamp
            self.latest = entry
        self.severity = max(self.severity, entry.severity)
        if http_status is not None:
            self.statuses.add(http_status)
        usage = memory_usage(entry.text)
        if usage is not None and usage[1] > self.peak_mib:
            self.peak, self.peak_mib = entry, usage[1]

    @property
    def signature(self) -> Signature:
        return _OVERFLOW if self.overflow else signature_of(self.latest)

    @property
    def sample(self) -> str:
        return truncate_sample(self.latest.text or self.signature.message)


_OVERFLOW = Signature(
    fingerprint="overflow",
    exception_type=None,
    message=OVERFLOW,
    normalised=OVERFLOW,
    frame=None,
)


GroupKey = tuple[Level, str, str | None, bool]


class SignatureTally:
    """The consumer of a ``log_errors`` scan: classifies each entry and groups it."""

    def __init__(self, classifier: Classifier, *, split_at: datetime | None) -> None:
        self.classifier = classifier
        self.split_at = split_at
        self.groups: dict[GroupKey, _Group] = {}
        self.noise = 0
        self.levels: Counter[Level] = Counter()

    def add(self, entry: LogEntry) -> None:
        level = self.classifier.level(entry)
        self.levels[level] += 1
        if level is Level.NOISE:
            self.noise += 1
            return
        if level is Level.OTHER:
            return
        fingerprint, http_status = fingerprint_of(entry)
        late = self.split_at is not None and entry.timestamp >= self.split_at
        key: GroupKey = (level, fingerprint, entry.revision, late)
        group = self.groups.get(key)
        if group is None:
            overflow = len(self.groups) >= MAX_GROUPS
            if overflow:
                key, http_status = (level, "overflow", None, late), None
                group = self.groups.get(key)
            if group is None:
                group = self.groups[key] = _Group(
                    latest=entry, severity=entry.severity, overflow=overflow
                )
        group.add(entry, http_status)

    def count(
        self, level: Level, split: DeploySplit | None = None, *, after: bool | None = None
    ) -> int:
        """Entries of ``level``; with ``after`` set, only those since (or before) the deploy."""
        total = 0
        for (lvl, _, revision, late), group in self.groups.items():
            if lvl is not level:
                continue
            if (
                after is not None
                and split is not None
                and _is_after(split, revision, late, group) != after
            ):
                continue
            total += group.count
        return total

    def errors_by_revision(self) -> Counter[str | None]:
        """Error entries per revision (``None``: entries without a revision label)."""
        counts: Counter[str | None] = Counter()
        for (lvl, _, revision, _), group in self.groups.items():
            if lvl is Level.ERROR:
                counts[revision] += group.count
        return counts

    def signatures(self, level: Level, split: DeploySplit | None) -> list[ErrorSignature]:
        """One evidence item per (fingerprint, before/after), most frequent first."""
        merged: dict[tuple[str, bool], list[tuple[str | None, _Group]]] = {}
        for (lvl, fingerprint, revision, late), group in self.groups.items():
            if lvl is not level:
                continue
            before = split is not None and not _is_after(split, revision, late, group)
            merged.setdefault((fingerprint, before), []).append((revision, group))
        out = [_evidence(fp, before, level, parts) for (fp, before), parts in merged.items()]
        return sorted(out, key=lambda s: (s.before_deploy, -s.count, s.message))


def _is_after(split: DeploySplit, revision: str | None, late: bool, group: _Group) -> bool:
    if split.since is not None and not late:
        return False
    return split.revision is None or revision is None or revision == split.revision


def _evidence(
    fingerprint: str, before: bool, level: Level, parts: list[tuple[str | None, _Group]]
) -> ErrorSignature:
    latest = max(parts, key=lambda p: p[1].last or datetime.min.replace(tzinfo=UTC))[1]
    sig = latest.signature
    firsts = [g.first for _, g in parts if g.first is not None]
    lasts = [g.last for _, g in parts if g.last is not None]
    peak = max(parts, key=lambda p: p[1].peak_mib)[1]
    peak_sample = truncate_sample(peak.peak.text) if peak.peak is not None else None
    return ErrorSignature(
        fingerprint=fingerprint,
        exception_type=sig.exception_type,
        message=sig.message,
        frame=sig.frame,
        frames=sig.frames,
        count=sum(g.count for _, g in parts),
        first_seen=min(firsts) if firsts else None,
        last_seen=max(lasts) if lasts else None,
        revisions=tuple(sorted({r for r, _ in parts if r is not None})),
        http_statuses=tuple(sorted({s for _, g in parts for s in g.statuses})),
        sample=latest.sample,
        peak_sample=peak_sample if peak_sample != latest.sample else None,
        before_deploy=before,
        level=level.value,
        severity=max(g.severity for _, g in parts).name,
    )
