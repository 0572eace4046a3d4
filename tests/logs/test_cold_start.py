"""Which 5xx belong to a cold start: same instance, at most ``within`` after its start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prodguardian.logs.cold_start import (
    ColdStartWatch,
    FailedResponse,
    InstanceStart,
    find_cold_start_errors,
)
from prodguardian.logs.entry import HttpRequest, LogEntry

T0 = datetime(2025, 10, 11, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def start(instance: str, seconds: float) -> InstanceStart:
    return InstanceStart(instance, at(seconds), "rev-1", "Starting new instance. Reason: X")


def failure(instance: str, seconds: float, revision: str = "rev-1") -> FailedResponse:
    return FailedResponse(instance, at(seconds), revision, 500, "GET /api/threads")


WITHIN = timedelta(seconds=20)


def test_only_5xx_of_the_started_instance_within_the_window_cluster() -> None:
    found = find_cold_start_errors(
        [start("a", 0), start("b", 100)],
        [
            failure("a", 1),  # yes
            failure("a", 20),  # yes, on the bound
            failure("a", 21),  # too late
            failure("b", 50),  # before its instance started
            failure("c", 101),  # another instance
            failure("b", 103),  # yes
        ],
        within=WITHIN,
    )
    assert [(f.instance, f.at) for f in found.clustered] == [
        ("a", at(1)),
        ("a", at(20)),
        ("b", at(103)),
    ]
    assert found.failures == 6
    assert round(found.share) == 50
    assert [s.instance for s in found.starts] == ["a", "b"]


def test_the_latest_start_of_a_restarted_instance_counts() -> None:
    found = find_cold_start_errors(
        [start("a", 0), start("a", 600)], [failure("a", 605), failure("a", 300)], within=WITHIN
    )
    assert [f.at for f in found.clustered] == [at(605)]
    assert [s.at for s in found.starts] == [at(600)]


def test_counts_keeps_only_the_failures_that_decide() -> None:
    found = find_cold_start_errors(
        [start("a", 0)],
        [failure("a", 1, "old"), failure("a", 2, "new")],
        within=WITHIN,
        counts=lambda revision, ts: revision == "new",
    )
    assert found.failures == 1
    assert [f.revision for f in found.clustered] == ["new"]


def test_nothing_to_judge_is_a_zero_share() -> None:
    found = find_cold_start_errors([start("a", 0)], [], within=WITHIN)
    assert found.share == 0.0
    assert found.clustered == ()


def entry(text: str = "", status: int | None = None, instance: str | None = "i-1") -> LogEntry:
    return LogEntry(
        timestamp=T0,
        text=text,
        labels={"instanceId": instance} if instance else {},
        resource_labels={"revision_name": "rev-1"},
        http=HttpRequest(method="get", url="https://x.run.app/api/threads/42", status=status)
        if status
        else None,
    )


def test_the_watch_keeps_starts_and_5xx_that_name_their_instance() -> None:
    watch = ColdStartWatch()
    watch.add(entry("Starting new instance. Reason: AUTOSCALING - Instance started\nmore"))
    watch.add(entry(status=500))
    watch.add(entry(status=404))  # not a 5xx
    watch.add(entry(status=503, instance=None))  # no instance: cannot be placed
    watch.add(entry("Starting new instance.", instance=None))
    watch.add(entry("INFO: Application startup complete."))
    assert [s.text for s in watch.starts] == [
        "Starting new instance. Reason: AUTOSCALING - Instance started"
    ]
    assert [(f.status, f.route) for f in watch.failures] == [(500, "GET /api/threads/{id}")]
