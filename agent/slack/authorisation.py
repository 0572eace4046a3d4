"""Who may run the mutating commands and buttons (deploy, done, ack, silence).

The decision is a pure function of the policy and the actor; :func:`authorise` also logs every
decision with the Slack user id, so an audit can tell who tried what. With no users, groups or
channels configured, nobody may change anything: a bot that lets anyone silence alerts by
default is a hole.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

from prodguardian.config.models import SlackConfig

log = logging.getLogger("prodguardian.slack.authorisation")


class Action(enum.StrEnum):
    """What an actor asks to do."""

    DEPLOY = "deploy"
    DONE = "done"
    FOLLOWUP = "followup"
    ACK = "ack"
    SILENCE = "silence"

    @property
    def described(self) -> str:
        """The action in words, for a refusal ("you may not close follow-ups here")."""
        return _DESCRIBED[self]


_DESCRIBED = {
    Action.DEPLOY: "mark deploys",
    Action.DONE: "close follow-ups",
    Action.FOLLOWUP: "add follow-ups",
    Action.ACK: "acknowledge incidents",
    Action.SILENCE: "silence alerts",
}


@dataclass(frozen=True)
class Actor:
    """Who asks, from where, and which of the *configured* user groups they belong to."""

    user_id: str
    channel_id: str | None = None
    user_groups: frozenset[str] = frozenset()
    groups_unreadable: bool = False
    """Slack could not tell (in time) which user groups the user is in."""


@dataclass(frozen=True)
class Decision:
    """Allowed or not, and why (names the rule that decided)."""

    allowed: bool
    reason: str


def needs_group_lookup(policy: SlackConfig, actor: Actor) -> bool:
    """Whether the decision depends on the actor's user-group membership (an API call)."""
    if actor.user_id in policy.allowed_users:
        return False
    if actor.channel_id is not None and actor.channel_id in policy.allowed_channels:
        return False
    return bool(policy.allowed_user_groups)


def decide(policy: SlackConfig, actor: Actor, action: Action) -> Decision:
    """Whether ``actor`` may do ``action`` under ``policy``. Pure."""
    if actor.user_id in policy.allowed_users:
        return Decision(True, "user is in slack.allowed_users")
    if actor.channel_id is not None and actor.channel_id in policy.allowed_channels:
        return Decision(True, f"channel {actor.channel_id} is in slack.allowed_channels")
    groups = sorted(actor.user_groups & set(policy.allowed_user_groups))
    if groups:
        return Decision(True, f"user is in allowed user group {groups[0]}")
    if not (policy.allowed_users or policy.allowed_user_groups or policy.allowed_channels):
        return Decision(
            False,
            "no one may change state: slack.allowed_users, allowed_user_groups and "
            "allowed_channels are all empty",
        )
    if actor.groups_unreadable:
        return Decision(
            False,
            "your user groups could not be read from Slack just now (try again in a minute), "
            "and user and channel are not in the allowed lists",
        )
    return Decision(False, "user, channel and user groups are not in the allowed lists")


def authorise(policy: SlackConfig, actor: Actor, action: Action) -> Decision:
    """:func:`decide`, logged with the Slack user id, channel and action."""
    decision = decide(policy, actor, action)
    log.info(
        "authorisation %s: user=%s channel=%s action=%s reason=%s",
        "allowed" if decision.allowed else "refused",
        actor.user_id,
        actor.channel_id or "-",
        action.value,
        decision.reason,
        extra={
            "slack_user_id": actor.user_id,
            "slack_channel_id": actor.channel_id,
            "action": action.value,
            "allowed": decision.allowed,
        },
    )
    return decision
