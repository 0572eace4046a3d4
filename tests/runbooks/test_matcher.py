"""The RE2 matcher: rule semantics, scores, explanations, and bounded time on hostile input."""

from __future__ import annotations

import pytest

from prodguardian.runbooks import RunbookMatcher, builtin_runbooks, parse_runbook
from prodguardian.runbooks.model import Runbook
from prodguardian.runbooks.subject import (
    EXCERPT_CHARS,
    MAX_MATCH_CHARS,
    MatchSubject,
    from_text,
)

BODY = "## Symptoms\n\nx\n\n## Cause\n\nx\n\n## Fix\n\n1. x\n\n## Verification\n\nx\n"


def runbook(runbook_id: str, match: str, *, exclude: str = "", severity: str = "high") -> Runbook:
    front = f"id: {runbook_id}\ntitle: {runbook_id}\nseverity: {severity}\nmatch:\n{match}"
    if exclude:
        front += f"exclude:\n{exclude}"
    return parse_runbook(f"---\n{front}---\n{BODY}", source=f"{runbook_id}.md")


def ids(matcher: RunbookMatcher, subject: MatchSubject) -> list[str]:
    return [c.runbook.id for c in matcher.match(subject)]


def test_fields_of_a_rule_must_all_hit_and_items_of_a_field_are_alternatives() -> None:
    matcher = RunbookMatcher(
        [
            runbook(
                "both", "  - exception_type: ['^KeyError$', '^IndexError$']\n    message: 'user'\n"
            )
        ]
    )
    assert ids(matcher, from_text("KeyError: 'user'")) == ["both"]
    assert ids(matcher, from_text("IndexError: user list")) == ["both"]
    assert ids(matcher, from_text("KeyError: 'order'")) == []
    assert ids(matcher, from_text("ValueError: user")) == []


def test_rules_are_alternatives_and_more_specific_rules_score_higher() -> None:
    vague = runbook("vague", "  - text: 'timeout'\n")
    precise = runbook("precise", "  - exception_type: 'TimeoutError'\n    message: 'upstream'\n")
    matcher = RunbookMatcher([vague, precise])
    candidates = matcher.match(from_text("TimeoutError: upstream timeout after 30 s"))
    assert [c.runbook.id for c in candidates] == ["precise", "vague"]
    assert candidates[0].score > candidates[1].score


def test_equal_scores_order_by_severity_then_id() -> None:
    low = runbook("a-low", "  - message: 'boom'\n", severity="low")
    critical = runbook("z-critical", "  - message: 'boom'\n", severity="critical")
    high = runbook("b-high", "  - message: 'boom'\n", severity="high")
    assert ids(RunbookMatcher([low, critical, high]), from_text("boom")) == [
        "z-critical",
        "b-high",
        "a-low",
    ]


def test_an_exclude_rule_vetoes_a_match() -> None:
    rb = runbook("throttled", "  - message: 'Too Many Requests'\n", exclude="  - text: 'openai'\n")
    matcher = RunbookMatcher([rb])
    assert ids(matcher, from_text("429 Too Many Requests")) == ["throttled"]
    assert ids(matcher, from_text("openai: 429 Too Many Requests")) == []


def test_http_status_codes_and_classes() -> None:
    matcher = RunbookMatcher(
        [
            runbook("exact", "  - http_statuses: [429]\n"),
            runbook("class", "  - http_statuses: [5xx]\n    message: 'static'\n"),
        ]
    )
    assert ids(matcher, MatchSubject(label="x", message="GET", http_statuses=(429,))) == ["exact"]
    assert ids(matcher, MatchSubject(label="x", message="static", http_statuses=(503,))) == [
        "class"
    ]
    assert ids(matcher, MatchSubject(label="x", message="static", http_statuses=(404,))) == []


def test_check_kinds_and_names_restrict_a_rule() -> None:
    matcher = RunbookMatcher(
        [
            runbook(
                "api-only", "  - message: 'down'\n    check_kinds: [http]\n    check_names: api\n"
            )
        ]
    )
    assert ids(matcher, MatchSubject(label="", message="down", check_kind="http", check_name="api"))
    assert not ids(matcher, MatchSubject(label="", message="down", check_kind="http"))
    assert not ids(matcher, MatchSubject(label="", message="down", check_name="api"))


def test_the_same_pattern_in_two_runbooks_is_compiled_once_and_hits_both() -> None:
    matcher = RunbookMatcher(
        [runbook("one", "  - message: 'x+'\n"), runbook("two", "  - message: 'x+'\n")]
    )
    assert matcher.pattern_count == 1
    assert sorted(ids(matcher, from_text("xxx"))) == ["one", "two"]


