"""A real incident from the service's history, as the team sees it in Slack.

Incident 1 (database connection lost, 9 of 80 entries failing) is read from a log file by the
``log_errors`` check; the report reaches the response_url with the error signature, its
traceback, and the matched runbook.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.logs.incident_data import shifted, write_jsonl
from tests.server.harness import serving
from tests.support.response_url_sink import ResponseUrlSink
from tests.support.slack_standin import SlackStandIn


def incident_config(directory: Path) -> Path:
    write_jsonl(directory / "app.jsonl", shifted("incident-01-database.jsonl", datetime.now(UTC)))
    path = directory / "prodguardian.yaml"
    path.write_text(
        """
service: {name: emergence-app, region: europe-west1}
slack: {allowed_users: [U0ALICE]}
log_sources:
  local: {type: file, path: app.jsonl}
checks:
  - {name: errors, kind: log_errors, source: local, window: 1h}
""",
        encoding="utf-8",
    )
    return path


async def test_incident_1_report_shows_signature_traceback_and_runbook(
    tmp_path: Path, standin: SlackStandIn, sink: ResponseUrlSink
) -> None:
    async with serving(incident_config(tmp_path), standin, sink) as server:
        _, key = await server.command("")
        [delivery] = await server.report_for(key)
    assert sink.rejected == []
    assert delivery.text.startswith("🟡 DEGRADED — emergence-app")
    seen = delivery.all_text
    assert "🟡 *errors* · log_errors" in seen
    assert "*9×* `RuntimeError`: `Database connection is not available.`" in seen
    assert "```\n" in seen
    assert "_ensure_connection" in seen
    assert "📘 *Runbook: Database connection lost and never re-opened*" in seen
    assert "_why:_" in seen
    assert "Whole runbook: `prodguardian runbooks show " in seen
    assert "window 1 h" in seen  # the log window, in the context line
    assert delivery.blocks[-1]["type"] == "actions"
