"""Every incident of the shared history, and variants of it, gets the right runbook first."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from prodguardian.runbooks import RunbookMatcher, builtin_runbooks, parse_runbook
from prodguardian.runbooks.scaffold import scaffold
from prodguardian.runbooks.subject import (
    MatchSubject,
    from_condition,
    from_signature,
    from_text,
)
from tests.runbooks.evidence_factory import (
    SITE,
    condition,
    db_traceback,
    db_via_websocket_traceback,
    disconnect_traceback,
    signature,
    traceback,
)

DB = "db-connection-lost"
WS = "websocket-disconnect-logged-as-error"
MEMORY = "cloud-run-memory-limit"
THROTTLE = "http-429-throttling"
LIVENESS = "liveness-probe-wrong-path"
NOT_READY = "revision-not-ready-env-lost"
JSON_MODE = "llm-json-mode-prompt"
PREFERENCE = "preference-extractor-missing-user-id"
COLD = "cold-start-not-warmed-up"

MALFORMED = (
    "The request failed because either the HTTP response was malformed or connection to the "
    "instance had an error. Additional troubleshooting documentation can be found at: "
    "https://cloud.google.com/run/docs/troubleshooting#malformed-response-or-connection-error"
)
OPENAI_400 = (
    "Error code: 400 - {'error': {'message': \"'messages' must contain the word 'json' in some "
    "form, to use 'response_format' of type 'json_object'.\", 'type': 'invalid_request_error', "
    "'param': 'messages', 'code': None}}, request_id: req_"
)


def memory(limit: int, used: int) -> str:
    return (
        f"Memory limit of {limit} MiB exceeded with {used} MiB used. Consider increasing the "
        "memory limit, see https://cloud.google.com/run/docs/configuring/memory-limits"
    )


def liveness(path: str, times: int = 3) -> str:
    return (
        f'LIVENESS HTTP probe failed {times} times consecutively for container "emergence-app-1" '
        f'on path "{path}". The container will be restarted.'
    )


def not_ready(revision: str) -> str:
    return (
        f"Revision '{revision}' is not ready and cannot serve traffic. The user-provided container "
        "failed to start and listen on the port defined provided by the PORT=8080 environment "
        "variable."
    )


def import_traceback(module: str, line: int = 3) -> str:
    return traceback(
        [
            (f"{SITE}/uvicorn/importer.py", 19, "import_from_string", "import_module(module_str)"),
            ("/app/main.py", line, "<module>", f"from {module}.core.app import create_app"),
        ],
        f"ModuleNotFoundError: No module named '{module}'",
    )


def openai_traceback(line: int, request_id: str) -> str:
    return traceback(
        [
            ("/app/backend/features/memory/analyzer.py", line, "_extract_preferences", "create()"),
            (f"{SITE}/openai/_base_client.py", 1584, "_request", "raise self._make_status_error()"),
        ],
        f"openai.BadRequestError: {OPENAI_400}{request_id}",
        header="[MemoryAnalyzer] Preference extraction failed",
    )


def preference(session: str) -> str:
    return (
        "[PreferenceExtractor] Cannot extract: no user identifier (user_sub or user_id) found "
        f"for session {session}"
    )


def sig(message: str, **kwargs: object) -> Callable[[], MatchSubject]:
    return lambda: from_signature(
        signature(message, **kwargs),  # type: ignore[arg-type]
        check_kind="log_errors",
        check_name="logs",
    )


def text(raw: str) -> Callable[[], MatchSubject]:
    return lambda: from_text(raw)


def cond(condition_text: str, expected: str, actual: str) -> Callable[[], MatchSubject]:
    return lambda: from_condition(
        condition(condition_text, expected, actual), check_kind="http", check_name="readiness"
    )


def entry_json(payload: dict[str, object]) -> str:
    return json.dumps({"severity": "ERROR", "resource": {"type": "cloud_run_revision"}, **payload})


CASES: list[tuple[str, str, Callable[[], MatchSubject]]] = [
    # 1: the connection guard, from signatures, raw tracebacks and probes.
    (
        DB,
        "signature",
        sig(
            "Database connection is not available.",
            exception_type="RuntimeError",
            sample=db_traceback(),
            frame="backend/core/database/manager.py in _ensure_connection",
            count=9,
        ),
    ),
    (
        DB,
        "other line, root and session",
        sig(
            "Database connection is not available.",
            exception_type="RuntimeError",
            sample=db_traceback(line=103, root="/workspace/src/backend", session="e8c7a01d-6881"),
        ),
    ),
    (
        DB,
        "through uvicorn's websocket protocol",
        sig(
            "Database connection is not available.",
            exception_type="RuntimeError",
            sample=db_via_websocket_traceback(line=254),
        ),
    ),
    (DB, "raw traceback", text(db_traceback(line=75, session="17d259ad-b0c1-2c60"))),
    (DB, "raw traceback via websocket", text(db_via_websocket_traceback())),
    (
        DB,
        "one log line",
        text("2025-10-12T08:00:01Z ERROR [db] RuntimeError: Database connection is not available"),
    ),
    (
        DB,
        "sqlite closed",
        sig("Cannot operate on a closed database.", exception_type="sqlite3.ProgrammingError"),
    ),
    (DB, "readiness db down", cond('db == "up"', '"up"', "down")),
    (DB, "component status down", cond('components.database.status == "up"', '"up"', '"down"')),
    (DB, "healthz db false", cond("db == true", "true", "false")),
    # 2: client disconnects through uvicorn.
    (
        WS,
        "1001 tuple",
        sig(
            "(1001, None)",
            exception_type="starlette.websockets.WebSocketDisconnect",
            sample=disconnect_traceback("starlette.websockets.WebSocketDisconnect: (1001, None)"),
        ),
    ),
    (
        WS,
        "1000 other line",
        sig(
            "(1000, None)",
            exception_type="starlette.websockets.WebSocketDisconnect",
            sample=disconnect_traceback(
                "starlette.websockets.WebSocketDisconnect: (1000, None)", line=244
            ),
        ),
    ),
    (
        WS,
        "ConnectionClosedOK",
        sig(
            "received 1000 (OK); then sent 1000 (OK)",
            exception_type="websockets.exceptions.ConnectionClosedOK",
        ),
    ),
    (
        WS,
        "ConnectionClosedError going away",
        sig(
            "received 1001 (going away); then sent 1001 (going away)",
            exception_type="websockets.exceptions.ConnectionClosedError",
        ),
    ),
    (
        WS,
        "raw traceback",
        text(disconnect_traceback("starlette.websockets.WebSocketDisconnect: 1001")),
    ),
    (WS, "bare line", text("WebSocketDisconnect: 1000")),
    # 3: memory.
    (MEMORY, "1024/1062", sig(memory(1024, 1062))),
    (MEMORY, "512/573", sig(memory(512, 573), revisions=("emergence-app-00044-m5x",))),
    (MEMORY, "512/671 raw", text(memory(512, 671))),
    (MEMORY, "2048/2301 json entry", text(entry_json({"textPayload": memory(2048, 2301)}))),
    (
        MEMORY,
        "malformed response 503",
        sig(f"HTTP 503 POST /api/chat/message: {MALFORMED}", http_statuses=(503,)),
    ),
    # 4: 429s.
    (THROTTLE, "health route", sig("HTTP 429 GET /api/health", http_statuses=(429,), count=50)),
    (THROTTLE, "static js", sig("HTTP 429 GET /assets/chat-{hex}.js", http_statuses=(429,))),
    (
        THROTTLE,
        "json request entry",
        text(
            entry_json(
                {
                    "httpRequest": {
                        "requestMethod": "GET",
                        "requestUrl": "https://x.a.run.app/assets/vendor-f131cd29.js",
                        "status": 429,
                    }
                }
            )
        ),
    ),
    (
        THROTTLE,
        "access log line",
        text('127.0.0.1 - "GET /static/app.js HTTP/1.1" 429 Too Many Requests'),
    ),
    (THROTTLE, "probe status", cond("status == 200", "200", "429")),
    (
        THROTTLE,
        "cloud run no available instance",
        sig(
            "HTTP 503 POST /api/chat/message: The request was aborted because there was no "
            "available instance. Additional troubleshooting documentation can be found at: "
            "https://cloud.google.com/run/docs/troubleshooting#abort-request",
            http_statuses=(503,),
        ),
    ),
    # 5: liveness probe on a missing path.
    (LIVENESS, "probe failed", sig(liveness("/health/live"))),
    (LIVENESS, "other path and count", text(liveness("/healthz/liveness", times=1))),
    (LIVENESS, "static js 500", sig("HTTP 500 GET /static/js/main.{hex}.js", http_statuses=(500,))),
    (
        LIVENESS,
        "static css 500",
        sig("HTTP 500 GET /static/css/app.980488f7.css", http_statuses=(500,)),
    ),
    # 6: the revision that never starts.
    (NOT_READY, "not ready", sig(not_ready("emergence-app-00049-pyp"))),
    (NOT_READY, "other revision", text(not_ready("chat-backend-00007-x2b"))),
    (
        NOT_READY,
        "module not found",
        sig(
            "No module named 'backend'",
            exception_type="ModuleNotFoundError",
            sample=import_traceback("backend"),
        ),
    ),
    (NOT_READY, "other module, raw", text(import_traceback("app", line=4))),
    (
        NOT_READY,
        "startup probe failed",
        sig(
            'Default STARTUP TCP probe failed 1 time consecutively for container "emergence-app-1" '
            "on port 8080. The instance was not started."
        ),
    ),
    (
        NOT_READY,
        "startup http probe, other container, raw",
        text(
            'STARTUP HTTP probe failed 3 times consecutively for container "api-1" on path '
            '"/ready". The instance was not started.'
        ),
    ),
    (NOT_READY, "container exit 1", sig("Container called exit(1).")),
    (NOT_READY, "container exit 3, raw", text("Container called exit(3).")),
    # 7: the provider's JSON-mode rule.
    (
        JSON_MODE,
        "signature",
        sig(
            OPENAI_400 + "req_0a1b",
            exception_type="openai.BadRequestError",
            sample=openai_traceback(331, "req_0a1b"),
        ),
    ),
    (JSON_MODE, "raw traceback, other line and id", text(openai_traceback(338, "req_ffee99"))),
    # 8: the extractor without a user id.
    (PREFERENCE, "uuid session", sig(preference("7f3a9c2e-1111-2222-3333-444455556666"), count=7)),
    (PREFERENCE, "short session id", text(preference("sess_0a1b2c3d4e"))),
    (
        PREFERENCE,
        "json payload",
        text(
            entry_json(
                {
                    "severity": "WARNING",
                    "jsonPayload": {
                        "message": preference("sess_99"),
                        "logger": "backend.features.memory",
                    },
                }
            )
        ),
    ),
    # 9: traffic before warm-up.
    (COLD, "ready 500", sig("HTTP 500 GET /ready", http_statuses=(500,))),
    (COLD, "health 500", sig("HTTP 500 GET /api/health", http_statuses=(500,))),
    (COLD, "vector store", sig("Vector store not initialized yet", exception_type="RuntimeError")),
    (COLD, "embeddings not loaded", text("RuntimeError: embedding model is not loaded")),
    (COLD, "healthz starting", cond('status == "ready"', '"ready"', "starting")),
    (COLD, "vector loading", cond('vector == "ready"', '"ready"', "loading")),
]


@pytest.fixture(scope="module")
def matcher() -> RunbookMatcher:
    return RunbookMatcher(builtin_runbooks())


@pytest.mark.parametrize(
    ("expected", "build"),
    [pytest.param(expected, build, id=f"{expected}:{name}") for expected, name, build in CASES],
)
def test_the_right_runbook_comes_first(
    matcher: RunbookMatcher, expected: str, build: Callable[[], MatchSubject]
) -> None:
    candidates = matcher.match(build())
    assert candidates, "no runbook matched"
    assert candidates[0].runbook.id == expected, [c.runbook.id for c in candidates]


def test_every_builtin_runbook_is_exercised() -> None:
    assert {expected for expected, _, _ in CASES} == {r.id for r in builtin_runbooks()}


def test_a_db_error_inside_the_websocket_protocol_is_not_a_disconnect(
    matcher: RunbookMatcher,
) -> None:
    subject = from_text(db_via_websocket_traceback())
    assert [c.runbook.id for c in matcher.match(subject)] == [DB]


@pytest.mark.parametrize("code", [1000, 1001])
def test_a_disconnect_is_not_a_database_failure(matcher: RunbookMatcher, code: int) -> None:
    last = f"starlette.websockets.WebSocketDisconnect: ({code}, None)"
    assert [c.runbook.id for c in matcher.match(from_text(disconnect_traceback(last)))] == [WS]


def test_an_abnormal_close_is_not_a_normal_disconnect(matcher: RunbookMatcher) -> None:
    subject = from_signature(
        signature("received 1006 (abnormal closure)", exception_type="ConnectionClosedError")
    )
    assert matcher.match(subject) == ()


def test_a_provider_429_is_not_our_throttling(matcher: RunbookMatcher) -> None:
    subject = from_text("openai.RateLimitError: Error code: 429 - Too Many Requests")
    assert THROTTLE not in [c.runbook.id for c in matcher.match(subject)]


def test_a_revision_that_cannot_serve_is_not_a_cold_start(matcher: RunbookMatcher) -> None:
    ids = [c.runbook.id for c in matcher.match(from_text(not_ready("svc-00002-abc")))]
    assert ids == [NOT_READY]


def test_an_ordinary_shutdown_is_not_a_failed_start(matcher: RunbookMatcher) -> None:
    assert matcher.match(from_text("Container called exit(0).")) == ()


def test_the_preference_failure_of_incident_7_is_not_incident_8(matcher: RunbookMatcher) -> None:
    ids = [c.runbook.id for c in matcher.match(from_text(openai_traceback(331, "req_1")))]
    assert ids == [JSON_MODE]


UNKNOWN = [
    "KeyError: 'user_42'",
    "ZeroDivisionError: division by zero",
    "HTTP 500 GET /api/threads",
    "ValueError: invalid literal for int() with base 10: 'abc'",
    "INFO:     Application startup complete.",
]


@pytest.mark.parametrize("raw", UNKNOWN)
def test_an_unknown_error_has_no_runbook_and_its_scaffold_would_match_it(
    matcher: RunbookMatcher, raw: str
) -> None:
    subject = from_text(raw)
    assert matcher.match(subject) == ()
    draft = parse_runbook(scaffold(subject), source="draft.md")
    assert [c.runbook.id for c in RunbookMatcher([draft]).match(subject)] == [draft.id]


def test_a_scaffold_matches_variants_of_its_failure() -> None:
    first = from_text("PaymentError: charge ch_1234 failed for customer 'cus_9' after 3 tries")
    draft = parse_runbook(scaffold(first), source="draft.md")
    variant = from_text(
        "PaymentError: charge ch_98765 failed for customer 'cus_abc' after 12 tries"
    )
    assert RunbookMatcher([draft]).match(variant)
