"""History across rounds (历年比较): each unit's total, rank and grade round by round, its indicators
matched across renamed ones, and the problems that come back.

Contract. `trend(rounds)` takes scored rounds of one family in chronological order (`order`
sorts them: by the start of their period, then by id). Units are matched by id. Indicators are
chained from round to round with the mapping `diff` and `followup` use (gapctl.review.diff.match_indicators:
by id or by the newer scheme's `replaces:`), so a renamed indicator keeps its history. A problem
*recurs* when the unit lost points on the same chained indicator in two rounds in a row; it is
linked to the earlier round's 整改要求 (what that round asked the unit to fix), the later round
being the unit's last. `families(rounds)` groups rounds by their unit set (the units that are
assessed year after year). Output: `text_lines`, `json_data`; the report draws `chart`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from gapctl.data.model import Indicator, Round, Unit
from gapctl.escape import plain_line
from gapctl.figures import ZERO
from gapctl.i18n import N_, in_lang
from gapctl.labels import aside, enumerated, name_in, pair, written
from gapctl.review.diff import match_indicators
from gapctl.scoring.score import LeafScore, RoundScore, UnitScore
from gapctl.scoring.scoreboard import fixed, total_text, two
from gapctl.textwidth import table

NOT_COUNTED = ("not-applicable", "n/a", "pending")


@dataclass
class Chain:
    """One indicator followed through the rounds: the unit's leaf in each round (None: not there)."""

    leaves: list[LeafScore | None]

    @property
    def latest(self) -> Indicator:
        return next(leaf.indicator for leaf in reversed(self.leaves) if leaf is not None)

    def lost_in(self, n: int) -> bool:
        leaf = self.leaves[n]
        return leaf is not None and leaf.state not in NOT_COUNTED and leaf.lost > 0


@dataclass
class Recurring:
    """A problem found again: points lost on one indicator in `rounds` (in a row, the last being
    the unit's last round), with what the round before the last asked the unit to fix."""

    chain: Chain
    rounds: list[int]  # indices into Trend.rounds
    fix: str | None
    reason: str | None  # the last round's 扣分理由

    @property
    def indicator(self) -> Indicator:
        return self.chain.latest


@dataclass
class UnitTrend:
    unit: Unit  # as the latest round that has it names it
    scores: list[UnitScore | None]  # one per round
    chains: list[Chain] = field(default_factory=list)
    recurring: list[Recurring] = field(default_factory=list)

    @property
    def change(self) -> Decimal | None:
        """Last total − first total, over the rounds that scored the unit (None with fewer than two)."""
        totals = [s.total for s in self.scores if s is not None and s.total is not None]
        return totals[-1] - totals[0] if len(totals) > 1 else None

    @property
    def places(self) -> int:
        return next(s.scheme.scoring.places for s in reversed(self.scores) if s is not None)


@dataclass
class Trend:
    family: str  # the unit set's id
    rounds: list[RoundScore]
    units: list[UnitTrend]

    def unit(self, unit_id: str) -> UnitTrend | None:
        return next((u for u in self.units if u.unit.id == unit_id), None)


# --- grouping and order ------------------------------------------------------------------

def order(rounds: list[Round]) -> list[Round]:
    """Chronological: by the start of the period (rounds without one last), then by id."""
    return sorted(rounds, key=lambda r: (r.period[0] if r.period else dt.date.max, r.id))


def families(rounds: list[Round]) -> dict[str, list[Round]]:
    """Unit set id → its rounds, in order; families in the order of their first round."""
    out: dict[str, list[Round]] = {}
    for round_ in order(rounds):
        out.setdefault(round_.units_id, []).append(round_)
    return out


# --- building -----------------------------------------------------------------------------

def _chains(scores: list[UnitScore | None]) -> list[Chain]:
    """The unit's indicators followed from the first round to the last (leaves in the later scheme's order)."""
    chains: list[Chain] = []
    open_: dict[str, Chain] = {}  # leaf id in the previous scored round → its chain
    previous: UnitScore | None = None
    for n, score in enumerate(scores):
        if score is None:
            continue
        mapping = match_indicators(score.scheme, previous.scheme) if previous is not None else {}
        now: dict[str, Chain] = {}
        for leaf_id, leaf in score.leaves.items():
            before = open_.get(mapping.get(leaf_id, ""))
            if before is not None and before.leaves[n] is None:
                chain = before
            elif before is not None:  # one indicator split in two: both carry its history
                chain = Chain(before.leaves[:n] + [None] * (len(scores) - n))
                chains.append(chain)
            else:
                chain = Chain([None] * len(scores))
                chains.append(chain)
            chain.leaves[n] = leaf
            now[leaf_id] = chain
        open_, previous = now, score
    order_ = {ind.id: i for i, ind in enumerate(_last(scores).scheme.all_indicators())}
    return sorted(chains, key=lambda c: (c.leaves[-1] is None, order_.get(c.latest.id, len(order_))))


