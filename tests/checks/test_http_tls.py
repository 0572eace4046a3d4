"""The ``http`` check over TLS: verification failures, expiry thresholds, the peer certificate."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

import prodguardian.checks.http as http_module
from prodguardian.checks.http import HttpCheck
from prodguardian.checks.http_params import HttpParams
from prodguardian.checks.http_tls import (
    client_ssl_context,
    fetch_peer_certificate,
    parse_certificate,
)
from prodguardian.evidence import FailedCondition, Observation
from prodguardian.result import CheckResult
from prodguardian.runner import run_checks
from prodguardian.status import Status
from tests.support.http_targets import (
    LocalCA,
    health_app,
    refused_port,
    run_check,
    self_signed_context,
    serve_app,
)

NOW = dt.datetime.now(dt.UTC)


def make_check(**params: Any) -> HttpCheck:
    return HttpCheck(
        name="tls", kind="http", params=HttpParams.model_validate(params), timeout_s=5.0
    )


def failed(result: CheckResult) -> list[FailedCondition]:
    return [e for e in result.evidence if isinstance(e, FailedCondition)]


def observed(result: CheckResult) -> dict[str, str]:
    return {e.label: e.text for e in result.evidence if isinstance(e, Observation)}


@pytest.fixture(scope="module")
def ca() -> LocalCA:
    return LocalCA()


@pytest.fixture
def ca_file(ca: LocalCA, tmp_path: Path) -> Path:
    return ca.write_ca_file(tmp_path)


async def test_valid_certificate_is_ok_and_reports_days_left(ca: LocalCA, ca_file: Path) -> None:
    not_after = NOW + dt.timedelta(days=90)
    async with serve_app(health_app(), ssl_context=ca.server_context(not_after=not_after)) as base:
        result = await run_check(make_check(url=f"{base}/ready", tls={"ca_file": str(ca_file)}))
    assert result.status is Status.OK, result.summary
    assert 89 < result.metrics["tls_days_left"] <= 90
    assert "certificate valid for 90 more days" in result.summary
    assert "issued by" in observed(result)["certificate"]


@pytest.fixture
def handshakes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts the probe's extra handshakes (the fallback when the transport is gone)."""
    seen: list[str] = []
    fetch = fetch_peer_certificate

    async def counting(host: str, port: int) -> bytes | None:
        seen.append(f"{host}:{port}")
        return await fetch(host, port)

    monkeypatch.setattr(http_module, "fetch_peer_certificate", counting)
    return seen


@pytest.mark.parametrize("path", ["/ready", "/empty", "/degraded", "/big?mb=2"])
async def test_certificate_is_read_from_the_probe_connection_itself(
    ca: LocalCA, ca_file: Path, handshakes: list[str], path: str
) -> None:
    async with serve_app(health_app(), ssl_context=ca.server_context()) as base:
        result = await run_check(
            make_check(url=f"{base}{path}", tls={"ca_file": str(ca_file)}, max_body="1MiB")
        )
    assert "tls_days_left" in result.metrics
    assert handshakes == []  # no second handshake: small bodies release the connection early


async def test_certificate_of_an_empty_response_is_still_read(ca: LocalCA, ca_file: Path) -> None:
    async with serve_app(health_app(), ssl_context=ca.server_context()) as base:
        result = await run_check(make_check(url=f"{base}/empty", tls={"ca_file": str(ca_file)}))
    assert result.status is Status.OK, result.summary
    assert result.metrics["status_code"] == 204
    assert "tls_days_left" in result.metrics


async def test_expired_certificate_with_verification(ca: LocalCA, ca_file: Path) -> None:
    context = ca.server_context(not_after=NOW - dt.timedelta(days=2))
    async with serve_app(health_app(), ssl_context=context) as base:
        result = await run_check(make_check(url=f"{base}/ready", tls={"ca_file": str(ca_file)}))
    assert result.status is Status.CRITICAL
    assert "certificate has expired" in result.summary
    assert result.summary.endswith("2 days ago)")
    (condition,) = failed(result)
    assert condition.actual == "certificate has expired"
    assert result.metrics["tls_days_left"] < -1.9
    assert "valid" in observed(result)["certificate"]


async def test_expired_certificate_without_verification_is_still_critical(ca: LocalCA) -> None:
    context = ca.server_context(not_after=NOW - dt.timedelta(days=2))
    async with serve_app(health_app(), ssl_context=context) as base:
        result = await run_check(make_check(url=f"{base}/ready", tls={"verify": False}))
    assert result.status is Status.CRITICAL
    assert result.summary.startswith("certificate expired 2.0 days ago")
    assert failed(result)[0].condition == "certificate expiry"


