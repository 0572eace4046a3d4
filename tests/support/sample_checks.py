"""Check kinds for testing the engine: each a real Check subclass with a real Params model."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from prodguardian.check import Check
from prodguardian.context import CheckContext
from prodguardian.errors import CheckError
from prodguardian.registry import CheckRegistry
from prodguardian.result import CheckResult
from prodguardian.status import Status


class StaticParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Status = Status.OK
    summary: str = "static result"
    delay_s: float = 0.0


class StaticCheck(Check[StaticParams]):
    """Says what its params say, after an optional delay."""

    Params = StaticParams

    async def run(self, ctx: CheckContext) -> CheckResult:
        if self.params.delay_s:
            await asyncio.sleep(self.params.delay_s)
        return CheckResult(status=self.params.status, summary=self.params.summary)


class FailingParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    error: Literal["check_error", "crash", "wrong_type", "self_cancel"] = "crash"
    message: str = "boom"


class FailingCheck(Check[FailingParams]):
    """Fails in the way its params name."""

    Params = FailingParams

    async def run(self, ctx: CheckContext) -> CheckResult:
        if self.params.error == "check_error":
            raise CheckError(self.params.message)
        if self.params.error == "crash":
            raise ZeroDivisionError(self.params.message)
        if self.params.error == "self_cancel":
            raise asyncio.CancelledError
        bad: Any = {"status": "OK"}
        return bad  # type: ignore[no-any-return]


class StubbornParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    linger_s: float = 2.0


class StubbornCheck(Check[StubbornParams]):
    """Hangs, and swallows the first cancellation before finishing late: a badly written plugin."""

    Params = StubbornParams

    async def run(self, ctx: CheckContext) -> CheckResult:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            await asyncio.sleep(self.params.linger_s)
        return CheckResult(status=Status.OK, summary="finished late")


SAMPLE_KINDS: dict[str, Any] = {
    "static": StaticCheck,
    "failing": FailingCheck,
    "stubborn": StubbornCheck,
}


def sample_registry() -> CheckRegistry:
    return CheckRegistry(SAMPLE_KINDS)


def static(name: str, status: Status = Status.OK, *, delay_s: float = 0.0) -> StaticCheck:
    return StaticCheck(
        name=name, kind="static", params=StaticParams(status=status, delay_s=delay_s)
    )
