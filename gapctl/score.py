"""The only place where observations become numbers.

A unit is scored in phases, each using only what the one before produced:

1. leaves: each applicable leaf's rule turns the counting observation into points;
   points of leaves that do not apply move (`moves_to`) or leave the denominator;
2. the tree: groups add up their children, with caps and floors at any level;
3. base: the raw sum, or earned ÷ applicable × scale, or weighted components; rounded;
4. bonus and penalty sections (thresholds on the unit's own base, ranks among units),
   external deductions, total, grade, flags, conversion;
5. ranks: overall and within category, ties sharing a rank (1, 2, 2, 4).

Every number is Decimal; rounding is half-up (四舍五入) at the places the scheme names.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from gapctl.model import Appeal, Category, Evidence, Indicator, Observations, Result, Round, Rule, Scheme, Unit
from gapctl.problems import NOT_ASSESSED_FINAL, Problem
from gapctl.rules import REGISTRY

ZERO = Decimal(0)
COUNTING_SOURCES = ("evaluator", "review", "appeal")  # later in the chain wins; `self` never counts


def half_up(value: Decimal, places: int) -> Decimal:
    """四舍五入: 89.45 → 89.5 at one place, never banker's rounding."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


@dataclass
class LeafScore:
    """One leaf for one unit: what counted, and the points it gave."""

    indicator: Indicator
    state: str  # scored / not-applicable / n/a / pending / no-evidence
    points: Decimal  # what it counts for in the denominator (0 when it does not apply)
    earned: Decimal
    rule: Rule | None = None
    result: Result | None = None
    moved_from: list[str] = field(default_factory=list)  # ids whose points moved here
    chain: list[Any] = field(default_factory=list)  # every entry for it: self, evaluator, review, appeals

    @property
    def lost(self) -> Decimal:
        if self.indicator.section == "penalty":
            return -self.earned
        if self.indicator.section == "bonus":
            return ZERO
        return self.points - self.earned


@dataclass
class NodeScore:
    """An indicator of the tree (group or leaf) with its applicable points and earned points."""

    indicator: Indicator
    points: Decimal
    earned: Decimal
    children: list[NodeScore] = field(default_factory=list)
    leaf: LeafScore | None = None


@dataclass
class ExternalShare:
    source: str
    name: str
    mode: str
    points: Decimal
    reason: str | None = None


@dataclass
class UnitScore:
    """Everything about one unit's score, in the order it was computed."""

    unit: Unit
    scheme: Scheme
    tree: list[NodeScore]
    leaves: dict[str, LeafScore]
    applicable: Decimal = ZERO  # 应得总分
    earned: Decimal = ZERO      # 实得总分
    base: Decimal = ZERO        # 基础得分
    components: dict[str, Decimal | None] = field(default_factory=dict)
    bonus_raw: Decimal = ZERO
    bonus: Decimal = ZERO
    penalty: Decimal = ZERO     # ≤ 0
    external: Decimal = ZERO    # points subtracted
    externals: list[ExternalShare] = field(default_factory=list)
    total: Decimal = ZERO
    grade: str | None = None
    grade_en: str | None = None
    flags: list[str] = field(default_factory=list)
    category: Category | None = None
    rank: int | None = None
    category_rank: int | None = None
    performance_points: Decimal | None = None
    passdown: Decimal | None = None
    pending: list[str] = field(default_factory=list)
    source: Any = None  # the observation file's SourceFile, if the unit has one
    detailed: bool = True  # False for a summary kept for ranking (see `summarise`)

    def node(self, indicator_id: str) -> NodeScore | None:
        stack = list(self.tree)
        while stack:
            node = stack.pop()
            if node.indicator.id == indicator_id:
                return node
            stack.extend(node.children)
        return None

    def lost_leaves(self) -> list[LeafScore]:
        """The problem list: every leaf where points were lost, in scheme order."""
        order = {ind.id: n for n, ind in enumerate(self.scheme.all_indicators())}
        lost = [leaf for leaf in self.leaves.values() if leaf.lost > 0 or leaf.state == "pending"]
        return sorted(lost, key=lambda leaf: order.get(leaf.indicator.id, 0))


@dataclass
class RoundScore:
    round: Round
    units: list[UnitScore]
    problems: list[Problem] = field(default_factory=list)

    def by_unit(self) -> dict[str, UnitScore]:
        return {u.unit.id: u for u in self.units}


