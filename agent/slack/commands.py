"""``/check_prod`` subcommands: the text a user typed → a command value. Pure.

::

    /check_prod                         run every check
    /check_prod <check> [<check> …]     run those checks
    /check_prod help
    /check_prod status                  the last known report, no new run
    /check_prod deploy <revision> [note]
    /check_prod followups
    /check_prod done <follow-up id>
    /check_prod ack <incident id>
    /check_prod silence <check|incident> <duration>

Anything else parses to :class:`ShowHelp` with the reason, so the user sees what went wrong.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from dataclasses import dataclass

from prodguardian.config.duration import parse_duration
from prodguardian.runbooks.model import parse_offset
from prodguardian.slack.escaping import cut, escape_mrkdwn

REVISION_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,127}")
ITEM_ID_PATTERN = re.compile(r"[A-Za-z]+-\d{1,9}")
NOTE_LIMIT = 500
MAX_SILENCE_S = 30 * 86400.0

SUBCOMMANDS = ("help", "status", "deploy", "followups", "followup", "done", "ack", "silence")
#: The longest offset of a follow-up added by hand.
MAX_FOLLOWUP_S = 90 * 86400.0


@dataclass(frozen=True)
class ShowHelp:
    """Show the help; ``problem`` (mrkdwn, user text escaped) says what was wrong, if anything."""

    problem: str | None = None


@dataclass(frozen=True)
class RunChecks:
    """Run the named checks now (every check when ``names`` is empty)."""

    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class ShowStatus:
    """Show the last known report without running anything."""


@dataclass(frozen=True)
class MarkDeploy:
    """Record that ``revision`` was deployed now."""

    revision: str
    note: str | None = None


@dataclass(frozen=True)
class ListFollowUps:
    """List the open follow-ups."""


@dataclass(frozen=True)
class AddFollowUp:
    """Add a reminder by hand: ``followup add +2h <text>``."""

    after_s: float
    text: str


@dataclass(frozen=True)
class MarkDone:
    """Close a follow-up."""

    followup_id: str


@dataclass(frozen=True)
class Acknowledge:
    """Acknowledge an incident."""

    incident_id: str


@dataclass(frozen=True)
class SilenceTarget:
    """Silence alerts for a check or an incident for ``duration_s`` seconds."""

    target: str
    duration_s: float


Command = (
    ShowHelp
    | RunChecks
    | ShowStatus
    | MarkDeploy
    | ListFollowUps
    | MarkDone
    | AddFollowUp
    | Acknowledge
    | SilenceTarget
)

MUTATING = (MarkDeploy, MarkDone, AddFollowUp, Acknowledge, SilenceTarget)
"""Commands that change state: only configured users, groups or channels may run them."""


def is_mutating(command: Command) -> bool:
    return isinstance(command, MUTATING)


def parse_command(text: str, *, check_names: Collection[str]) -> Command:
    """The command ``text`` asks for; never raises (bad input becomes :class:`ShowHelp`)."""
    words = text.split()
    if not words:
        return RunChecks()
    head, args = words[0].lower(), words[1:]
    if head in ("help", "-h", "--help"):
        return ShowHelp()
    if head == "status":
        return _no_args(head, args) or ShowStatus()
    if head == "followups":
        return _no_args(head, args) or ListFollowUps()
    if head == "deploy":
        return _deploy(text, args)
    if head == "followup":
        return _add_followup(text, args)
    if head in ("done", "ack"):
        return _item(head, args)
    if head == "silence":
        return _silence(args)
    return _checks(words, check_names)


def _no_args(head: str, args: list[str]) -> ShowHelp | None:
    if args:
        return ShowHelp(f"`{head}` takes no arguments")
    return None


def _deploy(text: str, args: list[str]) -> Command:
    if not args:
        return ShowHelp("`deploy` needs a revision: `deploy <revision> [note]`")
    revision = args[0]
    if not REVISION_PATTERN.fullmatch(revision):
        return ShowHelp(
            "a revision is letters, digits and . _ : / @ + - (up to 128), "
            "such as `emergence-app-00042-abc` or a commit hash"
        )
    # The note keeps the user's own spacing: everything after the revision.
    note = text.strip().split(None, 2)[2].strip() if len(args) > 1 else None
    if note is not None and len(note) > NOTE_LIMIT:
        return ShowHelp(f"the deploy note is longer than {NOTE_LIMIT} characters")
    return MarkDeploy(revision=revision, note=note or None)


def _add_followup(text: str, args: list[str]) -> Command:
    usage = "`followup add +2h <text>` (offsets: +30m, +2h, +1d, +1w)"
    if len(args) < 3 or args[0].lower() != "add":
        return ShowHelp(f"`followup` adds a reminder: {usage}")
    try:
        after = parse_offset(args[1])
    except ValueError as exc:
        return ShowHelp(f"{exc}: {usage}")
    if after.total_seconds() > MAX_FOLLOWUP_S:
        return ShowHelp("a follow-up is due within 90 days at most")
    note = text.strip().split(None, 3)[3].strip()
    if len(note) > NOTE_LIMIT:
        return ShowHelp(f"the follow-up text is longer than {NOTE_LIMIT} characters")
    return AddFollowUp(after_s=after.total_seconds(), text=note)


def _item(head: str, args: list[str]) -> Command:
    what = "follow-up" if head == "done" else "incident"
    example = "F-3" if head == "done" else "INC-2"
    if len(args) != 1 or not ITEM_ID_PATTERN.fullmatch(args[0]):
        return ShowHelp(f"`{head}` needs one {what} id, such as `{head} {example}`")
    item = args[0].upper()
    return MarkDone(followup_id=item) if head == "done" else Acknowledge(incident_id=item)


def _silence(args: list[str]) -> Command:
    usage = "`silence <check|incident> <duration>`, such as `silence api-health 30m`"
    if len(args) != 2:
        return ShowHelp(f"`silence` needs a target and a duration: {usage}")
    target, duration = args
    try:
        seconds = parse_duration(duration)
    except ValueError as exc:
        return ShowHelp(f"{exc}: {usage}")
    if seconds > MAX_SILENCE_S:
        return ShowHelp("a silence lasts at most 30d")
    if ITEM_ID_PATTERN.fullmatch(target) and target.upper().startswith("INC-"):
        target = target.upper()
    return SilenceTarget(target=target, duration_s=seconds)


def _checks(words: list[str], check_names: Collection[str]) -> Command:
    unknown = [w for w in words if w not in check_names]
    if not unknown:
        return RunChecks(names=tuple(dict.fromkeys(words)))
    word = unknown[0]
    close = difflib.get_close_matches(word, [*SUBCOMMANDS, *check_names], n=1)
    hint = f" (did you mean `{close[0]}`?)" if close else ""
    return ShowHelp(f"`{_shown(word)}` is neither a subcommand nor a configured check{hint}")


def _shown(word: str) -> str:
    return escape_mrkdwn(cut(word, 60, marker="…")).replace("`", "'")
