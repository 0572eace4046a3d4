from __future__ import annotations

import pytest

from prodguardian.status import Status, overall_status, worst

OK, DEG, CRIT, UNK = Status.OK, Status.DEGRADED, Status.CRITICAL, Status.UNKNOWN


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([OK, OK], OK),
        ([OK, DEG], DEG),
        ([DEG, CRIT, OK], CRIT),
        ([OK, UNK], UNK),
        ([UNK], UNK),
        ([DEG, UNK], DEG),
        ([CRIT, UNK], CRIT),
        ([], UNK),
    ],
)
def test_overall_status_is_the_worst_and_never_ok_while_unverified(
    statuses: list[Status], expected: Status
) -> None:
    assert overall_status(statuses) is expected


def test_worst_ignores_unknown() -> None:
    assert worst([UNK, DEG]) is DEG
    assert worst([]) is OK


@pytest.mark.parametrize(("status", "code"), [(OK, 0), (DEG, 1), (CRIT, 2), (UNK, 3)])
def test_exit_codes_follow_nagios(status: Status, code: int) -> None:
    assert status.exit_code == code
