"""Evidence as Cloud Run and the app log it, for runbook tests: variants on demand."""

from __future__ import annotations

import hashlib

from prodguardian.evidence import ErrorSignature, FailedCondition

SITE = "/usr/local/lib/python3.11/site-packages"


def signature(
    message: str,
    *,
    exception_type: str | None = None,
    sample: str | None = None,
    frame: str | None = None,
    http_statuses: tuple[int, ...] = (),
    count: int = 1,
    revisions: tuple[str, ...] = (),
    before_deploy: bool = False,
) -> ErrorSignature:
    """An error signature; the sample defaults to the exception line."""
    head = f"{exception_type}: {message}" if exception_type else message
    return ErrorSignature(
        fingerprint=hashlib.blake2b(head.encode(), digest_size=8).hexdigest(),
        exception_type=exception_type,
        message=message,
        frame=frame,
        count=count,
        revisions=revisions,
        http_statuses=http_statuses,
        sample=sample if sample is not None else head,
        before_deploy=before_deploy,
    )


def traceback(frames: list[tuple[str, int, str, str]], last_line: str, header: str = "") -> str:
    """A Python traceback: ``(path, line, function, source)`` frames, then the exception line."""
    lines = [header] if header else []
    lines.append("Traceback (most recent call last):")
    for path, number, function, source in frames:
        lines.append(f'  File "{path}", line {number}, in {function}')
        lines.append(f"    {source}")
    lines.append(last_line)
    return "\n".join(lines)


def db_traceback(line: int = 61, root: str = "/app/backend", session: str = "8aa67235") -> str:
    """Incident 1: the session loader through the connection guard."""
    return traceback(
        [
            (f"{root}/core/websocket.py", 212, "websocket_endpoint", "await load(session_id)"),
            (f"{root}/core/session_manager.py", 148, "load_session_from_db", "await fetch()"),
            (
                f"{root}/core/database/manager.py",
                97,
                "fetch_one",
                "await self._ensure_connection()",
            ),
            (
                f"{root}/core/database/manager.py",
                line,
                "_ensure_connection",
                "raise RuntimeError()",
            ),
        ],
        "RuntimeError: Database connection is not available.",
        header=f"Failed to load session {session}",
    )


def db_via_websocket_traceback(line: int = 244) -> str:
    """Incident 1 as raised inside uvicorn's WebSocket protocol (the path incident 2 shares)."""
    return traceback(
        [
            (f"{SITE}/uvicorn/protocols/websockets/websockets_impl.py", line, "run_asgi", "await"),
            ("/app/src/backend/features/chat/session_manager.py", 312, "load_session_from_db", "x"),
            ("/app/src/backend/core/database/manager.py", 88, "_ensure_connection", "raise"),
        ],
        "RuntimeError: Database connection is not available.",
    )


def disconnect_traceback(last_line: str, line: int = 254) -> str:
    """Incident 2: a client disconnect escaping through uvicorn."""
    return traceback(
        [
            (f"{SITE}/uvicorn/protocols/websockets/websockets_impl.py", line, "run_asgi", "await"),
            (f"{SITE}/uvicorn/middleware/proxy_headers.py", 84, "__call__", "await self.app()"),
            (f"{SITE}/starlette/websockets.py", 130, "_raise_on_disconnect", "raise"),
        ],
        last_line,
        header="Exception in ASGI application",
    )


def condition(condition: str, expected: str, actual: str) -> FailedCondition:
    return FailedCondition(condition=condition, expected=expected, actual=actual)
