"""Writes the incident datasets of ``shared/runbooks.md`` as Cloud Run logs them.

Run ``python tests/data/incidents/generate.py`` to rewrite the ``*.jsonl`` files (seeded, so the
output is the same every time). Every dataset ends at :data:`NOW`; the hotfix deploy is at
:data:`DEPLOY`, ten minutes earlier.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
NOW = datetime(2025, 10, 11, 12, 31, 0, tzinfo=UTC)
DEPLOY = datetime(2025, 10, 11, 12, 21, 0, tzinfo=UTC)
PROJECT = "emergence-469005"
SERVICE = "emergence-app"
HOST = "https://emergence-app-47nct44nma-ew.a.run.app"
SITE = "/usr/local/lib/python3.11/site-packages"

Entry = dict[str, Any]


class Writer:
    """Builds entries with Cloud Run's fields; one per dataset, seeded."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def _base(self, ts: datetime, revision: str, log: str, severity: str) -> Entry:
        instance = f"0069c7a988{self.rng.randrange(16**6):06x}" + "ab" * 20
        return {
            "insertId": f"{self.rng.randrange(16**12):012x}",
            "resource": {
                "type": "cloud_run_revision",
                "labels": {
                    "project_id": PROJECT,
                    "service_name": SERVICE,
                    "revision_name": revision,
                    "location": "europe-west1",
                    "configuration_name": SERVICE,
                },
            },
            "timestamp": ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "severity": severity,
            "labels": {"instanceId": instance},
            "logName": f"projects/{PROJECT}/logs/run.googleapis.com%2F{log}",
            "receiveTimestamp": (ts + timedelta(milliseconds=40)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }

    def text(
        self,
        ts: datetime,
        revision: str,
        text: str,
        severity: str = "INFO",
        log: str = "stderr",
        instance: str | None = None,
    ) -> Entry:
        entry = self._base(ts, revision, log, severity)
        entry["textPayload"] = text
        if instance is not None:
            entry["labels"]["instanceId"] = instance
        return entry

    def json(self, ts: datetime, revision: str, message: str, severity: str, **extra: Any) -> Entry:
        entry = self._base(ts, revision, "stdout", severity)
        entry["jsonPayload"] = {"message": message, **extra}
        return entry

    def request(
        self,
        ts: datetime,
        revision: str,
        method: str,
        path: str,
        status: int,
        text: str | None = None,
        instance: str | None = None,
    ) -> Entry:
        severity = "ERROR" if status >= 500 else "WARNING" if status >= 400 else "INFO"
        entry = self._base(ts, revision, "requests", severity)
        if instance is not None:
            entry["labels"]["instanceId"] = instance
        entry["httpRequest"] = {
            "requestMethod": method,
            "requestUrl": f"{HOST}{path}",
            "requestSize": str(self.rng.randint(300, 900)),
            "status": status,
            "responseSize": str(self.rng.randint(100, 20000)),
            "userAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/141.0",
            "remoteIp": f"81.{self.rng.randint(1, 254)}.{self.rng.randint(1, 254)}.7",
            "serverIp": "34.143.77.2",
            "latency": f"{self.rng.uniform(0.002, 0.4):.6f}s",
            "protocol": "HTTP/1.1",
        }
        if text:
            entry["textPayload"] = text
        return entry

    def background(self, ts: datetime, revision: str) -> Entry:
        """Ordinary traffic: health probes, page loads, chat calls, app INFO lines."""
        pick = self.rng.random()
        if pick < 0.45:
            path = self.rng.choice(
                [
                    "/api/health",
                    "/healthz",
                    "/ready",
                    "/api/threads",
                    f"/api/threads/{self.rng.randint(100, 999)}/messages",
                ]
            )
            return self.request(ts, revision, "GET", path, 200)
        if pick < 0.6:
            return self.request(ts, revision, "POST", "/api/chat/message", 200)
        if pick < 0.7:
            return self.request(
                ts, revision, "GET", f"/ws/{uuid.UUID(int=self.rng.getrandbits(128))}", 101
            )
        line = self.rng.choice(
            [
                'INFO:     169.254.1.1:0 - "GET /api/health HTTP/1.1" 200 OK',
                f"[ChatService] Reply streamed in {self.rng.randint(400, 3000)} ms",
                f"[MemoryGardener] Consolidated {self.rng.randint(1, 30)} memories",
                "[VectorService] Collection 'emergence_knowledge' ready",
            ]
        )
        return self.text(ts, revision, line, "INFO", log="stdout")


def spread(start: datetime, end: datetime, n: int, rng: random.Random) -> list[datetime]:
    span = (end - start).total_seconds()
    return sorted(start + timedelta(seconds=rng.uniform(0, span)) for _ in range(n))


def db_traceback(rng: random.Random) -> str:
    session = uuid.UUID(int=rng.getrandbits(128))
    a, b, c = rng.choice([(212, 148, 61), (215, 151, 63), (209, 148, 66)])
    return (
        f"Failed to load session {session}\n"
        "Traceback (most recent call last):\n"
        f'  File "/app/backend/core/websocket.py", line {a}, in websocket_endpoint\n'
        "    session = await session_manager.load_session_from_db(session_id)\n"
        f'  File "/app/backend/core/session_manager.py", line {b}, in load_session_from_db\n'
        "    row = await self.db.fetch_one(query, (session_id,))\n"
        '  File "/app/backend/core/database/manager.py", line 97, in fetch_one\n'
        "    conn = await self._ensure_connection()\n"
        f'  File "/app/backend/core/database/manager.py", line {c}, in _ensure_connection\n'
        '    raise RuntimeError("Database connection is not available.")\n'
        "RuntimeError: Database connection is not available."
    )


def incident_01(
    w: Writer,
    revision: str = "emergence-app-00041-rok",
    start: datetime = NOW - timedelta(minutes=59, seconds=30),
    end: datetime = NOW - timedelta(seconds=30),
) -> list[Entry]:
    """9 of 80 entries: the database traceback (11.25 %)."""
    stamps = spread(start, end, 80, w.rng)
    bad = set(w.rng.sample(range(80), 9))
    return [
        w.text(ts, revision, db_traceback(w.rng), "ERROR")
        if i in bad
        else w.background(ts, revision)
        for i, ts in enumerate(stamps)
    ]


def hotfix(w: Writer) -> list[Entry]:
    """Incident 1's hour, then the fixed revision from DEPLOY: no errors, a few reconnections."""
    before = incident_01(w, end=DEPLOY - timedelta(seconds=20))
    fixed = "emergence-app-00042-fix"
    stamps = spread(DEPLOY + timedelta(seconds=5), NOW - timedelta(seconds=5), 36, w.rng)
    after = [w.background(ts, fixed) for ts in stamps]
    for i in (3, 20):
        after[i] = w.json(
            stamps[i],
            fixed,
            "Database reconnected successfully",
            "INFO",
            attempt=w.rng.randint(1, 3),
        )
    return before + after


def healthy(w: Writer) -> list[Entry]:
    """120 entries, one unrelated error: fine."""
    rev = "emergence-app-00042-fix"
    stamps = spread(NOW - timedelta(minutes=59), NOW - timedelta(seconds=10), 120, w.rng)
    out = [w.background(ts, rev) for ts in stamps]
    out[60] = w.text(
        stamps[60],
        rev,
        (
            "Embedding request failed, retrying\nTraceback (most recent call last):\n"
            '  File "/app/backend/features/memory/vector_service.py", line 188, in embed\n'
            "    response = await self._client.post(url, json=payload)\n"
            f'  File "{SITE}/httpx/_client.py", line 1574, in send\n'
            "    raise exc\nhttpx.ReadTimeout: timed out"
        ),
        "ERROR",
    )
    return out


def ws_disconnect_lines(code: int, line: int) -> list[str]:
    return [
        "Exception in ASGI application",
        "Traceback (most recent call last):",
        f'  File "{SITE}/uvicorn/protocols/websockets/websockets_impl.py", line {line}, '
        "in run_asgi",
        "    result = await self.app(self.scope, self.asgi_receive, self.asgi_send)",
        f'  File "{SITE}/uvicorn/middleware/proxy_headers.py", line 84, in __call__',
        "    return await self.app(scope, receive, send)",
        f'  File "{SITE}/starlette/routing.py", line 362, in handle',
        "    await self.app(scope, receive, send)",
        f'  File "{SITE}/starlette/websockets.py", line 130, in _raise_on_disconnect',
        '    raise WebSocketDisconnect(message["code"], message.get("reason"))',
        f"starlette.websockets.WebSocketDisconnect: ({code}, None)",
    ]


def incident_02(w: Writer) -> list[Entry]:
    """WebSocket disconnects logged at ERROR through uvicorn; half written line by line."""
    rev = "emergence-app-00043-wsd"
    stamps = spread(NOW - timedelta(minutes=59), NOW - timedelta(seconds=30), 100, w.rng)
    out: list[Entry] = []
    for i, ts in enumerate(stamps):
        if i % 15 != 7:
            out.append(w.background(ts, rev))
            continue
        lines = ws_disconnect_lines(w.rng.choice([1000, 1001]), w.rng.choice([244, 254]))
        if i % 2:
            out.append(w.text(ts, rev, "\n".join(lines), "ERROR"))
            continue
        instance = f"00f1{w.rng.randrange(16**8):08x}"
        for k, line in enumerate(lines):
            out.append(
                w.text(
                    ts + timedelta(microseconds=200 * k),
                    rev,
                    line,
                    "ERROR" if k == 0 else "DEFAULT",
                    instance=instance,
                )
            )
    return out


MEMORY = (
    "Memory limit of {limit} MiB exceeded with {used} MiB used. Consider increasing the "
    "memory limit, see https://cloud.google.com/run/docs/configuring/memory-limits"
)
MALFORMED = (
    "The request failed because either the HTTP response was malformed or connection "
    "to the instance had an error. Additional troubleshooting documentation can be "
    "found at: https://cloud.google.com/run/docs/troubleshooting#malformed-response-or-connection-error"
)


def incident_03(w: Writer) -> list[Entry]:
    """Out of memory: two revisions (512 MiB then 1 GiB), each over its limit."""
    out: list[Entry] = []
    for rev, limit, used, start in (
        ("emergence-app-00044-m5x", 512, (573, 612, 671), NOW - timedelta(minutes=58)),
        ("emergence-app-00045-g1b", 1024, (1062, 1049), NOW - timedelta(minutes=25)),
    ):
        stamps = spread(start, start + timedelta(minutes=22), 50, w.rng)
        for i, ts in enumerate(stamps):
            if i % 12 == 5:
                out.append(
                    w.text(
                        ts,
                        rev,
                        MEMORY.format(limit=limit, used=used[i % len(used)]),
                        "ERROR",
                        log="varlog%2Fsystem",
                    )
                )
            elif i % 12 == 6:
                out.append(w.request(ts, rev, "POST", "/api/chat/message", 503, MALFORMED))
            else:
                out.append(w.background(ts, rev))
    return out


def incident_04(w: Writer) -> list[Entry]:
    """429 storm on /api/health and static *.js files."""
    rev = "emergence-app-00046-c40"
    stamps = spread(NOW - timedelta(minutes=20), NOW - timedelta(seconds=5), 150, w.rng)
    out: list[Entry] = []
    for i, ts in enumerate(stamps):
        if i % 3 == 0:
            out.append(w.request(ts, rev, "GET", "/api/health", 429))
        elif i % 3 == 1 and i % 2:
            name = w.rng.choice(["index", "vendor", "chat", "memory", "settings"])
            out.append(
                w.request(ts, rev, "GET", f"/assets/{name}-{w.rng.randrange(16**8):08x}.js", 429)
            )
        else:
            out.append(w.background(ts, rev))
    return out


def incident_05(w: Writer) -> list[Entry]:
    """500s on static files; the liveness probe points at a missing path; restarts."""
    rev = "emergence-app-00047-lvp"
    stamps = spread(NOW - timedelta(minutes=50), NOW - timedelta(seconds=5), 120, w.rng)
    out: list[Entry] = []
    for i, ts in enumerate(stamps):
        if i % 10 == 2:
            path = w.rng.choice(
                [
                    f"/static/js/main.{w.rng.randrange(16**8):08x}.js",
                    f"/static/css/app.{w.rng.randrange(16**8):08x}.css",
                ]
            )
            out.append(w.request(ts, rev, "GET", path, 500))
        elif i % 30 == 9:
            out.append(
                w.text(
                    ts,
                    rev,
                    (
                        "LIVENESS HTTP probe failed 3 times consecutively for container "
                        '"emergence-app-1" '
                        f'on path "/health/{w.rng.choice(["live", "liveness"])}". '
                        "The container will be restarted."
                    ),
                    "ERROR",
                    log="varlog%2Fsystem",
                )
            )
        else:
            out.append(w.background(ts, rev))
    return out


def incident_06(w: Writer) -> list[Entry]:
    """A deploy lost PYTHONPATH: the new revision never becomes ready."""
    good, bad = "emergence-app-00048-ok1", "emergence-app-00049-pyp"
    out = [
        w.background(ts, good)
        for ts in spread(NOW - timedelta(minutes=59), NOW - timedelta(seconds=5), 70, w.rng)
    ]
    for ts in spread(NOW - timedelta(minutes=12), NOW - timedelta(minutes=2), 4, w.rng):
        out.append(
            w.text(
                ts,
                bad,
                (
                    "Traceback (most recent call last):\n"
                    f'  File "{SITE}/uvicorn/importer.py", line 19, in import_from_string\n'
                    "    module = importlib.import_module(module_str)\n"
                    '  File "/usr/local/lib/python3.11/importlib/__init__.py", line 126, '
                    "in import_module\n"
                    "    return _bootstrap._gcd_import(name[level:], package, level)\n"
                    '  File "<frozen importlib._bootstrap>", line 1204, in _gcd_import\n'
                    f'  File "/app/main.py", line {w.rng.choice([3, 4])}, in <module>\n'
                    "    from backend.core.app import create_app\n"
                    "ModuleNotFoundError: No module named 'backend'"
                ),
                "ERROR",
            )
        )
        out.append(
            w.text(
                ts + timedelta(seconds=9),
                bad,
                (
                    f"Revision '{bad}' is not ready and cannot serve traffic. "
                    "The user-provided container failed to start and listen on the port "
                    "defined provided by the PORT=8080 environment "
                    "variable."
                ),
                "ERROR",
                log="varlog%2Fsystem",
            )
        )
    return out


def incident_07(w: Writer) -> list[Entry]:
    """The LLM provider now wants the word 'json' in JSON-mode prompts."""
    rev = "emergence-app-00050-llm"
    stamps = spread(NOW - timedelta(minutes=59), NOW - timedelta(seconds=5), 90, w.rng)
    out: list[Entry] = []
    for i, ts in enumerate(stamps):
        if i % 11 != 4:
            out.append(w.background(ts, rev))
            continue
        req = f"req_{w.rng.randrange(16**24):024x}"
        out.append(
            w.text(
                ts,
                rev,
                (
                    "[MemoryAnalyzer] Preference extraction failed\n"
                    "Traceback (most recent call last):\n"
                    '  File "/app/backend/features/memory/analyzer.py", '
                    f"line {w.rng.choice([331, 338])}, in _extract_preferences\n"
                    "    response = await self.llm.chat.completions.create(**params)\n"
                    f'  File "{SITE}/openai/resources/chat/completions.py", line 1720, in create\n'
                    "    return await self._post(\n"
                    f'  File "{SITE}/openai/_base_client.py", line 1584, in _request\n'
                    "    raise self._make_status_error_from_response(err.response) from None\n"
                    "openai.BadRequestError: Error code: 400 - "
                    "{'error': {'message': \"'messages' must "
                    "contain the word 'json' in some form, to use 'response_format' of type "
                    "'json_object'.\", 'type': 'invalid_request_error', 'param': 'messages', "
                    f"'code': None}}}}, request_id: {req}"
                ),
                "ERROR",
            )
        )
    return out


def incident_08(w: Writer) -> list[Entry]:
    """The preference extractor keeps warning: no user id for the session."""
    rev = "emergence-app-00051-pex"
    stamps = spread(NOW - timedelta(minutes=59), NOW - timedelta(seconds=5), 100, w.rng)
    out: list[Entry] = []
    for i, ts in enumerate(stamps):
        if i % 12 == 3:
            session = w.rng.choice(
                [str(uuid.UUID(int=w.rng.getrandbits(128))), f"sess_{w.rng.randrange(16**10):010x}"]
            )
            out.append(
                w.json(
                    ts,
                    rev,
                    (
                        "[PreferenceExtractor] Cannot extract: no user identifier "
                        "(user_sub or user_id) "
                        f"found for session {session}"
                    ),
                    "WARNING",
                    logger="backend.features.memory",
                )
            )
        elif i == 50:
            out.append(w.request(ts, rev, "GET", "/.env", 404))
        elif i == 51:
            out.append(w.request(ts, rev, "GET", "/wp-admin/setup-config.php", 404))
        else:
            out.append(w.background(ts, rev))
    return out


def incident_09(w: Writer) -> list[Entry]:
    """500s for about four seconds after a cold start, then fine."""
    rev = "emergence-app-00052-cld"
    boot = NOW - timedelta(minutes=40)
    out = [
        w.text(boot, rev, "INFO:     Started server process [1]", "INFO", log="stdout"),
        w.text(
            boot + timedelta(milliseconds=300),
            rev,
            "INFO:     Waiting for application startup.",
            "INFO",
            log="stdout",
        ),
    ]
    for ts in spread(boot + timedelta(seconds=0.5), boot + timedelta(seconds=4.5), 12, w.rng):
        path = w.rng.choice(["/api/health", "/api/threads", "/api/chat/message", "/ready"])
        out.append(w.request(ts, rev, "POST" if "chat" in path else "GET", path, 500))
    out.append(
        w.text(
            boot + timedelta(seconds=5),
            rev,
            "INFO:     Application startup complete.",
            "INFO",
            log="stdout",
        )
    )
    out += [
        w.background(ts, rev)
        for ts in spread(boot + timedelta(seconds=6), NOW - timedelta(seconds=5), 90, w.rng)
    ]
    return sorted(out, key=lambda e: str(e["timestamp"]))


DATASETS = {
    "incident-01-database.jsonl": (1, incident_01),
    "incident-01-hotfix.jsonl": (11, hotfix),
    "healthy-hour.jsonl": (2, healthy),
    "incident-02-ws-disconnect.jsonl": (3, incident_02),
    "incident-03-memory.jsonl": (4, incident_03),
    "incident-04-429.jsonl": (5, incident_04),
    "incident-05-liveness.jsonl": (6, incident_05),
    "incident-06-not-ready.jsonl": (7, incident_06),
    "incident-07-openai-json.jsonl": (8, incident_07),
    "incident-08-preference-warning.jsonl": (9, incident_08),
    "incident-09-cold-start.jsonl": (10, incident_09),
}


def text_log(entries: list[Entry]) -> Iterator[str]:
    """The same entries as a plain-text log (``TIMESTAMP SEVERITY message``, tracebacks inline)."""
    for e in entries:
        text = e.get("textPayload") or e.get("jsonPayload", {}).get("message")
        if text is None:
            req = e["httpRequest"]
            text = f'"{req["requestMethod"]} {req["requestUrl"]}" {req["status"]}'
        yield f"{e['timestamp']} {e['severity']} {text}\n"


def write_dataset(name: str, entries: list[Entry]) -> None:
    """``entries`` as ``HERE/name``, one compact JSON object a line."""
    with (HERE / name).open("w", encoding="utf-8") as out:
        for entry in entries:
            out.write(json.dumps(entry, separators=(",", ":")) + "\n")


def main() -> None:
    for name, (seed, build) in DATASETS.items():
        entries = build(Writer(seed))
        write_dataset(name, entries)
        if name == "incident-01-database.jsonl":
            (HERE / "incident-01-database.log").write_text("".join(text_log(entries)))


if __name__ == "__main__":
    main()
