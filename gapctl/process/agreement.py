"""Inter-rater agreement: where an evaluator and a reviewer scored the same leaf of the same unit.

Each pair is a unit's `evaluator` entry for an indicator and its latest `review` entry by a
different observer (entries without an observer pair with anyone). Per indicator: the
number of pairs, how often both gave the same points, and Cohen's kappa over the outcome
categories full / partial / none, so that indicators evaluators read differently come first.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from gapctl.data.model import Indicator, Observations, Result, Round, Scheme, Unit
from gapctl.figures import ZERO, figure
from gapctl.i18n import N_
from gapctl.labels import heading, label, name_in
from gapctl.scheme.rules import REGISTRY, num
from gapctl.scoring.score import RoundScore, UnitScore, score_leaf, score_round
from gapctl.scoring.scoreboard import two
from gapctl.textwidth import table

CATEGORIES = ("full", "partial", "none")

_LABELS: dict[str, str] = {  # English; the Chinese is in the catalogue
    "title": N_("Agreement between evaluators"),
    "indicator": N_("Indicator"),
    "name": N_("Name"),
    "pairs": N_("Pairs"),
    "same": N_("Same points"),
    "agreement": N_("Agreement %"),
    "kappa": N_("Kappa"),
    "overall": N_("Overall"),
    "none": N_("No indicator was scored by both an evaluator and a reviewer."),
    "differ": N_("Points differ"),
    "evaluator": N_("Evaluator"),
    "review": N_("Review"),
}


def _t(key: str, lang: str) -> str:
    """A word of this output in `lang`: this module's own, else the shared one (gapctl.labels)."""
    return label(key, lang, _LABELS)


def category(earned: Decimal, points: Decimal) -> str:
    """The outcome: full points, none, or partial (a penalty item with nothing deducted is full)."""
    if earned == points:
        return "full"
    if earned == 0:
        return "none"
    return "partial"


def kappa(table_: dict[tuple[str, str], int]) -> Decimal | None:
    """Cohen's kappa of a contingency table {(rater A's category, rater B's): count}, half-up to 2 places.

    κ = (p_o − p_e) / (1 − p_e); 1 when both raters always used the same single category
    (p_e = p_o = 1); None with no pairs.
    """
    n = sum(table_.values())
    if n == 0:
        return None
    agree = sum(count for (a, b), count in table_.items() if a == b)
    rows: Counter[str] = Counter()
    cols: Counter[str] = Counter()
    for (a, b), count in table_.items():
        rows[a] += count
        cols[b] += count
    chance = sum(rows[k] * cols[k] for k in rows)  # p_e × n²
    if chance == n * n:
        return Decimal(1) if agree == n else None
    value = Decimal(n * agree - chance) / Decimal(n * n - chance)  # exact for integer counts
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def percent(part: int, whole: int) -> Decimal | None:
    """part / whole as a percentage, half-up to one place."""
    if whole == 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class Pair:
    """One unit's leaf scored twice: by whom (an entry without an observer: None) and the points each gave."""

    unit: Unit
    indicator: Indicator
    points: Decimal
    evaluator_observer: str | None
    review_observer: str | None
    evaluator_earned: Decimal
    review_earned: Decimal

    @property
    def same(self) -> bool:
        return self.evaluator_earned == self.review_earned

    @property
    def categories(self) -> tuple[str, str]:
        return (category(self.evaluator_earned, self.points), category(self.review_earned, self.points))


@dataclass
class Figures:
    """Agreement over a set of pairs."""

    pairs: list[Pair] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.pairs)

    @property
    def same(self) -> int:
        return sum(1 for p in self.pairs if p.same)

    @property
    def agreement(self) -> Decimal | None:
        return percent(self.same, self.n)

    def table(self) -> dict[tuple[str, str], int]:
        return dict(Counter(p.categories for p in self.pairs))

    @property
    def kappa(self) -> Decimal | None:
        return kappa(self.table())


@dataclass
class IndicatorAgreement(Figures):
    scheme: Scheme | None = None
    indicator: Indicator | None = None


@dataclass
class Agreement:
    round: Round
    indicators: list[IndicatorAgreement]  # lowest kappa first
    overall: Figures


