"""The small messages of the Slack commands: help, confirmations, refusals, lists. Pure."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, datetime

from prodguardian.deploy import ActiveDeploy
from prodguardian.slack.authorisation import Action
from prodguardian.slack.blocks import Button, MessageBuilder, SlackMessage
from prodguardian.slack.escaping import cut, escape_text, inline_code
from prodguardian.slack.render_report import ACTION_FOLLOWUP_DONE, STATUS_EMOJI
from prodguardian.slack.stores import FollowUpItem, Incident, Silence

HELP = """*`/check_prod`* — check production now and post the report here.
• `/check_prod` — run every check
• `/check_prod <check> [<check> …]` — run only those checks
• `/check_prod status` — the last known report, without a new run
• `/check_prod deploy <revision> [note]` — mark a deploy: reports split errors before/after it
• `/check_prod followups` — the open follow-ups
• `/check_prod done <id>` — close a follow-up (`F-3`)
• `/check_prod followup add +2h <text>` — a reminder for later (`+30m`, `+1d`)
• `/check_prod ack <incident>` — acknowledge an incident (`INC-2`)
• `/check_prod silence <check|incident> <duration>` — hold back alerts (`30m`, `2h`, `1d`)
• `/check_prod help` — this text
_deploy, done, followup, ack and silence are allowed for the users, user groups and channels \
set in the `slack:` section of the config._"""


def help_message(problem: str | None = None, *, checks: Sequence[str] = ()) -> SlackMessage:
    """The help, after what was wrong with the input (``problem`` is mrkdwn, escaped)."""
    out = MessageBuilder()
    if problem:
        out.section(f"⚠️ {problem}")
    out.section(HELP)
    if checks:
        out.context([_configured_checks(tuple(checks))])
    return out.build(f"{problem + ' — ' if problem else ''}/check_prod help")


@functools.lru_cache(maxsize=4)
def _configured_checks(checks: tuple[str, ...]) -> str:
    # The same line on every help while the config stays; with a thousand checks, writing
    # it out was a sixth of what an ack costs.
    return "Configured checks: " + ", ".join(inline_code(c, 64) for c in checks)


def running_message(
    checks: Sequence[str], *, total: int, slack_problem: str | None = None
) -> SlackMessage:
    """The immediate answer to a run: what is being checked, and what is wrong with Slack."""
    what = ", ".join(inline_code(c, 64) for c in checks) if checks else f"all {total} checks"
    text = f"⏳ Checking {what}… the report follows here."
    if slack_problem is None:
        return _one(text)
    out = MessageBuilder()
    out.section(text)
    out.section(
        "⚠️ ProdGuardian has a problem with Slack: "
        f"{escape_text(cut(slack_problem, 500))}. The report is sent through this command's "
        "reply URL and may still arrive; channel alerts cannot be posted until this is fixed."
    )
    return out.build(f"{_plain(text)} (Slack problem: {slack_problem})")


def refusal_message(action: Action, reason: str) -> SlackMessage:
    """Why ``action`` was refused, to the user alone, and who can change that."""
    return _one(
        f"🙅 Sorry, you may not {action.described} here (`{action.value}`): "
        f"{escape_text(reason)}. Ask an admin to add "
        "your user id, a user group of yours or this channel to `slack.allowed_users`, "
        "`slack.allowed_user_groups` or `slack.allowed_channels`."
    )


def no_report_message() -> SlackMessage:
    return _one("No report yet since ProdGuardian started: run `/check_prod` for a fresh one.")


def deploy_message(deploy: ActiveDeploy, *, by: str) -> SlackMessage:
    note = f" — {escape_text(deploy.note)}" if deploy.note else ""
    when = _hm(deploy.since) if deploy.since else "now"
    return _one(
        f"🚀 Deploy {inline_code(deploy.revision or '?', 128)} marked at {when} UTC by "
        f"<@{by}>{note}. The next reports split errors before/after it."
    )


def followup_added_message(item: FollowUpItem, *, by: str) -> SlackMessage:
    """A reminder added by hand."""
    due = f" · due {_hm(item.due_at)} UTC" if item.due_at else ""
    return _one(
        f"☐ *{item.id}* added by <@{escape_text(by)}>: {escape_text(cut(item.text, 500))}{due}"
    )


def followups_message(items: Sequence[FollowUpItem]) -> SlackMessage:
    """The open follow-ups, each with a Done button."""
    if not items:
        return _one("✅ No follow-ups pending.")
    out = MessageBuilder()
    out.section(f"*{len(items)} follow-up(s) pending*")
    for item in items[:40]:
        due = f" · due {_hm(item.due_at)} UTC" if item.due_at else ""
        source = f" · from {escape_text(item.source)}" if item.source else ""
        text = f"☐ *{item.id}* {escape_text(cut(item.text, 500))}{due}{source}"
        out.section(text)
    out.actions(
        [Button(f"✅ Done {i.id}", ACTION_FOLLOWUP_DONE, i.id) for i in items[:25]],
        block_id="prodguardian_followups",
    )
    return out.build(f"{len(items)} follow-up(s) pending")


def done_message(item: FollowUpItem, *, by: str) -> SlackMessage:
    return _one(f"✅ Follow-up *{item.id}* done by <@{by}>: {escape_text(cut(item.text, 500))}")


def ack_message(incident: Incident, *, by: str) -> SlackMessage:
    who = incident.acknowledged_by or by
    already = " (already)" if who != by else ""
    return _one(
        f"👀 {STATUS_EMOJI[incident.status]} *{incident.id}* "
        f"({escape_text(incident.check)}) acknowledged by <@{who}>{already}."
    )


def silence_message(silence: Silence) -> SlackMessage:
    return _one(
        f"🔕 Alerts for {inline_code(silence.target, 64)} silenced until "
        f"{silence.until.astimezone(UTC):%Y-%m-%d %H:%M} UTC by <@{silence.by}>."
    )


def unknown_item_message(what: str, item_id: str, known: Sequence[str]) -> SlackMessage:
    listed = ", ".join(f"`{k}`" for k in known) if known else "none"
    return _one(f"🤷 No open {what} `{escape_text(item_id)}`. Open ones: {listed}.")


def unknown_target_message(
    target: str, checks: Sequence[str], incidents: Sequence[str]
) -> SlackMessage:
    names = ", ".join(inline_code(c, 64) for c in checks) or "none"
    open_ids = ", ".join(f"`{i}`" for i in incidents) or "none"
    return _one(
        f"🤷 {inline_code(target, 64)} is neither a check nor an open incident. "
        f"Checks: {names}. Open incidents: {open_ids}."
    )


def failure_message(what: str, detail: str) -> SlackMessage:
    return _one(f"💥 {escape_text(what)}: {inline_code(detail, 1000)}")


def _one(mrkdwn: str) -> SlackMessage:
    out = MessageBuilder()
    out.section(mrkdwn)
    return out.build(_plain(mrkdwn))


def _plain(mrkdwn: str) -> str:
    return mrkdwn.replace("*", "").replace("`", "")


def _hm(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%H:%M") if when.tzinfo else when.strftime("%H:%M")
