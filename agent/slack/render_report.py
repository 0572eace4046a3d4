"""A report as a Block Kit message (pure: report → blocks + fallback text; it never sends).

Layout: a header with the status emoji; the summary; a line per check; for each failing check
its evidence (failed conditions, the top error signatures with counts and one sample in a code
block, before/after-deploy figures); the matched runbooks; open incidents; follow-ups; a
context line (when, window, revision, how long the run took); and the buttons. Every piece of
text that came from a target or a log is escaped, and the message always fits Slack's limits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from prodguardian.evidence import (
    BurnRate,
    ErrorSignature,
    Evidence,
    FailedCondition,
    LogLine,
    Observation,
    SlowRoute,
)
from prodguardian.report import Report
from prodguardian.result import CheckRun
from prodguardian.slack.blocks import (
    SECTION_TEXT_LIMIT,
    Button,
    MessageBuilder,
    SlackMessage,
)
from prodguardian.slack.escaping import code_block, cut, escape_text, inline_code
from prodguardian.slack.render_runbooks import runbook_sections
from prodguardian.slack.stores import FollowUpItem, Incident
from prodguardian.status import Status

STATUS_EMOJI = {
    Status.OK: "🟢",
    Status.DEGRADED: "🟡",
    Status.CRITICAL: "🔴",
    Status.UNKNOWN: "⚪",
}

ACTION_RECHECK = "prodguardian_recheck"
ACTION_ACK = "prodguardian_ack"
ACTION_SILENCE = "prodguardian_silence"
ACTION_FOLLOWUP_DONE = "prodguardian_followup_done"

#: Error signatures shown per check, the most frequent after the deploy first.
TOP_SIGNATURES = 3
#: Evidence items (other than signatures) shown per check.
TOP_EVIDENCE = 6
#: Characters of a signature's sample shown in its code block (its end: the exception).
SAMPLE_CHARS = 1200
FOLLOWUPS_SHOWN = 10


@dataclass(frozen=True)
class ReportView:
    """What is shown around the report: its incidents, follow-ups, and a title."""

    incidents: Sequence[Incident] = ()
    followups: Sequence[FollowUpItem] = ()
    title: str | None = None
    """Replaces the header's "service" part, e.g. "Last known report (12 min ago)"."""
    recheck: tuple[str, ...] = ()
    """The checks the Re-check button runs again (empty: all of them)."""
    buttons: bool = True
    silence: bool = False
    """Offer "Silence 1h" for the open incidents (channel alerts)."""


def render_report(report: Report, view: ReportView = ReportView()) -> SlackMessage:
    """``report`` as blocks within Slack's limits, plus the fallback text for notifications."""
    emoji = STATUS_EMOJI[report.status]
    title = view.title or report.service
    out = MessageBuilder()
    out.header(f"{emoji} {report.status.value} — {title}")
    out.section(_summary(report))
    for chunk in _chunks([_check_line(run) for run in report.checks]):
        out.section(chunk)
    for run in report.checks:
        if run.status is not Status.OK and run.result.evidence:
            _evidence(out, run, report)
    for section in runbook_sections(report.runbooks):
        out.section(section)
    if view.incidents:
        out.section(_incidents(view.incidents))
    if view.followups:
        out.section(_followups(view.followups))
    out.context(_context(report), footer=True)
    if view.buttons:
        out.actions(_buttons(report, view), block_id="prodguardian_report_actions")
    # The fallback text is mrkdwn too (notifications, screen readers): escaped like the rest.
    fallback = (
        f"{emoji} {report.status.value} — {escape_text(report.service)}: "
        f"{escape_text(report.summary)}"
    )
    return out.build(fallback)


def _summary(report: Report) -> str:
    text = escape_text(report.summary)
    if report.unverified:
        names = ", ".join(f"*{escape_text(n)}*" for n in report.unverified)
        text += f"\n⚪ Could not verify: {names} (these checks could not run)"
    return text


def _check_line(run: CheckRun) -> str:
    summary = escape_text(cut(" ".join(run.result.summary.split()), 300))
    return (
        f"{STATUS_EMOJI[run.status]} *{escape_text(run.name)}* · {escape_text(run.kind)} — "
        f"{summary} _({run.duration_s * 1000:.0f} ms)_"
    )


