"""Times on the command line (``--since-deploy``, ``--at``): ISO 8601, UTC without an offset."""

from __future__ import annotations

from datetime import datetime

import click

from prodguardian.config.duration import parse_duration
from prodguardian.logs.entry import parse_timestamp


def parse_time_option(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> datetime | None:
    """A click callback: an ISO 8601 time (UTC without an offset), or a usage error."""
    if value is None:
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a time; use ISO 8601 such as 2025-10-11T12:21:00Z"
        ) from None


class DurationType(click.ParamType[float, object]):
    """A duration option: ``30m``, ``2h``, ``1h30m`` or seconds."""

    name = "duration"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, float):
            return value
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


DURATION = DurationType()
