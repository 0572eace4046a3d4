"""Every command's --help is complete: a description, help for each option, and examples
that name the command and parse with its real options."""

from __future__ import annotations

import re
import shlex
import warnings
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from prodguardian.cli import cli

#: Files and directories the examples name, so that options which must exist parse.
EXAMPLE_PATHS = ("prodguardian.yaml", "service.log", "app.log")
EXAMPLE_DIRS = ("runbooks", "my-runbooks")


def command_paths(
    command: click.Command, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from command_paths(sub, (*path, name))


COMMANDS = dict(command_paths(cli))


def examples_of(help_text: str) -> list[str]:
    """The command lines under the help's ``Example:``/``Examples:`` heading."""
    match = re.search(r"^  Examples?:\n((?:    .+\n?)+)", help_text, flags=re.MULTILINE)
    assert match, "no Example section"
    return [line.strip() for line in match.group(1).splitlines()]


def parse(words: list[str]) -> click.Context:
    """Parse a command line the way the real command does, without running it."""
    command: click.Command = cli
    ctx = cli.make_context("prodguardian", words)
    while isinstance(command, click.Group):
        with warnings.catch_warnings():  # Click 8.2 deprecates protected_args; 9 drops it
            warnings.simplefilter("ignore", DeprecationWarning)
            rest = [*ctx.protected_args, *ctx.args]
        if not rest:
            break
        _, sub, rest = command.resolve_command(ctx, rest)
        assert sub is not None
        command = sub
        ctx = command.make_context(sub.name, rest, parent=ctx)
    return ctx


def test_every_command_is_listed() -> None:
    names = {" ".join(path) for path in COMMANDS}
    assert {"check", "config validate", "config reference", "serve", "watch", "db upgrade"} <= names
    assert {"runbooks list", "incidents ack", "followups add", "deploy mark"} <= names


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=lambda p: " ".join(p) or "prodguardian")
def test_help_has_a_description_option_help_and_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    command = COMMANDS[path]
    assert (command.help or "").strip(), "no description"
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert param.help, f"option {param.opts[-1]} has no help text"
    examples = examples_of(result.output)
    assert all(line.split("#")[0].count("prodguardian") >= 1 for line in examples), examples
    runs_this = [line for line in examples if _names(line, path)]
    assert runs_this, f"no example runs `prodguardian {' '.join(path)}`: {examples}"


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=lambda p: " ".join(p) or "prodguardian")
def test_every_example_parses_with_the_real_options(
    path: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in EXAMPLE_PATHS:
        (tmp_path / name).write_text("", encoding="utf-8")
    for name in EXAMPLE_DIRS:
        (tmp_path / name).mkdir()
    monkeypatch.chdir(tmp_path)
    output = CliRunner().invoke(cli, [*path, "--help"], terminal_width=100).output
    for line in examples_of(output):
        words = _prodguardian_words(line)
        try:
            parse(words)
        except click.ClickException as exc:
            pytest.fail(f"example {line!r} does not parse: {exc.format_message()}")


def _prodguardian_words(line: str) -> list[str]:
    """The words after ``prodguardian`` in an example (after a pipe, without a comment)."""
    command = next(part for part in line.split(" | ") if "prodguardian" in part)
    words = shlex.split(command, comments=True)
    return words[words.index("prodguardian") + 1 :]


def _names(line: str, path: tuple[str, ...]) -> bool:
    """Whether the example's words name the command's path, in order (options may sit between)."""
    words = iter(_prodguardian_words(line))
    return all(any(word == part for word in words) for part in path)