def _chunks(lines: Sequence[str], limit: int = SECTION_TEXT_LIMIT - 100) -> list[str]:
    """Lines joined into section texts of at most ``limit`` characters."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        if current and len(current) + 1 + len(line) > limit:
            chunks.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        chunks.append(current)
    return chunks


def _evidence(out: MessageBuilder, run: CheckRun, report: Report) -> None:
    signatures = [e for e in run.result.evidence if isinstance(e, ErrorSignature)]
    others = [e for e in run.result.evidence if not isinstance(e, ErrorSignature)]
    head = f"{STATUS_EMOJI[run.status]} *{escape_text(run.name)}*"
    lines = [_other_line(e) for e in others[:TOP_EVIDENCE]]
    if len(others) > TOP_EVIDENCE:
        lines.append(f"_… {len(others) - TOP_EVIDENCE} more_")
    figures = _deploy_figures_from_metrics(run, report) or _deploy_figures(signatures, report)
    if figures:
        lines.append(figures)
    ranked = sorted(signatures, key=lambda s: (s.level == "warning", s.before_deploy, -s.count))
    shown = [_signature(sig) for sig in ranked[:TOP_SIGNATURES]]
    if lines or not shown:
        for chunk in _chunks([head, *lines]):
            out.section(chunk)
    else:
        # Only signatures: the check's name heads the first one rather than standing alone.
        shown[0] = f"{head}\n{shown[0]}"
    for text in shown:
        out.section(text)
    hidden = ranked[TOP_SIGNATURES:]
    if hidden:
        out.section(
            f"_… {len(hidden)} more error signature(s), {sum(s.count for s in hidden)} "
            "occurrence(s): see `prodguardian check --json`_"
        )


def _other_line(item: Evidence) -> str:
    if isinstance(item, FailedCondition):
        return (
            f"✗ {inline_code(item.condition)}: expected {inline_code(item.expected)}, "
            f"got {inline_code(item.actual)}"
        )
    if isinstance(item, Observation):
        return f"• {escape_text(cut(item.label, 100))}: {inline_code(item.text, 500)}"
    if isinstance(item, LogLine):
        when = item.timestamp.strftime("%H:%M:%S") if item.timestamp else ""
        meta = " ".join(p for p in (when, item.severity or "", item.revision or "") if p)
        prefix = f"{escape_text(meta)} " if meta else ""
        return f"• {prefix}{inline_code(item.text, 500)}"
    if isinstance(item, SlowRoute):
        return _slow_route(item)
    if isinstance(item, BurnRate):
        return _burn_rate(item)
    # Signatures are rendered on their own.
    return f"• {inline_code(str(item), 300)}"


def _slow_route(route: SlowRoute) -> str:
    why = f" — {escape_text(route.reason)}" if route.reason else ""
    traces = ", ".join(inline_code(t, 40) for t in route.example_trace_ids[:2])
    return (
        f"{STATUS_EMOJI[route.status]} {inline_code(route.route, 200)} "
        f"p50 {route.p50_ms:,.0f} ms · p95 {route.p95_ms:,.0f} ms · p99 {route.p99_ms:,.0f} ms"
        f" · {route.errors}/{route.count} errors over {_duration(route.window_s)}{why}"
        + (f" · traces {traces}" if traces else "")
    )


def _burn_rate(burn: BurnRate) -> str:
    state = f"*firing ({burn.alert})*" if burn.firing else "within"
    return (
        f"{'🔥' if burn.firing else '•'} burn rate {burn.burn_rate:.1f}× over "
        f"{_duration(burn.window_s)} (fires at {burn.threshold:g}×): {state} · "
        f"{burn.errors}/{burn.requests} errors · budget left {burn.budget_remaining:.0%}"
    )


def _duration(seconds: float) -> str:
    if seconds >= 86400 and seconds % 86400 == 0:
        return f"{seconds / 86400:g} d"
    if seconds >= 3600:
        return f"{seconds / 3600:g} h"
    if seconds >= 60:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


def _signature(sig: ErrorSignature) -> str:
    label = sig.exception_type or sig.severity or sig.level
    mark = "⚠️ " if sig.level == "warning" else ""
    head = f"{mark}*{sig.count}×* {inline_code(label, 120)}: {inline_code(sig.message, 400)}"
    facts: list[str] = []
    if sig.frame:
        facts.append(f"at {inline_code(sig.frame, 200)}")
    if sig.http_statuses:
        facts.append("HTTP " + ", ".join(str(s) for s in sig.http_statuses[:5]))
    if sig.revisions:
        shown = ", ".join(inline_code(r, 80) for r in sig.revisions[:3])
        more = f" +{len(sig.revisions) - 3}" if len(sig.revisions) > 3 else ""
        facts.append(f"revisions {shown}{more}")
    if sig.first_seen and sig.last_seen:
        facts.append(f"{_hm(sig.first_seen)}–{_hm(sig.last_seen)} UTC")
    facts.append("_before the deploy_" if sig.before_deploy else "")
    meta = " · ".join(f for f in facts if f)
    return f"{head}\n{meta}\n{code_block(sig.sample, SAMPLE_CHARS)}"


def _deploy_figures_from_metrics(run: CheckRun, report: Report) -> str:
    """The exact before/after counts a log check reports, when it reports them."""
    metrics = run.result.metrics
    if "errors_since_deploy" not in metrics:
        return ""
    errors = metrics["errors_since_deploy"]
    since = f"*Since the deploy{_deploy_label(report)}:* {errors:g} error(s)"
    if "entries_since_deploy" in metrics:
        since += f" in {metrics['entries_since_deploy']:g} entries"
    if "error_rate_since_deploy_pct" in metrics:
        since += f" ({metrics['error_rate_since_deploy_pct']:.2f} %)"
    before = metrics.get("errors_before_deploy")
    if before is not None:
        since += f" · *before it:* {before:g} (not held against the new revision)"
    return since


def _deploy_figures(signatures: Sequence[ErrorSignature], report: Report) -> str:
    if not signatures or (report.deploy is None and not any(s.before_deploy for s in signatures)):
        return ""
    after = [s for s in signatures if not s.before_deploy]
    before = [s for s in signatures if s.before_deploy]
    since = _deploy_label(report)
    return (
        f"*Since the deploy{since}:* {sum(s.count for s in after)} error(s) in "
        f"{len(after)} signature(s) · *before it:* {sum(s.count for s in before)} in "
        f"{len(before)} (not held against the new revision)"
    )


def _deploy_label(report: Report) -> str:
    deploy = report.deploy
    if deploy is None:
        return ""
    parts = []
    if deploy.revision:
        parts.append(inline_code(deploy.revision, 80))
    if deploy.since:
        parts.append(f"at {_hm(deploy.since)} UTC")
    return " " + " ".join(parts) if parts else ""


def _incidents(incidents: Sequence[Incident]) -> str:
    lines = ["*Incidents*"]
    for inc in incidents:
        ack = (
            f" · acknowledged by <@{escape_text(inc.acknowledged_by)}>"
            if inc.acknowledged_by
            else " · not acknowledged"
        )
        lines.append(
            f"{STATUS_EMOJI[inc.status]} *{inc.id}* {escape_text(inc.check)} since "
            f"{_hm(inc.opened_at)} UTC{ack}"
        )
    return "\n".join(lines)


def _followups(items: Sequence[FollowUpItem]) -> str:
    lines = ["*Follow-ups*"]
    for item in items[:FOLLOWUPS_SHOWN]:
        due = f" (due {_hm(item.due_at)} UTC)" if item.due_at else ""
        lines.append(f"☐ *{item.id}* {escape_text(cut(item.text, 300))}{due}")
    if len(items) > FOLLOWUPS_SHOWN:
        lines.append(f"_… {len(items) - FOLLOWUPS_SHOWN} more: `/check_prod followups`_")
    return "\n".join(lines)


def _context(report: Report) -> list[str]:
    items = [f"Ran {len(report.checks)} check(s) at {_hm(report.started_at, seconds=True)} UTC"]
    items.append(f"took {report.duration_s:.2f} s")
    window = _window(report)
    if window:
        items.append(window)
    if report.deploy is not None:
        note = f" — {escape_text(cut(report.deploy.note, 100))}" if report.deploy.note else ""
        items.append(f"deploy{_deploy_label(report)}{note}")
    return [" · ".join(items)]


def _window(report: Report) -> str:
    """The log window the checks looked at, from their ``window_s`` metric if they report one."""
    windows = [r.result.metrics.get("window_s") for r in report.checks]
    windows += [
        e.window_s
        for r in report.checks
        for e in r.result.evidence
        if isinstance(e, SlowRoute | BurnRate)
    ]
    longest = max((w for w in windows if w), default=None)
    if longest is None:
        return ""
    return f"window {_duration(longest)}"


def _buttons(report: Report, view: ReportView) -> list[Button]:
    buttons = [Button("🔁 Re-check", ACTION_RECHECK, " ".join(view.recheck) or "all")]
    open_ids = [i.id for i in view.incidents if i.resolved_at is None and not i.acknowledged_by]
    if open_ids and report.status is not Status.OK:
        buttons.append(Button("👀 Acknowledge", ACTION_ACK, " ".join(open_ids), style="primary"))
    if view.silence and open_ids:
        buttons.append(Button("🔕 Silence 1h", ACTION_SILENCE, " ".join(open_ids)))
    return buttons


def _hm(when: datetime, *, seconds: bool = False) -> str:
    utc = when.astimezone(UTC) if when.tzinfo is not None else when
    return utc.strftime("%H:%M:%S" if seconds else "%H:%M")
