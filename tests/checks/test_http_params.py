"""The ``http`` check's params through the real config loader: valid configs load, bad ones are
refused with the file, the key path and the fix."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from prodguardian.checks.http import HttpCheck
from prodguardian.checks.http_params import HttpParams, parse_byte_size
from prodguardian.config import LoadedConfig, load_config
from prodguardian.errors import ConfigError
from prodguardian.registry import CheckRegistry
from prodguardian.status import Status

# Only the kind under test: other kinds are being written alongside and may not import yet.
REGISTRY = CheckRegistry({"http": HttpCheck})  # type: ignore[dict-item]

FULL_EXAMPLE = """
checks:
  - name: readiness
    kind: http
    timeout: 5s
    url: http://127.0.0.1:8765/api/monitoring/health/readiness
    method: GET
    headers: {Accept: application/json}
    headers_from_env: {Authorization: PROBE_AUTH_HEADER}
    expect:
      status: [200, 204]
      json:
        - 'db == "up"'
        - 'components.database.status == "up"'
        - {condition: 'vector == "up"', status: DEGRADED}
      body_contains: "ok"
    failure_status: CRITICAL
    latency: {degraded: 1s, critical: 3s}
    tls: {verify: true, ca_file: null, expiry_degraded: 14d, expiry_critical: 3d}
    follow_redirects: true
    max_redirects: 5
    max_body: 1MiB
