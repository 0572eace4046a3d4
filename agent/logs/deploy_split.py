"""Before and after the active deploy: which entries count for the status.

The active deploy comes from one place (:class:`~prodguardian.deploy.ActiveDeploy`, set by
the command line or a deploy mark). Without one, when the logs carry revision labels and more
than one revision wrote in the window, the newest revision is taken as the active one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from prodguardian.deploy import ActiveDeploy, DeploySource
from prodguardian.logs.query import Traffic

_REVISION_NUMBER = re.compile(r"-(\d+)-[a-z0-9]+$")


@dataclass(frozen=True, slots=True, kw_only=True)
class DeploySplit:
    """An entry is "since the deploy" when it is at/after ``since`` (if known) and, when both
    it and the split name a revision, of ``revision``."""

    revision: str | None
    since: datetime | None
    source: DeploySource

    def after(self, revision: str | None, ts: datetime) -> bool:
        if self.since is not None and ts < self.since:
            return False
        return self.revision is None or revision is None or revision == self.revision

    def traffic_since(self, traffic: Traffic) -> int:
        """How many in-scope entries are since the deploy (the query split at ``since``)."""
        total = 0
        for revision, slot in traffic.revisions.items():
            if self.revision is not None and revision is not None and revision != self.revision:
                continue
            total += slot.since_split if self.since is not None else slot.count
        return total

    def describe(self) -> str:
        parts = []
        if self.revision:
            parts.append(f"revision {self.revision}")
        if self.since is not None:
            parts.append(f"at {self.since.strftime('%Y-%m-%d %H:%M:%S UTC')}")
        origin = {
            DeploySource.COMMAND_LINE: "from the command line",
            DeploySource.DEPLOY_MARK: "from a deploy mark",
            DeploySource.LOGS: "the newest revision in the logs",
        }[self.source]
        return f"deploy {' '.join(parts)} ({origin})"


def resolve_split(deploy: ActiveDeploy | None, traffic: Traffic) -> DeploySplit | None:
    """The split to use, or ``None`` when there is no deploy to split on."""
    if deploy is not None and (deploy.revision or deploy.since):
        return DeploySplit(revision=deploy.revision, since=deploy.since, source=deploy.source)
    newest = newest_revision(traffic)
    if newest is None:
        return None
    return DeploySplit(revision=newest, since=None, source=DeploySource.LOGS)


def newest_revision(traffic: Traffic) -> str | None:
    """The revision that started writing last (by first entry, then revision number), when
    more than one labelled revision wrote in the window."""
    named = {r: s for r, s in traffic.revisions.items() if r is not None and s.first_seen}
    if len(named) < 2:
        return None

    def key(item: tuple[str, object]) -> tuple[object, int]:
        name, slot = item
        number = _REVISION_NUMBER.search(name)
        return (getattr(slot, "first_seen", None), int(number.group(1)) if number else -1)

    return max(named.items(), key=key)[0]
