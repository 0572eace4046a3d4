"""The alert messages of an incident, rendered for the outbox: pure, nothing is sent here.

One message per incident in the alerts channel (posted when it opens, updated in place as it
changes) and its story in the thread: changes, reminders, acknowledgement, resolution.
"""

from __future__ import annotations

from collections.abc import Sequence

from prodguardian.report import Report, summarize
from prodguardian.runbooks.findings import NoRunbook, RunbookFinding
from prodguardian.slack.blocks import MessageBuilder, SlackMessage
from prodguardian.slack.escaping import escape_text
from prodguardian.slack.render_report import STATUS_EMOJI, ReportView, render_report
from prodguardian.slack.stores import Incident
from prodguardian.status import Status, overall_status


def render_alert(incident: Incident, report: Report) -> SlackMessage:
    """The incident's message: the report of its checks, titled with the incident."""
    names = {incident.check, *incident.affected}
    runs = tuple(r for r in report.checks if r.name in names) or report.checks
    unverified = tuple(r.name for r in runs if r.status is Status.UNKNOWN)
    scoped = report.model_copy(
        update={
            "checks": runs,
            "status": overall_status(r.status for r in runs),
            "summary": summarize(runs, unverified),
            "unverified": unverified,
            "runbooks": tuple(f for f in report.runbooks if _concerns(f, names)),
        }
    )
    title = f"{incident.id} · {incident.check}"
    if incident.kind == "cannot_verify":
        title += " · cannot verify"
    if incident.resolved_at is not None:
        title += " · resolved"
    elif incident.acknowledged_by:
        title += " · acknowledged"
    view = ReportView(
        incidents=[incident],
        title=title,
        recheck=(incident.check,),
        buttons=incident.resolved_at is None,
        silence=True,
    )
    return render_report(scoped, view)


def note(text: str) -> SlackMessage:
    """A short thread message."""
    out = MessageBuilder()
    out.section(text)
    return out.build(text)


def opened_note(incident: Incident) -> SlackMessage:
    emoji = STATUS_EMOJI[incident.status]
    what = "cannot be verified" if incident.kind == "cannot_verify" else "is failing"
    return note(
        f"{emoji} *{incident.id}* opened: {escape_text(incident.check)} {what} "
        f"({escape_text(incident.reason)})."
    )


def change_note(before: Status, incident: Incident, summary: str) -> SlackMessage:
    return note(
        f"{STATUS_EMOJI[before]} {before.value} → {STATUS_EMOJI[incident.status]} "
        f"{incident.status.value}: {escape_text(summary)}"
    )


def folded_note(incident: Incident, added: Sequence[str]) -> SlackMessage:
    names = ", ".join(escape_text(n) for n in added)
    return note(
        f"➕ also failing, folded into *{incident.id}* because they depend on "
        f"{escape_text(incident.check)}: {names}"
    )


def reminder_note(incident: Incident, *, open_minutes: int) -> SlackMessage:
    return note(
        f"⏰ *{incident.id}* is still open after {_minutes(open_minutes)} and nobody has "
        f"acknowledged it: {escape_text(incident.check)} is {incident.status.value}. "
        f"`/check_prod ack {incident.id}` or the Acknowledge button."
    )


def ack_note(incident: Incident) -> SlackMessage:
    who = f"<@{escape_text(incident.acknowledged_by or '?')}>"
    return note(f"👀 *{incident.id}* acknowledged by {who}.")


def silence_note(target: str, minutes: int, by: str) -> SlackMessage:
    return note(
        f"🔕 alerts for {escape_text(target)} silenced for {_minutes(minutes)} by "
        f"<@{escape_text(by)}>."
    )


def resolved_note(incident: Incident, *, open_minutes: int) -> SlackMessage:
    return note(
        f"✅ *{incident.id}* resolved: {escape_text(incident.check)} is OK again after "
        f"{_minutes(open_minutes)}."
    )


def _minutes(minutes: int) -> str:
    if minutes < 90:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


def _concerns(finding: RunbookFinding, names: set[str]) -> bool:
    if isinstance(finding, NoRunbook):
        return finding.check in names
    return not finding.checks or bool(set(finding.checks) & names)