"""


def load(tmp_path: Path, text: str) -> LoadedConfig:
    path = tmp_path / "prodguardian.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_config(path, registry=REGISTRY)


def load_error(tmp_path: Path, check_yaml: str) -> ConfigError:
    entry = textwrap.indent(textwrap.dedent(check_yaml).strip(), "    ")
    text = f"checks:\n  - name: probe\n    kind: http\n{entry}\n"
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    return caught.value


def test_the_documented_example_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROBE_AUTH_HEADER", "Bearer abc.def")
    (check,) = load(tmp_path, FULL_EXAMPLE).checks
    assert isinstance(check, HttpCheck)
    assert check.timeout_s == 5.0
    p = check.params
    assert isinstance(p, HttpParams)
    assert 204 in p.expect.status
    assert 201 not in p.expect.status
    assert [c.status for c in p.expect.json_conditions] == [None, None, Status.DEGRADED]
    assert p.expect.json_conditions[1].parsed.path == ("components", "database", "status")
    assert p.latency.degraded == 1.0
    assert p.latency.critical == 3.0
    assert p.tls.expiry_degraded == 14 * 86400
    assert p.max_body == 1024 * 1024
    assert p.headers_from_env["Authorization"].value.get_secret_value() == "Bearer abc.def"
    assert "Bearer abc.def" not in repr(p)
    assert "Bearer abc.def" not in p.model_dump_json()


def test_defaults(tmp_path: Path) -> None:
    (check,) = load(tmp_path, "checks: [{name: api, kind: http, url: 'https://x.test/h'}]").checks
    p = check.params
    assert isinstance(p, HttpParams)
    assert p.method == "GET"
    assert p.expect.status.describe() == "200-299"
    assert p.failure_status is Status.CRITICAL
    assert p.tls.verify is True
    assert p.follow_redirects is True
    assert p.max_redirects == 5
    assert p.max_body == 1024 * 1024


def test_missing_env_variable_is_named(tmp_path: Path) -> None:
    error = load_error(
        tmp_path, "url: http://h.test/\nheaders_from_env: {Authorization: PROBE_MISSING_VAR}"
    )
    assert error.key == "checks[0].headers_from_env.Authorization"
    assert "environment variable PROBE_MISSING_VAR is not set" in str(error)
    assert "prodguardian.yaml" in str(error)


def test_malformed_condition_is_named_with_its_key_path(tmp_path: Path) -> None:
    error = load_error(
        tmp_path,
        """
        url: http://h.test/
        expect:
          json: ['db == "up"', 'vector = "up"']
        """,
    )
    assert error.key == "checks[0].expect.json[1].condition"
    assert "malformed condition 'vector = \"up\"'" in str(error)


def test_malformed_condition_in_object_form(tmp_path: Path) -> None:
    error = load_error(
        tmp_path,
        """
        url: http://h.test/
        expect:
          json: [{condition: 'db == up', status: DEGRADED}]
        """,
    )
    assert error.key == "checks[0].expect.json[0].condition"
    assert "strings need double quotes" in str(error)


@pytest.mark.parametrize(
    ("entry", "key", "message"),
    [
        ("url: http://h.test/\nexpct: {status: 200}", "checks[0].expct", "did you mean 'expect'"),
        ("url: ftp://h.test/", "checks[0].url", "must start with http:// or https://"),
        ("url: http://u:pw@h.test/", "checks[0].url", "headers_from_env"),
        ("timeout: 5s", "checks[0].url", "required key is missing"),
        ("url: http://h.test/\nmethod: FETCH", "checks[0].method", "must be one of GET"),
        ("url: http://h.test/\nexpect: {status: 99}", "checks[0].expect.status", "100-599"),
        ("url: http://h.test/\nexpect: {status: '299-200'}", "checks[0].expect.status", "upside"),
        ("url: http://h.test/\nexpect: {status: []}", "checks[0].expect.status", "at least one"),
        ("url: http://h.test/\nexpect: {stat: 200}", "checks[0].expect.stat", "'status'"),
        ("url: http://h.test/\nmax_body: lots", "checks[0].max_body", "1MiB"),
        ("url: http://h.test/\nmax_body: 1GiB", "checks[0].max_body", "100MiB"),
        ("url: http://h.test/\nmax_redirects: -1", "checks[0].max_redirects", "greater than"),
        ("url: http://h.test/\nfailure_status: OK", "checks[0].failure_status", "DEGRADED or"),
        (
            "url: http://h.test/\nlatency: {degraded: 3s, critical: 1s}",
            "checks[0].latency",
            "must be below critical",
        ),
        ("url: http://h.test/\nlatency: {degraded: fast}", "checks[0].latency.degraded", "5s"),
        (
            "url: http://h.test/\ntls: {expiry_degraded: 3d, expiry_critical: 14d}",
            "checks[0].tls",
            "must not exceed",
        ),
        ("url: http://h.test/\ntls: {ca_file: /nonexistent/ca.pem}", "checks[0].tls.ca_file", ""),
        ("url: http://h.test/\nheaders: {'Bad Name': x}", "checks[0].headers", "header name"),
        (
            "url: http://h.test/\nheaders: {Authorization: x}\n"
            "headers_from_env: {authorization: HOME}",
            "checks[0]",
            "both in headers and headers_from_env",
        ),
        (
            "url: http://h.test/\nmethod: HEAD\nexpect: {json: [ok]}",
            "checks[0]",
            "HEAD response has no body",
        ),
        ("url: http://h.test/\nheaders_from_env: {X-T: 'not a name'}", "", "NAME of an"),
    ],
)
def test_bad_params_are_refused_with_the_key_path(
    tmp_path: Path, entry: str, key: str, message: str
) -> None:
    error = load_error(tmp_path, entry)
    if key:
        assert error.key == key, str(error)
    assert message in str(error)


def test_ca_file_that_is_not_pem_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate\n", encoding="utf-8")
    error = load_error(tmp_path, f"url: https://h.test/\ntls: {{ca_file: '{bad}'}}")
    assert error.key == "checks[0].tls.ca_file"
    assert "cannot load" in str(error)
    assert "as PEM CA certificates" in str(error)


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    error = load_error(tmp_path, "url: http://h.test/\nmethod: FETCH\nmax_body: lots")
    assert "2 problems" in str(error)
    assert "checks[0].method" in str(error)
    assert "checks[0].max_body" in str(error)


@pytest.mark.parametrize(
    ("value", "size"),
    [
        (1024, 1024),
        ("512KiB", 512 * 1024),
        ("1MiB", 1024**2),
        ("2MB", 2_000_000),
        ("10 kb", 10_000),
    ],
)
def test_byte_sizes(value: object, size: int) -> None:
    assert parse_byte_size(value) == size


@pytest.mark.parametrize("value", [0, -1, True, "1 MB B", "MiB", 1.5, None])
def test_bad_byte_sizes(value: object) -> None:
    with pytest.raises(ValueError, match=r"size|between"):
        parse_byte_size(value)


def test_status_codes_forms() -> None:
    p = HttpParams.model_validate({"url": "http://h.test/", "expect": {"status": 204}})
    assert p.expect.status.describe() == "204"
    p = HttpParams.model_validate({"url": "http://h.test/", "expect": {"status": [200, "300-399"]}})
    assert 302 in p.expect.status
    assert p.expect.status.describe() == "200, 300-399"
    assert p.model_dump(by_alias=True)["expect"]["status"] == [200, "300-399"]


def test_params_round_trip_through_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROBE_TOKEN", "very-secret-value")
    p = HttpParams.model_validate(
        {
            "url": "http://h.test/",
            "headers_from_env": {"Authorization": "PROBE_TOKEN"},
            "expect": {"json": ['db == "up"', {"condition": "ok == true", "status": "DEGRADED"}]},
        }
    )
    dumped = p.model_dump_json(by_alias=True)
    assert "very-secret-value" not in dumped
    again = HttpParams.model_validate_json(dumped)
    assert again.headers_from_env["Authorization"].variable == "PROBE_TOKEN"
    assert again.expect.json_conditions == p.expect.json_conditions
