"""The ``http`` check's parameters, validated at config load.

Everything a user can get wrong is refused here, with the key and the fix: a malformed JSON
condition, a status range upside down, an unset environment variable behind a header, a body
cap written ``1 MB B``. Header values taken from the environment are :class:`SecretStr` and
serialise as the variable's *name*, so a dump of the params never shows a secret.
"""

from __future__ import annotations

import os
import re
import ssl
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    FilePath,
    PlainSerializer,
    PrivateAttr,
    SecretStr,
    field_validator,
    model_serializer,
    model_validator,
)
from yarl import URL

from prodguardian.checks.http_conditions import Condition, parse_condition
from prodguardian.config.duration import Duration
from prodguardian.status import Status

__all__ = [
    "ByteSize",
    "EnvSecret",
    "Expect",
    "HttpParams",
    "JsonCondition",
    "LatencyThresholds",
    "StatusCodes",
    "TlsParams",
    "parse_byte_size",
]

_DAY = 86400.0
_MiB = 1024 * 1024
MAX_BODY_LIMIT = 100 * _MiB

_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|kB|KB|MB|GB)?", re.IGNORECASE)
_SIZE_UNITS = {
    "b": 1,
    "kib": 1024,
    "mib": _MiB,
    "gib": 1024 * _MiB,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
}
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def parse_byte_size(value: object) -> int:
    """Bytes from ``1048576``, ``"512KiB"``, ``"1MiB"`` or ``"2MB"``; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError("expected a size such as 1MiB, 512KiB or a number of bytes")
    if isinstance(value, int):
        size = value
    elif isinstance(value, str) and (match := _SIZE.fullmatch(value.strip())):
        number, unit = match.groups()
        size = int(float(number) * _SIZE_UNITS[(unit or "b").lower()])
    else:
        raise ValueError(
            f"expected a size such as 1MiB, 512KiB, 2MB or a number of bytes, got {value!r}"
        )
    if not 1 <= size <= MAX_BODY_LIMIT:
        raise ValueError(f"must be between 1 byte and 100MiB, got {value!r}")
    return size


ByteSize = Annotated[int, BeforeValidator(parse_byte_size)]
"""A size in bytes, written as a number or with a unit (``512KiB``, ``1MiB``, ``2MB``)."""


def _parse_status(value: object) -> Status:
    text = value.strip().upper() if isinstance(value, str) else None
    if text not in (Status.DEGRADED, Status.CRITICAL):
        raise ValueError(f"must be DEGRADED or CRITICAL, got {value!r}")
    return Status(text)


FailureStatus = Annotated[Status, BeforeValidator(_parse_status)]


class StatusCodes(_Model):
    """Accepted HTTP status codes: ``200``, ``[200, 204]``, ``"200-299"`` or a mix in a list."""

    ranges: tuple[tuple[int, int], ...]
    """Inclusive ``(low, high)`` ranges; written in the config as shown above."""

    @model_validator(mode="before")
    @classmethod
    def _from_config(cls, value: Any) -> Any:
        if isinstance(value, dict) and "ranges" in value:
            return value
        items = value if isinstance(value, list) else [value]
        if not items:
            raise ValueError('give at least one status code, e.g. 200 or "200-299"')
        return {"ranges": tuple(_status_range(item) for item in items)}

    def __contains__(self, code: object) -> bool:
        return isinstance(code, int) and any(lo <= code <= hi for lo, hi in self.ranges)

    def describe(self) -> str:
        """``200-299`` or ``200, 204``: how the codes read in messages."""
        return ", ".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in self.ranges)

    @model_serializer
    def _to_config(self) -> list[int | str]:
        return [lo if lo == hi else f"{lo}-{hi}" for lo, hi in self.ranges]


def _status_range(item: object) -> tuple[int, int]:
    if isinstance(item, bool):
        raise ValueError(f'expected a status code such as 200 or a range "200-299", got {item!r}')
    if isinstance(item, int):
        lo = hi = item
    elif isinstance(item, str) and (m := re.fullmatch(r"\s*(\d{3})\s*(?:-\s*(\d{3})\s*)?", item)):
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
    else:
        raise ValueError(f'expected a status code such as 200 or a range "200-299", got {item!r}')
    if not (100 <= lo <= 599 and 100 <= hi <= 599):
        raise ValueError(f"HTTP status codes are 100-599, got {item!r}")
    if lo > hi:
        raise ValueError(f'the range {item!r} is upside down; write "{hi}-{lo}"')
    return lo, hi


class JsonCondition(_Model):
    """A condition on the JSON body, with the status it gives when it fails (if not the default).

    Written as a string (``'db == "up"'``) or as ``{condition: ..., status: DEGRADED}``.
    """

    condition: str
    """``path op literal`` (``components.db.status == "up"``; ops ``== != < <= > >=``), or a
    bare path that must exist."""
    status: FailureStatus | None = None
    """``DEGRADED`` or ``CRITICAL`` when it fails (default: the check's ``failure_status``)."""
    _parsed: Condition = PrivateAttr()

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        return {"condition": value} if isinstance(value, str) else value

    @field_validator("condition")
    @classmethod
    def _parses(cls, text: str) -> str:
        parse_condition(text)
        return text

    def model_post_init(self, context: Any, /) -> None:
        self._parsed = parse_condition(self.condition)

    @property
    def parsed(self) -> Condition:
        """The parsed condition, ready for :func:`~prodguardian.checks.http_conditions.evaluate`."""
        return self._parsed


class EnvSecret(_Model):
    """A header value read from an environment variable at config load; never shown."""

    variable: str
    """The environment variable's name."""
    value: SecretStr
    """Its value, read at config load."""


def _env_secret(value: object) -> object:
    if isinstance(value, EnvSecret | dict):
        return value
    if not isinstance(value, str) or not _ENV_NAME.match(value):
        raise ValueError(
            f"expected the NAME of an environment variable (letters, digits, _), got {value!r}"
        )
    secret = os.environ.get(value)
    if secret is None:
        raise ValueError(
            f"environment variable {value} is not set; export it with the header's value"
        )
    if "\r" in secret or "\n" in secret:
        raise ValueError(f"environment variable {value} holds a line break; a header cannot")
    return {"variable": value, "value": secret}


EnvHeaderValue = Annotated[
    EnvSecret,
    BeforeValidator(_env_secret),
    PlainSerializer(lambda secret: secret.variable, return_type=str),
]


class LatencyThresholds(_Model):
    """Response times above which the check is DEGRADED or CRITICAL."""

    degraded: Duration | None = None
    """A response slower than this is DEGRADED."""
    critical: Duration | None = None
    """A response slower than this is CRITICAL (above ``degraded``)."""

    @model_validator(mode="after")
    def _ordered(self) -> LatencyThresholds:
        low, high = self.degraded, self.critical
        if low is not None and high is not None and low >= high:
            raise ValueError(f"degraded ({low:g} s) must be below critical ({high:g} s)")
        return self


class TlsParams(_Model):
    """Certificate verification and expiry thresholds for https targets."""

    verify: bool = True
    """Verify the certificate chain and host name (false: accept any certificate)."""
    ca_file: FilePath | None = None
    """PEM file of CA certificates to trust instead of the system's (relative to where
    ProdGuardian runs)."""
    expiry_degraded: Duration = 14 * _DAY
    """A certificate that expires within this is DEGRADED."""
    expiry_critical: Duration = 3 * _DAY
    """A certificate that expires within this is CRITICAL."""

    @model_validator(mode="after")
    def _consistent(self) -> TlsParams:
        if self.expiry_critical > self.expiry_degraded:
            raise ValueError(
                f"expiry_critical ({self.expiry_critical / _DAY:g}d) must not exceed "
                f"expiry_degraded ({self.expiry_degraded / _DAY:g}d)"
            )
        if self.ca_file is not None and not self.verify:
            raise ValueError("ca_file is only used to verify certificates; remove it or set verify")
        return self

    @field_validator("ca_file")
    @classmethod
    def _loadable(cls, path: Path | None) -> Path | None:
        if path is not None:
            try:
                ssl.create_default_context(cafile=str(path))
            except (OSError, ssl.SSLError) as exc:
                problem = f"cannot load {str(path)!r} as PEM CA certificates: {exc}"
                raise ValueError(problem) from None
        return path


class Expect(_Model):
    """What a healthy answer looks like."""

    status: StatusCodes = StatusCodes(ranges=((200, 299),))
    """Accepted status codes: ``200``, ``[200, 204]``, ``"200-299"`` or a mix in a list."""
    json_conditions: tuple[JsonCondition, ...] = Field(default=(), alias="json")
    """Conditions on the JSON body, each a string or ``{condition, status}``."""
    body_contains: str | None = Field(default=None, min_length=1)
    """Text the body must contain."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class HttpParams(_Model):
    """Parameters of the ``http`` check (see ``config/prodguardian.example.yaml``)."""

    url: str
    """The ``http://`` or ``https://`` URL to probe (no credentials in it: use
    ``headers_from_env``)."""
    method: str = "GET"
    """``GET``, ``HEAD``, ``POST``, ``PUT``, ``PATCH``, ``DELETE`` or ``OPTIONS``."""
    headers: dict[str, str] = Field(default_factory=dict)
    """Request headers with literal values."""
    headers_from_env: dict[str, EnvHeaderValue] = Field(default_factory=dict)
    """Request headers whose values come from environment variables: header name → variable
    name (``Authorization: PROBE_AUTH_HEADER``); the value is never printed."""
    expect: Expect = Expect()
    """What a healthy answer looks like."""
    failure_status: FailureStatus = Status.CRITICAL
    """``DEGRADED`` or ``CRITICAL``: the status of a failed probe or condition that sets none."""
    latency: LatencyThresholds = LatencyThresholds()
    """Response-time thresholds (none by default)."""
    tls: TlsParams = TlsParams()
    """Certificate checks of ``https`` URLs."""
    follow_redirects: bool = True
    """Follow redirects (false: a 3xx answer is judged as it is)."""
    max_redirects: int = Field(default=5, ge=0, le=50)
    """More redirects than this fail the probe."""
    max_body: ByteSize = _MiB
    """The body is read up to this size, never more (JSON conditions on a cut body fail)."""

    @field_validator("url")
    @classmethod
    def _valid_url(cls, value: str) -> str:
        try:
            url = URL(value.strip())
        except (TypeError, ValueError) as exc:
            raise ValueError(f"not a URL: {exc}") from None
        if url.scheme not in ("http", "https"):
            raise ValueError(f"the URL must start with http:// or https://, got {value!r}")
        if not url.host:
            raise ValueError(f"the URL has no host: {value!r}")
        if url.user is not None or url.password is not None:
            raise ValueError(
                "credentials in the URL would be shown in reports; send them with "
                "headers_from_env: {Authorization: SOME_ENV_VAR} instead"
            )
        return str(url)

    @field_validator("method")
    @classmethod
    def _valid_method(cls, value: str) -> str:
        method = value.strip().upper()
        if method not in _METHODS:
            raise ValueError(f"must be one of {', '.join(_METHODS)}, got {value!r}")
        return method

    @field_validator("headers", "headers_from_env")
    @classmethod
    def _valid_header_names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name, header_value in value.items():
            if not _HEADER_NAME.match(name):
                raise ValueError(f"{name!r} is not a valid HTTP header name")
            if isinstance(header_value, str) and ("\r" in header_value or "\n" in header_value):
                raise ValueError(f"the value of header {name!r} holds a line break")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> HttpParams:
        both = {h.lower() for h in self.headers} & {h.lower() for h in self.headers_from_env}
        if both:
            raise ValueError(
                f"header(s) {', '.join(sorted(both))} set both in headers and headers_from_env; "
                "keep one"
            )
        if self.method == "HEAD" and (self.expect.json_conditions or self.expect.body_contains):
            raise ValueError(
                "a HEAD response has no body, so expect.json / expect.body_contains cannot hold; "
                "use GET"
            )
        return self

    _url: URL = PrivateAttr()

    def model_post_init(self, context: Any, /) -> None:
        self._url = URL(self.url)

    @property
    def parsed_url(self) -> URL:
        """``url`` parsed once, since a probe may run thousands of times."""
        return self._url
