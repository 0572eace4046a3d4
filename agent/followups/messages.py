"""The messages of follow-ups: verdicts, reminders, deploy checklists. Rendering only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from prodguardian.deploy import ActiveDeploy
from prodguardian.followups.verdicts import EMOJI, Outcome, Verdict
from prodguardian.slack.blocks import Button, MessageBuilder, SlackMessage
from prodguardian.slack.escaping import cut, escape_text, inline_code
from prodguardian.slack.render_report import ACTION_FOLLOWUP_DONE

_SAID = {
    Outcome.PASSED: "verified",
    Outcome.FAILED: "failed",
    Outcome.UNVERIFIED: "could not verify; will try again",
    Outcome.EXPIRED: "expired without being done",
}


def verdict_message(
    item_id: str, text: str, verdict: Verdict, *, next_at: datetime | None
) -> SlackMessage:
    """``✅ F-3 verified: re-run every check, expect OK — api OK …``."""
    said = _SAID[verdict.outcome]
    head = f"{EMOJI[verdict.outcome]} *{item_id}* {said}: {escape_text(cut(text, 300))}"
    out = MessageBuilder()
    out.section(head)
    out.context([escape_text(cut(verdict.detail, 1500))])
    if next_at is not None and verdict.outcome in (Outcome.FAILED, Outcome.UNVERIFIED):
        out.context([f"next try at {next_at:%Y-%m-%d %H:%M} UTC"])
    return out.build(f"{EMOJI[verdict.outcome]} {item_id} {said}: {escape_text(cut(text, 200))}")


def reminder_message(
    item_id: str, text: str, *, runs: int, due_at: datetime | None
) -> SlackMessage:
    """A reminder for a person, with a Done button."""
    again = f" (reminder {runs + 1})" if runs else ""
    due = f" · due {due_at:%Y-%m-%d %H:%M} UTC" if due_at else ""
    out = MessageBuilder()
    out.section(f"⏰ *{item_id}*{again}: {escape_text(cut(text, 1000))}{due}")
    out.context([f"Mark it done with the button or `/check_prod done {item_id}`."])
    out.actions([Button(f"✅ Done {item_id}", ACTION_FOLLOWUP_DONE, item_id, style="primary")])
    return out.build(f"⏰ {item_id}: {escape_text(cut(text, 200))}")


def deploy_message(
    deploy: ActiveDeploy, *, by: str, items: Sequence[tuple[str, str, datetime | None]]
) -> SlackMessage:
    """The announcement of a deploy mark; its thread gets the checklist's verdicts."""
    revision = inline_code(deploy.revision, 80) if deploy.revision else "(no revision)"
    note = f" — {escape_text(cut(deploy.note, 300))}" if deploy.note else ""
    out = MessageBuilder()
    out.section(f"🚀 Deploy {revision} marked by {escape_text(by)}{note}")
    if items:
        lines = ["*Checklist*"]
        for item_id, text, due in items[:30]:
            when = f" · {due:%H:%M} UTC" if due else ""
            lines.append(f"☐ *{item_id}* {escape_text(cut(text, 200))}{when}")
        out.section("\n".join(lines))
    return out.build(f"🚀 Deploy {deploy.revision or ''} marked by {escape_text(by)}")


def reopened_note(incident_id: str, item_id: str, detail: str) -> SlackMessage:
    out = MessageBuilder()
    why = escape_text(cut(detail, 500))
    text = f"🔁 *{incident_id}* reopened: follow-up *{item_id}* failed — {why}"
    out.section(text)
    return out.build(text)