async def test_self_signed_certificate_with_verification() -> None:
    async with serve_app(health_app(), ssl_context=self_signed_context()) as base:
        result = await run_check(make_check(url=f"{base}/ready"))
    assert result.status is Status.CRITICAL
    assert result.summary == (
        f"TLS verification failed for 127.0.0.1:{base.rsplit(':', 1)[1]}: self-signed certificate"
    )
    assert "self-signed" in observed(result)["certificate"]


async def test_self_signed_certificate_without_verification_is_ok() -> None:
    async with serve_app(health_app(), ssl_context=self_signed_context()) as base:
        result = await run_check(make_check(url=f"{base}/ready", tls={"verify": False}))
    assert result.status is Status.OK, result.summary
    assert result.metrics["tls_days_left"] > 360


async def test_untrusted_issuer(ca: LocalCA) -> None:
    async with serve_app(health_app(), ssl_context=ca.server_context()) as base:
        result = await run_check(make_check(url=f"{base}/ready"))
    assert result.status is Status.CRITICAL
    assert failed(result)[0].actual.startswith("certificate issuer is not trusted")


async def test_hostname_mismatch(ca: LocalCA, ca_file: Path) -> None:
    context = ca.server_context(host="db.example.test")
    async with serve_app(health_app(), ssl_context=context) as base:
        result = await run_check(make_check(url=f"{base}/ready", tls={"ca_file": str(ca_file)}))
    assert result.status is Status.CRITICAL
    assert failed(result)[0].actual == "certificate is not valid for 127.0.0.1 (hostname mismatch)"


@pytest.mark.parametrize(
    ("days", "expected"),
    [(10, Status.DEGRADED), (2, Status.CRITICAL), (20, Status.OK)],
)
async def test_certificate_near_expiry(
    ca: LocalCA, ca_file: Path, days: int, expected: Status
) -> None:
    context = ca.server_context(not_after=NOW + dt.timedelta(days=days))
    async with serve_app(health_app(), ssl_context=context) as base:
        result = await run_check(
            make_check(
                url=f"{base}/ready",
                tls={"ca_file": str(ca_file), "expiry_degraded": "14d", "expiry_critical": "3d"},
            )
        )
    assert result.status is expected, result.summary
    if expected is not Status.OK:
        assert result.summary.startswith(f"certificate expires in {days}.0 days")
        assert failed(result)[0].status is expected


async def test_https_probe_of_a_plain_http_server() -> None:
    async with serve_app(health_app()) as base:
        result = await run_check(make_check(url=base.replace("http://", "https://") + "/ready"))
    assert result.status is Status.CRITICAL
    assert result.summary.startswith("TLS handshake with 127.0.0.1:")


async def test_fetch_peer_certificate_reads_any_certificate(ca: LocalCA) -> None:
    not_after = NOW - dt.timedelta(days=1)
    async with serve_app(health_app(), ssl_context=ca.server_context(not_after=not_after)) as base:
        port = int(base.rsplit(":", 1)[1])
        der = await fetch_peer_certificate("127.0.0.1", port)
    assert der is not None
    cert = parse_certificate(der)
    assert cert is not None
    assert cert.not_after == not_after.replace(microsecond=0)
    assert not cert.self_signed


async def test_fetch_peer_certificate_gives_none_when_it_cannot() -> None:
    with refused_port() as port:
        assert await fetch_peer_certificate("127.0.0.1", port) is None
    async with serve_app(health_app()) as base:  # plain HTTP: no TLS handshake
        assert await fetch_peer_certificate("127.0.0.1", int(base.rsplit(":", 1)[1])) is None


def test_parse_certificate_of_garbage_is_none() -> None:
    assert parse_certificate(b"not a certificate") is None


async def test_ca_file_gone_since_config_load_is_unknown(ca: LocalCA, tmp_path: Path) -> None:
    ca_file = ca.write_ca_file(tmp_path)
    check = make_check(url="https://127.0.0.1:1/ready", tls={"ca_file": str(ca_file)})
    ca_file.write_text("garbage", encoding="utf-8")
    client_ssl_context.cache_clear()
    runs = await run_checks([check])
    assert runs[0].status is Status.UNKNOWN
    assert runs[0].result.summary.startswith("cannot load tls.ca_file")
