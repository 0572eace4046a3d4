"""Matching evidence against every runbook at once, with RE2 sets.

All patterns of one field (every runbook's ``message`` patterns, say) are compiled into one
``re2.Set`` (:mod:`.pattern_sets`): one linear-time pass over a text says which of them occur.
A field is searched only when some rule matching on it could apply to the evidence (its HTTP
statuses and check), and a raw line that is its own message and text is searched once for
both. The rules whose every field hit are then checked for HTTP statuses and checks; that
decision depends only on the hits, so the same hits (the same failure again) reuse it; and when
nothing is searched but the exception type and message (a log line's usual case), the whole
answer is remembered by those two, which repeat with every occurrence of a failure. A match
keeps which pattern hit which text, so it can explain itself; :meth:`RunbookMatcher.explain`
turns that into words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import re2

from prodguardian.runbooks.findings import Explanation
from prodguardian.runbooks.model import PATTERN_FIELDS, MatchRule, Runbook, re2_options
from prodguardian.runbooks.pattern_sets import MEMO_TEXT_CHARS, Gate, PatternSet, RuleKey
from prodguardian.runbooks.subject import EXCERPT_CHARS, MatchSubject, excerpt

#: How much each field a rule sets adds to its score: the more specific, the more.
FIELD_WEIGHTS = {
    "exception_type": 2.0,
    "message": 3.0,
    "frames": 1.5,
    "text": 1.0,
    "conditions": 3.0,
    "http_statuses": 1.5,
    "check_kinds": 0.5,
    "check_names": 1.0,
}
#: Added per further rule of the same runbook that also matched (corroboration).
EXTRA_RULE_BONUS = 0.5
#: Decisions remembered per distinct combination of pattern hits (cleared when full).
DECIDED_CACHE_SIZE = 4096

_TEXT_FIELDS = ("exception_type", "message", "frames", "text")
#: Fields whose searches, for a subject without frames, depend on its type and message alone.
_ANSWERED_BY = frozenset({"exception_type", "message", "frames"})
#: Fields holding a part of the evidence (not all of it): the same texts keep coming back.
_EXTRACTED_FIELDS = frozenset({"exception_type", "message", "conditions"})


class Hit(NamedTuple):
    """Pattern ``pattern`` of ``field`` occurred in the field's text number ``text_index``."""

    field: str
    pattern: str
    text_index: int


class Candidate(NamedTuple):
    """A runbook that applies to a subject: the best rule that matched, its hits, its score."""

    runbook: Runbook
    score: float
    rule: MatchRule
    hits: tuple[Hit, ...]
    statuses: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class _RuleInfo:
    rule: MatchRule
    fields: frozenset[str]
    gate: Gate
    score: float


#: The fields :meth:`RunbookMatcher.match` reads: ``subject[2:9]`` unpacks them in one step.
_READ_FIELDS = (
    "message",
    "frames",
    "text",
    "conditions",
    "http_statuses",
    "check_kind",
    "check_name",
)
assert MatchSubject._fields[2:9] == _READ_FIELDS, "MatchSubject's fields moved: update match()"

_Found = tuple[PatternSet, tuple[int, ...], int]
"""A search that hit: the set, the indices of its patterns that occurred, the text's index."""
_Evidence = tuple[tuple[int, ...], str, str]
"""What rules need besides patterns: the evidence's HTTP statuses, check kind, check name."""
_BARE: _Evidence = ((), "", "")


class _Plan(NamedTuple):
    """What to search in evidence of one kind: (field index, set) passes, then conditions.

    ``answers`` is set when every pass reads a field a parse extracts (exception type,
    message) or the frames: for a subject without frames or conditions, the answer then
    depends on its exception type and message alone, and is remembered by them.
    """

    passes: tuple[tuple[int, PatternSet], ...]
    conditions: PatternSet | None
    answers: dict[tuple[str, str], tuple[Candidate, ...]] | None


_Hits = dict[RuleKey, dict[str, tuple[str, int]]]
"""For each rule: field → (pattern that hit, index of the text it hit in)."""


