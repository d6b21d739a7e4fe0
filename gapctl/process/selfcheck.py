"""Self-assessment against the counting result: where a unit claimed more than the evaluators found.

A unit's `source: self` entries are scored with the same rule as the counting entry (the
latest of evaluator → review → appeal) and compared leaf by leaf. Self entries never count
towards the score; this module only reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from gapctl.data.model import Indicator, Result, Round, Unit
from gapctl.figures import ZERO
from gapctl.i18n import N_
from gapctl.labels import heading, label, name_in
from gapctl.scheme.rules import REGISTRY, num
from gapctl.scoring.score import LeafScore, RoundScore, score_leaf, score_round
from gapctl.scoring.scoreboard import two as _two
from gapctl.textwidth import table

COMPARED_STATES = ("scored", "no-evidence")  # counted leaves a claim can be compared with

_LABELS: dict[str, str] = {  # English; the Chinese is in the catalogue
    "title": N_("Self-assessment against the counted result"),
    "indicator": N_("Indicator"),
    "name": N_("Name"),
    "claimed": N_("Claimed"),
    "found": N_("Found"),
    "over": N_("Over-claimed"),
    "over_count": N_("Over-claims"),
    "compared": N_("Compared"),
    "unassessed": N_("Claimed, not yet assessed"),
    "total": N_("All"),  # not "Total": gapctl.labels's total is 总得分, this row is 合计
    "none": N_("No self-assessment entries."),
    "no_over": N_("No self-assessment claims more than was found."),
    "details": N_("Over-claims in detail"),  # "Over-claims" is the count column (多报指标数)
    "details_all": N_("Every compared indicator"),
}


def _t(key: str, lang: str) -> str:
    """A word of this output in `lang`: this module's own, else the shared one (gapctl.labels)."""
    return label(key, lang, _LABELS)


@dataclass
class SelfClaim:
    """One leaf of one unit: what the unit claimed and what counted."""

    unit: str
    indicator: Indicator
    points: Decimal   # the leaf's points for this unit (after `moves_to`)
    claimed: Decimal  # earned by the self entry under the same rule
    found: Decimal    # earned by the counting entry
    self_result: Result
    counted: LeafScore

    @property
    def difference(self) -> Decimal:
        return self.claimed - self.found

    @property
    def over_claim(self) -> Decimal:
        return max(self.difference, ZERO)


@dataclass
class UnitSelfCheck:
    """One unit's comparison: totals over the compared leaves, and the rows shown."""

    unit: Unit
    claims: list[SelfClaim] = field(default_factory=list)  # every compared leaf, in scheme order
    unassessed: list[str] = field(default_factory=list)    # self entries whose leaf is still pending

    @property
    def claimed(self) -> Decimal:
        return sum((c.claimed for c in self.claims), ZERO)

    @property
    def found(self) -> Decimal:
        return sum((c.found for c in self.claims), ZERO)

    @property
    def over_claimed(self) -> Decimal:
        return sum((c.over_claim for c in self.claims), ZERO)

    def over_claims(self) -> list[SelfClaim]:
        return [c for c in self.claims if c.over_claim > 0]


@dataclass
class SelfCheck:
    round: Round
    units: list[UnitSelfCheck]  # units with at least one self entry, by unit id
    include_all: bool = False

    @property
    def claimed(self) -> Decimal:
        return sum((u.claimed for u in self.units), ZERO)

    @property
    def found(self) -> Decimal:
        return sum((u.found for u in self.units), ZERO)

    @property
    def over_claimed(self) -> Decimal:
        return sum((u.over_claimed for u in self.units), ZERO)

    def rows(self) -> list[SelfClaim]:
        """What is listed: over-claims only, or every compared leaf with `include_all`."""
        return [c for u in self.units for c in (u.claims if self.include_all else u.over_claims())]


def _latest_self(results: list[Result]) -> dict[str, Result]:
    """Per indicator, the unit's last `self` entry (a later one corrects an earlier one)."""
    out: dict[str, Result] = {}
    for result in results:
        if result.source == "self":
            out[result.indicator] = result
    return out


