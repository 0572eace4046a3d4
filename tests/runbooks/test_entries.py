"""Splitting raw log text into entries: lines, and tracebacks kept whole."""

from __future__ import annotations

from prodguardian.runbooks.entries import split_entries
from tests.runbooks.evidence_factory import db_traceback, disconnect_traceback


def test_plain_lines_are_entries_and_blank_lines_are_dropped() -> None:
    assert list(split_entries(["a\n", "\n", "b\r\n", "c"])) == ["a", "b", "c"]


def test_a_traceback_with_its_header_is_one_entry() -> None:
    text = f"before\n{db_traceback()}\nafter"
    entries = list(split_entries(text.splitlines()))
    assert entries[0] == "before"
    assert entries[2] == "after"
    assert entries[1].startswith("Failed to load session")
    assert entries[1].endswith("RuntimeError: Database connection is not available.")


def test_two_tracebacks_in_a_row_stay_apart() -> None:
    last = "starlette.websockets.WebSocketDisconnect: 1000"
    text = f"{disconnect_traceback(last)}\n{disconnect_traceback(last)}"
    assert len(list(split_entries(text.splitlines()))) == 2


def test_a_chained_traceback_is_one_entry() -> None:
    text = """Traceback (most recent call last):
  File "a.py", line 1, in f
    g()
KeyError: 'x'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "a.py", line 3, in f
    raise RuntimeError
RuntimeError: Database connection is not available.
next line"""
    entries = list(split_entries(text.splitlines()))
    assert len(entries) == 2
    assert entries[0].endswith("RuntimeError: Database connection is not available.")
    assert entries[1] == "next line"
