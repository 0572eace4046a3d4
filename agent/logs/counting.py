"""How a scan counted its denominator, and the arithmetic of sampled estimates.

Three ways, cheapest first:

* ``metric``: the request count came from Cloud Monitoring (exact, one call whatever the
  traffic); only the interesting entries were listed.
* ``sampled``: no metric fits the scope (a text scope such as WebSocket traffic), so the
  entries that only count were listed through Logging's ``sample(insertId, fraction)`` and
  scaled up. The interesting entries are still listed whole, so errors are exact and only the
  denominator is estimated, with a 95 % interval.
* ``listed``: every entry in scope was listed (small traffic): exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

#: Two-sided 95 % normal quantile.
Z95 = 1.959964
#: Never sample below this fraction (a one-in-100,000 sample says little about anything).
MIN_FRACTION = 1e-5
#: Above this fraction sampling saves too little: list everything.
LIST_ALL_ABOVE = 0.5

Method = Literal["listed", "metric", "sampled"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Counting:
    """How ``Traffic.total`` was obtained; ``low``/``high`` bound it when it is estimated."""

    method: Method
    low: float | None = None
    high: float | None = None
    fraction: float | None = None
    sampled: int = 0
    """Counted-only entries the sample returned."""
    metric: str | None = None
    http_5xx: int | None = None
    """5xx responses in the window, from the metric (exact)."""
    note: str = ""
    """Why the cheaper way was not used (a Monitoring failure), when it was not."""

    @property
    def exact(self) -> bool:
        return self.method != "sampled"

    def describe(self) -> str:
        """``requests from Cloud Monitoring (exact)``, ``entries estimated from a 1.2 % sample``."""
        if self.method == "metric":
            text = f"requests from Cloud Monitoring {self.metric or ''} (exact)".replace("  ", " ")
        elif self.method == "sampled":
            text = (
                f"entries estimated from a {100 * (self.fraction or 0):.3g} % sample "
                f"({self.sampled:,} sampled)"
            )
        else:
            text = "every entry listed (exact)"
        return f"{text}; {self.note}" if self.note else text


def choose_fraction(first_page: int, covered_s: float, window_s: float, *, target: int) -> float:
    """The sample fraction for about ``target`` sampled entries, from a first page of
    ``first_page`` entries that covered ``covered_s`` of a ``window_s`` window (1.0: list all)."""
    projected = first_page * window_s / max(covered_s, 1e-3)
    fraction = target / max(projected, 1.0)
    if fraction >= LIST_ALL_ABOVE:
        return 1.0
    fraction = max(fraction, MIN_FRACTION)
    # Two significant digits, rounded down: a stable filter text for incremental reads.
    scale = 10.0 ** (math.floor(math.log10(fraction)) - 1)
    return math.floor(fraction / scale) * scale


def estimate_total(exact_part: int, sampled: int, fraction: float) -> tuple[float, float, float]:
    """``(estimate, low, high)`` of ``exact_part`` + the entries ``sampled`` stands for.

    ``sampled`` ~ Binomial(M, fraction), so M ≈ sampled / fraction with a normal-approximation
    95 % interval; the low end is never below what was actually seen.
    """
    if fraction >= 1.0:
        return float(exact_part + sampled), float(exact_part + sampled), float(exact_part + sampled)
    point = sampled / fraction
    half = Z95 * math.sqrt(max(sampled, 1) * (1.0 - fraction)) / fraction
    low = max(point - half, float(sampled))
    return exact_part + point, exact_part + low, exact_part + point + half


def rate_interval(errors: int, low: float, high: float) -> tuple[float, float]:
    """The error rate's interval in percent, for an exact ``errors`` over ``[low, high]``."""
    if high <= 0:
        return 0.0, 0.0
    return 100.0 * errors / high, 100.0 * errors / max(low, 1e-9)


def straddled(low_pct: float, high_pct: float, thresholds: dict[str, float]) -> list[str]:
    """The names of the thresholds that fall inside ``[low_pct, high_pct)``."""
    return [name for name, value in thresholds.items() if low_pct < value <= high_pct]