class RunbookMatcher:
    """Every runbook of a library compiled for matching. Build once, match many times."""

    def __init__(self, runbooks: Sequence[Runbook]) -> None:
        self.runbooks = tuple(runbooks)
        self._rules: dict[RuleKey, _RuleInfo] = {}
        self._patternless: list[RuleKey] = []
        single = {
            field: PatternSet((field,), remember=field in _EXTRACTED_FIELDS)
            for field in PATTERN_FIELDS
        }
        # A raw log line is often its own message and text: one pass serves both fields then.
        both = PatternSet(("message", "text"), remember=False)
        for rb_index, runbook in enumerate(self.runbooks):
            for exclude, rules in ((False, runbook.match), (True, runbook.exclude)):
                for rule_index, rule in enumerate(rules):
                    key = (rb_index, rule_index, exclude)
                    info = self._rules[key] = _rule_info(rule)
                    if not info.fields:
                        self._patternless.append(key)
                    for field in PATTERN_FIELDS:
                        for pattern in rule.patterns(field):
                            single[field].add(pattern, key, field, runbook, info.gate)
                            if field in both.fields:
                                both.add(pattern, key, field, runbook, info.gate)
        self._patternless_no_status = [
            key
            for key in self._patternless
            if not (self._rules[key].gate.codes or self._rules[key].gate.classes)
        ]
        self._text_sets = [
            (field, compiled)
            for field in _TEXT_FIELDS
            if (compiled := single[field].compile()) is not None
        ]
        self._conditions = single["conditions"].compile()
        self._both = both.compile()
        self._pattern_count = sum(len(s.patterns) for s in single.values())
        self._compiled: dict[str, Any] = {}
        self._decided: dict[tuple[object, ...], tuple[Candidate, ...]] = {}
        self._plans: dict[_Evidence, tuple[_Plan, _Plan]] = {}
        # Evidence from no check and without a status (a raw log line): the usual kind.
        self._bare_plans = self._plan(_BARE)

    @property
    def pattern_count(self) -> int:
        """Distinct patterns over all fields."""
        return self._pattern_count

    def match(self, subject: MatchSubject) -> tuple[Candidate, ...]:
        """The runbooks that apply to ``subject``, best first (score, severity, id)."""
        # One unpacking instead of an attribute lookup per field: this runs for every log line.
        message, frames, text, conditions, statuses, kind, name = subject[2:9]
        if statuses or kind or name:
            evidence: _Evidence = (statuses, kind, name)
            plans = self._plans.get(evidence) or self._plan(evidence)
        else:
            evidence, plans = _BARE, self._bare_plans
        answers = None
        if message and message == text:  # one pass serves both fields
            passes, conditions_set, _ = plans[1]
        else:
            passes, conditions_set, answers = plans[0]
            if answers is not None:
                if frames or conditions or len(message) > MEMO_TEXT_CHARS:
                    answers = None
                else:
                    answered = answers.get((subject[1], message))
                    if answered is not None:
                        return answered
        found: list[_Found] = []
        for field, pattern_set in passes:
            field_text: str = subject[field]  # type: ignore[assignment]  # a text field's index
            if field_text and (indices := pattern_set.search(field_text)):
                found.append((pattern_set, indices, 0))
        if conditions and conditions_set is not None:
            for index, condition in enumerate(conditions):
                if indices := conditions_set.search(condition):
                    found.append((conditions_set, indices, index))
        # Rules without patterns that need a status cannot apply to evidence without one.
        patternless = self._patternless if statuses else self._patternless_no_status
        if not found and not patternless:
            cached: tuple[Candidate, ...] = ()
        else:
            # Which rules apply depends only on which patterns hit where, the statuses and
            # the check, not on the text: the same hits (the same failure again) reuse it.
            key = (tuple(found), evidence)
            got = self._decided.get(key)
            if got is None:
                got = self._candidates(subject, _hits_of(key[0]), patternless)
                if len(self._decided) >= DECIDED_CACHE_SIZE:
                    self._decided.clear()
                self._decided[key] = got
            cached = got
        if answers is not None:
            if len(answers) >= DECIDED_CACHE_SIZE:
                answers.clear()
            answers[(subject[1], message)] = cached
        return cached

    def _plan(self, evidence: _Evidence) -> tuple[_Plan, _Plan]:
        """What to search in evidence of this kind: (message is not the text, message is it).

        A set is skipped when none of its rules can apply (they all want another status or
        check). When the message is the whole text, one set serves both fields in one pass.
        """
        plans = (self._plan_passes(evidence, None), self._plan_passes(evidence, self._both))
        if len(self._plans) >= DECIDED_CACHE_SIZE:
            self._plans.clear()
        self._plans[evidence] = plans
        return plans

    def _plan_passes(self, evidence: _Evidence, both: PatternSet | None) -> _Plan:
        passes: list[tuple[str, PatternSet]] = [("message", both)] if both is not None else []
        for field, pattern_set in self._text_sets:
            if both is None or field not in both.fields:
                passes.append((field, pattern_set))
        conditions = self._conditions
        wanted = [
            (field, pattern_set) for field, pattern_set in passes if pattern_set.wanted(*evidence)
        ]
        extracted_only = both is None and all(field in _ANSWERED_BY for field, _ in wanted)
        return _Plan(
            tuple(
                (MatchSubject._fields.index(field), pattern_set) for field, pattern_set in wanted
            ),
            conditions if conditions is not None and conditions.wanted(*evidence) else None,
            {} if extracted_only else None,
        )

    def _candidates(
        self, subject: MatchSubject, hits: _Hits, patternless: list[RuleKey]
    ) -> tuple[Candidate, ...]:
        best: dict[int, tuple[_RuleInfo, dict[str, tuple[str, int]], tuple[int, ...]]] = {}
        extra: dict[int, int] = {}
        excluded: set[int] = set()
        no_hits: dict[str, tuple[str, int]] = {}
        rules = self._rules
        for key in (*hits, *patternless) if patternless else hits:
            info = rules[key]
            got = hits.get(key, no_hits)
            if len(got) != len(info.fields):
                continue
            gate = info.gate
            if not gate.admits(subject.http_statuses, subject.check_kind, subject.check_name):
                continue
            statuses = gate.statuses_hit(subject.http_statuses)
            rb_index = key[0]
            if key[2]:
                excluded.add(rb_index)
                continue
            current = best.get(rb_index)
            if current is not None:
                extra[rb_index] = extra.get(rb_index, 0) + 1
            if current is None or info.score > current[0].score:
                best[rb_index] = (info, got, statuses)
        candidates = [
            Candidate(
                self.runbooks[rb_index],
                info.score + EXTRA_RULE_BONUS * extra.get(rb_index, 0) if extra else info.score,
                info.rule,
                tuple([Hit(f, pattern, at) for f, (pattern, at) in got.items()]),
                statuses,
            )
            for rb_index, (info, got, statuses) in best.items()
            if rb_index not in excluded
        ]
        if len(candidates) > 1:
            candidates.sort(key=lambda c: (-c.score, -c.runbook.severity.rank, c.runbook.id))
        return tuple(candidates)

    def explain(self, candidate: Candidate, subject: MatchSubject) -> tuple[Explanation, ...]:
        """Why ``candidate`` matched ``subject``: each pattern with the text it matched."""
        out = []
        for hit in candidate.hits:
            text = subject.field_texts(hit.field)[hit.text_index]
            out.append(
                Explanation(
                    field=hit.field,
                    pattern=hit.pattern,
                    matched=self._matched_excerpt(hit.pattern, text),
                )
            )
        if candidate.statuses:
            codes = ", ".join(str(code) for code in candidate.statuses)
            wanted = ", ".join(candidate.rule.http_statuses)
            out.append(Explanation(field="http_statuses", pattern=wanted, matched=f"HTTP {codes}"))
        if candidate.rule.check_kinds:
            kinds = ", ".join(candidate.rule.check_kinds)
            out.append(Explanation(field="check_kinds", pattern=kinds, matched=subject.check_kind))
        if candidate.rule.check_names:
            names = ", ".join(candidate.rule.check_names)
            out.append(Explanation(field="check_names", pattern=names, matched=subject.check_name))
        return tuple(out)

    def _matched_excerpt(self, pattern: str, text: str) -> str:
        regex = self._compiled.get(pattern)
        if regex is None:
            regex = self._compiled[pattern] = re2.compile(pattern, re2_options())
        found = regex.search(text)
        if found is None:  # cannot happen for a set hit; keep the explanation honest anyway
            return excerpt(text)
        start, end = found.span()
        if end - start >= EXCERPT_CHARS:
            return excerpt(text[start:end])
        margin = (EXCERPT_CHARS - (end - start)) // 2
        lo, hi = max(0, start - margin), min(len(text), end + margin)
        snippet = excerpt(text[lo:hi], limit=EXCERPT_CHARS)
        return ("…" if lo else "") + snippet + ("…" if hi < len(text) else "")


def _hits_of(found: tuple[_Found, ...]) -> _Hits:
    hits: _Hits = {}
    for pattern_set, indices, text_index in found:
        for index in indices:
            pattern = pattern_set.patterns[index]
            for key, field in pattern_set.owners[index]:
                per_rule = hits.get(key)
                if per_rule is None:
                    per_rule = hits[key] = {}
                if field not in per_rule:
                    per_rule[field] = (pattern, text_index)
    return hits


def _rule_info(rule: MatchRule) -> _RuleInfo:
    fields = frozenset(f for f in PATTERN_FIELDS if rule.patterns(f))
    score = sum(FIELD_WEIGHTS[f] for f in fields)
    for name in ("http_statuses", "check_kinds", "check_names"):
        if getattr(rule, name):
            score += FIELD_WEIGHTS[name]
    return _RuleInfo(rule=rule, fields=fields, gate=Gate.of(rule), score=score)