def _earned(ind: Indicator, unit: Unit, entry: Result) -> Decimal | None:
    leaf = score_leaf(ind, unit, True, {ind.id: entry})
    if leaf.state not in ("scored", "no-evidence") or entry.state in ("pending", "n/a"):
        return None
    return leaf.earned


def _pair_entries(results: list[Result], indicator: str) -> tuple[Result, Result] | None:
    evaluator = [r for r in results if r.indicator == indicator and r.source == "evaluator"]
    if not evaluator:
        return None
    first = evaluator[-1]
    reviews = [r for r in results if r.indicator == indicator and r.source == "review"
               and not (r.observer and first.observer and r.observer == first.observer)]
    return (first, reviews[-1]) if reviews else None


UnitPair = tuple[int, str, "str | None", "str | None", Decimal, Decimal]


def unit_pairs(score: UnitScore, obs: Observations | None) -> list[UnitPair]:
    """One unit's indicators scored by an evaluator and again by a review: (the indicator's position
    in its scheme, its id, the two entries' observers, the points each gives). What ranking decides plays no
    part: a unit's score before ranking gives the same pairs as after."""
    if obs is None:
        return []
    out = []
    reviewed = {r.indicator for r in obs.results if r.source == "review"}
    for n, ind in enumerate(score.scheme.all_indicators()):
        leaf = score.leaves.get(ind.id)
        if ind.id not in reviewed or leaf is None or leaf.state == "not-applicable":
            continue
        rule = ind.rule_for(score.unit)
        if rule is None or REGISTRY[rule.kind].value_field is None:
            continue
        entries = _pair_entries(obs.results, ind.id)
        if entries is None:
            continue
        a, b = _earned(ind, score.unit, entries[0]), _earned(ind, score.unit, entries[1])
        if a is None or b is None:
            continue
        out.append((n, ind.id, entries[0].observer, entries[1].observer, a, b))
    return out


@dataclasses.dataclass(frozen=True)
class PairKeeper:
    """One unit's pairs (`unit_pairs`) made by the worker that scores its file (gapctl.scoring.one_pass), as
    gapctl.codec bytes; `cache_form`: kept in the cache beside the file's outcome, so that agreement run again
    reads no unchanged file (before: every file read and scored a second time, the cache warm or not)."""

    def __call__(self, plan: Any, full: Any, obs: Any) -> bytes:
        from gapctl import codec

        return codec.dumps([[n, ident, first, second, str(a), str(b)]
                            for n, ident, first, second, a, b in unit_pairs(full, obs)])

    def cache_form(self, plan: Any) -> tuple[str, PairKeeper]:
        return "agreement1", self


def kept_pairs(blob: bytes) -> list[UnitPair]:
    """A unit's pairs from what `PairKeeper` made (compressed when it went through the cache)."""
    from gapctl import codec
    from gapctl.scoring.one_pass import kept_bytes

    return [(n, ident, first, second, Decimal(a), Decimal(b))
            for n, ident, first, second, a, b in codec.loads(kept_bytes(blob))]


