"""Benchmark: error lines matched against the runbook library, RE2 sets versus Python ``re``.

100,000 error lines (variants of the incident history, failures the generated runbooks cover,
and unknown errors) against the built-in library plus 200 generated runbooks. The RE2 path is
the product's own (:class:`RunbookMatcher`: one set per field). The comparison evaluates the
same rules with Python's ``re``, one pattern at a time, on the first 10,000 lines; both paths
must pick the same best runbook for every line they both saw.

Last line of stdout: one JSON object with ``lines_per_s`` (goal ≥ 200,000) and ``re_lines_per_s``,
plus a breakdown of the RE2 path per line: ``subject_us_per_line`` (raw line → fields, timed on
its own over the same lines) and ``match_us_per_line`` (the rest: RE2 sets and the decision).
"""

from __future__ import annotations

import json
import random
import re
import sys
import time
from collections.abc import Callable, Sequence

from prodguardian.runbooks import MatchRule, Runbook, RunbookMatcher, builtin_runbooks
from prodguardian.runbooks.loader import parse_runbook
from prodguardian.runbooks.matcher import EXTRA_RULE_BONUS, FIELD_WEIGHTS
from prodguardian.runbooks.model import PATTERN_FIELDS
from prodguardian.runbooks.subject import MatchSubject, from_text

LINES = 100_000
GENERATED_RUNBOOKS = 200
RE_LINES = 10_000
SEED = 7

_BODY = "## Symptoms\n\nx\n\n## Cause\n\nx\n\n## Fix\n\n1. x\n\n## Verification\n\nx\n"
_COMPONENTS = ["billing", "search", "ingest", "auth", "export", "render", "sync", "mailer"]


def generated_runbook(i: int) -> Runbook:
    """A runbook like a team would write: an exception and a message, or a route with 5xx."""
    component = _COMPONENTS[i % len(_COMPONENTS)]
    front = (
        f"id: generated-{i:03d}\n"
        f"title: Generated failure {i}\n"
        "severity: medium\n"
        "match:\n"
        f"  - exception_type: '(^|\\.){component.title()}{i}Error$'\n"
        f"    message: '(?i)failed to (sync|load) shard \\d+ of {component}-{i}\\b'\n"
        f"  - message: 'queue {component}-{i}-[a-z]+ is (full|stalled) after \\d+ ?ms'\n"
        f"  - http_statuses: [5xx]\n"
        f"    message: '/api/{component}/v{i}/'\n"
    )
    return parse_runbook(f"---\n{front}---\n{_BODY}", source=f"generated-{i:03d}.md")


def error_lines(count: int, rng: random.Random) -> list[str]:
    """Realistic error lines: incident variants, generated-runbook failures, unknown errors."""
    makers: list[Callable[[], str]] = [
        lambda: "RuntimeError: Database connection is not available.",
        lambda: f"starlette.websockets.WebSocketDisconnect: ({rng.choice([1000, 1001])}, None)",
        lambda: (
            f"Memory limit of {rng.choice([512, 1024, 2048])} MiB exceeded with "
            f"{rng.randint(513, 2600)} MiB used. Consider increasing the memory limit, see "
            "https://cloud.google.com/run/docs/configuring/memory-limits"
        ),
        lambda: f'"GET /assets/chat-{rng.randrange(16**8):08x}.js HTTP/1.1" 429 Too Many Requests',
        lambda: (
            f"LIVENESS HTTP probe failed {rng.randint(1, 5)} times consecutively for container "
            f'"app-1" on path "/health/{rng.choice(["live", "liveness"])}". Restarting.'
        ),
        lambda: (
            f"Revision 'emergence-app-{rng.randint(1, 99999):05d}-{rng.randrange(16**3):03x}' is "
            "not ready and cannot serve traffic."
        ),
        lambda: f"ModuleNotFoundError: No module named '{rng.choice(['backend', 'app', 'core'])}'",
        lambda: (
            "openai.BadRequestError: Error code: 400 - 'messages' must contain the word 'json' "
            f"in some form, request_id: req_{rng.randrange(16**12):012x}"
        ),
        lambda: (
            "[PreferenceExtractor] Cannot extract: no user identifier (user_sub or user_id) "
            f"found for session sess_{rng.randrange(16**10):010x}"
        ),
        lambda: f"RuntimeError: Vector store not initialized yet (attempt {rng.randint(1, 9)})",
    ]

    def generated() -> str:
        i = rng.randrange(GENERATED_RUNBOOKS)
        component = _COMPONENTS[i % len(_COMPONENTS)]
        if rng.random() < 0.5:
            return (
                f"{component}.workers.{component.title()}{i}Error: failed to sync shard "
                f"{rng.randint(1, 512)} of {component}-{i}"
            )
        return f"queue {component}-{i}-primary is stalled after {rng.randint(5, 9000)} ms"

    def unknown() -> str:
        return rng.choice(
            [
                f"KeyError: 'user_{rng.randint(1, 10**6)}'",
                "ZeroDivisionError: division by zero",
                f"ValueError: invalid literal for int() with base 10: '{rng.randrange(16**6):x}'",
                f"TimeoutError: upstream did not answer within {rng.randint(1, 60)} s",
            ]
        )

    lines = []
    prefix = "2025-10-11T11:{:02d}:{:02d}.{:06d}Z ERROR "
    for _ in range(count):
        roll = rng.random()
        body = rng.choice(makers)() if roll < 0.6 else generated() if roll < 0.8 else unknown()
        stamp = prefix.format(rng.randrange(60), rng.randrange(60), rng.randrange(10**6))
        lines.append(stamp + body)
    return lines


