"""The Logging filter: explicit time bounds, double-quoted regexes, understood by the stand-in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from prodguardian.logs.cloud_filter import build_filter, quote, rfc3339, sample_clause, untimed
from prodguardian.logs.entry import Severity
from prodguardian.logs.query import Interest, LogQuery, LogScope, LogWindow
from tests.logs.incident_data import entries
from tests.support.cloud_logging_standin import UnparseableFilterError, matching

END = datetime(2025, 10, 11, 12, 31, tzinfo=UTC)
WINDOW = LogWindow(start=END - timedelta(hours=1), end=END)


def test_the_window_is_always_explicit() -> None:
    text = build_filter(LogQuery(window=WINDOW))
    assert 'timestamp>="2025-10-11T11:31:00Z"' in text
    assert 'timestamp<="2025-10-11T12:31:00Z"' in text
    assert rfc3339(END + timedelta(microseconds=5)) == "2025-10-11T12:31:00.000005Z"


def test_scope_and_interest_become_clauses_with_quoted_regexes() -> None:
    query = LogQuery(
        window=WINDOW,
        scope=LogScope(
            service="emergence-app", text='say "hi"', resource_labels={"location": "eu"}
        ),
        interest=Interest(
            min_severity=Severity.WARNING, min_http_status=500, http_statuses=frozenset({429})
        ),
        count_all=False,
    )
    text = build_filter(query, resource_type="cloud_run_revision", extra='logName:"stderr"')
    assert 'resource.type="cloud_run_revision"' in text
    assert 'resource.labels.service_name="emergence-app"' in text
    assert 'resource.labels.location="eu"' in text
    assert 'textPayload=~"say \\"hi\\""' in text
    assert "(severity>=WARNING OR httpRequest.status>=500 OR httpRequest.status=429)" in text
    assert '(logName:"stderr")' in text


def test_with_count_all_the_interest_is_left_to_the_client() -> None:
    text = build_filter(LogQuery(window=WINDOW, count_all=True))
    assert "severity" not in text


def test_quote_escapes() -> None:
    assert quote('a"b\\c') == '"a\\"b\\\\c"'


def test_the_stand_in_evaluates_what_the_builder_writes() -> None:
    data = entries("incident-01-database.jsonl")
    query = LogQuery(
        window=WINDOW,
        scope=LogScope(service="emergence-app"),
        interest=Interest(min_severity=Severity.ERROR, min_http_status=None),
        count_all=False,
    )
    chosen = matching(data, build_filter(query, resource_type="cloud_run_revision"))
    assert len(chosen) == 9
    assert len(matching(data, 'textPayload=~"Database connection" OR severity=ERROR')) == 9
    assert len(matching(data, "NOT severity>=ERROR")) == 71


def test_the_stand_in_refuses_a_bare_regex_like_the_api() -> None:
    with pytest.raises(UnparseableFilterError, match="must begin and end with"):
        matching([], "textPayload=~Database")


def test_the_sample_clause_selects_a_stable_share_by_insert_id() -> None:
    data = [{"insertId": f"{n:08x}", "severity": "INFO"} for n in range(20_000)]
    clause = sample_clause(0.05)
    assert clause == "sample(insertId, 0.05)"
    chosen = matching(data, clause)
    assert 800 < len(chosen) < 1200
    assert chosen == matching(data, clause)  # the same entries every time
    assert len(matching(data, f"severity=ERROR OR {clause}")) == len(chosen)
    with pytest.raises(UnparseableFilterError):
        matching(data, "sample(insertId, 2)")
    assert untimed('a="b"\ntimestamp>="x"\ntimestamp<="y"') == 'a="b"'
