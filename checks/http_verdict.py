"""The ``http`` check's decisions: from what a probe observed to a status, summary and evidence.

Pure functions: no I/O, no clock (``now`` is passed in), so every rule is tested directly.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prodguardian.checks.http_conditions import evaluate
from prodguardian.checks.http_outcome import ProbeFailure, ProbeResponse
from prodguardian.checks.http_params import HttpParams
from prodguardian.checks.http_tls import CertInfo
from prodguardian.evidence import Evidence, FailedCondition, Observation
from prodguardian.result import CheckResult
from prodguardian.status import Status, worst

__all__ = ["excerpt", "format_size", "judge_failure", "judge_response"]

#: How many failures the one-line summary names before saying "and N more".
SUMMARY_FINDINGS = 3
EXCERPT_CHARS = 160


@dataclass(frozen=True, slots=True)
class _Finding:
    summary: str
    evidence: FailedCondition

    @property
    def status(self) -> Status:
        return self.evidence.status


def format_size(size: int) -> str:
    """``1 MiB``, ``512 KiB``, ``300 B``: sizes as people write them."""
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= factor:
            value = size / factor
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size} B"


def excerpt(body: bytes, limit: int = EXCERPT_CHARS) -> str:
    """A short, escaped excerpt of a body: printable, one line, safe for any output."""
    text = body[: limit * 4].decode("utf-8", errors="replace")
    shown = repr(text[:limit])[1:-1]
    return shown + ("…" if len(text) > limit or len(body) > limit * 4 else "")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def judge_response(params: HttpParams, response: ProbeResponse, *, now: datetime) -> CheckResult:
    """Judge a response against the expectations of ``params``.

    Header values taken from the environment are secrets: a target that echoes one back (a
    debug endpoint, an error page) gets it replaced by ``[redacted]`` in every text shown.
    """
    secrets = _secret_values(params)
    shown_body = _redact_bytes(response.body, secrets)
    findings = [
        *_status_findings(params, response),
        *_body_findings(params, response, shown_body),
        *_latency_findings(params, response),
        *_cert_findings(params, response.cert, now=now),
    ]
    status = worst(f.status for f in findings)
    metrics = {
        "response_time_ms": round(response.total_s * 1000, 3),
        "headers_ms": round(response.headers_s * 1000, 3),
        "status_code": float(response.status_code),
        "body_bytes": float(len(response.body)),
        "redirects": float(len(response.redirects)),
    }
    if response.cert is not None:
        metrics["tls_days_left"] = round(response.cert.days_left(now), 3)
    evidence: list[Evidence] = [f.evidence for f in findings]
    evidence += _response_observations(response, shown_body, failed=bool(findings))
    if findings:
        summary = _join_findings(findings)
    else:
        summary = f"HTTP {response.status_code} {response.reason} in {_ms(response.total_s)}"
        if response.cert is not None:
            summary += f", certificate valid for {response.cert.days_left(now):.0f} more days"
    if secrets:
        summary = _redact(summary, secrets)
        evidence = [_redact_evidence(e, secrets) for e in evidence]
    return CheckResult(status=status, summary=summary, metrics=metrics, evidence=tuple(evidence))


def judge_failure(params: HttpParams, failure: ProbeFailure, *, now: datetime) -> CheckResult:
    """A probe that got no usable response is CRITICAL, with the reason it failed."""
    evidence: list[Evidence] = [
        FailedCondition(
            condition=failure.condition,
            expected=failure.expected,
            actual=failure.actual,
            status=Status.CRITICAL,
        )
    ]
    metrics = {"elapsed_ms": round(failure.elapsed_s * 1000, 3)}
    summary = failure.summary
    if failure.cert is not None:
        evidence.append(Observation(label="certificate", text=failure.cert.describe()))
        metrics["tls_days_left"] = round(failure.cert.days_left(now), 3)
        days = failure.cert.days_left(now)
        if days < 0:
            summary += f" (not valid after {failure.cert.not_after:%Y-%m-%d}, {-days:.0f} days ago)"
    if failure.detail and failure.detail != failure.actual:
        evidence.append(Observation(label="error", text=failure.detail))
    evidence.append(Observation(label="request", text=f"{params.method} {params.url}"))
    return CheckResult(
        status=Status.CRITICAL, summary=summary, metrics=metrics, evidence=tuple(evidence)
    )


def _join_findings(findings: list[_Finding]) -> str:
    ordered = sorted(findings, key=lambda f: -f.status.severity)
    parts = [f.summary for f in ordered[:SUMMARY_FINDINGS]]
    if len(ordered) > SUMMARY_FINDINGS:
        parts.append(f"and {len(ordered) - SUMMARY_FINDINGS} more")
    return "; ".join(parts)


def _status_findings(params: HttpParams, response: ProbeResponse) -> Iterable[_Finding]:
    expected = params.expect.status
    if response.status_code in expected:
        return
    actual = f"{response.status_code} {response.reason}".strip()
    if response.location and 300 <= response.status_code < 400:
        actual += f" → {response.location}"
    yield _Finding(
        f"HTTP {actual} (expected {expected.describe()})",
        FailedCondition(
            condition=f"status in {expected.describe()}",
            expected=expected.describe(),
            actual=actual,
            status=params.failure_status,
        ),
    )


def _body_findings(
    params: HttpParams, response: ProbeResponse, shown_body: bytes
) -> Iterable[_Finding]:
    conditions = params.expect.json_conditions
    if conditions:
        yield from _json_findings(params, response, shown_body)
    needle = params.expect.body_contains
    if needle is not None:
        text = response.body.decode(response.charset or "utf-8", errors="replace")
        if needle not in text:
            where = f"the {len(response.body)}-byte body"
            if not response.body_complete:
                where = f"the first {format_size(params.max_body)} of the body (cut at max_body)"
            yield _Finding(
                f"body does not contain {needle!r}",
                FailedCondition(
                    condition=f"body contains {json.dumps(needle)}",
                    expected="present",
                    actual=f"not found in {where}",
                    status=params.failure_status,
                ),
            )


def _json_findings(
    params: HttpParams, response: ProbeResponse, shown_body: bytes
) -> Iterable[_Finding]:
    conditions = params.expect.json_conditions
    # If the body cannot be read as JSON, no condition can hold: the worst of theirs applies.
    unverifiable = worst(c.status or params.failure_status for c in conditions)
    if not response.body_complete:
        cap = format_size(params.max_body)
        yield _Finding(
            f"body cut at the {cap} cap (max_body) before it ended; JSON conditions not checked",
            FailedCondition(
                condition="body is complete JSON",
                expected=f"a JSON body of at most {cap} (max_body)",
                actual=f"body cut at the {cap} cap (max_body)",
                status=unverifiable,
            ),
        )
        return
    body, error = _decode_json(response)
    if error is not None:
        yield _Finding(
            f"body is not valid JSON ({error}): {excerpt(shown_body, 60)}",
            FailedCondition(
                condition="body is JSON",
                expected="a valid JSON body",
                actual=f"not valid JSON ({error}): {excerpt(shown_body)}",
                status=unverifiable,
            ),
        )
        return
    for condition in conditions:
        result = evaluate(condition.parsed, body)
        if not result.holds:
            yield _Finding(
                f"{condition.condition} failed (actual: {result.actual})",
                FailedCondition(
                    condition=condition.condition,
                    expected=result.expected,
                    actual=result.actual,
                    status=condition.status or params.failure_status,
                ),
            )


def _decode_json(response: ProbeResponse) -> tuple[Any, str | None]:
    if not response.body.strip():
        return None, "the body is empty"
    try:
        text = response.body.decode(response.charset or "utf-8")
    except (UnicodeDecodeError, LookupError) as exc:
        return None, f"cannot decode it as {response.charset or 'utf-8'}: {exc.__class__.__name__}"
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        return None, f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    except RecursionError:
        return None, "nested too deeply"


def _latency_findings(params: HttpParams, response: ProbeResponse) -> Iterable[_Finding]:
    took = response.total_s
    for status, limit in (
        (Status.CRITICAL, params.latency.critical),
        (Status.DEGRADED, params.latency.degraded),
    ):
        if limit is not None and took > limit:
            yield _Finding(
                f"slow: response took {_ms(took)} ({status.value} above {_ms(limit)})",
                FailedCondition(
                    condition="response time",
                    expected=f"at most {_ms(limit)}",
                    actual=_ms(took),
                    status=status,
                ),
            )
            return


def _cert_findings(
    params: HttpParams, cert: CertInfo | None, *, now: datetime
) -> Iterable[_Finding]:
    if cert is None:
        return
    days = cert.days_left(now)
    expiry = f"{cert.not_after:%Y-%m-%d %H:%M} UTC"
    if days < 0:
        status, summary = Status.CRITICAL, f"certificate expired {-days:.1f} days ago ({expiry})"
    elif days * 86400 <= params.tls.expiry_critical:
        status, summary = Status.CRITICAL, f"certificate expires in {days:.1f} days ({expiry})"
    elif days * 86400 <= params.tls.expiry_degraded:
        status, summary = Status.DEGRADED, f"certificate expires in {days:.1f} days ({expiry})"
    else:
        return
    limit = params.tls.expiry_critical if status is Status.CRITICAL else params.tls.expiry_degraded
    yield _Finding(
        summary,
        FailedCondition(
            condition="certificate expiry",
            expected=f"valid for more than {limit / 86400:g} days",
            actual=f"{days:.1f} days left ({expiry})",
            status=status,
        ),
    )


def _response_observations(
    response: ProbeResponse, shown_body: bytes, *, failed: bool
) -> list[Evidence]:
    observed: list[Evidence] = []
    if response.redirects:
        chain = " → ".join([*response.redirects, response.url])
        observed.append(Observation(label="redirects", text=chain))
    if response.cert is not None:
        observed.append(Observation(label="certificate", text=response.cert.describe()))
    if failed and response.body:
        kind = response.content_type or "no content type"
        cut = "" if response.body_complete else ", cut at max_body"
        observed.append(
            Observation(
                label="response body",
                text=f"({kind}, {len(response.body)} bytes{cut}) {excerpt(shown_body)}",
            )
        )
    return observed


# --- secrets from the environment never show, even when a target echoes them back ---

_REDACTED = "[redacted]"


def _secret_values(params: HttpParams) -> tuple[str, ...]:
    values = (s.value.get_secret_value() for s in params.headers_from_env.values())
    # Very short values would redact ordinary text; they are not worth hiding anyway.
    return tuple(v for v in values if len(v) >= 4)


def _redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        text = text.replace(secret, _REDACTED)
    return text


def _redact_bytes(body: bytes, secrets: tuple[str, ...]) -> bytes:
    for secret in secrets:
        body = body.replace(secret.encode(), _REDACTED.encode())
    return body


def _redact_evidence(item: Evidence, secrets: tuple[str, ...]) -> Evidence:
    if isinstance(item, FailedCondition):
        return item.model_copy(update={"actual": _redact(item.actual, secrets)})
    if isinstance(item, Observation):
        return item.model_copy(update={"text": _redact(item.text, secrets)})
    return item
