"""Runbook files: what loads, and the errors (naming file and key) for what does not."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from prodguardian.errors import ConfigError
from prodguardian.runbooks import RunbookError, load_directory, parse_runbook
from prodguardian.runbooks.loader import check_directory
from prodguardian.runbooks.model import format_offset, parse_offset
from prodguardian.status import Status

BODY = """
## Symptoms

Things fail.

## Cause

A reason.

## Fix

1. Restart it:

   ```
   gcloud run services update {service} --region {region}
   ```

## Verification

It works.
"""

FRONT = """id: my-runbook
title: My runbook
severity: high
match:
  - message: 'Widget \\d+ exploded'
follow_ups:
  - after: +30m
    verify: {rerun: [api], expect: OK}
  - after: +24h
    verify:
      log_count: {pattern: 'exploded', window: 24h, below_per_hour: 5}
  - after: +7d
    remind: Look at {service} again.
"""


def runbook_text(front: str = FRONT, body: str = BODY) -> str:
    return f"---\n{front}---\n{body}"


def load_error(text: str) -> RunbookError:
    with pytest.raises(RunbookError) as caught:
        parse_runbook(text, source="rb/bad.md")
    return caught.value


def test_a_valid_runbook_loads_with_its_follow_ups() -> None:
    runbook = parse_runbook(runbook_text(), source="rb/my.md")
    assert runbook.id == "my-runbook"
    assert runbook.match[0].message == ("Widget \\d+ exploded",)
    first, second, third = runbook.follow_ups
    assert first.after == timedelta(minutes=30)
    assert first.verify is not None
    assert first.verify.rerun == ("api",)
    assert first.verify.expect is Status.OK
    assert second.verify is not None
    assert second.verify.log_count is not None
    assert second.verify.log_count.below_per_hour == 5
    assert second.verify.log_count.window == 86400
    assert third.remind == "Look at {service} again."
    assert third.after == timedelta(days=7)
    assert runbook.body.startswith("## Symptoms")


def test_a_runbook_error_is_a_config_error_naming_the_file() -> None:
    error = load_error("no front matter here\n")
    assert isinstance(error, ConfigError)
    assert error.path == Path("rb/bad.md")
    assert "missing front matter" in str(error)
    assert str(error).startswith("rb/bad.md: ")


def test_an_unclosed_front_matter() -> None:
    assert "not closed" in str(load_error("---\nid: x\ntitle: y\n"))


def test_malformed_yaml_says_where() -> None:
    error = load_error(runbook_text(front="id: x\ntitle: y\n\tseverity: high\n"))
    assert "invalid YAML" in str(error)
    assert "line 4" in str(error)  # the file's line: line 1 is the opening ---


def test_front_matter_that_is_not_a_mapping() -> None:
    assert "mapping" in str(load_error(runbook_text(front="- a\n- b\n")))


def test_an_unknown_key_is_named_with_a_suggestion() -> None:
    error = load_error(runbook_text(front=FRONT.replace("severity:", "severty: high\nseverity:")))
    assert error.key == "severty"
    assert "did you mean 'severity'" in str(error)


def test_an_unknown_key_in_a_rule_is_named_by_its_path() -> None:
    error = load_error(runbook_text(front=FRONT.replace("  - message:", "  - mesage:")))
    assert error.key == "match[0].mesage"
    assert "did you mean 'message'" in str(error)


def test_a_missing_required_key() -> None:
    error = load_error(runbook_text(front=FRONT.replace("title: My runbook\n", "")))
    assert error.key == "title"
    assert "missing" in str(error)


@pytest.mark.parametrize("offset", ["+30", "+1y", "soon", "-5m", "+1.5h", "5"])
def test_a_bad_offset_is_named(offset: str) -> None:
    error = load_error(runbook_text(front=FRONT.replace("after: +30m", f"after: '{offset}'")))
    assert error.key == "follow_ups[0].after"
    assert "offset" in str(error)


@pytest.mark.parametrize(
    "pattern",
    [r"(a)\1", r"(?=lookahead)x", r"(?<!behind)x", "unclosed(", "[z-a]"],
)
def test_a_pattern_re2_cannot_compile_is_named(pattern: str) -> None:
    quoted = "'" + pattern.replace("'", "''") + "'"  # YAML single quotes: no escapes
    front = FRONT.replace("'Widget \\d+ exploded'", quoted)
    error = load_error(runbook_text(front=front))
    assert error.key == "match[0].message"
    assert "RE2 cannot compile" in str(error)


def test_a_bad_log_count_pattern_is_named() -> None:
    error = load_error(runbook_text(front=FRONT.replace("pattern: 'exploded'", "pattern: '(x'")))
    assert error.key == "follow_ups[1].verify.log_count"
    assert "RE2 cannot compile" in str(error)


def test_a_log_count_needs_exactly_one_limit() -> None:
    front = FRONT.replace("below_per_hour: 5", "below_per_hour: 5, at_most: 0")
    assert "exactly one of" in str(load_error(runbook_text(front=front)))


def test_a_follow_up_needs_exactly_one_action() -> None:
    front = FRONT.replace("    remind: Look at {service} again.\n", "")
    error = load_error(runbook_text(front=front))
    assert error.key == "follow_ups[2]"
    assert "exactly one of remind" in str(error)


def test_a_bad_status_to_expect() -> None:
    error = load_error(runbook_text(front=FRONT.replace("expect: OK", "expect: FINE")))
    assert error.key == "follow_ups[0].verify.expect"


@pytest.mark.parametrize("status", ["42", "6xx", "true", "abc"])
def test_a_bad_http_status(status: str) -> None:
    front = FRONT.replace("  - message:", f"  - http_statuses: [{status}]\n    message:")
    assert "HTTP status" in str(load_error(runbook_text(front=front)))


def test_an_empty_rule_is_refused() -> None:
    front = FRONT.replace("  - message: 'Widget \\d+ exploded'\n", "  - {}\n")
    assert "at least one of" in str(load_error(runbook_text(front=front)))


def test_a_bad_id() -> None:
    error = load_error(runbook_text(front=FRONT.replace("id: my-runbook", "id: My Runbook")))
    assert error.key == "id"


def test_missing_sections_are_listed() -> None:
    body = BODY.replace("## Cause", "## Reason").replace("## Verification", "## Check")
    error = load_error(runbook_text(body=body))
    assert "'## Cause'" in str(error)
    assert "'## Verification'" in str(error)


def test_an_unknown_placeholder_is_refused_and_an_escaped_one_is_not() -> None:
    error = load_error(runbook_text(body=BODY.replace("{region}", "{regoin}")))
    assert "{regoin}" in str(error)
    parse_runbook(runbook_text(body=BODY.replace("{region}", "{{regoin}}")), source="ok.md")


def test_an_unknown_placeholder_in_a_reminder_is_named() -> None:
    error = load_error(runbook_text(front=FRONT.replace("{service} again", "{servise} again")))
    assert error.key == "follow_ups[2].remind"


def test_several_problems_are_reported_together() -> None:
    front = FRONT.replace("severity: high", "severity: urgent").replace("after: +30m", "after: x")
    message = str(load_error(runbook_text(front=front)))
    assert "2 problems" in message
    assert "severity" in message
    assert "follow_ups[0].after" in message


def test_a_directory_loads_and_duplicate_ids_are_errors(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(runbook_text(), encoding="utf-8")
    (tmp_path / "README.md").write_text("# not a runbook\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("ignored\n", encoding="utf-8")
    assert [r.id for r in load_directory(tmp_path)] == ["my-runbook"]
    (tmp_path / "b.md").write_text(runbook_text(), encoding="utf-8")
    with pytest.raises(RunbookError, match="also used by"):
        load_directory(tmp_path)


def test_check_directory_reports_every_bad_file(tmp_path: Path) -> None:
    (tmp_path / "good.md").write_text(runbook_text(), encoding="utf-8")
    (tmp_path / "bad1.md").write_text("nothing\n", encoding="utf-8")
    (tmp_path / "bad2.md").write_text(runbook_text(front="id: x\n"), encoding="utf-8")
    loaded, errors = check_directory(tmp_path)
    assert [r.id for r in loaded] == ["my-runbook"]
    assert sorted(e.path.name for e in errors if e.path) == ["bad1.md", "bad2.md"]
    with pytest.raises(RunbookError, match="2 invalid runbooks"):
        load_directory(tmp_path)


def test_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(RunbookError, match="not found"):
        load_directory(tmp_path / "nope")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("now", 0),
        ("+30m", 1800),
        ("24h", 86400),
        ("+7d", 604800),
        ("+1h30m", 5400),
        ("+2w", 1209600),
    ],
)
def test_offsets(text: str, seconds: int) -> None:
    assert parse_offset(text).total_seconds() == seconds


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "now"),
        (1800, "+30m"),
        (86400, "+24h"),
        (172800, "+48h"),
        (604800, "+7d"),
        (5400, "+1h30m"),
    ],
)
def test_offsets_are_written_back_readably(seconds: int, text: str) -> None:
    assert format_offset(timedelta(seconds=seconds)) == text
