"""The revision to roll back to: the newest one a log window shows serving without an error."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC

from prodguardian.evidence import Observation
from prodguardian.logs.query import Traffic

#: The label of the observation; its ``value`` is the revision name.
LAST_GOOD_LABEL = "last good revision"


def last_good_revision(
    traffic: Traffic, errors_by_revision: Mapping[str | None, int]
) -> Observation | None:
    """The newest revision without an error, when another revision of the window has errors
    (only then is there something to roll back from); None otherwise."""
    failing = {rev for rev, n in errors_by_revision.items() if rev is not None and n}
    if not failing:
        return None
    good = [
        (slot.last_seen, rev, slot.count)
        for rev, slot in traffic.revisions.items()
        if rev is not None and rev not in failing and slot.count and slot.last_seen is not None
    ]
    if not good:
        return None
    last_seen, revision, count = max(good)
    assert last_seen is not None
    return Observation(
        label=LAST_GOOD_LABEL,
        text=(
            f"{revision}: {count} entries without an error, the last at "
            f"{last_seen.astimezone(UTC):%H:%M} UTC"
        ),
        value=revision,
    )
