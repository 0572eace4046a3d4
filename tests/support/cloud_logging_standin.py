"""A local stand-in for the Cloud Logging API: ``POST /v2/entries:list`` on 127.0.0.1.

It serves entries from a list (the incident datasets), evaluates enough of the Logging filter
language to answer the queries ProdGuardian sends (AND/OR/NOT, parentheses, ``= != > >= < <=
=~ !~ :`` on dotted fields; timestamps and severities compare as such; ``sample(insertId, f)``,
a deterministic hash of the field below ``f``), pages with ``nextPageToken``, records every
filter it got, and can be told to misbehave: ``"429"``, ``"500"``, ``"503"``, ``"401"``,
``"403"``, ``"garbage"``, ``"drop"`` or ``"hang"`` for the next requests, in order. A bare regex
gets the real API's "Unparseable filter" 400. Like the real API it allows
``quota_per_minute`` list calls a minute (60) and answers 429 RESOURCE_EXHAUSTED past that.

Large datasets (a busy hour) stay fast: entries are kept sorted by timestamp, a filter's
top-level ``timestamp`` bounds become a bisection, the rest is compiled to closures once, and
the selection of a filter is cached while ``entries`` only grows (use :meth:`add`).
"""

from __future__ import annotations

import bisect
import hashlib
import json
import operator
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
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

    def _at(self, ahead: int) -> tuple[str, str] | None:
        i = self.i + ahead
        return self.tokens[i] if i < len(self.tokens) else None

    def _sample(self) -> Any:
        """``sample(FIELD, FRACTION)``: the tokenizer keeps the comma on the field's word."""
        self.i += 2
        words = []
        while (tok := self._peek()) is not None and tok != ("paren", ")"):
            words.append(tok[1])
            self.i += 1
        if self._peek() != ("paren", ")"):
            raise UnparseableFilterError("missing ')' after sample(")
        self.i += 1
        parts = [p.strip() for p in " ".join(words).split(",")]
        try:
            field, fraction = parts[0], float(parts[1])
        except (IndexError, ValueError):
            raise UnparseableFilterError("sample() takes a field and a fraction") from None
        if not 0.0 <= fraction <= 1.0:
            raise UnparseableFilterError("sample() fraction must be between 0 and 1")
        return ("sample", field, fraction)

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
        if tok == ("word", "sample") and self._at(1) == ("paren", "("):
            return self._sample()
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
    return _compile(node)(entry)


