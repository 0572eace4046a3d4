from __future__ import annotations

import pytest

from prodguardian.slack.commands import (
    Acknowledge,
    Command,
    ListFollowUps,
    MarkDeploy,
    MarkDone,
    RunChecks,
    ShowHelp,
    ShowStatus,
    SilenceTarget,
    is_mutating,
    parse_command,
)

CHECKS = ("api-health", "readiness", "logs")


def parse(text: str) -> Command:
    return parse_command(text, check_names=CHECKS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", RunChecks()),
        ("   ", RunChecks()),
        ("help", ShowHelp()),
        ("HELP", ShowHelp()),
        ("api-health", RunChecks(("api-health",))),
        ("api-health logs api-health", RunChecks(("api-health", "logs"))),
        ("status", ShowStatus()),
        ("followups", ListFollowUps()),
        ("deploy emergence-app-00042-abc", MarkDeploy("emergence-app-00042-abc")),
        (
            "deploy 3f9c2e1  hotfix:  reconnect the DB ",
            MarkDeploy("3f9c2e1", "hotfix:  reconnect the DB"),
        ),
        ("done f-3", MarkDone("F-3")),
        ("ack INC-12", Acknowledge("INC-12")),
        ("silence api-health 30m", SilenceTarget("api-health", 1800.0)),
        ("silence inc-2 1h30m", SilenceTarget("INC-2", 5400.0)),
    ],
)
def test_parses(text: str, expected: Command) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("bogus", "`bogus` is neither a subcommand nor a configured check"),
        ("stauts", "did you mean `status`?"),
        ("api-helth", "did you mean `api-health`?"),
        ("status now", "`status` takes no arguments"),
        ("deploy", "`deploy` needs a revision"),
        ("deploy $(rm -rf)", "a revision is letters, digits"),
        ("done", "`done` needs one follow-up id, such as `done F-3`"),
        ("ack 12", "`ack` needs one incident id, such as `ack INC-2`"),
        ("silence api-health", "`silence` needs a target and a duration"),
        ("silence api-health forever", "expected a duration"),
        ("silence api-health 90d", "at most 30d"),
        ("deploy r " + "n" * 600, "longer than 500"),
    ],
)
def test_bad_input_becomes_help_with_the_problem(text: str, problem: str) -> None:
    command = parse(text)
    assert isinstance(command, ShowHelp)
    assert command.problem is not None
    assert problem in command.problem


def test_unknown_word_is_escaped_in_the_problem() -> None:
    command = parse("<!channel>`x`")
    assert isinstance(command, ShowHelp)
    assert command.problem is not None
    assert "<!channel>" not in command.problem
    assert "&lt;!channel&gt;'x'" in command.problem


def test_mutating_commands() -> None:
    assert [is_mutating(parse(t)) for t in ("deploy r", "done F-1", "ack INC-1")] == [True] * 3
    assert is_mutating(parse("silence logs 1h"))
    assert not any(is_mutating(parse(t)) for t in ("", "status", "help", "followups", "logs"))
