from __future__ import annotations

from rich.console import Console

from prodguardian.render import render_terminal
from tests.render.test_json_report import sample_report


def rendered() -> str:
    console = Console(record=True, width=140, color_system=None)
    console.print(render_terminal(sample_report()))
    return console.export_text()


def test_the_table_shows_every_check_and_the_overall_status() -> None:
    text = rendered()
    assert text.splitlines()[0].startswith(" CRITICAL  shop — 1/3 checks OK")
    for name, status in [("api", "OK"), ("ready", "CRITICAL"), ("logs", "UNKNOWN")]:
        [row] = [line for line in text.splitlines() if line.startswith(f"│ {name} ")]
        assert status in row


def test_the_evidence_of_failing_checks_is_listed_below() -> None:
    text = rendered()
    assert '✗ db == "up": expected "up", got "down"' in text
    assert '· body: {"ok":false,"db":"down"}' in text
    assert "<!channel> boom" in text
