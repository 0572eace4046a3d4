"""Signatures: one fingerprint per failure, stable across the variants of runbooks.md."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from prodguardian.logs.entry import HttpRequest, LogEntry, Severity
from prodguardian.logs.normalise import normalise_message, normalise_route
from prodguardian.logs.signature import TRUNCATION_MARKER, signature_of, truncate_sample

TS = datetime(2025, 10, 11, 12, 0, tzinfo=UTC)
SITE = "/usr/local/lib/python3.11/site-packages"


def entry(text: str, **kw: object) -> LogEntry:
    return LogEntry(timestamp=TS, severity=Severity.ERROR, text=text, **kw)  # type: ignore[arg-type]


def db_traceback(*, line: int, session: str, root: str = "/app") -> str:
    return (
        f"Failed to load session {session}\n"
        "Traceback (most recent call last):\n"
        f'  File "{root}/backend/core/session_manager.py", line {line + 80}, '
        "in load_session_from_db\n"
        "    row = await self.db.fetch_one(query)\n"
        f'  File "{root}/backend/core/database/manager.py", line {line}, in _ensure_connection\n'
        '    raise RuntimeError("Database connection is not available.")\n'
        "RuntimeError: Database connection is not available."
    )


def test_the_database_failure_is_one_signature_whatever_the_line_session_or_root() -> None:
    a = signature_of(entry(db_traceback(line=61, session="3f2a9c1e-1111-4a2b-9c3d-aabbccddeeff")))
    b = signature_of(entry(db_traceback(line=66, session="sess_8f3a2b1c9d", root="/workspace")))
    assert a.fingerprint == b.fingerprint
    assert a.exception_type == "RuntimeError"
    assert a.frame == "backend/core/database/manager.py in _ensure_connection"
    assert a.frames == (
        "backend/core/session_manager.py in load_session_from_db",
        "backend/core/database/manager.py in _ensure_connection",
    )


def test_another_frame_or_message_is_another_signature() -> None:
    base = signature_of(entry(db_traceback(line=61, session="x")))
    other_message = signature_of(
        entry(db_traceback(line=61, session="x").replace("not available", "closed"))
    )
    other_frame = signature_of(
        entry(db_traceback(line=61, session="x").replace("_ensure_connection", "connect"))
    )
    assert len({base.fingerprint, other_message.fingerprint, other_frame.fingerprint}) == 3


def test_library_stdlib_and_frozen_frames_are_not_the_application_frame() -> None:
    text = (
        "Traceback (most recent call last):\n"
        '  File "/app/main.py", line 3, in <module>\n'
        "    from backend.core.app import create_app\n"
        f'  File "{SITE}/uvicorn/importer.py", line 19, in import_from_string\n'
        '  File "/usr/local/lib/python3.11/importlib/__init__.py", line 126, in import_module\n'
        '  File "<frozen importlib._bootstrap>", line 1204, in _gcd_import\n'
        "ModuleNotFoundError: No module named 'backend'"
    )
    sig = signature_of(entry(text))
    assert sig.frame == "main.py in <module>"
    assert sig.exception_type == "ModuleNotFoundError"
    assert "uvicorn/importer.py in import_from_string" in sig.frames


def test_chained_exceptions_take_the_last_one() -> None:
    text = (
        "Traceback (most recent call last):\n"
        '  File "/app/backend/a.py", line 1, in f\n'
        "    x()\n"
        "KeyError: 'user'\n\n"
        "During handling of the above exception, another exception occurred:\n\n"
        "Traceback (most recent call last):\n"
        '  File "/app/backend/b.py", line 9, in g\n'
        "    raise ValueError('bad user 42')\n"
        "ValueError: bad user 42"
    )
    sig = signature_of(entry(text))
    assert sig.exception_type == "ValueError"
    assert sig.frame == "backend/b.py in g"
    assert sig.normalised == "bad user <n>"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (
            "Memory limit of 1024 MiB exceeded with 1062 MiB used. Consider increasing it",
            "Memory limit of 512 MiB exceeded with 573 MiB used. Consider increasing it",
        ),
        (
            "Revision 'emergence-app-00047-pyp' is not ready and cannot serve traffic.",
            "Revision 'emergence-app-00103-x9z' is not ready and cannot serve traffic.",
        ),
        (
            "[PreferenceExtractor] Cannot extract: no user identifier (user_sub or user_id) "
            "found for session 3f2a9c1e-1111-4a2b-9c3d-aabbccddeeff",
            "[PreferenceExtractor] Cannot extract: no user identifier (user_sub or user_id) "
            "found for session sess_0a9b8c7d6e",
        ),
        (
            "request 0x7f3a2b1c failed at 2025-10-11T12:21:00.123Z after 1.5s",
            "request 0x11 failed at 2025-10-12 08:00:01,5 after 30s",
        ),
    ],
)
def test_plain_lines_are_stable_across_their_variants(a: str, b: str) -> None:
    assert signature_of(entry(a)).fingerprint == signature_of(entry(b)).fingerprint


def test_an_inline_exception_line_gives_its_type() -> None:
    sig = signature_of(
        entry("openai.BadRequestError: Error code: 400 - {'error': {'message': \"x\"}}")
    )
    assert sig.exception_type == "openai.BadRequestError"
    assert sig.normalised.startswith("Error code: 400")
    other = signature_of(entry("openai.BadRequestError: Error code: 500 - {'error': {}}"))
    assert other.fingerprint != sig.fingerprint  # status codes are kept, they mean something


def test_http_responses_are_grouped_by_route() -> None:
    def http(path: str, status: int = 429, method: str = "GET") -> str:
        request = HttpRequest(method=method, url=f"https://x.run.app{path}?v=1", status=status)
        return signature_of(entry("", http=request)).fingerprint

    assert http("/assets/index-8f3a1c2d.js") == http("/assets/vendor-0b1c2d3e.js")
    assert http("/api/threads/123/messages") == http("/api/threads/98765/messages")
    assert http("/api/health") != http("/assets/index.js")
    assert http("/api/health") != http("/api/health", status=500)
    sig = signature_of(entry("", http=HttpRequest(method="get", url="/static/a.CSS", status=500)))
    assert sig.message == "HTTP 500 GET /static/*.css"
    assert sig.http_status == 500


def test_routes_and_messages_normalise_as_documented() -> None:
    assert normalise_route("/api/sessions/3f2a9c1e-1111-4a2b-9c3d-aabbccddeeff") == (
        "/api/sessions/{id}"
    )
    assert normalise_route("/") == "/"
    assert normalise_message("took 12.5ms for 3 items") == "took <n>ms for <n> items"
    assert normalise_message("key \"a b\" and 'c'") == "key <str> and <str>"
    assert normalise_message("status: 503 from HTTP 502") == "status: 503 from HTTP 502"
    assert normalise_message("raise to --memory=2Gi") == "raise to --memory=<size>"


def test_samples_keep_head_and_tail_with_a_marker() -> None:
    text = "Traceback (most recent call last):\n" + "x" * 10_000 + "\nRuntimeError: boom"
    cut = truncate_sample(text, limit=1000)
    assert len(cut) < 1100
    assert cut.startswith("Traceback")
    assert cut.endswith("RuntimeError: boom")
    assert TRUNCATION_MARKER.format(n=len(text) - 1000) in cut
    assert truncate_sample("short") == "short"
