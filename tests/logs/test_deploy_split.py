"""Which deploy the status is judged after."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prodguardian.deploy import ActiveDeploy, DeploySource
from prodguardian.logs.deploy_split import newest_revision, resolve_split
from prodguardian.logs.query import Traffic

T0 = datetime(2025, 10, 11, 12, 0, tzinfo=UTC)


def traffic(*revisions: tuple[str | None, int, int]) -> Traffic:
    t = Traffic()
    for name, start_min, count in revisions:
        for i in range(count):
            t.add(name, T0 + timedelta(minutes=start_min + i), after_split=start_min + i >= 30)
    return t


def test_the_newest_revision_in_the_logs_is_active_without_a_deploy() -> None:
    t = traffic(("app-00041-a", 0, 40), ("app-00042-b", 30, 10))
    split = resolve_split(None, t)
    assert split is not None
    assert (split.revision, split.since, split.source) == ("app-00042-b", None, DeploySource.LOGS)
    assert split.traffic_since(t) == 10


def test_one_revision_or_none_labelled_means_no_split() -> None:
    assert resolve_split(None, traffic(("app-00041-a", 0, 40))) is None
    assert resolve_split(None, traffic((None, 0, 40))) is None


def test_revision_numbers_break_ties() -> None:
    t = traffic(("app-00009-z", 0, 1), ("app-00010-a", 0, 1))
    assert newest_revision(t) == "app-00010-a"


def test_a_given_deploy_wins_over_the_logs() -> None:
    t = traffic(("app-00041-a", 0, 40), ("app-00042-b", 30, 10))
    deploy = ActiveDeploy(since=T0 + timedelta(minutes=30), source=DeploySource.DEPLOY_MARK)
    split = resolve_split(deploy, t)
    assert split is not None
    assert split.revision is None
    assert split.traffic_since(t) == 20  # both revisions wrote after the deploy time
    assert split.after(None, T0 + timedelta(minutes=31))
    assert not split.after("app-00041-a", T0 + timedelta(minutes=29))
    assert "from a deploy mark" in split.describe()


def test_a_revision_and_a_time_together_count_that_revision_after_that_time() -> None:
    t = traffic(("app-00041-a", 0, 40), ("app-00042-b", 30, 10))
    split = resolve_split(ActiveDeploy(revision="app-00042-b", since=T0 + timedelta(minutes=35)), t)
    assert split is not None
    assert split.traffic_since(t) == 10  # the query split at the time; counts that revision
    assert not split.after("app-00041-a", T0 + timedelta(minutes=36))
    assert split.after("app-00042-b", T0 + timedelta(minutes=36))