# --- phase 1 and 2: leaves and the tree -----------------------------------------------

def counting_results(obs: Observations | None, appeals: list[Appeal] | None = None) -> dict[str, Result]:
    """Per indicator, the entry that counts: the latest in the chain evaluator → review → appeal.

    An appeal counts once decided in the unit's favour (upheld or partly upheld) with a new result.
    """
    chosen: dict[str, Result] = {}
    entries = list(obs.results) if obs is not None else []
    entries += [a.result for a in appeals or [] if a.result is not None]
    for result in entries:
        if result.source not in COUNTING_SOURCES:
            continue
        current = chosen.get(result.indicator)
        if current is None or COUNTING_SOURCES.index(result.source) >= COUNTING_SOURCES.index(current.source):
            chosen[result.indicator] = result
    return chosen


def evidence_date(ev: Evidence) -> dt.date | None:
    """When a unit sent the evidence (`submitted`); what evaluators captured themselves has no deadline."""
    return ev.submitted


def all_late(result: Result, due: dt.date | None) -> bool:
    """Every piece of evidence the unit sent arrived after the deadline, and nothing else supports it."""
    dates = [evidence_date(ev) for ev in result.evidence]
    return bool(due and dates and all(d is not None and d > due for d in dates))


def score_leaf(ind: Indicator, unit: Unit, applies: bool, results: dict[str, Result],
               ignore_late_after: dt.date | None = None) -> LeafScore:
    points = ind.points if ind.points is not None else ZERO
    rule = ind.rule_for(unit) if applies else None
    if not applies or rule is None:
        return LeafScore(ind, "not-applicable", ZERO, ZERO)
    result = results.get(ind.id)
    kind = REGISTRY[rule.kind]
    if kind.value_field is None:  # computed later (threshold, rank)
        return LeafScore(ind, "scored", points, ZERO, rule, result)
    if result is None or result.state == "pending":
        if ind.section != "main":  # nothing recorded in a bonus or penalty section: nothing happened
            return LeafScore(ind, "scored", points, ZERO, rule, result)
        return LeafScore(ind, "pending", points, ZERO, rule, result)
    if result.state == "n/a":
        return LeafScore(ind, "n/a", ZERO, ZERO, rule, result)
    if result.state == "no-evidence" or (ignore_late_after and all_late(result, ignore_late_after)):
        return LeafScore(ind, "no-evidence", points, ZERO, rule, result)
    earned = kind.earned(result, rule, ind, unit)
    if ind.section == "main":
        earned = min(max(earned, ZERO), points)
    earned = _clamp(earned, ind)
    return LeafScore(ind, "scored", points, earned, rule, result)


def _clamp(value: Decimal, ind: Indicator) -> Decimal:
    if ind.cap is not None:
        value = min(value, ind.cap)
    if ind.floor is not None:
        value = max(value, ind.floor)
    return value


def _leaves(indicators: list[Indicator], unit: Unit, results: dict[str, Result],
            out: dict[str, LeafScore], applies: bool = True, late: dt.date | None = None) -> None:
    for ind in indicators:
        here = applies and ind.applies(unit)
        if ind.children:
            _leaves(ind.children, unit, results, out, here, late)
        else:
            out[ind.id] = score_leaf(ind, unit, here, results, late)


def _move_points(leaves: dict[str, LeafScore]) -> None:
    """Points of leaves that do not apply go to their `moves_to` target, earned in proportion."""
    for leaf in list(leaves.values()):
        target_id = leaf.indicator.moves_to
        if leaf.state != "not-applicable" or not target_id or target_id not in leaves:
            continue
        target = leaves[target_id]
        if target.state in ("not-applicable", "n/a") or target.points == 0:
            continue
        extra = leaf.indicator.points or ZERO
        grown = target.points + extra
        target.earned = target.earned * grown / target.points
        target.points = grown
        target.moved_from.append(leaf.indicator.id)


def _tree(indicators: list[Indicator], leaves: dict[str, LeafScore]) -> list[NodeScore]:
    nodes = []
    for ind in indicators:
        if ind.children:
            children = _tree(ind.children, leaves)
            points = sum((c.points for c in children), ZERO)
            earned = _clamp(sum((c.earned for c in children), ZERO), ind)
            nodes.append(NodeScore(ind, points, earned, children))
        else:
            leaf = leaves[ind.id]
            nodes.append(NodeScore(ind, leaf.points, leaf.earned, leaf=leaf))
    return nodes


