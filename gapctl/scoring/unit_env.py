"""What a formula can read about one unit: the `Env` of gapctl.scheme.formula, over a unit's score.

Contract: `UnitEnv(score, observed)` answers names (`base`, `total` …) from the score as it
stands, and functions (`score(2.1)`, `fact(严重泄密)`, `measure(m)` …) from the score's tree and
the observations that counted. A score kept only as a summary (the file-by-file path, gapctl.scoring.outcomes)
has no observations: every function value its late formulas need was computed beforehand, while
the unit was scored whole, and kept in `score.known` (`remember`), so the same formula gives the
same value on both paths.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from gapctl.figures import ZERO
from gapctl.scheme.formula import Formula, Value

if TYPE_CHECKING:
    from gapctl.data.model import Result
    from gapctl.scoring.score import UnitScore

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass
class Observed:
    """The observations a unit's formulas read: the entries that counted, facts, measures."""

    results: dict[str, Result] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    measures: dict[str, Decimal] = field(default_factory=dict)
    panels: dict[str, list[Result]] = field(default_factory=dict)  # several assessors' entries per indicator


def value_of(raw: Any) -> Value:
    """A finding as formulas see it: counts as numbers, {kind: count} as the sum, dates as dates."""
    if isinstance(raw, bool) or raw is None or isinstance(raw, Decimal):
        return raw
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, dict):
        from gapctl.scheme.rules.clauses import occurrences
        return occurrences(raw)
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, str) and _DATE.fullmatch(raw):
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            return raw
    return str(raw)


SUBTOTALS = ("earned", "applicable", "base", "penalty", "external", "bonus", "bonus_raw", "total")


@dataclass(slots=True)
class Subtotals(Mapping[str, Value]):
    """A unit's subtotals as they stood when a condition was decided (`UnitEnv.snapshot`, kept in each Decision for
    explain): a Mapping (`in`, `get`, `items`, `dict(...)` come from its `[]`, order and length), read as the dict
    they were is read. Eight slots, not a dict of eight: a round keeps two or three a unit (a dict each was ~8 MB of
    a 30,000-unit round's parent)."""

    earned: Value
    applicable: Value
    base: Value
    penalty: Value
    external: Value
    bonus: Value
    bonus_raw: Value
    total: Value

    def __getitem__(self, name: str) -> Value:
        if name not in SUBTOTALS:
            raise KeyError(name)
        return getattr(self, name)  # type: ignore[no-any-return]

    def __iter__(self) -> Iterator[str]:
        return iter(SUBTOTALS)

    def __len__(self) -> int:
        return len(SUBTOTALS)


class UnitEnv:
    """Names and functions for one unit (gapctl.scheme.formula.Env)."""

    def __init__(self, score: UnitScore, observed: Observed | None = None, result: Result | None = None,
                 names: dict[str, Value] | Subtotals | None = None):
        self.score = score
        self.observed = observed
        self.result = result  # a clause's own entry: fact(name) looks there first
        self.names = names  # figures as they stood when a decision was taken (explain)

    def for_result(self, result: Result) -> UnitEnv:
        return UnitEnv(self.score, self.observed, result, self.names)

    def at(self, names: dict[str, Value] | Subtotals) -> UnitEnv:
        return UnitEnv(self.score, self.observed, self.result, names)

    # --- names ----------------------------------------------------------------------

    def name(self, name: str) -> Value:
        if self.names is not None and name in self.names:
            return self.names[name]
        value = getattr(self.score, name)
        return value if value is None or isinstance(value, Decimal) else Decimal(value)

    def snapshot(self) -> Subtotals:
        """The subtotals as they stand now, for an explanation given later."""
        s = self.score
        return Subtotals(s.earned, s.applicable, s.base, s.penalty, s.external, s.bonus, s.bonus_raw, s.total)

    # --- functions ------------------------------------------------------------------

    def call(self, function: str, args: tuple[str, ...]) -> Value:
        if function in ("group", "members", "vetoed"):  # known once the members are finished
            return self._group_figure(function, args[0])
        if function == "component":  # kept on the score itself (a group's, only once it is finished)
            return self._component(args[0])
        known = self.score.known
        if self.observed is None:
            if (function, args) in known:
                return known[(function, args)]
            raise KeyError(f"{function}{args} was not kept for this unit")
        return getattr(self, "_" + function)(*args)

    def remember(self, formulas: list[Formula]) -> None:
        """Keep the value of every function call in `formulas` on the score (see the module doc)."""
        for formula in formulas:
            for name, args, _ in formula.calls():
                if name in ("min", "max", "group", "members", "vetoed", "component"):
                    continue
                key = (name, tuple(a[1] for a in args))
                if key not in self.score.known:
                    self.score.known[key] = self.call(*key)

    def _node(self, ident: str) -> tuple[Decimal, Decimal] | None:
        node = self.score.node(ident)
        if node is not None:
            return node.earned, node.points
        leaf = self.score.leaves.get(ident)
        if leaf is not None:
            return leaf.earned, leaf.points
        return None

    def _score(self, ident: str) -> Value:
        found = self._node(ident)
        return found[0] if found else ZERO

    def _points(self, ident: str) -> Value:
        found = self._node(ident)
        return found[1] if found else ZERO

    def _rate(self, ident: str) -> Value:
        found = self._node(ident)
        return found[0] / found[1] if found and found[1] else ZERO

    def _fact(self, *args: str) -> Value:
        observed = self.observed
        assert observed is not None
        if len(args) == 2:
            result = observed.results.get(args[0])
            return value_of((result.findings or {}).get(args[1])) if result is not None else None
        name = args[0]
        if self.result is not None and self.result.findings and name in self.result.findings:
            return value_of(self.result.findings[name])
        if name in observed.facts:
            return value_of(observed.facts[name])
        found = [r.findings[name] for r in observed.results.values() if r.findings and name in r.findings]
        if not found:
            return None
        if len(found) == 1:
            return value_of(found[0])
        return self._count(name)  # recorded under several indicators: how often it was found

    def _count(self, name: str) -> Value:
        from gapctl.scheme.rules.clauses import occurrences

        observed = self.observed
        assert observed is not None
        total = occurrences(observed.facts.get(name))
        for result in observed.results.values():
            if result.findings and name in result.findings:
                total += occurrences(result.findings[name])
        return total

    def _result(self, ident: str) -> Value:
        observed = self.observed
        assert observed is not None
        result = observed.results.get(ident)
        if result is None:
            return None
        return result.state or "recorded"

    def _measure(self, ident: str) -> Value:
        observed = self.observed
        assert observed is not None
        return observed.measures.get(ident)

    def _component(self, ident: str) -> Value:
        return self.score.components.get(ident)

    def _group_figure(self, function: str, ident: str) -> Value:
        found = self.score.groups.get(ident)
        if found is None:
            return None if function == "group" else ZERO
        if function == "group":
            return found.value
        if function == "members":  # the members that count (a withheld one does not), as group() reads them
            return Decimal(len(found.counted))
        return Decimal(sum(1 for m in found.members if m.vetoed))
