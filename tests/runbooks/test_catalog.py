"""The library: built-in runbooks as package data, user directories, overrides, the engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from prodguardian.config import load_config
from prodguardian.engine import run_report
from prodguardian.runbooks import (
    RunbookError,
    RunbookMatch,
    builtin_runbooks,
    library_for_config,
    load_library,
)
from prodguardian.runbooks.body import fix_steps
from prodguardian.runbooks.placeholders import KNOWN_PLACEHOLDERS, placeholders_in
from tests.support.sample_checks import sample_registry

BUILTIN_IDS = {
    "db-connection-lost",
    "websocket-disconnect-logged-as-error",
    "cloud-run-memory-limit",
    "http-429-throttling",
    "liveness-probe-wrong-path",
    "revision-not-ready-env-lost",
    "llm-json-mode-prompt",
    "preference-extractor-missing-user-id",
    "cold-start-not-warmed-up",
}

USER_RUNBOOK = """---
id: {id}
title: {title}
severity: low
match:
  - message: '{pattern}'
---
## Symptoms
s
## Cause
c
## Fix
1. Ask the team in #{{service}}.
## Verification
v
"""


def write(directory: Path, name: str, runbook_id: str, title: str, pattern: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    text = USER_RUNBOOK.format(id=runbook_id, title=title, pattern=pattern)
    (directory / name).write_text(text, encoding="utf-8")


def test_the_builtin_library_covers_every_incident() -> None:
    runbooks = builtin_runbooks()
    assert {r.id for r in runbooks} == BUILTIN_IDS
    for runbook in runbooks:
        assert runbook.builtin
        assert runbook.source.startswith("builtin:")
        steps = fix_steps(runbook.body)
        assert steps, runbook.id
        assert any(step.commands for step in steps), runbook.id
        assert set(placeholders_in(runbook.body)) <= set(KNOWN_PLACEHOLDERS)


def test_builtin_follow_ups_are_the_ones_of_the_history() -> None:
    by_id = {r.id: r for r in builtin_runbooks()}
    offsets = {
        rb_id: [int(f.after.total_seconds()) for f in rb.follow_ups] for rb_id, rb in by_id.items()
    }
    assert offsets["db-connection-lost"] == [1800, 1800, 86400, 86400, 7 * 86400]
    assert offsets["websocket-disconnect-logged-as-error"] == [0, 600, 3600]
    assert offsets["cloud-run-memory-limit"] == [0, 3600, 3600]
    assert offsets["http-429-throttling"] == [86400, 2 * 86400]
    assert offsets["llm-json-mode-prompt"] == [3600]
    assert offsets["preference-extractor-missing-user-id"] == [86400]
    assert offsets["revision-not-ready-env-lost"] == [0]
    assert offsets["liveness-probe-wrong-path"] == offsets["cold-start-not-warmed-up"] == []


def test_a_user_runbook_overrides_a_builtin_one_by_id(tmp_path: Path) -> None:
    write(tmp_path / "a", "mem.md", "cloud-run-memory-limit", "Our memory runbook", "Memory limit")
    write(tmp_path / "a", "extra.md", "team-extra", "Extra", "extra failure")
    write(tmp_path / "b", "mem.md", "cloud-run-memory-limit", "Later wins", "Memory limit")
    library = load_library([tmp_path / "a", tmp_path / "b"])
    assert len(library) == len(BUILTIN_IDS) + 1
    replaced = library.get("cloud-run-memory-limit")
    assert replaced is not None
    assert replaced.title == "Later wins"
    assert not replaced.builtin
    assert library.overridden == ("cloud-run-memory-limit", "cloud-run-memory-limit")


def test_without_builtins(tmp_path: Path) -> None:
    write(tmp_path, "x.md", "only-mine", "Mine", "x")
    assert [r.id for r in load_library([tmp_path], builtin=False).runbooks] == ["only-mine"]


def test_an_invalid_user_runbook_stops_loading(tmp_path: Path) -> None:
    write(tmp_path, "x.md", "bad", "Bad", "(unclosed")
    with pytest.raises(RunbookError, match=r"x\.md: match\[0\]\.message: RE2 cannot compile"):
        load_library([tmp_path])


CONFIG = """
service: {name: emergence-app, region: europe-west1, project: emergence-469005}
runbooks: {directories: [team-runbooks]}
checks:
  - name: memory
    kind: static
    status: CRITICAL
    summary: "Memory limit of 1024 MiB exceeded with 1062 MiB used."
  - name: other
    kind: static
    status: DEGRADED
    summary: "Queue depth 9000 over 1000"
  - {name: fine, kind: static}
"""


async def test_the_engine_puts_matched_runbooks_in_the_report(tmp_path: Path) -> None:
    (tmp_path / "prodguardian.yaml").write_text(CONFIG, encoding="utf-8")
    write(tmp_path / "team-runbooks", "q.md", "queue-backlog", "Queue backlog", r"Queue depth \d+")
    loaded = load_config(tmp_path / "prodguardian.yaml", registry=sample_registry())
    report = await run_report(loaded)
    ids = [f.id for f in report.runbooks if isinstance(f, RunbookMatch)]
    assert ids == ["cloud-run-memory-limit", "queue-backlog"]
    memory = report.runbooks[0]
    assert isinstance(memory, RunbookMatch)
    assert memory.checks == ("memory",)
    assert "--memory=2Gi --region=europe-west1" in memory.first_steps[0].commands[0]
    queue = report.runbooks[1]
    assert isinstance(queue, RunbookMatch)
    assert queue.first_steps[0].text == "Ask the team in #emergence-app."
    assert library_for_config(loaded) is library_for_config(loaded)  # loaded once per config


async def test_a_config_can_turn_the_builtin_runbooks_off(tmp_path: Path) -> None:
    config = CONFIG.replace(
        "runbooks: {directories: [team-runbooks]}", "runbooks: {builtin: false}"
    )
    (tmp_path / "prodguardian.yaml").write_text(config, encoding="utf-8")
    loaded = load_config(tmp_path / "prodguardian.yaml", registry=sample_registry())
    report = await run_report(loaded)
    assert report.runbooks == ()
