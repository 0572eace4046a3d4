"""The public names of ``prodguardian.logs`` are pinned: changing them is a deliberate act."""

from __future__ import annotations

import prodguardian.logs as logs


def test_all_is_pinned() -> None:
    assert sorted(logs.__all__) == [
        "BOT_SCAN_PATHS",
        "Classifier",
        "Counting",
        "DeploySplit",
        "ENTRY_POINT_GROUP",
        "EntryConsumer",
        "HttpRequest",
        "Interest",
        "KeptEntry",
        "Level",
        "LogEntry",
        "LogQuery",
        "LogScope",
        "LogSource",
        "LogSourceRegistry",
        "LogWindow",
        "MemoryReadStates",
        "MetricsError",
        "MetricsSource",
        "ReadBudget",
        "ReadQuotaError",
        "ReadState",
        "ReadStateStore",
        "RequestCounts",
        "Rule",
        "ScanSink",
        "Severity",
        "Signature",
        "SignatureTally",
        "Traffic",
        "build_filter",
        "normalise_message",
        "normalise_route",
        "parse_timestamp",
        "resolve_split",
        "signature_of",
    ]
    assert all(hasattr(logs, name) for name in logs.__all__)