def _last(scores: list[UnitScore | None]) -> UnitScore:
    return next(s for s in reversed(scores) if s is not None)


def _recurring(chains: list[Chain], scores: list[UnitScore | None]) -> list[Recurring]:
    assessed = [n for n, s in enumerate(scores) if s is not None]
    if len(assessed) < 2:
        return []
    out = []
    last, before = assessed[-1], assessed[-2]
    for chain in chains:
        if not (chain.lost_in(last) and chain.lost_in(before)):
            continue
        streak = [last]
        for n in reversed(assessed[:-1]):
            if not chain.lost_in(n):
                break
            streak.insert(0, n)
        earlier, latest = chain.leaves[before], chain.leaves[last]
        out.append(Recurring(chain, streak, earlier.result.fix if earlier and earlier.result else None,
                             latest.result.reason if latest and latest.result else None))
    return out


def trend(rounds: list[RoundScore]) -> Trend:
    """Each unit's history over these scored rounds (in the order given: see `order`)."""
    by_round = [r.by_unit() for r in rounds]
    ids: list[str] = []
    for scored in reversed(rounds):  # the latest round's order (its ranking) first
        ids += [s.unit.id for s in scored.units if s.unit.id not in ids]
    units = []
    for unit_id in ids:
        scores = [found.get(unit_id) for found in by_round]
        chains = _chains(scores)
        units.append(UnitTrend(_last(scores).unit, scores, chains, _recurring(chains, scores)))
    family = rounds[-1].round.units_id if rounds else ""
    return Trend(family, rounds, units)


# --- output --------------------------------------------------------------------------------

_LABELS = {
    "title": N_("History across rounds"),
    "unit": N_("Unit"),
    "change": N_("Change"),
    "recurring": N_("Recurring problems"),
    "indicator": N_("Indicator"),
    "lost_in": N_("Points lost in"),
    "fix": N_("What the earlier round asked to fix"),
    "reason": N_("Reason"),
    "none": N_("None"),
    "single": N_("Only one round of this unit set; nothing to compare yet."),
    "alone": N_("Rounds with no other round of their unit set: {rounds}"),
}


def _t(key: str, lang: str) -> str:
    return in_lang(_LABELS[key], lang)


def alone_line(rounds: list[str], lang: str) -> str:
    """The rounds a directory held that have no other round of their unit set to compare with."""
    return plain_line(_t("alone", lang).format(rounds=enumerated(rounds, lang)))


def rank_shown(score: UnitScore) -> int | None:
    """The rank a ranking table shows: within the category where the scheme ranks by category; none
    where the scheme publishes no ranking (gapctl.scoring.score: ranks only where published)."""
    if not score.scheme.publishes_ranking:
        return None
    return score.category_rank if score.category else score.rank


def cell(score: UnitScore | None, lang: str) -> str:
    """`90.9（第3名，优秀）` / `90.9 (rank 3, excellent)`; "—" when the round did not score the unit."""
    if score is None:
        return "—"
    total, rank, grade = total_text(score), rank_shown(score), written(score.grade, score.grade_en, lang)
    if rank is not None and grade:
        return in_lang("{total} (rank {rank}, {grade})", lang).format(total=total, rank=rank, grade=grade)
    if rank is not None:
        return in_lang("{total} (rank {rank})", lang).format(total=total, rank=rank)
    return aside(total, grade, lang) if grade else total


def signed(value: Decimal | None, places: int) -> str:
    if value is None:
        return "—"
    text = fixed(value, places)
    return text if text.startswith("-") or value == 0 else f"+{text}"


def round_label(scored: RoundScore) -> str:
    return scored.round.id


def text_lines(result: Trend, lang: str = "zh", unit: str | None = None) -> list[str]:
    """The rounds, then one row per unit (each round's total, rank and grade, the change, how many
    problems recur); with `unit`, that unit's indicators round by round and its recurring problems."""
    unit_set = result.rounds[-1].round.unit_set if result.rounds else None
    family = aside(name_in(unit_set, lang), result.family, lang) if unit_set is not None else result.family
    lines = [plain_line(pair(_t("title", lang), family, lang))]
    for scored in result.rounds:
        title = written(scored.round.title, scored.round.title_en, lang) or ""
        period = " – ".join(d.isoformat() for d in scored.round.period) if scored.round.period else ""
        lines.append(plain_line(f"  {scored.round.id}  {title}" + (f"  ({period})" if period else "")))
    if any(s.round.example for s in result.rounds):
        from gapctl.labels import label
        lines.append(label("example", lang))
    lines.append("")
    if len(result.rounds) < 2:
        lines += [_t("single", lang), ""]
    rows = [[_t("unit", lang), *[round_label(s) for s in result.rounds], _t("change", lang), _t("recurring", lang)]]
    for u in result.units if unit is None else [x for x in result.units if x.unit.id == unit]:
        rows.append([name_in(u.unit, lang), *[cell(s, lang) for s in u.scores], signed(u.change, u.places),
                     str(len(u.recurring))])
    lines += table(rows, ["left", *["left"] * len(result.rounds), "right", "right"])
    if unit is not None:
        found = result.unit(unit)
        if found is not None:
            lines += [""] + unit_lines(result, found, lang)
    return lines


