"""What the matcher remembers never changes an answer: the same subject, the same candidates.

The matcher remembers answers by exception type and message when nothing else it searches
could differ; these tests match the same subjects on matchers that saw them in other orders
(or not at all) and compare candidates, scores and explanations.
"""

from __future__ import annotations

import random

from prodguardian.runbooks import RunbookMatcher, builtin_runbooks, parse_runbook
from prodguardian.runbooks.model import Runbook
from prodguardian.runbooks.subject import MatchSubject, from_text

BODY = "## Symptoms\n\nx\n\n## Cause\n\nx\n\n## Fix\n\n1. x\n\n## Verification\n\nx\n"


def runbook(runbook_id: str, match: str) -> Runbook:
    front = f"id: {runbook_id}\ntitle: {runbook_id}\nseverity: high\nmatch:\n{match}"
    return parse_runbook(f"---\n{front}---\n{BODY}", source=f"{runbook_id}.md")


GATED = [
    runbook(
        "shard-5xx",
        "  - message: 'failed to sync shard'\n    http_statuses: [5xx]\n",
    ),
    runbook("shard-any", "  - exception_type: 'ShardError$'\n"),
    runbook("shard-from-sync", "  - message: 'failed to sync'\n    check_kinds: [sync]\n"),
    runbook("shard-frames", "  - exception_type: 'ShardError$'\n    frames: 'shard\\.py'\n"),
    runbook("slow-sync", "  - text: 'stalled'\n    check_kinds: [sync]\n"),
]


def answer(matcher: RunbookMatcher, subject: MatchSubject) -> list[tuple[object, ...]]:
    return [
        (c.runbook.id, c.score, c.hits, c.statuses, matcher.explain(c, subject))
        for c in matcher.match(subject)
    ]


def subjects(rng: random.Random, count: int) -> list[MatchSubject]:
    """Subjects sharing exception types and messages, with other texts, statuses, checks."""
    bodies = [
        "ShardError: failed to sync shard 7",
        "app.ShardError: failed to sync shard 7",
        "RuntimeError: Database connection is not available.",
        "starlette.websockets.WebSocketDisconnect: (1000, None)",
        'GET /api/x HTTP/1.1" 503 failed to sync shard 7',
        "failed to sync shard 7",
        "KeyError: 'user_1'",
        "queue sync-3 is stalled after 9 ms",
        "Starting new instance (cold start) failed to sync shard 7",
    ]
    out = []
    for _ in range(count):
        body = rng.choice(bodies)
        stamp = f"2025-10-11T11:{rng.randrange(60):02d}:{rng.randrange(60):02d}Z ERROR "
        roll = rng.random()
        if roll < 0.2:
            text = (
                'Traceback (most recent call last):\n  File "/srv/app/'
                f'{rng.choice(["shard", "other"])}.py", line {rng.randint(1, 99)}, in run\n'
                f"{body}"
            )
            out.append(from_text(text))
        elif roll < 0.4:
            out.append(from_text(stamp + body, check_kind=rng.choice(["sync", "http", ""])))
        elif roll < 0.5:
            out.append(from_text(stamp + body)._replace(http_statuses=(rng.choice([200, 502]),)))
        else:
            out.append(from_text(stamp + body))
    return out


def test_answers_do_not_depend_on_what_the_matcher_saw_before() -> None:
    library = [*builtin_runbooks(), *GATED]
    seen = subjects(random.Random(3), 600)
    forward, backward = RunbookMatcher(library), RunbookMatcher(library)
    first = [answer(forward, s) for s in seen]
    again = [answer(forward, s) for s in seen]
    reverse = [answer(backward, s) for s in reversed(seen)][::-1]
    assert first == again == reverse
    for index in range(0, len(seen), 60):  # a matcher that saw nothing before
        assert answer(RunbookMatcher(library), seen[index]) == first[index]
    assert any(first), "the subjects should match some runbooks"


def test_the_same_type_and_message_with_other_frames_or_checks_is_matched_again() -> None:
    matcher = RunbookMatcher(GATED)
    plain = from_text("ShardError: failed to sync shard 7")
    traced = from_text(
        'Traceback (most recent call last):\n  File "/srv/shard.py", line 3, in run\n'
        "ShardError: failed to sync shard 7"
    )
    from_sync = from_text("ShardError: failed to sync shard 7", check_kind="sync")
    assert [c.runbook.id for c in matcher.match(plain)] == ["shard-any"]
    assert matcher.match(traced)[0].runbook.id == "shard-frames"
    assert "shard-from-sync" in [c.runbook.id for c in matcher.match(from_sync)]
    assert [c.runbook.id for c in matcher.match(plain)] == ["shard-any"]


def test_a_text_pattern_gated_by_check_kind_sees_the_lines_of_that_check() -> None:
    matcher = RunbookMatcher(GATED)
    line = "2025-10-11T11:00:00Z ERROR queue sync-3 is stalled after 9 ms"
    assert matcher.match(from_text(line)) == ()
    assert [c.runbook.id for c in matcher.match(from_text(line, check_kind="sync"))] == [
        "slow-sync"
    ]
    assert matcher.match(from_text(line)) == ()


def test_a_text_pattern_still_sees_each_whole_line() -> None:
    matcher = RunbookMatcher(
        [runbook("on-node-7", "  - text: '^node-7 '\n    exception_type: 'ShardError$'\n")]
    )
    assert [c.runbook.id for c in matcher.match(from_text("node-7 ShardError: x"))] == ["on-node-7"]
    assert matcher.match(from_text("node-8 ShardError: x")) == ()
    assert [c.runbook.id for c in matcher.match(from_text("node-7 ShardError: x"))] == ["on-node-7"]