class ReMatcher:
    """The same rules as :class:`RunbookMatcher`, with Python ``re``, one pattern at a time."""

    def __init__(self, runbooks: Sequence[Runbook]) -> None:
        self._runbooks = [
            (rb, [self._compile(rule) for rule in rb.match], [self._compile(r) for r in rb.exclude])
            for rb in runbooks
        ]

    @staticmethod
    def _compile(rule: MatchRule) -> tuple[MatchRule, list[tuple[str, list[re.Pattern[str]]]]]:
        fields = [(f, [re.compile(p) for p in rule.patterns(f)]) for f in PATTERN_FIELDS]
        return rule, [(f, patterns) for f, patterns in fields if patterns]

    def best(self, subject: MatchSubject) -> str | None:
        found: list[tuple[float, int, str]] = []
        for runbook, rules, excludes in self._runbooks:
            scores = [s for s in (self._score(rule, subject) for rule in rules) if s]
            if scores and not any(self._score(rule, subject) for rule in excludes):
                score = max(scores) + EXTRA_RULE_BONUS * (len(scores) - 1)
                found.append((-score, -runbook.severity.rank, runbook.id))
        return min(found)[2] if found else None

    @staticmethod
    def _score(
        compiled: tuple[MatchRule, list[tuple[str, list[re.Pattern[str]]]]],
        subject: MatchSubject,
    ) -> float:
        rule, fields = compiled
        score = 0.0
        for field, patterns in fields:
            texts = subject.field_texts(field)
            if not any(p.search(t) for p in patterns for t in texts):
                return 0.0
            score += FIELD_WEIGHTS[field]
        if rule.http_statuses:
            wanted = set(rule.http_statuses)
            hit = any(str(s) in wanted or f"{str(s)[0]}xx" in wanted for s in subject.http_statuses)
            if not hit:
                return 0.0
            score += FIELD_WEIGHTS["http_statuses"]
        return score


def main() -> None:
    rng = random.Random(SEED)
    runbooks = [*builtin_runbooks(), *(generated_runbook(i) for i in range(GENERATED_RUNBOOKS))]
    lines = error_lines(LINES, rng)
    started = time.perf_counter()
    matcher = RunbookMatcher(runbooks)
    compile_s = time.perf_counter() - started

    # CPU time of this (single-threaded) process: other work on a shared machine does not count.
    started, wall = time.process_time(), time.perf_counter()
    best: list[str | None] = []
    for line in lines:
        candidates = matcher.match(from_text(line))
        best.append(candidates[0].runbook.id if candidates else None)
    re2_s, re2_wall = time.process_time() - started, time.perf_counter() - wall

    # Breakdown: turning the lines into subjects alone, on the same lines (the rest is matching).
    started = time.process_time()
    for line in lines:
        from_text(line)
    subject_s = time.process_time() - started

    slow = ReMatcher(runbooks)
    started = time.process_time()
    re_best = [slow.best(from_text(line)) for line in lines[:RE_LINES]]
    re_s = time.process_time() - started

    agree = best[:RE_LINES] == re_best
    matched = sum(1 for b in best if b is not None)
    figures = {
        "lines": LINES,
        "runbooks": len(runbooks),
        "patterns": matcher.pattern_count,
        "compile_ms": round(compile_s * 1000, 1),
        "lines_per_s": round(LINES / re2_s),
        "wall_lines_per_s": round(LINES / re2_wall),
        "subject_us_per_line": round(subject_s / LINES * 1e6, 2),
        "match_us_per_line": round(max(re2_s - subject_s, 0.0) / LINES * 1e6, 2),
        "re_lines_per_s": round(RE_LINES / re_s),
        "re_lines_measured": RE_LINES,
        "speedup": round((LINES / re2_s) / (RE_LINES / re_s), 1),
        "matched_share": round(matched / LINES, 3),
        "same_best_runbook_as_re": agree,
    }
    print(f"RE2 sets: {figures['lines_per_s']:,} lines/s over {LINES:,} lines", file=sys.stderr)
    print(f"Python re: {figures['re_lines_per_s']:,} lines/s over {RE_LINES:,}", file=sys.stderr)
    print(json.dumps(figures))
    if not agree:
        sys.exit("the RE2 and re paths disagree on the best runbook of some line")


if __name__ == "__main__":
    main()
