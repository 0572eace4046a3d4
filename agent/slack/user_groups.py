"""Which configured user groups a user belongs to, read with ``usergroups.users.list``.

Membership is cached for a few minutes per group: authorising a command must not cost an API
call every time, and a user removed from a group loses access within that time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger("prodguardian.slack.user_groups")

CACHE_TTL_S = 300.0
#: A failed read is retried sooner than a good one is refreshed.
FAILURE_TTL_S = 30.0

_HINTS = {
    "missing_scope": "the bot needs the usergroups:read scope (config/slack-app-manifest.yaml)",
    "no_such_subteam": "no such user group: check the S… ids in slack.allowed_user_groups",
}


@dataclass(frozen=True)
class Membership:
    """The configured groups a user is in; ``unreadable`` if some group could not be read."""

    groups: frozenset[str]
    unreadable: bool = False


class UserGroupDirectory:
    """Caches the members of user groups; a group that cannot be read counts as empty."""

    def __init__(self, client: AsyncWebClient, *, ttl_s: float = CACHE_TTL_S) -> None:
        self.client = client
        self.ttl_s = ttl_s
        self._members: dict[str, tuple[float, frozenset[str]]] = {}
        self._unreadable: set[str] = set()
        self._lock = asyncio.Lock()

    async def groups_of(self, user_id: str, groups: Iterable[str]) -> frozenset[str]:
        """The subset of ``groups`` that ``user_id`` belongs to."""
        return (await self.membership(user_id, groups)).groups

    async def membership(self, user_id: str, groups: Iterable[str]) -> Membership:
        """:meth:`groups_of`, and whether a group could not be read (counted as empty)."""
        found = set()
        unreadable = False
        for group in groups:
            if user_id in await self._members_of(group):
                found.add(group)
            unreadable = unreadable or group in self._unreadable
        return Membership(frozenset(found), unreadable)

    async def _members_of(self, group: str) -> frozenset[str]:
        cached = self._members.get(group)
        if cached is not None and time.monotonic() - cached[0] < self.ttl_s:
            return cached[1]
        async with self._lock:
            cached = self._members.get(group)
            if cached is not None and time.monotonic() - cached[0] < self.ttl_s:
                return cached[1]
            try:
                response = await self.client.usergroups_users_list(usergroup=group)
                users = response.get("users") or []
                members = frozenset(str(u) for u in users)
                expires = time.monotonic()
                self._unreadable.discard(group)
            except SlackApiError as exc:
                code = exc.response.get("error") if isinstance(exc.response.data, dict) else None
                log.error(
                    "cannot read the members of user group %s (%s): %s; treating it as empty",
                    group,
                    code or exc,
                    _HINTS.get(str(code), "see the Slack error"),
                )
                members, expires = frozenset(), time.monotonic() - self.ttl_s + FAILURE_TTL_S
                self._unreadable.add(group)
            except (aiohttp.ClientError, TimeoutError, ConnectionError) as exc:
                log.error("cannot reach Slack to read user group %s: %r", group, exc)
                members, expires = frozenset(), time.monotonic() - self.ttl_s + FAILURE_TTL_S
                self._unreadable.add(group)
            self._members[group] = (expires, members)
            return members
