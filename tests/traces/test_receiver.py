"""``POST /v1/traces`` on a real uvicorn server: what it accepts, what it refuses, and that a
refusal stores nothing and leaves the receiver answering."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator, Iterator, MutableMapping
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceResponse,
)

from prodguardian.traces.receiver import (
    PROTOBUF,
    ReceiverLimits,
    traces_router,
    watched_services,
)
from prodguardian.traces.store import StoreLimits, TraceStore
from tests.traces.otlp_payloads import Request, json_body, protobuf_body
from tests.traces.uvicorn_server import serve_in_thread

LIMIT = 1024 * 1024
GOOD = [Request("/a", 20.0), Request("/a", 30.0, status=500)]


@pytest.fixture
def store() -> TraceStore:
    return TraceStore(StoreLimits(max_services=3))


@pytest.fixture
def url(store: TraceStore) -> Iterator[str]:
    app = FastAPI()
    limits = ReceiverLimits(
        max_body_bytes=LIMIT, max_decompressed_bytes=4 * LIMIT, services=frozenset({"api", "shop"})
    )
    app.include_router(traces_router(store, limits=limits))
    with serve_in_thread(app) as base:
        yield base + "/v1/traces"


def _total(store: TraceStore) -> int:
    return sum(store.request_counts(s, 300).total for s in store.services())


async def _still_accepts(url: str, store: TraceStore) -> None:
    before = _total(store)
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            url, content=protobuf_body(GOOD), headers={"content-type": PROTOBUF}
        )
    assert answer.status_code == 200
    assert _total(store) == before + 2


async def test_protobuf_is_stored_and_answered_in_protobuf(url: str, store: TraceStore) -> None:
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            url, content=protobuf_body(GOOD), headers={"content-type": PROTOBUF}
        )
    assert answer.status_code == 200
    assert answer.headers["content-type"] == PROTOBUF
    assert not ExportTraceServiceResponse.FromString(answer.content).HasField("partial_success")
    counts = store.request_counts("api", 300)
    assert (counts.total, counts.errors) == (2, 1)


async def test_json_and_gzip_are_accepted(url: str, store: TraceStore) -> None:
    async with httpx.AsyncClient() as client:
        plain = await client.post(
            url,
            content=json_body(GOOD),
            headers={"content-type": "application/json; charset=utf-8"},
        )
        zipped = await client.post(
            url,
            content=gzip.compress(protobuf_body(GOOD, service="shop")),
            headers={"content-type": PROTOBUF, "content-encoding": "gzip"},
        )
    assert (plain.status_code, plain.json()) == (200, {})
    assert zipped.status_code == 200
    assert store.request_counts("api", 300).total == 2
    assert store.request_counts("shop", 300).total == 2


async def test_a_gzip_body_of_several_members_is_read_whole(url: str, store: TraceStore) -> None:
    body = protobuf_body(GOOD)
    two_members = gzip.compress(body[:100]) + gzip.compress(body[100:])
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            url,
            content=two_members,
            headers={"content-type": PROTOBUF, "content-encoding": "gzip"},
        )
    assert answer.status_code == 200
    assert store.request_counts("api", 300).total == 2


async def test_a_collector_batch_mixing_services_keeps_only_the_watched_ones(
    url: str, store: TraceStore
) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    mixed = ExportTraceServiceRequest.FromString(protobuf_body(GOOD, service="api"))
    other = ExportTraceServiceRequest.FromString(protobuf_body(GOOD * 2, service="billing"))
    mixed.resource_spans.extend(other.resource_spans)
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            url, content=mixed.SerializeToString(), headers={"content-type": PROTOBUF}
        )
    partial = ExportTraceServiceResponse.FromString(answer.content).partial_success
    assert (answer.status_code, partial.rejected_spans) == (200, 4)
    assert "unknown service 'billing'" in partial.error_message
    assert store.services() == ["api"]
    assert store.request_counts("api", 300).total == 2


def test_watched_services_are_those_of_receiver_checks() -> None:
    from prodguardian.checks.slo_burn import SloBurnCheck, SloBurnParams
    from prodguardian.checks.trace_latency import TraceLatencyCheck, TraceLatencyParams

    checks = [
        TraceLatencyCheck(name="a", kind="trace_latency", params=TraceLatencyParams(service="api")),
        SloBurnCheck(name="b", kind="slo_burn", params=SloBurnParams(service="shop")),
        TraceLatencyCheck(
            name="c",
            kind="trace_latency",
            params=TraceLatencyParams(
                service="from-jaeger", source={"kind": "jaeger", "url": "http://j:16686"}
            ),
        ),
        object(),
    ]
    assert watched_services(checks) == {"api", "shop"}


async def test_spans_the_store_refuses_come_back_as_partial_success(
    url: str, store: TraceStore
) -> None:
    old = protobuf_body(GOOD, end_ns=1_000_000_000 * 10**9)  # 2001: beyond every retention
    async with httpx.AsyncClient() as client:
        answer = await client.post(url, content=old, headers={"content-type": PROTOBUF})
        as_json = await client.post(
            url,
            content=json_body(GOOD, end_ns=10**18),
            headers={"content-type": "application/json"},
        )
    partial = ExportTraceServiceResponse.FromString(answer.content).partial_success
    assert (answer.status_code, partial.rejected_spans) == (200, 2)
    assert "ago" in partial.error_message
    assert as_json.json()["partialSuccess"]["rejectedSpans"] == "2"
    assert _total(store) == 0


@pytest.mark.parametrize(
    ("headers", "body", "status", "message"),
    [
        ({"content-type": "text/plain"}, b"hello", 415, "unsupported content type"),
        ({}, b"hello", 415, "unsupported content type"),
        ({"content-type": PROTOBUF, "content-encoding": "br"}, b"x", 415, "content encoding"),
        ({"content-type": PROTOBUF}, b"\xff\xff\xff\xff\xff", 400, "not an OTLP"),
        ({"content-type": "application/json"}, b"[1, 2", 400, "not JSON"),
        (
            {"content-type": PROTOBUF, "content-encoding": "gzip"},
            b"\x1f\x8bnot gzip",
            400,
            "not valid gzip",
        ),
        (
            {"content-type": PROTOBUF, "content-encoding": "gzip"},
            gzip.compress(protobuf_body(GOOD))[:-12],
            400,
            "truncated",
        ),
        (
            {"content-type": PROTOBUF, "content-encoding": "gzip"},
            gzip.compress(b"\x00" * (5 * LIMIT)),
            413,
            "inflates past",
        ),
        (
            {"content-type": "application/json"},
            json_body(GOOD, service="intruder"),
            400,
            "unknown service 'intruder'",
        ),
    ],
    ids=[
        "text",
        "no-type",
        "brotli",
        "bad-protobuf",
        "bad-json",
        "bad-gzip",
        "short-gzip",
        "gzip-bomb",
        "unknown-service",
    ],
)
async def test_bad_requests_are_refused_and_store_nothing(
    url: str, store: TraceStore, headers: dict[str, str], body: bytes, status: int, message: str
) -> None:
    async with httpx.AsyncClient() as client:
        answer = await client.post(url, content=body, headers=headers)
    assert answer.status_code == status
    if answer.headers["content-type"].startswith("application/json"):
        assert message in answer.json()["message"]
    else:
        assert message.encode() in answer.content  # google.rpc.Status, message is field 2
    assert _total(store) == 0
    await _still_accepts(url, store)


async def _raw_post(url: str, head: bytes, first_chunk: bytes) -> bytes:
    """Send headers and the start of a body, then read whatever the server answers."""
    host, port = url.split("//")[1].split("/")[0].split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(head + first_chunk)
    await writer.drain()
    answer = b""
    try:
        while not _complete(answer):
            chunk = await asyncio.wait_for(reader.read(65536), timeout=10)
            if not chunk:
                break
            answer += chunk
    except ConnectionResetError:
        pass  # the server closed on the unread body; what arrived before is the answer
    writer.close()
    return answer


def _complete(answer: bytes) -> bool:
    head, sep, body = answer.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


async def test_a_50_mb_body_is_refused_from_its_length_without_being_sent(
    url: str, store: TraceStore
) -> None:
    head = (
        f"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: {PROTOBUF}\r\n"
        f"Content-Length: {50 * 1024 * 1024}\r\n\r\n"
    ).encode()
    answer = await _raw_post(url, head, b"\x00" * 65536)  # 64 KiB of the announced 50 MB
    assert answer.startswith(b"HTTP/1.1 413")
    assert b"over the 1048576-byte limit" in answer
    assert _total(store) == 0
    await _still_accepts(url, store)


async def test_a_chunked_body_is_cut_off_at_the_limit(url: str, store: TraceStore) -> None:
    sent = 0

    async def fifty_megabytes() -> AsyncIterator[bytes]:
        nonlocal sent
        chunk = b"\x00" * (256 * 1024)
        for _ in range(200):
            sent += len(chunk)
            yield chunk

    async with httpx.AsyncClient() as client:
        try:
            answer = await client.post(
                url, content=fifty_megabytes(), headers={"content-type": PROTOBUF}
            )
            status = answer.status_code
        except (httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadError):
            status = 413  # the server answered and closed while we were still sending
    assert status == 413
    assert sent < 50 * 1024 * 1024
    assert _total(store) == 0
    await _still_accepts(url, store)


async def test_the_limit_stops_reading_the_body_at_the_asgi_level(store: TraceStore) -> None:
    """Proof without a network: the app pulls no more body chunks once past the limit."""
    app = FastAPI()
    app.include_router(traces_router(store, limits=ReceiverLimits(max_body_bytes=LIMIT)))
    pulled = 0

    async def receive() -> MutableMapping[str, Any]:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"\x00" * 65536, "more_body": pulled < 800}

    sent: list[MutableMapping[str, Any]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/traces",
        "raw_path": b"/v1/traces",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", PROTOBUF.encode())],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    await app(scope, receive, send)
    assert sent[0]["status"] == 413
    assert pulled <= LIMIT // 65536 + 1  # 17 of the 800 chunks (50 MB) on offer
    assert _total(store) == 0


def test_error_bodies_of_json_requests_are_json(url: str) -> None:
    answer = httpx.post(
        url, content=b"{}", headers={"content-type": "application/json", "content-encoding": "zstd"}
    )
    assert answer.status_code == 415
    assert json.loads(answer.content)["code"] == 3