# --- phase 3 and 4: base, sections, total ---------------------------------------------

def score_unit(scheme: Scheme, unit: Unit, obs: Observations | None,
               externals: list[ExternalShare] | None = None, appeals: list[Appeal] | None = None,
               evidence_due: dt.date | None = None) -> UnitScore:
    """Everything that depends only on this unit: leaves, tree, base, own bonus, penalty, external."""
    results = counting_results(obs, appeals)
    late = evidence_due if scheme.late_evidence == "ignore" else None
    leaves: dict[str, LeafScore] = {}
    _leaves(scheme.indicators, unit, results, leaves, late=late)
    _move_points(leaves)
    tree = _tree(scheme.indicators, leaves)
    for entry in list(obs.results if obs else []) + list(appeals or []):
        leaf = leaves.get(entry.indicator)
        if leaf is not None:
            leaf.chain.append(entry)
    score = UnitScore(unit, scheme, tree, leaves, source=obs.src if obs else None)
    score.applicable = sum((n.points for n in tree), ZERO)
    score.earned = sum((n.earned for n in tree), ZERO)
    score.pending = [leaf.indicator.id for leaf in leaves.values() if leaf.state == "pending"]
    scoring = scheme.scoring
    own = score.earned
    if scoring.normalise == "applicable":
        own = score.earned / score.applicable * scoring.scale if score.applicable else ZERO
    base = own
    if scheme.components:
        # each component is taken as published, at the scheme's places, before weighting
        base = ZERO
        for component in scheme.components:
            value = _component_value(component.source, own, score, obs)
            if value is not None and "base" in scoring.round_at:
                value = half_up(value, scoring.places)
            score.components[component.id] = value
            if value is None:
                score.pending.append(component.source)
            else:
                base += component.weight * value
    score.base = half_up(base, scoring.places) if "base" in scoring.round_at else base
    for section in (scheme.bonus, scheme.penalty):
        if section:
            for ind in section.indicators:
                _leaves([ind], unit, results, leaves, late=late)
    score.externals = externals or []
    score.external = sum((e.points for e in score.externals if e.mode == "subtract"), ZERO)
    passdown = [e.points for e in score.externals if e.mode == "passdown"]
    if scheme.conversion and scheme.conversion.passdown_multiplier is not None:
        score.passdown = sum(passdown, ZERO) * scheme.conversion.passdown_multiplier
    for leaf in leaves.values():
        if leaf.rule and leaf.rule.kind == "threshold" and leaf.state == "scored":
            leaf.earned = _threshold(leaf, score)
    return score


def _component_value(source: str, own: Decimal, score: UnitScore, obs: Observations | None) -> Decimal | None:
    if source == "indicators":
        return own
    kind, _, ident = source.partition(":")
    if kind == "measure":
        return obs.measures.get(ident) if obs else None
    if kind == "indicator":
        node = score.node(ident)
        if node is None or not node.points:
            return None
        return node.earned / node.points * score.scheme.scoring.scale
    return None


def _threshold(leaf: LeafScore, score: UnitScore) -> Decimal:
    of = leaf.rule.params.get("of") or "base"
    if of == "base":
        value = score.base
    else:
        node = score.node(of)
        value = node.earned if node else ZERO
    return leaf.points if value >= leaf.rule.params["at_least"] else ZERO


def finish_unit(score: UnitScore) -> None:
    """Sections capped, total, grade, flags, conversion: after ranks are known."""
    scheme, scoring = score.scheme, score.scheme.scoring
    bonus = [leaf for leaf in score.leaves.values() if leaf.indicator.section == "bonus"]
    penalty = [leaf for leaf in score.leaves.values() if leaf.indicator.section == "penalty"]
    score.bonus_raw = sum((leaf.earned for leaf in bonus), ZERO)
    score.bonus = score.bonus_raw
    if scheme.bonus and scheme.bonus.cap is not None:
        score.bonus = min(score.bonus, scheme.bonus.cap)
    score.penalty = sum((leaf.earned for leaf in penalty), ZERO)
    if scheme.penalty and scheme.penalty.cap is not None:
        score.penalty = max(score.penalty, -scheme.penalty.cap)
    total = score.base + score.bonus + score.penalty - score.external
    score.total = half_up(total, scoring.places) if "total" in scoring.round_at else total
    for grade in scheme.grades:
        if score.total >= grade.min:
            score.grade, score.grade_en = grade.label, grade.label_en
            break
    for flag in scheme.flags:
        value = score.base if flag.of == "base" else score.total
        if value < flag.below:
            score.flags.append(flag.id)
    if scheme.conversion and scheme.conversion.points is not None:
        score.performance_points = half_up(score.total / scoring.scale * scheme.conversion.points, 2)


