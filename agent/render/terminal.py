"""The report as a rich table for a terminal, with the evidence of what failed below it."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

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
from prodguardian.runbooks.terminal_view import render_findings
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
        evidence = _evidence_to_show(run.status, run.result.evidence)
        if not evidence:
            continue
        parts.append(Text(f"\n{run.name}:", style="bold"))
        shown = evidence[:MAX_EVIDENCE_SHOWN]
        parts.extend(_evidence_line(item) for item in shown)
        hidden = len(evidence) - len(shown)
        if hidden:
            parts.append(Text(f"  … {hidden} more (see --json)", style="dim"))
    parts.extend(render_findings(report.runbooks))
    footer = f"\nran {len(report.checks)} checks in {report.duration_s:.2f} s"
    if report.deploy is not None:
        footer += f" · deploy: {report.deploy.revision or ''} {report.deploy.since or ''}".rstrip()
    if report.at is not None:
        footer += f" · log and trace windows ending {report.at:%Y-%m-%d %H:%M:%S} UTC (--at)"
    parts.append(Text(footer, style="dim"))
    return Group(*parts)


def _evidence_to_show(status: Status, evidence: tuple[Evidence, ...]) -> tuple[Evidence, ...]:
    """All of a failing check's evidence; of a passing one, only the errors from before the
    deploy, so that the report still shows what the deploy fixed."""
    if status is not Status.OK:
        return evidence
    return tuple(e for e in evidence if isinstance(e, ErrorSignature) and e.before_deploy)


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
    if isinstance(item, SlowRoute):
        mark = ("  ✗ ", "red") if item.status is not Status.OK else ("  · ", "dim")
        ids = item.example_trace_ids[:2]
        traces = f" · traces {', '.join(ids)}" if ids else ""
        return Text.assemble(
            mark,
            (item.route, "bold"),
            f" p50 {item.p50_ms:,.0f} · p95 {item.p95_ms:,.0f} · p99 {item.p99_ms:,.0f} ms"
            f" · {item.errors}/{item.count} errors",
            (f" ({item.reason})" if item.reason else "", "red"),
            (traces, "dim"),
        )
    if isinstance(item, BurnRate):
        mark = ("  ✗ ", "red") if item.firing else ("  · ", "dim")
        return Text.assemble(
            mark,
            f"burn {item.burn_rate:.1f}× over {_window(item.window_s)} "
            f"(≥ {item.threshold:g}× {item.alert}) · {item.errors:,}/{item.requests:,} failed"
            f" · {item.budget_remaining:.0%} budget left",
        )
    raise TypeError(f"no terminal rendering for evidence {type(item).__name__}")


def _window(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.3g}{unit}"
    return f"{seconds:.3g}s"


def _signature(sig: ErrorSignature) -> RenderableType:
    label = f"{sig.exception_type}: " if sig.exception_type else ""
    kind = "warning " if sig.level == "warning" else ""
    when = " (before deploy)" if sig.before_deploy else ""
    head = Text.assemble(
        ("  ×", "yellow" if kind else "red"),
        f"{sig.count} {kind}",
        (label, "bold"),
        sig.message,
        (when, "dim"),
    )
    sample = "\n".join(sig.sample.splitlines()[-SAMPLE_LINES_SHOWN:])
    if sig.before_deploy or sample.strip() == sig.message.strip():
        return head
    return Group(head, Text("    " + sample.replace("\n", "\n    "), style="dim"))
