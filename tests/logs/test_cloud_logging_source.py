"""The Cloud Logging source through the real client against the stand-in, faults included."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from prodguardian.errors import SourceError
from prodguardian.logs.query import Interest, LogQuery, LogWindow, Traffic
from prodguardian.logs.sources.cloud_logging import CloudLoggingSource
from tests.logs.collected_entries import Collect
from tests.logs.incident_data import NOW, cloud_source, entries
from tests.support.cloud_logging_standin import CloudLoggingStandIn

WINDOW = LogWindow(start=NOW - timedelta(hours=1), end=NOW)


async def scan(
    source: CloudLoggingSource, query: LogQuery | None = None, *, budget: float = 20
) -> tuple[Traffic, Collect]:
    got = Collect()
    traffic = await source.scan(
        query or LogQuery(window=WINDOW), got, deadline=time.monotonic() + budget
    )
    return traffic, got


@pytest.fixture
def standin() -> Iterator[CloudLoggingStandIn]:
    with CloudLoggingStandIn(entries("incident-01-database.jsonl"), max_page_size=30) as s:
        yield s


async def test_pages_are_followed_to_the_end(standin: CloudLoggingStandIn) -> None:
    traffic, got = await scan(cloud_source(standin.endpoint, page_size=10))
    assert traffic.total == 80
    assert len(got.entries) == 9
    assert len(standin.requests) == 8  # 80 entries, 10 a page
    assert all(r["pageSize"] == 10 for r in standin.requests)
    assert standin.requests[0]["resourceNames"] == ["projects/emergence-469005"]
    assert standin.requests[0]["orderBy"] == "timestamp asc"


async def test_5xx_and_dropped_connections_are_retried(standin: CloudLoggingStandIn) -> None:
    standin.faults.extend(["503", "drop"])  # 429s wait by the budget: tests/logs/test_read_budget
    traffic, _ = await scan(cloud_source(standin.endpoint, page_size=50))
    assert traffic.total == 80


async def test_a_failure_mid_paging_resumes_on_the_same_page(standin: CloudLoggingStandIn) -> None:
    source = cloud_source(standin.endpoint, page_size=20)
    standin.faults.extend(["ok", "500"])  # the second page fails once
    traffic, _ = await scan(source)
    assert traffic.total == 80
    tokens = [r.get("pageToken") for r in standin.requests]
    assert tokens == [None, "20", "20", "40", "60"]


async def test_500s_that_do_not_stop_become_a_source_error(standin: CloudLoggingStandIn) -> None:
    standin.faults.extend(["500"] * 10)
    with pytest.raises(SourceError, match=r"kept failing \(500\) after 2 retries"):
        await scan(cloud_source(standin.endpoint, max_retries=2))


async def test_403_says_which_role_to_grant(standin: CloudLoggingStandIn) -> None:
    standin.faults.append("403")
    with pytest.raises(SourceError, match=r"roles/logging\.viewer"):
        await scan(cloud_source(standin.endpoint))


async def test_401_says_to_refresh_credentials(standin: CloudLoggingStandIn) -> None:
    standin.faults.append("401")
    with pytest.raises(SourceError, match="application-default login"):
        await scan(cloud_source(standin.endpoint))


async def test_garbage_says_the_answer_was_not_log_entries(standin: CloudLoggingStandIn) -> None:
    standin.faults.append("garbage")
    with pytest.raises(SourceError, match="not a list of log entries"):
        await scan(cloud_source(standin.endpoint))


async def test_a_bare_regex_in_the_extra_filter_is_refused_with_the_filter_shown(
    standin: CloudLoggingStandIn,
) -> None:
    source = cloud_source(standin.endpoint, filter="textPayload=~Database")
    with pytest.raises(SourceError, match="Unparseable filter") as caught:
        await scan(source)
    assert "textPayload=~Database" in str(caught.value)


async def test_the_built_filter_quotes_its_regexes(standin: CloudLoggingStandIn) -> None:
    query = LogQuery(
        window=WINDOW,
        interest=Interest(
            min_severity=None, min_http_status=None, text="Database (connection|gone)"
        ),
        count_all=False,
    )
    _, got = await scan(cloud_source(standin.endpoint), query)
    assert len(got.entries) == 9
    assert 'textPayload=~"Database (connection|gone)"' in standin.filters[0]
    assert 'timestamp>="2025-10-11T11:31:00Z"' in standin.filters[0]


async def test_an_unreachable_api_says_where_it_tried() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    with pytest.raises(SourceError, match=f"cannot reach Cloud Logging at {endpoint}"):
        await scan(cloud_source(endpoint, max_retries=1))


async def test_a_hanging_api_is_abandoned_at_the_deadline(standin: CloudLoggingStandIn) -> None:
    standin.faults.append("hang")
    started = time.monotonic()
    with pytest.raises(SourceError, match="did not answer within the check's timeout"):
        await scan(cloud_source(standin.endpoint, max_retries=0), budget=1.0)
    assert time.monotonic() - started < 4


async def test_without_credentials_the_message_says_how_to_get_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    from prodguardian.logs.sources.cloud_logging import CloudLoggingConfig

    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/key.json")
    source = CloudLoggingSource(CloudLoggingConfig(project="p", api_endpoint="http://127.0.0.1:9"))
    with pytest.raises(SourceError, match="GOOGLE_APPLICATION_CREDENTIALS"):
        await scan(source)