# --- phase 5: across units ------------------------------------------------------------

def competition_ranks(values: list[tuple[str, Decimal]], higher_is_better: bool = True) -> dict[str, int]:
    """Standard competition ranking: equal values share a rank and the next rank skips (1, 2, 2, 4)."""
    ordered = sorted(values, key=lambda kv: (-kv[1] if higher_is_better else kv[1], kv[0]))
    ranks: dict[str, int] = {}
    previous: Decimal | None = None
    rank = 0
    for position, (key, value) in enumerate(ordered, start=1):
        if value != previous:
            rank, previous = position, value
        ranks[key] = rank
    return ranks


def category_of(scheme: Scheme, unit: Unit) -> Category | None:
    if not scheme.ranking:
        return None
    for category in scheme.ranking.categories:
        if category.selector.matches(unit):
            return category
    return None


def _rank_bonuses(scores: list[UnitScore], measures: dict[str, dict[str, Decimal]]) -> None:
    """`rank` rules: points for the units in the top N among those scored by the same scheme.

    Ranks are computed once per (scheme, indicator, category), not once per unit.
    """
    ranked: dict[tuple[str, str, str | None], dict[str, int]] = {}
    for score in scores:
        for leaf in score.leaves.values():
            if not (leaf.rule and leaf.rule.kind == "rank" and leaf.state == "scored"):
                continue
            params = leaf.rule.params
            within = params.get("among") == "category"
            category = score.category.id if within and score.category else None
            key = (score.scheme.id, leaf.indicator.id, category)
            if key not in ranked:
                peers = [s for s in scores if s.scheme is score.scheme
                         and (not within or s.category is score.category)]
                values = [(peer.unit.id, value) for peer in peers
                          for value in [_rank_value(peer, params, measures)] if value is not None]
                higher = True
                if params.get("measure"):
                    measure = next((m for m in score.scheme.measures if m.id == params["measure"]), None)
                    higher = measure.higher_is_better if measure else True
                ranked[key] = competition_ranks(values, higher)
            rank = ranked[key].get(score.unit.id)
            leaf.earned = leaf.points if rank is not None and rank <= params["top"] else ZERO


def _rank_value(score: UnitScore, params: dict[str, Any], measures: dict[str, dict[str, Decimal]]) -> Decimal | None:
    if params.get("measure"):
        return measures.get(score.unit.id, {}).get(params["measure"])
    node = score.node(params.get("indicator") or "")
    return node.earned if node else None


def _assign_ranks(scores: list[UnitScore]) -> None:
    by_scheme: dict[str, list[UnitScore]] = {}
    for score in scores:
        by_scheme.setdefault(score.scheme.id, []).append(score)
    for group in by_scheme.values():
        overall = competition_ranks([(s.unit.id, s.total) for s in group])
        for s in group:
            s.rank = overall[s.unit.id]
        categories: dict[str, list[UnitScore]] = {}
        for s in group:
            if s.category is not None:
                categories.setdefault(s.category.id, []).append(s)
        for members in categories.values():
            ranks = competition_ranks([(s.unit.id, s.total) for s in members])
            for s in members:
                s.category_rank = ranks[s.unit.id]


# --- a round --------------------------------------------------------------------------

