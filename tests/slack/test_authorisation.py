from __future__ import annotations

import logging

import pytest

from prodguardian.config.models import SlackConfig
from prodguardian.slack.authorisation import (
    Action,
    Actor,
    authorise,
    decide,
    needs_group_lookup,
)

POLICY = SlackConfig(
    allowed_users=("U0ALICE",), allowed_user_groups=("S0ONCALL",), allowed_channels=("C0OPS",)
)


@pytest.mark.parametrize(
    ("actor", "allowed", "reason"),
    [
        (Actor("U0ALICE", "C0RANDOM"), True, "slack.allowed_users"),
        (Actor("U0BOB", "C0OPS"), True, "slack.allowed_channels"),
        (Actor("U0BOB", "C0RANDOM", frozenset({"S0ONCALL"})), True, "user group S0ONCALL"),
        (Actor("U0BOB", "C0RANDOM", frozenset({"S0OTHER"})), False, "not in the allowed lists"),
        (Actor("U0BOB", None), False, "not in the allowed lists"),
    ],
)
def test_decide(actor: Actor, allowed: bool, reason: str) -> None:
    decision = decide(POLICY, actor, Action.DEPLOY)
    assert decision.allowed is allowed
    assert reason in decision.reason


def test_nobody_may_mutate_when_nothing_is_configured() -> None:
    decision = decide(SlackConfig(), Actor("U0ALICE", "C0OPS"), Action.SILENCE)
    assert not decision.allowed
    assert "all empty" in decision.reason


def test_group_lookup_only_when_it_can_change_the_answer() -> None:
    assert not needs_group_lookup(POLICY, Actor("U0ALICE"))
    assert not needs_group_lookup(POLICY, Actor("U0BOB", "C0OPS"))
    assert needs_group_lookup(POLICY, Actor("U0BOB", "C0RANDOM"))
    assert not needs_group_lookup(SlackConfig(allowed_users=("U0X1",)), Actor("U0BOB"))


def test_every_decision_is_logged_with_the_user_id(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="prodguardian.slack.authorisation")
    authorise(POLICY, Actor("U0BOB", "C0RANDOM"), Action.ACK)
    authorise(POLICY, Actor("U0ALICE", "C0RANDOM"), Action.DONE)
    records = [r for r in caplog.records if r.name == "prodguardian.slack.authorisation"]
    assert [r.getMessage().split(":")[0] for r in records] == [
        "authorisation refused",
        "authorisation allowed",
    ]
    assert "user=U0BOB" in records[0].getMessage()
    assert "action=ack" in records[0].getMessage()
    assert records[1].__dict__["slack_user_id"] == "U0ALICE"
