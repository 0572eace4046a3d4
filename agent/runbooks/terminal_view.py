"""Runbook findings for a terminal (rich): title, why it matched, first steps, follow-ups.

Evidence text goes into ``Text`` objects, never into markup, so a log line cannot restyle it.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.text import Text

from prodguardian.runbooks.findings import NoRunbook, RunbookFinding, RunbookMatch
from prodguardian.runbooks.model import Severity

SEVERITY_STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "bold yellow",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
}
#: Reasons shown per match; the JSON output has all of them.
MAX_WHY_SHOWN = 3


def render_findings(findings: Sequence[RunbookFinding]) -> list[RenderableType]:
    """A heading and one block per finding; nothing when there are none."""
    if not findings:
        return []
    parts: list[RenderableType] = [Text("\nRunbooks:", style="bold")]
    for finding in findings:
        if isinstance(finding, RunbookMatch):
            parts.append(render_match(finding))
        else:
            parts.append(render_no_runbook(finding))
    return parts


def render_match(match: RunbookMatch) -> RenderableType:
    """One matched runbook."""
    lines: list[RenderableType] = [
        Text.assemble(
            ("  ▶ ", "bold"),
            (match.title, "bold"),
            "  ",
            (match.severity.value, SEVERITY_STYLE[match.severity]),
            (f"  {match.id} · score {match.score:g} · {match.count}×", "dim"),
            ("" if match.failing else " · seen in passing checks", "dim"),
            (f" · {', '.join(match.checks)}" if match.checks else "", "dim"),
        )
    ]
    if match.explains:
        lines.append(Text.assemble(("    explains: ", "dim"), "; ".join(match.explains)))
    for why in match.why[:MAX_WHY_SHOWN]:
        lines.append(
            Text.assemble(
                ("    why: ", "dim"),
                f"{why.field} ",
                (why.pattern, "magenta"),
                " matched ",
                (why.matched, "italic"),
            )
        )
    if match.first_steps:
        lines.append(Text("    first steps:", style="dim"))
        for number, step in enumerate(match.first_steps, 1):
            lines.append(Text(f"      {number}. {step.text}"))
            for command in step.commands:
                for line in command.splitlines():
                    lines.append(Text(f"         $ {line}", style="green"))
    for follow_up in match.follow_ups:
        kind = "remind" if follow_up.remind is not None else "verify"
        lines.append(
            Text.assemble(
                ("    follow-up ", "dim"), (f"{follow_up.after} {kind}: ", "bold"), follow_up.text
            )
        )
    lines.append(Text(f"    full runbook: prodguardian runbooks show {match.id}", style="dim"))
    return Group(*lines)


def render_no_runbook(finding: NoRunbook) -> RenderableType:
    """A failure without a runbook, and the command that starts one."""
    where = f" ({finding.count}×, {finding.check})" if finding.check else f" ({finding.count}×)"
    return Group(
        Text.assemble(("  ? no runbook for ", "bold"), finding.evidence, (where, "dim")),
        Text(f"    start one: {finding.command}", style="dim"),
    )