def test_a_match_explains_which_pattern_matched_what() -> None:
    matcher = RunbookMatcher(builtin_runbooks())
    subject = from_text("Memory limit of 2048 MiB exceeded with 2301 MiB used. Consider more.")
    best = matcher.match(subject)[0]
    (why,) = matcher.explain(best, subject)
    assert why.field == "message"
    assert "Memory limit of" in why.pattern
    assert "Memory limit of 2048 MiB exceeded with 2301 MiB used" in why.matched


def test_an_explanation_names_statuses_and_checks() -> None:
    matcher = RunbookMatcher(
        [runbook("r", "  - http_statuses: [5xx]\n    check_kinds: [log_errors]\n")]
    )
    subject = MatchSubject(label="x", http_statuses=(502,), check_kind="log_errors")
    reasons = {(w.field, w.matched) for w in matcher.explain(matcher.match(subject)[0], subject)}
    assert reasons == {("http_statuses", "HTTP 502"), ("check_kinds", "log_errors")}


def test_a_catastrophic_backtracking_pattern_is_linear_under_re2() -> None:
    # Under a backtracking engine this pattern never finishes on this input; RE2 is linear.
    matcher = RunbookMatcher([runbook("evil", "  - message: '(a+)+$'\n  - text: '(x+x+)+y'\n")])
    assert ids(matcher, from_text("a" * 50_000 + "!")) == []
    assert ids(matcher, from_text("x" * 50_000)) == []
    assert ids(matcher, from_text("x" * 50_000 + "y")) == ["evil"]


def test_a_10_mb_line_is_matched_and_truncated_in_evidence() -> None:
    matcher = RunbookMatcher(builtin_runbooks())
    line = (
        "Memory limit of 1024 MiB exceeded with 1062 MiB used. "
        + "x" * (10 * 1024 * 1024)
        + " (end of line)"
    )
    subject = from_text(line)
    assert len(subject.text) <= MAX_MATCH_CHARS + 100
    assert "characters cut" in subject.text
    assert subject.text.endswith("(end of line)")
    assert len(subject.label) <= EXCERPT_CHARS
    candidates = matcher.match(subject)
    assert candidates[0].runbook.id == "cloud-run-memory-limit"
    for why in matcher.explain(candidates[0], subject):
        assert len(why.matched) <= EXCERPT_CHARS + 2


def test_the_end_of_a_huge_traceback_still_counts() -> None:
    matcher = RunbookMatcher(builtin_runbooks())
    junk = "\n".join(f'  File "/app/x{i}.py", line {i}, in f\n    pass' for i in range(200_000))
    last = "ModuleNotFoundError: No module named 'backend'"
    text = f"Traceback (most recent call last):\n{junk}\n{last}"
    assert len(text) > 5 * 1024 * 1024
    subject = from_text(text)
    assert subject.exception_type == "ModuleNotFoundError"
    assert ids(matcher, subject)[0] == "revision-not-ready-env-lost"


@pytest.mark.parametrize(
    ("raw", "exception_type", "message"),
    [
        ("RuntimeError: boom", "RuntimeError", "boom"),
        ("openai.BadRequestError: Error code: 400", "openai.BadRequestError", "Error code: 400"),
        ("2025-10-11 ERROR x.y.FooException: bar", "x.y.FooException", "bar"),
        (
            "starlette.websockets.WebSocketDisconnect: (1000, None)",
            "starlette.websockets.WebSocketDisconnect",
            "(1000, None)",
        ),
        ("Memory limit of 1 MiB exceeded", "", "Memory limit of 1 MiB exceeded"),
        ("ERROR something failed: details", "", "ERROR something failed: details"),
    ],
)
def test_raw_text_is_split_into_type_and_message(
    raw: str, exception_type: str, message: str
) -> None:
    subject = from_text(raw)
    assert (subject.exception_type, subject.message) == (exception_type, message)


def test_a_json_log_entry_is_read_for_its_payload_and_status() -> None:
    subject = from_text(
        '{"httpRequest": {"requestMethod": "GET", "requestUrl": "/x.js", "status": 429}}'
    )
    assert subject.http_statuses == (429,)
    assert subject.message == "GET /x.js 429"
    assert from_text('{"textPayload": "KeyError: 1"}').exception_type == "KeyError"
    assert from_text("{not json}").message == "{not json}"


def test_an_empty_library_matches_nothing() -> None:
    assert RunbookMatcher([]).match(from_text("RuntimeError: x")) == ()
