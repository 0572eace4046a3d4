"""Terms, fencing and heartbeats in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from prodguardian.store import outbox, replicas
from prodguardian.store.database import Database
from prodguardian.store.outbox import OutgoingMessage
from prodguardian.store.replicas import StaleTermError

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


async def test_terms_grow_and_only_the_current_one_may_claim(database: Database) -> None:
    first = await database.run(lambda s: replicas.take_term(s, replica_id="a", now=NOW))
    message = OutgoingMessage(group="inc-1", action="post", channel="C1", payload={"text": "x"})
    row = await database.run(lambda s: outbox.enqueue(s, message, now=NOW))
    second = await database.run(lambda s: replicas.take_term(s, replica_id="b", now=NOW))
    assert second == first + 1

    stale = await database.run(lambda s: outbox.mark_sending(s, [row], term=first))
    assert stale == set(), "a leader whose term is over must not claim"
    claimed = await database.run(lambda s: outbox.mark_sending(s, [row], term=second))
    assert claimed == {row}
    current = await database.run(replicas.current_term)
    assert current is not None
    assert (current.term, current.replica_id) == (second, "b")


async def test_a_claim_without_a_term_is_a_single_instance_and_is_not_fenced(
    database: Database,
) -> None:
    await database.run(lambda s: replicas.take_term(s, replica_id="a", now=NOW))
    message = OutgoingMessage(group="g", action="post", channel="C1", payload={"text": "x"})
    row = await database.run(lambda s: outbox.enqueue(s, message, now=NOW))
    assert await database.run(lambda s: outbox.mark_sending(s, [row], term=None)) == {row}


async def test_check_term_refuses_a_stale_term_inside_a_unit_of_work(database: Database) -> None:
    first = await database.run(lambda s: replicas.take_term(s, replica_id="a", now=NOW))
    await database.run(lambda s: replicas.check_term(s, first))
    await database.run(lambda s: replicas.take_term(s, replica_id="b", now=NOW))
    with pytest.raises(StaleTermError, match=f"term {first} is over"):
        await database.run(lambda s: replicas.check_term(s, first))


async def test_heartbeats_list_the_replicas_leader_first_and_forget_them(
    database: Database,
) -> None:
    for name, leader, seen in (("a", False, NOW), ("b", True, NOW - timedelta(seconds=2))):
        await database.run(
            partial(
                replicas.heartbeat,
                replica_id=name,
                host="h",
                started_at=NOW,
                leader=leader,
                term=3 if leader else None,
                now=seen,
            )
        )
    found = await database.run(replicas.replicas)
    assert [(r.id, r.leader, r.term) for r in found] == [("b", True, 3), ("a", False, None)]
    await database.run(
        lambda s: replicas.heartbeat(
            s, replica_id="b", host="h", started_at=NOW, leader=False, term=None, now=NOW
        )
    )
    await database.run(lambda s: replicas.forget(s, "a"))
    found = await database.run(replicas.replicas)
    assert [(r.id, r.leader, r.seen_at) for r in found] == [("b", False, NOW)]
    # Rows a day old go at the next heartbeat of anyone.
    later = NOW + timedelta(days=2)
    await database.run(
        lambda s: replicas.heartbeat(
            s, replica_id="c", host="h", started_at=later, leader=True, term=4, now=later
        )
    )
    assert [r.id for r in await database.run(replicas.replicas)] == ["c"]