def agreement(round_: Round, scored: RoundScore | None = None, source: Any = None,
              kept: Mapping[Any, bytes] | None = None) -> Agreement:
    """Pairs of evaluator and review entries, per indicator and overall; `scored` reuses a scored round.
    With a gapctl.scoring.details `source` (the units of `scored` are summaries), each unit's pairs are those
    `kept` holds for its file (`PairKeeper`, made as the round was checked), else found by a worker from its file."""
    scored = scored if scored is not None else score_round(round_)
    ordered = sorted(scored.units, key=lambda s: s.unit.id)
    if source is not None:
        from gapctl.scoring import details

        def work(found: list[Any]) -> list[UnitPair]:
            return unit_pairs(*found[0])
        kept = kept or {}
        # a unit with no pairs kept (a cluster's run), or with channel files (its own file's pairs are not all of
        # them): read from its files, as before
        blobs = [None if source.channel_files.get(s.unit.id) else kept.get(source.files.get(s.unit.id))
                 for s in ordered]
        missing = [s for s, blob in zip(ordered, blobs, strict=True) if blob is None]
        read = iter(details.each([source], details.units_of(source, order=missing), work, files=True)
                    if missing else [])
        found: Any = [kept_pairs(blob) if blob is not None else next(read) for blob in blobs]
    else:
        found = (unit_pairs(score, round_.observations.get(score.unit.id)) for score in ordered)
    schemes = [a.scheme for a in round_.assignments]
    groups: dict[tuple[str, str], IndicatorAgreement] = {}
    order: dict[tuple[str, str], tuple[int, int]] = {}
    overall = Figures()
    for score, pairs in zip(ordered, found, strict=True):
        position = schemes.index(score.scheme.id) if score.scheme.id in schemes else len(schemes)
        indicators = score.scheme.all_indicators() if pairs else []
        for n, ident, first, second, a, b in pairs:
            ind = indicators[n]
            assert ind.id == ident
            pair = Pair(score.unit, ind, ind.points or ZERO, first, second, a, b)
            key = (score.scheme.id, ind.id)
            if key not in groups:
                groups[key] = IndicatorAgreement(scheme=score.scheme, indicator=ind)
                order[key] = (position, n)
            groups[key].pairs.append(pair)
            overall.pairs.append(pair)

    def sort_key(key: tuple[str, str]) -> tuple[bool, Decimal, tuple[int, int]]:
        k = groups[key].kappa
        return (k is None, k if k is not None else ZERO, order[key])
    return Agreement(round_, [groups[k] for k in sorted(groups, key=sort_key)], overall)


# --- output ---------------------------------------------------------------------------

def _opt(value: Decimal | None) -> str:
    return "—" if value is None else num(value)


def _fixed(value: Decimal | None, places: int) -> str:
    return "—" if value is None else figure(value, places)


def text_lines(result: Agreement, lang: str = "zh") -> list[str]:
    """One row per indicator, lowest kappa first, then the overall figures and the pairs that differ."""
    lines = heading(f"{_t('title', lang)}: {result.round.title} ({result.round.id})", result.round.example, lang)
    if not result.indicators:
        return lines + [_t("none", lang)]
    rows = [[_t(k, lang) for k in ("indicator", "name", "pairs", "same", "agreement", "kappa")]]
    for g in result.indicators:
        assert g.indicator is not None
        rows.append([g.indicator.id, name_in(g.indicator, lang), str(g.n), str(g.same),
                     _fixed(g.agreement, 1), _fixed(g.kappa, 2)])
    o = result.overall
    rows.append([_t("overall", lang), "", str(o.n), str(o.same), _fixed(o.agreement, 1), _fixed(o.kappa, 2)])
    lines += table(rows, ["left", "left", "right", "right", "right", "right"])
    differ = [p for g in result.indicators for p in g.pairs if not p.same]
    if differ:
        lines += ["", _t("differ", lang)]
        rows = [[_t(k, lang) for k in ("indicator", "unit", "points", "evaluator", "review")]]
        for p in differ:
            rows.append([p.indicator.id, name_in(p.unit, lang), num(p.points),
                         f"{two(p.evaluator_earned)} ({p.evaluator_observer or '?'})",
                         f"{two(p.review_earned)} ({p.review_observer or '?'})"])
        lines += table(rows, ["left", "left", "right", "left", "left"])
    return lines


def _figures(f: Figures) -> dict[str, Any]:
    return {"pairs": f.n, "same": f.same, "agreement": _opt(f.agreement), "kappa": _opt(f.kappa),
            "table": {f"{a}/{b}": count for (a, b), count in sorted(f.table().items())}}


def json_data(result: Agreement) -> dict[str, Any]:
    indicators = []
    for g in result.indicators:
        assert g.indicator is not None and g.scheme is not None
        row = {"scheme": g.scheme.id, "indicator": g.indicator.id, "name": g.indicator.name, **_figures(g)}
        row["pairs_detail"] = [{"unit": p.unit.id, "points": num(p.points),
                                "evaluator": two(p.evaluator_earned), "evaluator_observer": p.evaluator_observer,
                                "review": two(p.review_earned), "review_observer": p.review_observer}
                               for p in g.pairs]
        indicators.append(row)
    return {"round": result.round.id, "overall": _figures(result.overall), "indicators": indicators}
