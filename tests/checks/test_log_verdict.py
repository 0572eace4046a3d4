"""The pure parts of a log_errors verdict: deploy basis, refused requests, deciding signal."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from prodguardian.checks.log_errors import LogErrorsParams
from prodguardian.checks.log_verdict import (
    ColdStartParams,
    DeployBasis,
    RefusedParams,
    count_refused,
    critical_signal,
    deploy_basis,
    mark_signatures,
    old_errors_go_on,
    window_note,
)
from tests.runbooks.evidence_factory import signature


@pytest.mark.parametrize(
    ("entries", "errors", "expected"),
    [
        (36, 0, DeployBasis.SINCE),
        (20, 3, DeployBasis.SINCE),
        (15, 0, DeployBasis.RECOVERING),
        (1, 0, DeployBasis.RECOVERING),
        (15, 1, DeployBasis.WINDOW),
        (0, 0, DeployBasis.WINDOW),
    ],
)
def test_which_entries_decide_after_a_deploy(
    entries: int, errors: int, expected: DeployBasis
) -> None:
    assert deploy_basis(entries, errors, 20) is expected


def test_a_clean_start_is_not_recovering_while_the_old_errors_go_on() -> None:
    assert deploy_basis(15, 0, 20, old_errors_go_on=True) is DeployBasis.WINDOW
    assert deploy_basis(25, 0, 20, old_errors_go_on=True) is DeployBasis.SINCE
    t0 = datetime(2025, 10, 11, 12, 0, tzinfo=UTC)
    old = signature("boom", before_deploy=True).model_copy(
        update={"last_seen": t0 + timedelta(minutes=1)}
    )
    assert old_errors_go_on([old], t0)
    assert not old_errors_go_on([old], t0 + timedelta(minutes=2))
    assert not old_errors_go_on([old], None)


def test_the_window_note_says_why() -> None:
    assert (
        window_note(0, 0, 20, "deploy X")
        == "no entries since the deploy X yet, so the whole window decides"
    )
    assert "and 2 are errors" in window_note(5, 2, 20, "deploy X")


def test_refused_requests_are_counted_by_status_and_by_what_cloud_run_said() -> None:
    sigs = [
        signature("HTTP 429 GET /api/health", http_statuses=(429,), count=40),
        signature(
            "HTTP 503 GET /: The request was aborted because there was no available instance.",
            http_statuses=(503,),
            count=7,
        ),
        signature("HTTP 503 GET /api/threads", http_statuses=(503,), count=5),  # not refused
        signature("no available instance in the pool", count=3),  # not a response
    ]
    refused = count_refused(sigs, RefusedParams())
    assert refused.count == 47
    assert refused.describe() == "47 refused requests (HTTP 429 ×40, 503 no available instance ×7)"


def test_refused_params_refuse_what_is_not_an_error_status() -> None:
    with pytest.raises(ValidationError, match="200 is not an HTTP error status"):
        RefusedParams(http_statuses=(200,))
    with pytest.raises(ValidationError, match="not a valid regular expression"):
        LogErrorsParams(source="s", refused={"messages": ["("]})
    with pytest.raises(ValidationError, match="within"):
        LogErrorsParams(source="s", cold_start={"within": "soon"})
    assert ColdStartParams(within="1m").within == 60.0


def test_the_deciding_signal_and_the_counted_history_are_marked() -> None:
    ready = signature("Revision 'x' is not ready and cannot serve traffic")
    other = signature("KeyError: 'a'")
    old = signature("Database connection is not available.", before_deploy=True)
    warning = signature("slow", before_deploy=True).model_copy(update={"level": "warning"})
    found = critical_signal([other, ready], [re.compile(r"cannot serve traffic")])
    assert found is ready
    marked = mark_signatures([other, ready, old, warning], signal=found, window_decides=True)
    assert [s.signal for s in marked] == [False, True, False, False]
    assert [s.before_deploy_counted for s in marked] == [False, False, True, False]
    unmarked = mark_signatures([old], signal=None, window_decides=False)
    assert not unmarked[0].before_deploy_counted
