"""What a log check says about its denominator: exact or estimated, and from where.

A pure function of the scan's :class:`~prodguardian.logs.counting.Counting`, the errors and the
thresholds: metrics for the result, a phrase for the summary, an observation for the evidence,
and a warning when an estimated rate's interval straddles a threshold (the status then comes
from the point estimate, and the report says that it is uncertain instead of pretending).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from prodguardian.evidence import Observation
from prodguardian.logs.counting import Counting, rate_interval, straddled


@dataclass(frozen=True, slots=True, kw_only=True)
class CountsReport:
    """How the counts of one result were obtained, ready to show."""

    noun: str = "entries"
    """``requests`` when the denominator is a request metric."""
    metrics: dict[str, float] = field(default_factory=dict)
    phrase: str = ""
    """For the summary: ``requests from Cloud Monitoring (exact)``; empty for a plain listing."""
    warnings: tuple[str, ...] = ()
    evidence: Observation | None = None

    def applied_to(self, summary: str) -> str:
        """``summary`` in this report's noun, with the phrase appended."""
        if self.noun != "entries":
            summary = summary.replace("no log entries", f"no {self.noun}", 1)
            summary = re.sub(r"(\d+) entries are errors", rf"\1 {self.noun} are errors", summary)
        return f"{summary}; {self.phrase}" if self.phrase else summary


def report_counts(
    counting: Counting | None, *, errors: int, thresholds: dict[str, float]
) -> CountsReport:
    """See the module docstring; ``counting`` None means every entry was listed."""
    if counting is None:
        return CountsReport(metrics={"entries_exact": 1.0})
    metrics: dict[str, float] = {"entries_exact": 1.0 if counting.exact else 0.0}
    warnings: list[str] = []
    text = counting.describe()
    if counting.http_5xx is not None:
        metrics["http_5xx"] = float(counting.http_5xx)
        text += f"; {counting.http_5xx:,} responses were 5xx"
    if not counting.exact and counting.low is not None and counting.high is not None:
        low_pct, high_pct = rate_interval(errors, counting.low, counting.high)
        metrics.update(
            entries_low=round(counting.low, 1),
            entries_high=round(counting.high, 1),
            error_rate_low_pct=round(low_pct, 4),
            error_rate_high_pct=round(high_pct, 4),
            sample_fraction=counting.fraction or 0.0,
        )
        interval = f"95 % interval of the rate {low_pct:.2f}–{high_pct:.2f} %"
        text += f"; {interval}"
        for name in straddled(low_pct, high_pct, thresholds):
            warnings.append(
                f"the {interval} straddles {name} {thresholds[name]:g} %: the status follows "
                "the estimate, the truth may be on either side"
            )
    noun = "requests" if counting.method == "metric" else "entries"
    if counting.method == "listed" and not counting.note:
        return CountsReport(noun=noun, metrics=metrics)
    return CountsReport(
        noun=noun,
        metrics=metrics,
        phrase=text,
        warnings=tuple(warnings),
        evidence=Observation(label="counts", text=text),
    )
