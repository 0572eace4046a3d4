"""The real ``serve`` app (``create_app``): its receiver feeds a configured ``trace_latency``
check, and ``/metrics`` shows the server's own metrics and the check's."""

from __future__ import annotations

import uuid
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from prodguardian.config import load_config
from prodguardian.engine import run_report
from prodguardian.server import create_app, running_server
from prodguardian.slack.runtime import SlackRuntime
from prodguardian.slack.settings import SlackSettings
from prodguardian.status import Status
from prodguardian.telemetry import instruments
from prodguardian.traces.receiver import PROTOBUF
from tests.support.slack_standin import SIGNING_SECRET, SlackStandIn
from tests.traces.otlp_payloads import Request, protobuf_body


def _config(directory: Path, service: str) -> Path:
    path = directory / "prodguardian.yaml"
    path.write_text(
        f"""
service: {{name: shop}}
slack: {{allowed_users: [U0ALICE]}}
checks:
  - {{name: shop-latency, kind: trace_latency, service: {service}, window: 5m,
     min_samples: 5}}
  - {{name: shop-slo, kind: slo_burn, service: {service}, objective: 99.9}}
""",
        encoding="utf-8",
    )
    return path


async def test_serve_receives_spans_feeds_the_checks_and_exposes_metrics(tmp_path: Path) -> None:
    service = f"shop-{uuid.uuid4().hex[:8]}"  # the receiver's store is per process
    loaded = load_config(_config(tmp_path, service))
    async with SlackStandIn() as slack:
        settings = SlackSettings(bot_token="x", signing_secret=SIGNING_SECRET, api_url=slack.url)
        app = create_app(SlackRuntime(loaded, settings))
        async with running_server(app) as url, aiohttp.ClientSession() as http:
            body = protobuf_body(
                [Request("/checkout", 4000.0)] * 6 + [Request("/cart", 20.0, status=503)] * 6,
                service=service,
            )
            async with http.post(
                f"{url}/v1/traces", data=body, headers={"content-type": PROTOBUF}
            ) as resp:
                assert resp.status == 200
            unwatched = protobuf_body([Request("/x", 1.0)], service="not-watched")
            async with http.post(
                f"{url}/v1/traces", data=unwatched, headers={"content-type": PROTOBUF}
            ) as resp:
                assert resp.status == 400  # only the services the checks watch are taken
                assert b"unknown service 'not-watched'" in await resp.read()
            async with http.get(f"{url}/healthz") as resp:
                assert resp.status == 200  # traced: /v1/traces and /metrics are not
            report = await run_report(loaded)
            async with http.get(f"{url}/metrics") as resp:
                assert resp.status == 200
                scrape = await resp.text()
    by_name = {run.name: run for run in report.checks}
    latency = by_name["shop-latency"]
    assert latency.status is Status.CRITICAL  # p95 4 s > 3 s, and half of /cart fails
    assert latency.result.summary.startswith("GET /checkout: p95 4,0")
    assert by_name["shop-slo"].status is Status.CRITICAL  # 50 % failing: far past 14.4×
    families = {f.name for f in text_string_to_metric_families(scrape)}
    assert {"prodguardian_check_duration_seconds", "prodguardian_check_status"} <= families
    assert any(name.startswith("http_server") for name in families)
    assert type(instruments.current().tracer).__name__.startswith("NoOp")  # shut down at exit


def _refused_400(scrape: str) -> float:
    for family in text_string_to_metric_families(scrape):
        if family.name.startswith("prodguardian_receiver_refused"):
            return sum(
                s.value
                for s in family.samples
                if s.name.endswith("_total") and s.labels.get("http_response_status_code") == "400"
            )
    return 0.0


async def test_json_nested_100000_deep_is_refused_400_and_counted(tmp_path: Path) -> None:
    service = f"shop-{uuid.uuid4().hex[:8]}"
    loaded = load_config(_config(tmp_path, service))
    deep = b'{"resourceSpans":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    async with SlackStandIn() as slack:
        settings = SlackSettings(bot_token="x", signing_secret=SIGNING_SECRET, api_url=slack.url)
        app = create_app(SlackRuntime(loaded, settings))
        async with running_server(app) as url, aiohttp.ClientSession() as http:
            async with http.get(f"{url}/metrics") as resp:
                before = _refused_400(await resp.text())
            headers = {"content-type": "application/json"}
            async with http.post(f"{url}/v1/traces", data=deep, headers=headers) as resp:
                assert resp.status == 400
                answer = await resp.json()
            async with http.get(f"{url}/metrics") as resp:
                after = _refused_400(await resp.text())
            body = protobuf_body([Request("/ok", 5.0)], service=service)
            async with http.post(
                f"{url}/v1/traces", data=body, headers={"content-type": PROTOBUF}
            ) as resp:
                assert resp.status == 200  # and the receiver still answers
    assert "nests deeper than" in answer["message"]
    assert "depth limit" in answer["message"]
    assert after == before + 1
