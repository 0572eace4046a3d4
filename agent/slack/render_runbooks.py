"""The runbook findings of a report as mrkdwn sections. Pure.

A matched runbook shows its title and severity, why it matched (which pattern matched which
evidence), its first steps with their commands, the follow-ups it plans and where to read
it whole. A failure no runbook covers says so, with the command that starts one.
"""

from __future__ import annotations

from collections.abc import Sequence

from prodguardian.runbooks.findings import NoRunbook, RunbookFinding, RunbookMatch
from prodguardian.slack.escaping import code_block, cut, escape_text, inline_code

#: Runbooks shown in full; the others are listed by title.
RUNBOOKS_SHOWN = 2
WHY_SHOWN = 3
STEPS_SHOWN = 3
FOLLOW_UPS_SHOWN = 5
COMMANDS_CHARS = 600


def runbook_sections(findings: Sequence[RunbookFinding]) -> list[str]:
    """One mrkdwn section per runbook shown, then one for the uncovered failures."""
    matches = [f for f in findings if isinstance(f, RunbookMatch)]
    uncovered = [f for f in findings if isinstance(f, NoRunbook)]
    sections = [_match(m) for m in matches[:RUNBOOKS_SHOWN]]
    rest = matches[RUNBOOKS_SHOWN:]
    if rest:
        titles = ", ".join(f"{escape_text(m.title)} ({inline_code(m.id, 64)})" for m in rest)
        sections.append(f"📘 _Also matching:_ {titles}")
    if uncovered:
        sections.append(_uncovered(uncovered))
    return sections


def _match(match: RunbookMatch) -> str:
    checks = ", ".join(escape_text(c) for c in match.checks)
    lines = [
        f"📘 *Runbook: {escape_text(cut(match.title, 150))}* · {match.severity.value} · "
        f"{match.count}× in {checks or 'the report'}"
    ]
    if match.explains:
        lines.append(f"• _ranked here:_ {escape_text('; '.join(match.explains))}")
    for why in match.why[:WHY_SHOWN]:
        lines.append(
            f"• _why:_ {escape_text(why.field)} {inline_code(why.pattern, 120)} matched "
            f"{inline_code(why.matched, 200)}"
        )
    for index, step in enumerate(match.first_steps[:STEPS_SHOWN], start=1):
        lines.append(f"{index}. {escape_text(cut(step.text, 300))}")
        if step.commands:
            lines.append(code_block("\n".join(step.commands), COMMANDS_CHARS))
    if match.follow_ups:
        lines.append("*Follow-ups after the fix:*")
        for follow_up in match.follow_ups[:FOLLOW_UPS_SHOWN]:
            lines.append(
                f"☐ {escape_text(follow_up.after)}: {escape_text(cut(follow_up.text, 200))}"
            )
    lines.append(_link(match))
    return "\n".join(lines)


def _link(match: RunbookMatch) -> str:
    if match.source.startswith(("https://", "http://")):
        return f"<{escape_text(match.source)}|Read the whole runbook>"
    return f"Whole runbook: `prodguardian runbooks show {escape_text(match.id)}`"


def _uncovered(findings: Sequence[NoRunbook]) -> str:
    lines = ["📭 *No runbook yet for:*"]
    for finding in findings[:3]:
        lines.append(
            f"• {finding.count}× {inline_code(finding.evidence, 200)} in "
            f"{escape_text(finding.check)}: start one with {inline_code(finding.command, 200)}"
        )
    if len(findings) > 3:
        lines.append(f"_… {len(findings) - 3} more_")
    return "\n".join(lines)