def unit_lines(result: Trend, u: UnitTrend, lang: str) -> list[str]:
    """A unit's indicators round by round (earned of points), then its recurring problems."""
    rows = [[_t("indicator", lang), *[round_label(s) for s in result.rounds]]]
    for chain in u.chains:
        ind = chain.latest
        ids = list(dict.fromkeys(leaf.indicator.id for leaf in chain.leaves if leaf is not None))
        shown = f"{ind.id} {name_in(ind, lang)}"
        if len(ids) > 1:
            shown = aside(shown, " ← ".join(reversed(ids[:-1])), lang)
        rows.append([shown, *[_earned(leaf) for leaf in chain.leaves]])
    lines = table(rows, ["left", *["right"] * len(result.rounds)])
    lines += ["", plain_line(pair(_t("recurring", lang), "", lang).rstrip())]
    if not u.recurring:
        return lines + ["  " + _t("none", lang)]
    rows = [[_t("indicator", lang), _t("lost_in", lang), _t("reason", lang), _t("fix", lang)]]
    for r in u.recurring:
        ind = r.indicator
        lost = in_lang(", ", lang).join(f"{result.rounds[n].round.id} {two(r.chain.leaves[n].lost)}"  # type: ignore
                                        for n in r.rounds)
        rows.append([f"{ind.id} {name_in(ind, lang)}", lost, r.reason or "", r.fix or "—"])
    return lines + table(rows)


def _earned(leaf: LeafScore | None) -> str:
    if leaf is None:
        return "—"
    if leaf.state in ("not-applicable", "n/a"):
        return "n/a"
    if leaf.state == "pending":
        return "?"
    if leaf.indicator.section != "main":
        return two(leaf.earned)
    return f"{two(leaf.earned)}/{two(leaf.points)}"


def json_data(result: Trend, unit: str | None = None) -> dict[str, Any]:
    """Every round, every unit's history and recurring problems; with `unit`, its indicators too."""
    rounds = [s.round.id for s in result.rounds]

    def point(score: UnitScore | None) -> dict[str, Any] | None:
        if score is None:
            return None
        ranked = score.scheme.publishes_ranking
        return {"total": total_text(score) if score.total is not None else None,
                "rank": score.rank if ranked else None, "category_rank": score.category_rank if ranked else None,
                "grade": score.grade, "scheme": score.scheme.id}

    def leaf_data(leaf: LeafScore | None) -> dict[str, Any] | None:
        if leaf is None:
            return None
        return {"indicator": leaf.indicator.id, "state": leaf.state, "points": two(leaf.points),
                "earned": two(leaf.earned), "lost": two(max(leaf.lost, ZERO))}

    units = []
    for u in result.units:
        if unit is not None and u.unit.id != unit:
            continue
        entry: dict[str, Any] = {
            "unit": u.unit.id, "name": u.unit.name,
            "history": [dict(round=rid, **p) if (p := point(s)) else None for rid, s in zip(rounds, u.scores,
                                                                                              strict=True)],
            "change": signed(u.change, u.places) if u.change is not None else None,
            "recurring": [{"indicator": r.indicator.id, "name": r.indicator.name,
                           "rounds": [rounds[n] for n in r.rounds],
                           "lost": [two(r.chain.leaves[n].lost) for n in r.rounds],  # type: ignore[union-attr]
                           "reason": r.reason, "fix": r.fix, "fix_round": rounds[r.rounds[-2]]}
                          for r in u.recurring],
        }
        if unit is not None:
            entry["indicators"] = [{"indicator": c.latest.id, "name": c.latest.name,
                                    "rounds": [leaf_data(leaf) for leaf in c.leaves]} for c in u.chains]
        units.append(entry)
    return {"family": result.family,
            "rounds": [{"id": s.round.id, "title": s.round.title,
                        "period": [d.isoformat() for d in s.round.period] if s.round.period else None}
                       for s in result.rounds],
            "units": units}


# --- the report's chart ---------------------------------------------------------------------

def chart(u: UnitTrend, result: Trend, lang: str) -> str:
    """The unit's totals round by round as an inline SVG line (gapctl.report.svg)."""
    from gapctl.report import svg

    points = [(round_label(scored), s.total if s is not None else None, total_text(s) if s is not None else "")
              for scored, s in zip(result.rounds, u.scores, strict=True)]
    scale = max((s.scheme.scoring.scale for s in u.scores if s is not None), default=Decimal(100))
    return svg.line_chart(in_lang("Total, round by round", lang), points, scale)