def external_shares(round_: Round, scheme: Scheme, unit: Unit,
                    imported: dict[str, dict[str, Decimal]]) -> list[ExternalShare]:
    modes = {e.id: e for e in scheme.external}
    out = []
    for ref in round_.external_refs:
        spec = modes.get(ref.id)
        if spec is None:
            continue
        if ref.id in round_.external:
            data = round_.external[ref.id]
            for d in data.deductions:
                if d.unit == unit.id:
                    out.append(ExternalShare(ref.id, data.name, spec.mode, d.points, d.reason))
        elif ref.id in imported and unit.id in imported[ref.id]:
            out.append(ExternalShare(ref.id, spec.name, spec.mode, imported[ref.id][unit.id],
                                     f"{ref.round}"))
    return out


def imported_losses(round_: Round, depth: int) -> dict[str, dict[str, Decimal]]:
    """For external sources that name another round: points each unit lost there."""
    out: dict[str, dict[str, Decimal]] = {}
    if depth > 3:
        return out
    for ref in round_.external_refs:
        if not ref.round:
            continue
        from gapctl.load import load

        other_dir = Path(round_.directory).parent / ref.round
        loaded = load(other_dir)
        if loaded.round is None:
            continue
        other = score_round(loaded.round, depth=depth + 1)
        out[ref.id] = {s.unit.id: max(ZERO, s.scheme.scoring.scale - s.total) for s in other.units}
    return out


def score_round(round_: Round, final: bool = False, depth: int = 0) -> RoundScore:
    """Score every unit of a loaded round that has a scheme; `final` makes pending an error."""
    units = round_.unit_set.units if round_.unit_set else []
    imported = imported_losses(round_, depth)
    scores: list[UnitScore] = []
    for unit in units:
        scheme = round_.scheme_for(unit)
        if scheme is None:
            continue
        obs = round_.observations.get(unit.id)
        scores.append(score_unit(scheme, unit, obs, external_shares(round_, scheme, unit, imported),
                                 round_.appeals.get(unit.id), round_.stages.get("evidence_due")))
    measures = {unit_id: obs.measures for unit_id, obs in round_.observations.items()}
    return rank_round(round_, scores, measures, final)


def rank_round(round_: Round, scores: list[UnitScore], measures: dict[str, dict[str, Decimal]],
               final: bool = False) -> RoundScore:
    """Phase 5 over units scored one by one: rank bonuses, totals, grades, ranks, order."""
    for score in scores:
        score.category = category_of(score.scheme, score.unit)
    _rank_bonuses(scores, measures)
    for score in scores:
        finish_unit(score)
    _assign_ranks(scores)
    result = RoundScore(round_, sorted(scores, key=_order(round_)))
    if final:
        for score in result.units:
            if score.pending:
                shown = ", ".join(score.pending[:8]) + (" …" if len(score.pending) > 8 else "")
                result.problems.append(Problem(
                    NOT_ASSESSED_FINAL, f"{score.unit.name}: {len(score.pending)} indicator(s) not yet "
                    f"assessed, a final score needs them: {shown}", score.source or round_.src,
                    ("results",) if score.source else ("units",)))
    return result


def ranking_inputs(scheme: Scheme) -> set[str]:
    """Indicators whose earned points other units' `rank` rules compare."""
    return {str(rule.params["indicator"]) for ind in scheme.all_indicators() for rule in ind.rules
            if rule.kind == "rank" and rule.params.get("indicator")}


def summarise(score: UnitScore, keep_nodes: set[str]) -> UnitScore:
    """What `rank_round` needs of a unit's score and no more: totals, section leaves, ranked nodes.

    Leaves of the main tree, their observations and the tree itself are dropped; so a
    round's summary can be kept for thousands of units and passed between processes.
    """
    leaves = {key: LeafScore(leaf.indicator, leaf.state, leaf.points, leaf.earned, leaf.rule)
              for key, leaf in score.leaves.items()
              if leaf.indicator.section != "main" or (leaf.rule and leaf.rule.kind == "rank")}
    nodes, stack = [], list(score.tree)
    while stack:
        node = stack.pop()
        if node.indicator.id in keep_nodes:
            nodes.append(NodeScore(node.indicator, node.points, node.earned))
        stack.extend(node.children)
    score.leaves, score.tree, score.detailed = leaves, nodes, False
    return score


def _order(round_: Round) -> Any:
    schemes = [a.scheme for a in round_.assignments]

    def key(score: UnitScore) -> tuple[int, int, str]:
        position = schemes.index(score.scheme.id) if score.scheme.id in schemes else len(schemes)
        return (position, score.rank or 0, score.unit.id)
    return key
