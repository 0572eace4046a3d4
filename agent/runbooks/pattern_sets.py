"""RE2 sets of runbook patterns: one linear-time pass over a text says which patterns occur.

All patterns of one field (every runbook's ``message`` patterns, say) go into one ``re2.Set``.
Each set knows which rules own each of its patterns, and what those rules need besides
patterns (:class:`Gate`: HTTP statuses, check kinds or names): a set whose rules can none of
them apply to a piece of evidence is not searched at all. A set over fields that a parse
extracted (exception type, message, condition) remembers its answers for the short texts it saw
last: those repeat with every occurrence of a failure (a whole log line, with its timestamp and
request id, does not), and the answer depends on nothing but the text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import re2

from prodguardian.runbooks.loader import RunbookError
from prodguardian.runbooks.model import MatchRule, Runbook, re2_options

#: RE2's memory budget per set; the DFA cache lives in it.
SET_MAX_MEM = 128 << 20
#: Texts up to this long have their answer remembered ...
MEMO_TEXT_CHARS = 1024
#: ... this many per set (forgotten all at once when full: cheap, and bounded).
MEMO_ENTRIES = 4096

RuleKey = tuple[int, int, bool]
"""(runbook index, rule index, is an exclude rule)."""


@dataclass(frozen=True, slots=True)
class Gate:
    """What a rule needs besides its patterns: HTTP statuses (codes, classes) and checks."""

    codes: frozenset[int]
    classes: frozenset[int]
    kinds: frozenset[str]
    names: frozenset[str]

    @classmethod
    def of(cls, rule: MatchRule) -> Gate:
        """The gate of ``rule``: ``5xx`` is the class 5, ``429`` the code 429."""
        return cls(
            codes=frozenset(int(s) for s in rule.http_statuses if s.isdigit()),
            classes=frozenset(int(s[0]) for s in rule.http_statuses if s.endswith("xx")),
            kinds=frozenset(rule.check_kinds),
            names=frozenset(rule.check_names),
        )

    @property
    def is_open(self) -> bool:
        """Whether the gate asks for nothing: any evidence gets through."""
        return not (self.codes or self.classes or self.kinds or self.names)

    def statuses_hit(self, statuses: tuple[int, ...]) -> tuple[int, ...]:
        """The statuses among ``statuses`` the gate wants (none when it wants none)."""
        if not (self.codes or self.classes):
            return ()
        return tuple(s for s in statuses if s in self.codes or s // 100 in self.classes)

    def admits(self, statuses: tuple[int, ...], check_kind: str, check_name: str) -> bool:
        """Whether evidence with these statuses, from this check, gets through."""
        if (self.codes or self.classes) and not self.statuses_hit(statuses):
            return False
        if self.kinds and check_kind not in self.kinds:
            return False
        return not self.names or check_name in self.names


class PatternSet:
    """One RE2 set over the patterns of one or more fields, and which rules own each pattern.

    Fill it with :meth:`add`, then :meth:`compile` it once; :meth:`search` is then safe to call
    from any thread (the memo is a plain dict: a lost update only costs a search).
    """

    def __init__(self, fields: tuple[str, ...], *, remember: bool) -> None:
        self.fields = fields
        self._remember = remember
        options = re2_options()
        options.max_mem = SET_MAX_MEM
        self._set: Any = re2.Set.SearchSet(options)
        self.patterns: list[str] = []
        self.owners: list[list[tuple[RuleKey, str]]] = []
        self._index: dict[str, int] = {}
        self._gates: set[Gate] = set()
        self._always = False
        self._match: Any = None
        self._memo: dict[str, tuple[int, ...]] = {}

    def add(self, pattern: str, owner: RuleKey, field: str, runbook: Runbook, gate: Gate) -> None:
        """Add ``pattern`` of ``field`` for the rule ``owner`` (once per distinct pattern)."""
        index = self._index.get(pattern)
        if index is None:
            try:
                index = self._set.Add(pattern)
            except re2.error as exc:
                raise RunbookError(
                    f"RE2 cannot add the pattern {pattern!r} to a set: {exc}",
                    path=Path(runbook.source),
                    key=field,
                ) from None
            self._index[pattern] = index
            self.patterns.append(pattern)
            self.owners.append([])
        self.owners[index].append((owner, field))
        self._gates.add(gate)

    def compile(self) -> PatternSet | None:
        """The set ready to search, or None when it has no pattern (nothing to search for)."""
        if not self.patterns:
            return None
        self._set.Compile()
        # google-re2's ``Set.Match`` is a Python wrapper around the compiled set's own ``Match``
        # (bytes in, indices out); calling that directly saves a Python call per search.
        compiled = getattr(self._set, "_set", None)
        self._match = getattr(compiled, "Match", None) or self._set.Match
        self._always = any(gate.is_open for gate in self._gates)
        return self

    def wanted(self, statuses: tuple[int, ...], check_kind: str, check_name: str) -> bool:
        """Whether a rule owning one of the patterns could apply to such evidence at all."""
        return self._always or any(
            gate.admits(statuses, check_kind, check_name) for gate in self._gates
        )

    def search(self, text: str) -> tuple[int, ...]:
        """The indices of the patterns that occur in ``text``, in RE2's order."""
        if not self._remember or len(text) > MEMO_TEXT_CHARS:
            return tuple(self._match(text.encode()) or ())
        memo = self._memo
        found = memo.get(text)
        if found is None:
            found = tuple(self._match(text.encode()) or ())
            if len(memo) >= MEMO_ENTRIES:
                memo.clear()
            memo[text] = found
        return found