def _sampled(value: Any, fraction: float) -> bool:
    digest = hashlib.blake2b(str(value).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < fraction


def _compile(node: Any) -> Callable[[Entry], bool]:
    """The node as one closure, so a busy hour is filtered in seconds, not minutes."""
    kind = node[0]
    if kind in ("and", "or"):
        parts = [_compile(n) for n in node[1]]
        if len(parts) == 1:
            return parts[0]
        if kind == "and":
            # Plain loops: a generator per entry costs seconds over a busy hour.
            def all_of(e: Entry) -> bool:
                for part in parts:  # noqa: SIM110
                    if not part(e):
                        return False
                return True

            return all_of

        def any_of(e: Entry) -> bool:
            for part in parts:  # noqa: SIM110
                if part(e):
                    return True
            return False

        return any_of
    if kind == "not":
        inner = _compile(node[1])
        return lambda e: not inner(e)
    if kind == "sample":
        _, field, fraction = node
        return lambda e: _sampled(_lookup(e, field), fraction)
    _, field, op, value = node
    if op in ("=~", "!~"):
        pattern = re.compile(value)
        want = op == "=~"

        def regex(e: Entry) -> bool:
            actual = _lookup(e, field)
            if actual is None:
                return not want
            return (pattern.search(str(actual)) is not None) is want

        return regex
    fast = _fast_compare(field, op, value)
    if fast is not None:
        return fast
    return lambda e: _compare(_lookup(e, field), op, value, field)


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


def _fast_compare(field: str, op: str, value: str) -> Callable[[Entry], bool] | None:
    """Severity and numeric comparisons with their right side parsed once (busy hours)."""
    compare = _OPS.get(op)
    if compare is None:
        return None
    parts = field.split(".")
    if field == "severity":
        right = Severity.parse(value)
        return lambda e: compare(Severity.parse(e.get("severity")), right)
    try:
        number: float | None = float(value)
    except ValueError:
        number = None
    if number is None and op not in ("=", "!="):
        return None
    equal = op == "="

    def numeric(e: Entry) -> bool:
        actual: Any = e
        for part in parts:
            if type(actual) is not dict:
                return op == "!="
            actual = actual.get(part)
        if actual is None:
            return op == "!="
        if type(actual) is str and number is None:
            return (actual == value) is equal
        if number is not None and isinstance(actual, int | float) and not isinstance(actual, bool):
            return compare(actual, number)
        return _compare(actual, op, value, field)

    return numeric


def _time_bounds(tree: Any) -> tuple[datetime | None, datetime | None, Any]:
    """Top-level ``timestamp >=``/``<=`` clauses as bounds, and the tree without them."""
    low = high = None
    rest = []
    for node in tree[1]:
        leaf = node[1][0] if node[0] == "or" and len(node[1]) == 1 else node
        if leaf[0] == "cmp" and leaf[1] == "timestamp" and leaf[2] in (">=", "<="):
            ts = parse_timestamp(leaf[3])
            if leaf[2] == ">=":
                low = ts if low is None else max(low, ts)
            else:
                high = ts if high is None else min(high, ts)
        else:
            rest.append(node)
    return low, high, ("and", rest)


def matching(entries: Sequence[Entry], filter_text: str) -> list[Entry]:
    """The entries the filter selects (raises :class:`UnparseableFilterError`)."""
    if not filter_text.strip():
        return list(entries)
    check = _compile(_Parser(filter_text).parse())
    return [e for e in entries if check(e)]


class CloudLoggingStandIn:
    """The stand-in server; use as a context manager, read ``endpoint``, ``filters``, ``faults``."""

    def __init__(
        self,
        entries: Sequence[Entry] = (),
        *,
        max_page_size: int = 1000,
        quota_per_minute: int | None = 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.entries: list[Entry] = []
        self._stamps: list[datetime] = []
        self._cache: dict[tuple[str, int], list[Entry]] = {}
        self.add(entries)
        self.max_page_size = max_page_size
        self.quota_per_minute = quota_per_minute
        self.clock = clock
        self._calls: deque[float] = deque()
        self.throttled = 0
        """List calls refused with 429 for the quota."""
        self.returned = 0
        """Entries handed out over all pages."""
        self.busy_s = 0.0
        """Time spent answering list calls (filtering, paging, encoding): the "server's" share
        of a benchmark's wall time, since the stand-in shares the process."""
        self.faults: deque[str] = deque()
        self.filters: list[str] = []
        self.requests: list[dict[str, Any]] = []
        self.hang_s = 30.0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def add(self, entries: Iterable[Entry]) -> None:
        """Add entries (late arrivals too), kept in timestamp order."""
        new = [(parse_timestamp(str(e.get("timestamp"))), e) for e in entries]
        if len(new) <= 16:
            for ts, entry in new:
                at = bisect.bisect_right(self._stamps, ts)
                self._stamps.insert(at, ts)
                self.entries.insert(at, entry)
        else:
            both = list(zip(self._stamps, self.entries, strict=True)) + new
            both.sort(key=lambda pair: pair[0])
            self._stamps = [ts for ts, _ in both]
            self.entries = [entry for _, entry in both]
        self._cache.clear()

    def select(self, filter_text: str) -> list[Entry]:
        """The entries ``filter_text`` selects, oldest first (cached per filter)."""
        key = (filter_text, len(self.entries))
        found = self._cache.get(key)
        if found is None:
            tree = _Parser(filter_text).parse() if filter_text.strip() else ("and", [])
            low, high, rest = _time_bounds(tree)
            start = 0 if low is None else bisect.bisect_left(self._stamps, low)
            end = len(self._stamps) if high is None else bisect.bisect_right(self._stamps, high)
            check = _compile(rest) if rest[1] else None
            span = self.entries[start:end]
            found = span if check is None else [e for e in span if check(e)]
            if len(self._cache) > 64:
                self._cache.clear()
            self._cache[key] = found
        return found

    def _over_quota(self) -> bool:
        if self.quota_per_minute is None:
            return False
        now = self.clock()
        while self._calls and self._calls[0] <= now - 60.0:
            self._calls.popleft()
        if len(self._calls) >= self.quota_per_minute:
            self.throttled += 1
            return True
        self._calls.append(now)
        return False

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
                started = time.perf_counter()
                try:
                    standin._handle(self)
                finally:
                    standin.busy_s += time.perf_counter() - started

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
        if self._over_quota():
            self._error(
                req,
                429,
                "RESOURCE_EXHAUSTED",
                "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per "
                "minute' of service 'logging.googleapis.com'",
            )
            return
        fault = self.faults.popleft() if self.faults else None
        if fault is not None and self._fault(req, fault):
            return
        flt = str(body.get("filter", ""))
        self.filters.append(flt)
        try:
            selected = self.select(flt)
        except UnparseableFilterError as exc:
            self._error(req, 400, "INVALID_ARGUMENT", f"Unparseable filter: {exc}")
            return
        if "desc" in str(body.get("orderBy", "")):
            selected = selected[::-1]
        start = int(body.get("pageToken") or 0)
        size = min(int(body.get("pageSize") or self.max_page_size), self.max_page_size)
        page = selected[start : start + size]
        self.returned += len(page)
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