def _claimed(leaf: LeafScore, unit: Unit, entry: Result) -> Decimal | None:
    """The self entry scored as if it counted, with the leaf's rule; None when it claims nothing."""
    ind = leaf.indicator
    rule = ind.rule_for(unit)
    if rule is None or REGISTRY[rule.kind].value_field is None:  # threshold, rank: computed, not claimed
        return None
    own = score_leaf(ind, unit, True, {ind.id: entry})
    if own.state not in ("scored", "no-evidence") or entry.state in ("pending", "n/a"):
        return None
    earned = own.earned
    if own.points and leaf.points != own.points:  # `moves_to` grew the leaf: grow the claim alike
        earned = earned * leaf.points / own.points
    return earned


def compare_self(round_: Round, include_all: bool = False, scored: RoundScore | None = None) -> SelfCheck:
    """Compare every unit's self entries with the counting result; `scored` reuses a scored round."""
    scored = scored if scored is not None else score_round(round_)
    units: list[UnitSelfCheck] = []
    for score in sorted(scored.units, key=lambda s: s.unit.id):
        obs = round_.observations.get(score.unit.id)
        claims = _latest_self(obs.results) if obs else {}
        if not claims:
            continue
        check = UnitSelfCheck(score.unit)
        for ind in score.scheme.all_indicators():
            entry = claims.get(ind.id)
            leaf = score.leaves.get(ind.id)
            if entry is None or leaf is None:
                continue
            if leaf.state == "pending":
                if entry.state not in ("pending", "n/a"):
                    check.unassessed.append(ind.id)
                continue
            if leaf.state not in COMPARED_STATES:
                continue
            claimed = _claimed(leaf, score.unit, entry)
            if claimed is not None:
                check.claims.append(SelfClaim(score.unit.id, ind, leaf.points, claimed, leaf.earned, entry, leaf))
        if check.claims or check.unassessed:
            units.append(check)
    return SelfCheck(round_, units, include_all)


# --- output ---------------------------------------------------------------------------

def text_lines(result: SelfCheck, lang: str = "zh") -> list[str]:
    """A summary per unit, then the over-claimed (or every compared) indicator, aligned."""
    lines = heading(f"{_t('title', lang)}: {result.round.title} ({result.round.id})", result.round.example, lang)
    if not result.units:
        return lines + [_t("none", lang)]
    rows = [[_t(k, lang) for k in ("unit", "compared", "claimed", "found", "over", "over_count", "unassessed")]]
    for u in result.units:
        rows.append([name_in(u.unit, lang), str(len(u.claims)), _two(u.claimed), _two(u.found),
                     _two(u.over_claimed), str(len(u.over_claims())), str(len(u.unassessed))])
    rows.append([_t("total", lang), str(sum(len(u.claims) for u in result.units)), _two(result.claimed),
                 _two(result.found), _two(result.over_claimed),
                 str(sum(len(u.over_claims()) for u in result.units)),
                 str(sum(len(u.unassessed) for u in result.units))])
    lines += table(rows, ["left"] + ["right"] * 6)
    shown = result.rows()
    lines.append("")
    if not shown:
        return lines + [_t("no_over", lang)]
    lines.append(_t("details_all" if result.include_all else "details", lang))
    names = {u.unit.id: name_in(u.unit, lang) for u in result.units}
    rows = [[_t(k, lang) for k in ("unit", "indicator", "name", "points", "claimed", "found", "over")]]
    for c in shown:
        rows.append([names[c.unit], c.indicator.id, name_in(c.indicator, lang), num(c.points),
                     _two(c.claimed), _two(c.found), _two(c.over_claim)])
    lines += table(rows, ["left", "left", "left", "right", "right", "right", "right"])
    return lines


def _claim_data(c: SelfClaim) -> dict[str, Any]:
    return {"unit": c.unit, "indicator": c.indicator.id, "name": c.indicator.name, "points": num(c.points),
            "claimed": _two(c.claimed), "found": _two(c.found), "difference": _two(c.difference),
            "over_claim": _two(c.over_claim), "self_observer": c.self_result.observer,
            "counted_source": c.counted.result.source if c.counted.result else None}


def json_data(result: SelfCheck) -> dict[str, Any]:
    return {
        "round": result.round.id,
        "include_all": result.include_all,
        "claimed": _two(result.claimed),
        "found": _two(result.found),
        "over_claimed": _two(result.over_claimed),
        "units": [{"unit": u.unit.id, "name": u.unit.name, "compared": len(u.claims),
                   "claimed": _two(u.claimed), "found": _two(u.found), "over_claimed": _two(u.over_claimed),
                   "over_claims": len(u.over_claims()), "unassessed": list(u.unassessed)}
                  for u in result.units],
        "indicators": [_claim_data(c) for c in result.rows()],
    }
