"""Log scanning: entries, sources, signatures and the before/after-deploy split.

::

    LogSource.scan(query, consumer)        a source plugin (file, cloud_logging, ...)
      └─ ScanSink                          counts traffic per revision, joins tracebacks
           └─ consumer.add(entry)          e.g. SignatureTally (log_errors), PatternCounter

Sources register under the entry-point group ``prodguardian.log_sources``; the config names
them under ``log_sources:`` and checks refer to them by name. Metrics sources (request counts
instead of listing, ``prodguardian.metrics_sources``) are named under ``metrics_sources:``.
Cloud Logging reads go through a per-project :class:`ReadBudget` and keep :class:`ReadState`
between runs in a :class:`ReadStateStore` (in memory by default).
"""

from prodguardian.logs.classify import BOT_SCAN_PATHS, Classifier, Level, Rule
from prodguardian.logs.cloud_filter import build_filter
from prodguardian.logs.counting import Counting
from prodguardian.logs.deploy_split import DeploySplit, resolve_split
from prodguardian.logs.entry import HttpRequest, LogEntry, Severity, parse_timestamp
from prodguardian.logs.incremental import KeptEntry, MemoryReadStates, ReadState, ReadStateStore
from prodguardian.logs.metrics_source import MetricsError, MetricsSource, RequestCounts
from prodguardian.logs.normalise import normalise_message, normalise_route
from prodguardian.logs.query import Interest, LogQuery, LogScope, LogWindow, Traffic
from prodguardian.logs.read_budget import ReadBudget, ReadQuotaError
from prodguardian.logs.scan_sink import EntryConsumer, ScanSink
from prodguardian.logs.signature import Signature, signature_of
from prodguardian.logs.source import ENTRY_POINT_GROUP, LogSource, LogSourceRegistry
from prodguardian.logs.tally import SignatureTally

__all__ = [
    "BOT_SCAN_PATHS",
    "ENTRY_POINT_GROUP",
    "Classifier",
    "Counting",
    "DeploySplit",
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
