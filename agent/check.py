"""The check plugin contract.

A check kind is a subclass of :class:`Check` with a pydantic ``Params`` model and an
``async run(ctx)`` that returns a :class:`CheckResult`. It is registered under the entry-point
group ``prodguardian.checks``; built-ins register the same way.

Contract:

* ``run`` should return a result for every outcome of the *target* (refused, slow, broken):
  those are findings, not errors. It raises :class:`CheckError` (or anything else) only when
  the check itself could not run; the runner turns that into UNKNOWN with the reason.
* ``run`` must stay within ``ctx.timeout_s``; the runner abandons it at that deadline anyway.
* ``run`` never talks to Slack or any other output.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Generic, TypeVar

from pydantic import BaseModel

from prodguardian.context import CheckContext
from prodguardian.result import CheckResult

P = TypeVar("P", bound=BaseModel)


class Check(ABC, Generic[P]):
    """Base class of every check kind."""

    Params: ClassVar[type[BaseModel]]
    """The pydantic model of this kind's parameters; unknown keys must be forbidden."""

    def __init__(self, *, name: str, kind: str, params: P, timeout_s: float = 10.0) -> None:
        self.name = name
        self.kind = kind
        self.params = params
        self.timeout_s = timeout_s

    @abstractmethod
    async def run(self, ctx: CheckContext) -> CheckResult:
        """Run once and say what was found."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} kind={self.kind!r}>"
