"""A local stand-in for the Cloud Logging API: ``POST /v2/entries:list`` on 127.0.0.1.

It serves entries from a list (the incident datasets), evaluates enough of the Logging filter
language to answer the queries ProdGuardian sends (AND/OR/NOT, parentheses, ``= != > >= < <=
=~ !~ :`` on dotted fields; timestamps and severities compare as such), pages with
``nextPageToken``, records every filter it got, and can be told to misbehave: ``"429"``,
``"500"``, ``"503"``, ``"401"``, ``"403"``, ``"garbage"``, ``"drop"`` or ``"hang"`` for the
next requests, in order. A bare regex gets the real API's "Unparseable filter" 400.
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prodguardian.logs.entry import Severity, parse_timestamp

Entry = Mapping[str, Any]


class UnparseableFilterError(ValueError):
    """The filter is not valid Logging query language (as far as the stand-in knows it)."""


_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<op>>=|<=|!=|=~|!~|=|>|<|:)|(?P<paren>[()])'
    r"|(?P<word>[^\s()=<>!:~\"]+))"
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise UnparseableFilterError(f"unexpected character at {pos}: {text[pos : pos + 20]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


class _Parser:
    """Recursive descent: ``and := or (AND? or)*``; ``or := unary (OR unary)*`` (OR binds
    tighter, as in the real language); ``unary := NOT unary | ( and ) | field op value``."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.i = 0

    def parse(self) -> Any:
        node = self._and()
        if self.i != len(self.tokens):
            raise UnparseableFilterError(f"unexpected {self.tokens[self.i][1]!r}")
        return node

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def _and(self) -> Any:
        nodes = [self._or()]
        while (tok := self._peek()) is not None and tok != ("paren", ")"):
            if tok == ("word", "AND"):
                self.i += 1
            nodes.append(self._or())
        return ("and", nodes)

    def _or(self) -> Any:
        nodes = [self._unary()]
        while self._peek() == ("word", "OR"):
            self.i += 1
            nodes.append(self._unary())
        return ("or", nodes)

    def _unary(self) -> Any:
        tok = self._peek()
        if tok is None:
            raise UnparseableFilterError("unexpected end of filter")
        if tok in (("word", "NOT"), ("op", "-")):
            self.i += 1
            return ("not", self._unary())
        if tok == ("paren", "("):
            self.i += 1
            node = self._and()
            if self._peek() != ("paren", ")"):
                raise UnparseableFilterError("missing ')'")
            self.i += 1
            return node
        if tok[0] != "word" or self.i + 2 > len(self.tokens):
            raise UnparseableFilterError(f"expected a field, got {tok[1]!r}")
        field = tok[1]
        op_tok = self.tokens[self.i + 1]
        if op_tok[0] != "op" or self.i + 2 >= len(self.tokens):
            raise UnparseableFilterError(f"expected an operator after {field!r}")
        kind, value = self.tokens[self.i + 2]
        self.i += 3
        op = op_tok[1]
        if op in ("=~", "!~") and kind != "str":
            raise UnparseableFilterError("regular expressions must begin and end with '\"'")
        if kind == "str":
            value = json.loads(value)
        elif kind != "word":
            raise UnparseableFilterError(f"expected a value after {field} {op}")
        return ("cmp", field, op, value)


def _lookup(entry: Entry, field: str) -> Any:
    value: Any = entry
    for part in field.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _compare(actual: Any, op: str, expected: str, field: str) -> bool:
    if actual is None:
        return op in ("!=", "!~")
    if op in ("=~", "!~"):
        found = re.search(expected, str(actual)) is not None
        return found if op == "=~" else not found
    if op == ":":
        return expected.lower() in str(actual).lower()
    left: Any
    right: Any
    if field == "severity":
        left, right = Severity.parse(actual), Severity.parse(expected)
    elif field.endswith("timestamp"):
        left, right = parse_timestamp(str(actual)), parse_timestamp(expected)
    elif isinstance(actual, int | float) and not isinstance(actual, bool):
        left, right = actual, float(expected)
    else:
        left, right = str(actual), expected
    outcome = {
        "=": left == right,
        "!=": left != right,
        ">": left > right,
        ">=": left >= right,
        "<": left < right,
        "<=": left <= right,
    }[op]
    return bool(outcome)


