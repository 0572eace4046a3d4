"""The report as a rich table for a terminal, with the evidence of what failed below it."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from prodguardian.evidence import (
    ErrorSignature,
    Evidence,
    FailedCondition,
    LogLine,
    Observation,
)
from prodguardian.report import Report
from prodguardian.status import Status

STATUS_STYLE = {
    Status.OK: "bold green",
    Status.DEGRADED: "bold yellow",
    Status.CRITICAL: "bold red",
    Status.UNKNOWN: "bold white on grey37",
}

#: Evidence items shown per check; the JSON output has all of them.
MAX_EVIDENCE_SHOWN = 8
SAMPLE_LINES_SHOWN = 12


def status_text(status: Status) -> Text:
    return Text(f" {status.value} ", style=STATUS_STYLE[status])


def render_terminal(report: Report) -> RenderableType:
    """A renderable for ``rich.console.Console.print``: headline, table, evidence."""
    headline = Text.assemble(
        status_text(report.status), " ", (report.service, "bold"), f" — {report.summary}"
    )
    table = Table(show_header=True, header_style="bold", expand=False)
    table.add_column("Check")
    table.add_column("Kind", style="dim")
    table.add_column("Status")
    table.add_column("Summary", overflow="fold")
    table.add_column("Time", justify="right", style="dim")
    for run in report.checks:
        table.add_row(
            run.name,
            run.kind,
            status_text(run.status),
            Text(run.result.summary),
            f"{run.duration_s * 1000:.0f} ms",
        )
    parts: list[RenderableType] = [headline, table]
    for run in report.checks:
        if run.status is Status.OK or not run.result.evidence:
            continue
        parts.append(Text(f"\n{run.name}:", style="bold"))
        shown = run.result.evidence[:MAX_EVIDENCE_SHOWN]
        parts.extend(_evidence_line(item) for item in shown)
        hidden = len(run.result.evidence) - len(shown)
        if hidden:
            parts.append(Text(f"  … {hidden} more (see --json)", style="dim"))
    footer = f"\nran {len(report.checks)} checks in {report.duration_s:.2f} s"
    if report.deploy is not None:
        footer += f" · deploy: {report.deploy.revision or ''} {report.deploy.since or ''}".rstrip()
    parts.append(Text(footer, style="dim"))
    return Group(*parts)


def _evidence_line(item: Evidence) -> RenderableType:
    if isinstance(item, FailedCondition):
        return Text.from_markup(
            f"  [red]✗[/] {escape(item.condition)}: expected {escape(item.expected)}, "
            f"got {escape(item.actual)}"
        )
    if isinstance(item, Observation):
        return Text(f"  · {item.label}: {item.text}")
    if isinstance(item, LogLine):
        when = item.timestamp.isoformat() if item.timestamp else ""
        return Text(f"  {when} {item.severity or ''} {item.text}".rstrip())
    if isinstance(item, ErrorSignature):
        return _signature(item)
    raise TypeError(f"no terminal rendering for evidence {type(item).__name__}")


def _signature(sig: ErrorSignature) -> RenderableType:
    label = sig.exception_type or "error"
    when = " (before deploy)" if sig.before_deploy else ""
    head = Text.assemble(
        ("  ×", "red"), f"{sig.count} ", (label, "bold"), f": {sig.message}", (when, "dim")
    )
    sample = "\n".join(sig.sample.splitlines()[-SAMPLE_LINES_SHOWN:])
    return Group(head, Text("    " + sample.replace("\n", "\n    "), style="dim"))