def _evaluate(node: Any, entry: Entry) -> bool:
    kind = node[0]
    if kind == "and":
        return all(_evaluate(n, entry) for n in node[1])
    if kind == "or":
        return any(_evaluate(n, entry) for n in node[1])
    if kind == "not":
        return not _evaluate(node[1], entry)
    _, field, op, value = node
    return _compare(_lookup(entry, field), op, value, field)


def matching(entries: Sequence[Entry], filter_text: str) -> list[Entry]:
    """The entries the filter selects (raises :class:`UnparseableFilterError`)."""
    if not filter_text.strip():
        return list(entries)
    tree = _Parser(filter_text).parse()
    return [e for e in entries if _evaluate(tree, e)]


class CloudLoggingStandIn:
    """The stand-in server; use as a context manager, read ``endpoint``, ``filters``, ``faults``."""

    def __init__(self, entries: Sequence[Entry] = (), *, max_page_size: int = 1000) -> None:
        self.entries = list(entries)
        self.max_page_size = max_page_size
        self.faults: deque[str] = deque()
        self.filters: list[str] = []
        self.requests: list[dict[str, Any]] = []
        self.hang_s = 30.0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def endpoint(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> CloudLoggingStandIn:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                standin._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _handle(self, req: BaseHTTPRequestHandler) -> None:
        length = int(req.headers.get("Content-Length") or 0)
        body = json.loads(req.rfile.read(length) or b"{}")
        self.requests.append(body)
        if req.path.split("?", 1)[0] != "/v2/entries:list":
            self._error(req, 404, "NOT_FOUND", f"no such method {req.path}")
            return
        fault = self.faults.popleft() if self.faults else None
        if fault is not None and self._fault(req, fault):
            return
        flt = str(body.get("filter", ""))
        self.filters.append(flt)
        try:
            selected = matching(self.entries, flt)
        except UnparseableFilterError as exc:
            self._error(req, 400, "INVALID_ARGUMENT", f"Unparseable filter: {exc}")
            return
        selected.sort(
            key=lambda e: parse_timestamp(str(e.get("timestamp"))),
            reverse="desc" in str(body.get("orderBy", "")),
        )
        start = int(body.get("pageToken") or 0)
        size = min(int(body.get("pageSize") or self.max_page_size), self.max_page_size)
        page = selected[start : start + size]
        answer: dict[str, Any] = {"entries": page}
        if start + size < len(selected):
            answer["nextPageToken"] = str(start + size)
        self._send(req, 200, json.dumps(answer).encode())

    def _fault(self, req: BaseHTTPRequestHandler, fault: str) -> bool:
        if fault in ("429", "500", "503", "401", "403"):
            status = {
                "429": "RESOURCE_EXHAUSTED",
                "500": "INTERNAL",
                "503": "UNAVAILABLE",
                "401": "UNAUTHENTICATED",
                "403": "PERMISSION_DENIED",
            }[fault]
            self._error(req, int(fault), status, f"stand-in fault {fault}")
            return True
        if fault == "garbage":
            self._send(req, 200, b"<html>502 Bad Gateway</html>", content_type="text/html")
            return True
        if fault == "drop":
            req.close_connection = True
            req.connection.close()
            return True
        if fault == "hang":
            self._stop.wait(self.hang_s)
            return True
        return False

    def _error(self, req: BaseHTTPRequestHandler, code: int, status: str, message: str) -> None:
        body = {"error": {"code": code, "message": message, "status": status}}
        self._send(req, code, json.dumps(body).encode())

    @staticmethod
    def _send(
        req: BaseHTTPRequestHandler,
        code: int,
        body: bytes,
        *,
        content_type: str = "application/json",
    ) -> None:
        req.send_response(code)
        req.send_header("Content-Type", content_type)
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body)


def load_jsonl(lines: Iterator[str] | Sequence[str]) -> list[dict[str, Any]]:
    """Entries from JSON lines (blank lines skipped)."""
    return [json.loads(line) for line in lines if line.strip()]


def window_of(entries: Sequence[Entry]) -> tuple[datetime, datetime]:
    """The first and last timestamps of a dataset."""
    stamps = [parse_timestamp(str(e["timestamp"])) for e in entries]
    return min(stamps), max(stamps)
