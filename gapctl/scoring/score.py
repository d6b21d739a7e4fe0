"""The only place where observations become numbers.

A unit is scored in phases, each using only what the one before produced (the stages of
gapctl.scheme.formula, which formulas in a scheme may read):

1. leaves: each applicable leaf's rule turns the counting observation into points (clauses
   among them); a gate on an indicator may stop it counting; points of indicators that do
   not apply are redistributed (gapctl/scheme/constructs/redistribute.py) or leave the denominator;
2. the tree: groups add up their children, each node held within its bounds at the declared
   level (扣完为止, gapctl/scheme/constructs/bounds.py); vetoes that zero parts apply here;
3. base: a formula, by default the raw sum, earned ÷ applicable × scale or weighted
   components (gapctl/scheme/constructs/formulas.py); rounded;
4. penalty, external, bonus (gates, thresholds, ranks among units), total (a formula), vetoes
   and pass lines (gapctl/scheme/constructs/vetoes.py), grade, flags, conversion;
5. ranks: overall and within category, ties sharing a rank (1, 2, 2, 4). Every unit gets its rank
   (robustness, diff and `rank` rules compare them), but outputs show ranks only where the scheme
   publishes a ranking (`ranking`), or when asked (`score --rank`), labelled as not published
   (`ranks_shown`); units of a scheme without a published ranking are listed in the unit set's order.

Every number is Decimal; rounding is half-up (四舍五入) at the places the scheme names.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, ClassVar

from gapctl.data.model import (
    Appeal,
    Category,
    Indicator,
    Observations,
    Result,
    Round,
    Rule,
    Scheme,
    Unit,
    Veto,
    evidence_date,
)
from gapctl.figures import ZERO
from gapctl.problems import NOT_ASSESSED_FINAL, Problem
from gapctl.scheme.constructs import Decision, bounds, gates, redistribute, vetoes
from gapctl.scheme.constructs.bounds import Cut
from gapctl.scheme.constructs.formulas import base_formula, total_formula
from gapctl.scheme.formula import Formula, FormulaError, compiled, number
from gapctl.scheme.rules import REGISTRY
from gapctl.scoring.unit_env import Observed, UnitEnv

COUNTING_SOURCES = ("evaluator", "review", "appeal")  # later in the chain wins; `self` never counts


SHARED_FIGURES: dict[str, Decimal] = {}  # a short figure's text → one Decimal for it (Decimals are immutable)


def shared_figure(value: Decimal) -> Decimal:
    """`value`, or the one Decimal already kept for its text (the same sign, digits and exponent: 85.5 and 85.50
    are kept apart), for a figure that a unit's summary keeps: a round's totals repeat a few thousand values
    (~100 bytes each; at 30,000 units a summary's ~200,000 figures were ~20 MB)."""
    return figure_of(str(value), value)


def figure_of(text: str, value: Decimal | None = None) -> Decimal:
    """The one Decimal kept for a figure's text (`value`, else Decimal(text), kept when none was): long texts (a
    normalised base) are not kept."""
    found = SHARED_FIGURES.get(text)
    if found is None:
        found = Decimal(text) if value is None else value
        if len(text) <= 8 and len(SHARED_FIGURES) < 65536:
            SHARED_FIGURES[text] = found
    return found


def half_up(value: Decimal, places: int) -> Decimal:
    """四舍五入: 89.45 → 89.5 at one place, never banker's rounding."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


@dataclass(slots=True)
class LeafScore:
    """One leaf for one unit: what counted, and the points it gave."""

    indicator: Indicator
    state: str  # scored / not-applicable / n/a / pending / no-evidence
    points: Decimal  # what it counts for in the denominator (0 when it does not apply)
    earned: Decimal
    rule: Rule | None = None
    result: Result | None = None
    moved_from: list[str] = field(default_factory=list)  # ids whose points moved here
    moved_in: Decimal = ZERO  # how many points moved here
    moved_mode: str = ""  # earn or deduct (gapctl.scheme.constructs.redistribute)
    before_move: tuple[Decimal, Decimal] | None = None  # (earned, points) before points moved here
    chain: list[Any] = field(default_factory=list)  # every entry for it: self, evaluator, review, appeals
    cut: Cut | None = None  # where a bound changed what its rule gave
    gated: bool = False  # its gate did not hold, so it earns 0
    ungated: Decimal | None = None  # what its rule gave before a gate that did not hold (robustness redoes gates)
    panel: list[tuple[str, Decimal]] = field(default_factory=list)  # several assessors: (who, earned)
    apart: bool = False  # the assessors differ by more than the tolerance and no review decided

    @property
    def lost(self) -> Decimal:
        return points_lost(self.indicator.section, self.points, self.earned)


@dataclass(slots=True)
class LeafSummary:
    """A leaf as a unit's summary keeps it (`summarise`: a bonus or penalty item, a rank leaf): what ranking and
    the later phases read and decide of it. Read as a LeafScore is; what it does not keep reads as a LeafScore's
    default (no result, nothing moved, no chain). At 30,000 units of 7 such leaves each, a LeafScore's 16 slots
    were ~34 MB of every command's parent; this is less than half of that."""

    indicator: Indicator
    state: str
    points: Decimal
    earned: Decimal
    rule: Rule | None = None
    gated: bool = False
    ungated: Decimal | None = None

    # a LeafScore's other fields, as they read when nothing set them (class variables, not fields: never written
    # on a summary)
    result: ClassVar[None] = None
    moved_from: ClassVar[tuple[str, ...]] = ()
    moved_in: ClassVar[Decimal] = ZERO
    moved_mode: ClassVar[str] = ""
    before_move: ClassVar[None] = None
    chain: ClassVar[tuple[Any, ...]] = ()
    cut: ClassVar[None] = None
    panel: ClassVar[tuple[Any, ...]] = ()
    apart: ClassVar[bool] = False

    @property
    def lost(self) -> Decimal:
        return points_lost(self.indicator.section, self.points, self.earned)


def points_lost(section: str, points: Decimal, earned: Decimal) -> Decimal:
    """What a leaf of `section` with `points` lost by earning `earned`: a penalty what it deducted, a bonus
    nothing, any other leaf the points it did not earn (`LeafScore.lost`)."""
    if section == "penalty":
        return -earned
    if section == "bonus":
        return ZERO
    return points - earned


@dataclass(slots=True)
class NodeScore:
    """An indicator of the tree (group or leaf) with its applicable points and earned points."""

    indicator: Indicator
    points: Decimal
    earned: Decimal
    children: list[NodeScore] = field(default_factory=list)
    leaf: LeafScore | None = None
    cut: Cut | None = None  # where a bound changed the sum of its children
    gated: bool = False  # its gate did not hold
    zeroed: str | None = None  # the veto that made it earn nothing


@dataclass(slots=True)
class ExternalShare:
    source: str
    name: str
    mode: str
    points: Decimal
    reason: str | None = None


@dataclass(slots=True)
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
    total: Decimal | None = ZERO  # None: withheld by a veto (`stop`)
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
    observed: Observed | None = None  # what formulas read; dropped in a summary
    known: dict[tuple[str, tuple[str, ...]], Any] = field(default_factory=dict)  # see gapctl.scoring.unit_env
    decisions: list[Decision] = field(default_factory=list)  # gates, thresholds, vetoes: how each went
    vetoed: list[Veto] = field(default_factory=list)  # vetoes (and pass lines) that held
    total_raw: Decimal | None = None  # the total before rounding, caps and vetoes
    problems: list[Problem] = field(default_factory=list)  # a formula that could not be computed
    groups: dict[str, Any] = field(default_factory=dict)  # group id → GroupValue (gapctl.scheme.constructs.groups)
    own: Decimal = ZERO  # the tree's own base (earned, or earned ÷ applicable × scale), for components
    period: str | None = None  # a score of one of a round's periods: that round's id and title
    period_title: str | None = None

    @property
    def withheld(self) -> bool:
        return self.total is None

    def env(self) -> UnitEnv:
        return UnitEnv(self, self.observed)

    def decision(self, kind: str, owner: str) -> Decision | None:
        return next((d for d in self.decisions if d.kind == kind and d.owner == owner), None)

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


@dataclass(slots=True)
class RoundScore:
    round: Round
    units: list[UnitScore]
    problems: list[Problem] = field(default_factory=list)
    channels: dict[str, list[UnitScore]] = field(default_factory=dict)  # unit id → its channels' scores
    periods: dict[str, list[UnitScore]] = field(default_factory=dict)  # unit id → its scores, period by period
    ranks_asked: bool = False  # show ranks for schemes that publish none (`score --rank`), labelled as such

    def ranks_shown(self, scheme: Scheme) -> bool:
        """Whether outputs show the ranks of the scheme's units: it publishes a ranking, or ranks were asked for."""
        return scheme.publishes_ranking or self.ranks_asked

    def in_rank_order(self, scores: list[UnitScore] | None = None) -> list[UnitScore]:
        """`scores` (default: all) scheme by scheme in the round's order, each scheme's units by rank where
        ranks are shown, else in the unit set's order."""
        scores = self.units if scores is None else scores
        schemes = [a.scheme for a in self.round.assignments]
        order = {s.unit.id: n for n, s in enumerate(self.units)}

        def key(score: UnitScore) -> tuple[int, int, int]:
            position = schemes.index(score.scheme.id) if score.scheme.id in schemes else len(schemes)
            rank = score.rank if score.rank is not None else 1 << 30
            return (position, rank if self.ranks_shown(score.scheme) else 0, order.get(score.unit.id, 0))
        return sorted(scores, key=key)

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


def all_late(result: Result, due: dt.date | None) -> bool:
    """Every piece of evidence the unit sent arrived after the deadline, and nothing else supports it."""
    dates = [evidence_date(ev) for ev in result.evidence]
    return bool(due and dates and all(d is not None and d > due for d in dates))


def score_leaf(ind: Indicator, unit: Unit, applies: bool, results: dict[str, Result],
               ignore_late_after: dt.date | None = None, env: UnitEnv | None = None) -> LeafScore:
    points = ind.points if ind.points is not None else ZERO
    rule = ind.rule_for(unit) if applies else None
    if not applies or rule is None:
        return LeafScore(ind, "not-applicable", ZERO, ZERO)
    result = results.get(ind.id)
    kind = REGISTRY[rule.kind]
    if kind.value_field is None:  # computed later (threshold, rank)
        return LeafScore(ind, "scored", points, ZERO, rule, result)
    if result is not None and result.source == "evaluator" and env is not None and env.observed is not None \
            and env.observed.panels.get(ind.id):
        return _panel_leaf(ind, unit, rule, result, env.observed.panels[ind.id], env)
    if result is None or result.state == "pending":
        if ind.section != "main":  # nothing recorded in a bonus or penalty section: nothing happened
            return LeafScore(ind, "scored", points, ZERO, rule, result)
        return LeafScore(ind, "pending", points, ZERO, rule, result)
    if result.state == "n/a":
        return LeafScore(ind, "n/a", ZERO, ZERO, rule, result)
    if result.state == "no-evidence" or (ignore_late_after and all_late(result, ignore_late_after)):
        return LeafScore(ind, "no-evidence", points, ZERO, rule, result)
    earned = kind.earned(result, rule, ind, unit, env=env) if kind.needs_env else kind.earned(result, rule, ind, unit)
    if ind.section != "main":
        earned = _clamp(earned, ind)
    leaf = LeafScore(ind, "scored", points, earned, rule, result)
    if ind.section == "main" and ind.gate is not None and env is not None:
        _gate(leaf, ind, env)
    return leaf


def _panel_leaf(ind: Indicator, unit: Unit, rule: Rule, result: Result, entries: list[Result],
                env: UnitEnv) -> LeafScore:
    """An indicator several assessors scored (the scheme's `assessors`), when no review or appeal
    decided it: their figures combined, whatever order the entries are in. Pending while fewer
    assessors counted than the scheme asks for, or while they are further apart than its tolerance."""
    from gapctl.scheme.constructs.panels import combine

    panel = env.score.scheme.panel
    assert panel is not None
    points = ind.points if ind.points is not None else ZERO
    kind = REGISTRY[rule.kind]
    counted = [e for e in entries if e.state not in ("pending", "n/a")]
    if not counted:
        state = "n/a" if all(e.state == "n/a" for e in entries) else "pending"
        return LeafScore(ind, state, ZERO if state == "n/a" else points, ZERO, rule, result)
    figures = []
    for entry in counted:
        if entry.state == "no-evidence":
            value = ZERO
        else:
            value = kind.earned(entry, rule, ind, unit, env=env) if kind.needs_env \
                else kind.earned(entry, rule, ind, unit)
        figures.append((entry.observer or "?", value))
    value, apart = combine(panel, [v for _, v in figures])
    shown = next((e for e in counted if e.reason), counted[0])  # its reason, fix and evidence are shown
    leaf = LeafScore(ind, "scored", points, _clamp(value, ind) if ind.section != "main" else value, rule, shown)
    leaf.panel, leaf.apart = figures, apart
    if apart or len(counted) < panel.at_least:  # a review decides, or more assessors are needed
        leaf.state, leaf.earned = "pending", ZERO
    return leaf


def _gate(node: Any, ind: Indicator, env: UnitEnv) -> None:
    """A gate on an indicator of the tree, decided on observations (once: the tree may be summed
    again after a veto zeroes a part): when it fails, 0."""
    assert ind.gate is not None
    decided = env.score.decision("gate", ind.id)
    if decided is None:
        decided = Decision("gate", ind.id, ind.gate.when, gates.holds(ind.gate.when, env), {})
        env.score.decisions.append(decided)
    held = decided.held
    if not held:
        node.earned, node.gated = ZERO, True


def _clamp(value: Decimal, ind: Indicator) -> Decimal:
    """cap and floor of a bonus or penalty item (sections are not held within [0, points])."""
    if ind.cap is not None:
        value = min(value, ind.cap)
    if ind.floor is not None:
        value = max(value, ind.floor)
    return value


def _leaves(indicators: list[Indicator], unit: Unit, results: dict[str, Result],
            out: dict[str, LeafScore], applies: bool = True, late: dt.date | None = None,
            env: UnitEnv | None = None) -> None:
    for ind in indicators:
        here = applies and ind.applies(unit)
        if ind.children:
            _leaves(ind.children, unit, results, out, here, late, env)
        else:
            out[ind.id] = score_leaf(ind, unit, here, results, late, env)


def _tree(indicators: list[Indicator], leaves: dict[str, LeafScore], scheme: Scheme,
          zeroed: dict[str, str] | None = None, env: UnitEnv | None = None) -> list[NodeScore]:
    """Groups add up their children; every node is held within its bounds (gapctl.scheme.constructs.bounds)."""
    nodes = []
    scoring = scheme.scoring
    for ind in indicators:
        if ind.children:
            children = _tree(ind.children, leaves, scheme, zeroed, env)
            points = earned = ZERO
            for child in children:  # the two sums in one pass, added in the same order as sum() adds
                points += child.points
                earned += child.earned
            node = NodeScore(ind, points, earned, children)
            node.earned, node.cut = bounds.apply(node.earned, points, ind, scoring)
            if ind.gate is not None and env is not None:
                _gate(node, ind, env)
        else:
            leaf = leaves[ind.id]
            if leaf.state == "scored" and not leaf.gated and leaf.cut is None:
                leaf.earned, leaf.cut = bounds.apply(leaf.earned, leaf.points, ind, scoring)
            node = NodeScore(ind, leaf.points, leaf.earned, leaf=leaf)
        if zeroed and ind.id in zeroed:
            node.earned, node.zeroed = ZERO, zeroed[ind.id]
        nodes.append(node)
    return nodes


# --- phase 3 and 4: base, sections, total ---------------------------------------------

def score_unit(scheme: Scheme, unit: Unit, obs: Observations | None,
               externals: list[ExternalShare] | None = None, appeals: list[Appeal] | None = None,
               evidence_due: dt.date | None = None) -> UnitScore:
    """Everything that depends only on this unit: leaves, tree, base, its own section items, external.

    What the phases after ranking will read (formulas of gates, thresholds, the total, vetoes)
    is kept on the score (`known`), so a summary of it can finish the unit in another process.
    """
    results = counting_results(obs, appeals)
    late = evidence_due if scheme.late_evidence == "ignore" else None
    leaves: dict[str, LeafScore] = {}
    score = UnitScore(unit, scheme, [], leaves, source=obs.src if obs else None)
    score.observed = Observed(results, obs.facts if obs else {}, obs.measures if obs else {},
                              _panels(obs) if scheme.panel is not None else {})
    env = score.env()
    _leaves(scheme.indicators, unit, results, leaves, late=late, env=env)
    redistribute.apply(scheme, unit, leaves)
    tree = _tree(scheme.indicators, leaves, scheme, env=env)
    score.tree = tree
    score.applicable = sum((n.points for n in tree), ZERO)
    score.earned = sum((n.earned for n in tree), ZERO)
    early = [v for v in scheme.vetoes if vetoes.early(v, scheme)]
    if early:
        decided = vetoes.decide(early, env)
        score.decisions += decided
        held = [v for v, d in zip(early, decided, strict=True) if d.held]
        if held:
            score.vetoed += held
            zeroed = {part: v.id for v in held for part in v.zero}
            tree = score.tree = _tree(scheme.indicators, leaves, scheme, zeroed, env)
    for entry in list(obs.results if obs else []) + list(appeals or []):
        leaf = leaves.get(entry.indicator)
        if leaf is not None:
            leaf.chain.append(entry)
    score.applicable = sum((n.points for n in tree), ZERO)
    score.earned = sum((n.earned for n in tree), ZERO)
    score.pending = [leaf.indicator.id for leaf in leaves.values() if leaf.state == "pending"]
    scoring = scheme.scoring
    own = score.earned
    if scoring.normalise == "applicable":
        own = score.earned / score.applicable * scoring.scale if score.applicable else ZERO
    score.own = own
    for component in scheme.components:
        if component.source.startswith("group:"):
            continue  # its members are scored first: see finish_unit
        # each component is taken as published, at the scheme's places, before weighting
        value = _component_value(component.source, own, score, obs)
        if value is not None and "base" in scoring.round_at:
            value = half_up(value, scoring.places)
        score.components[component.id] = value
        if value is None:
            score.pending.append(component.source)
    for section in (scheme.bonus, scheme.penalty):
        if section:
            for ind in section.indicators:
                _leaves([ind], unit, results, leaves, late=late, env=env)
    score.externals = externals or []
    score.external = sum((e.points for e in score.externals if e.mode == "subtract"), ZERO)
    passdown = [e.points for e in score.externals if e.mode == "passdown"]
    if scheme.conversion and scheme.conversion.passdown_multiplier is not None:
        score.passdown = sum(passdown, ZERO) * scheme.conversion.passdown_multiplier
    env.remember(later_formulas(scheme))
    return score


def _formula_value(score: UnitScore, formula: Formula | None, env: UnitEnv, what: str) -> Decimal:
    """A base or total formula's value; one that cannot be computed counts 0 and is reported."""
    if formula is None:
        return ZERO
    try:
        return number(compiled(formula)(env))
    except FormulaError as err:
        if what == "base" and score.scheme.scoring.normalise == "applicable" and not score.applicable:
            return ZERO  # nothing applies: the normalised base is 0, as it always was
        from gapctl.problems import BAD_FORMULA
        score.problems.append(Problem(BAD_FORMULA, f"{score.unit.name}: the {what} formula "
                                      f"'{formula.text}' cannot be computed: {err.message}",
                                      score.scheme.src, ("scoring", what)))
        return ZERO


def later_formulas(scheme: Scheme) -> list[Formula]:
    """Formulas decided after ranking: section gates and items, thresholds, the total, vetoes."""
    cached = _LATER.get(id(scheme))
    if cached is not None and cached[0] is scheme:
        return cached[1]
    out: list[Formula | None] = [base_formula(scheme), total_formula(scheme)]
    for section in (scheme.bonus, scheme.penalty):
        if section is None:
            continue
        if section.gate is not None:
            out.append(section.gate.when.formula)
        for ind in section.indicators:
            for item in ind.walk():
                if item.gate is not None:
                    out.append(item.gate.when.formula)
                out += [threshold_condition(rule) for rule in item.rules if rule.kind == "threshold"]
    out += [v.when.formula for v in scheme.vetoes if not vetoes.early(v, scheme)]
    formulas = [f for f in out if f is not None]
    _LATER[id(scheme)] = (scheme, formulas)
    return formulas


_LATER: dict[int, tuple[Scheme, list[Formula]]] = {}


def threshold_condition(rule: Rule) -> Formula:
    """A `threshold` rule is shorthand for a condition: `<of> >= <at_least>`."""
    from gapctl.scheme.rules.threshold import condition
    return condition(rule)


def _panels(obs: Observations | None) -> dict[str, list[Result]]:
    """Per indicator, the evaluators' entries (assessors: a panel), in the file's order."""
    found: dict[str, list[Result]] = {}
    for result in obs.results if obs else []:
        if result.source == "evaluator":
            found.setdefault(result.indicator, []).append(result)
    return found


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


def _section_sum(score: UnitScore, section_name: str, env: UnitEnv) -> Decimal:
    """A section's items after their gates and thresholds, then the section's own gate."""
    scheme = score.scheme
    section = scheme.bonus if section_name == "bonus" else scheme.penalty
    items = [leaf for leaf in score.leaves.values() if leaf.indicator.section == section_name]
    for leaf in items:
        if leaf.rule and leaf.rule.kind == "threshold" and leaf.state == "scored":
            condition = _threshold_as_condition(leaf.rule)
            held = gates.holds(condition, env)
            score.decisions.append(Decision("threshold", leaf.indicator.id, condition, held, env.snapshot()))
            leaf.earned = leaf.points if held else ZERO
        gate = leaf.indicator.gate
        if gate is not None and leaf.state == "scored":
            held = gates.holds(gate.when, env)
            score.decisions.append(Decision("gate", leaf.indicator.id, gate.when, held, env.snapshot()))
            if not held:
                leaf.ungated, leaf.earned, leaf.gated = leaf.earned, ZERO, True
    total = sum((leaf.earned for leaf in items), ZERO)
    if section is not None and section.gate is not None:
        held = gates.holds(section.gate.when, env)
        score.decisions.append(Decision("gate", section_name, section.gate.when, held, env.snapshot()))
        if not held:
            return ZERO
    return total


def _as_condition(formula: Formula, rule: Rule) -> Any:
    from gapctl.data.model import Condition
    return Condition(formula.text, formula, src=rule.src, at=rule.at)


def _threshold_as_condition(rule: Rule) -> Any:
    """A threshold rule's condition (`threshold_condition` as a Condition), made once per rule: every
    unit's decision shares it (a round of thousands of units otherwise builds it twice a unit)."""
    cached = _CONDITIONS.get(id(rule))
    if cached is None or cached[0] is not rule:
        cached = _CONDITIONS[id(rule)] = (rule, _as_condition(threshold_condition(rule), rule))
    return cached[1]


_CONDITIONS: dict[int, tuple[Rule, Any]] = {}


def finish_unit(score: UnitScore, groups: dict[str, Any] | None = None) -> None:
    """Groups, base, sections, total, vetoes, grade, flags, conversion: after ranks are known and the
    scores the unit is built from (its channels, subordinates, periods: `groups`) are finished."""
    scheme, scoring = score.scheme, score.scheme.scoring
    env = score.env()
    score.groups = groups or {}
    for component in scheme.components:
        if component.source.startswith("group:"):
            found = score.groups.get(component.source[6:])
            value = found.value if found is not None else None
            if value is not None and "base" in scoring.round_at:
                value = half_up(value, scoring.places)
            score.components[component.id] = value
            if value is None:
                score.pending.append(component.source)
    for gid, found in score.groups.items():  # a unit built from provisional scores is provisional
        if found.value is None:
            score.pending.append(f"group:{gid}")
        score.pending += [f"{gid}:{m.id}" for m in found.counted if m.pending]
    parts = [v for v in scheme.vetoes if vetoes.on_components(v, scheme)]
    if parts:
        decided = vetoes.decide(parts, env)
        score.decisions += decided
        for veto, decision in zip(parts, decided, strict=True):
            if decision.held:
                score.vetoed.append(veto)
                score.components.update({part: ZERO for part in veto.zero})
    base = _formula_value(score, base_formula(scheme), env, "base")
    score.base = half_up(base, scoring.places) if "base" in scoring.round_at else base
    score.penalty = _section_sum(score, "penalty", env)
    if scheme.penalty and scheme.penalty.cap is not None:
        score.penalty = max(score.penalty, -scheme.penalty.cap)
    score.bonus_raw = _section_sum(score, "bonus", env)
    score.bonus = score.bonus_raw
    if scheme.bonus and scheme.bonus.cap is not None:
        score.bonus = min(score.bonus, scheme.bonus.cap)
    score.total = _total(score, env)
    late = [v for v in scheme.vetoes if not vetoes.early(v, scheme) and not vetoes.on_components(v, scheme)]
    if late:
        decided = vetoes.decide(late, env)
        score.decisions += decided
        score.vetoed += [v for v, d in zip(late, decided, strict=True) if d.held]
    if score.vetoed:
        cancel = {section for v in score.vetoed for section in v.cancel}
        if "bonus" in cancel:
            score.bonus = score.bonus_raw = ZERO
        if "penalty" in cancel:
            score.penalty = ZERO
        if cancel:
            score.total = _total(score, env)
        fixed = vetoes.fixed_total(score.vetoed)
        if fixed is not None:
            score.total = fixed
        if any(v.stop for v in score.vetoed):
            score.total = None
    band = next((g for g in scheme.grades if score.total is not None and score.total >= g.min), None)
    forced = vetoes.forced_grade(scheme, score.vetoed, band.label if band else None)
    if forced is not None:
        score.grade = forced
        score.grade_en = next((g.label_en for g in scheme.grades if g.label == forced), None)
    elif band is not None:
        score.grade, score.grade_en = band.label, band.label_en
    for flag in scheme.flags:
        value = score.base if flag.of == "base" else score.total
        if value is not None and value < flag.below:
            score.flags.append(flag.id)
    if scheme.conversion and scheme.conversion.points is not None and score.total is not None:
        score.performance_points = half_up(score.total / scoring.scale * scheme.conversion.points, 2)
    for name in _FINISHED_FIGURES:  # what this phase worked out, kept with every unit's summary
        value = getattr(score, name)
        if value.__class__ is Decimal:
            setattr(score, name, shared_figure(value))


_FINISHED_FIGURES = ("base", "penalty", "bonus_raw", "bonus", "total", "total_raw", "performance_points")


def _total(score: UnitScore, env: UnitEnv) -> Decimal:
    scoring = score.scheme.scoring
    total = _formula_value(score, total_formula(score.scheme), env, "total")
    score.total_raw = total
    if scoring.max_total is not None:
        total = min(total, scoring.max_total)
    return half_up(total, scoring.places) if "total" in scoring.round_at else total


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


def rank_bonuses(scores: list[UnitScore], measures: dict[str, dict[str, Decimal]]) -> None:
    """Each unit's ranking category, then the points of its `rank` rules (`_rank_bonuses`)."""
    for score in scores:
        score.category = category_of(score.scheme, score.unit)
    _rank_bonuses(scores, measures)


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
    ranked = rank_entries([(s.unit.id, s.scheme.id, s.category.id if s.category else None, s.total) for s in scores])
    for s in scores:
        s.rank, s.category_rank = ranked[s.unit.id]


RankEntry = tuple[Any, str, str | None, Decimal | None]  # key, scheme id, category id, total (None: withheld)


def rank_entries(entries: list[RankEntry]) -> dict[Any, tuple[int | None, int | None]]:
    """Rank and category rank of each (key, scheme id, category id, total): among the entries of the same
    scheme, and among those of the same scheme and category; ties share a rank (`competition_ranks`);
    a total withheld by a veto (None) is not ranked. `score` ranks a round's units with it, and
    `gapctl rank --from` the units of several rounds (keys then name the round too)."""
    out: dict[Any, tuple[int | None, int | None]] = {key: (None, None) for key, *_rest in entries}
    by_scheme: dict[str, list[tuple[Any, str | None, Decimal]]] = {}
    for key, scheme, category, total in entries:
        if total is not None:
            by_scheme.setdefault(scheme, []).append((key, category, total))
    for group in by_scheme.values():
        overall = competition_ranks([(key, total) for key, _category, total in group])
        categories: dict[str, list[tuple[Any, Decimal]]] = {}
        for key, category, total in group:
            if category is not None:
                categories.setdefault(category, []).append((key, total))
        within: dict[Any, int] = {}
        for members in categories.values():
            within.update(competition_ranks(members))
        for key, _category, _total in group:
            out[key] = (overall[key], within.get(key))
    return out


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
        from gapctl.scoring.load import load

        other_dir = Path(round_.directory).parent / ref.round
        loaded = load(other_dir, tree=round_.tree)  # at the same revision (score --rev)
        if loaded.round is None:
            continue
        other = score_round(loaded.round, depth=depth + 1)
        out[ref.id] = {s.unit.id: max(ZERO, s.scheme.scoring.scale - s.total) for s in other.units
                       if s.total is not None}
    return out


def score_round(round_: Round, final: bool = False, depth: int = 0, seen: tuple[str, ...] = (),
                periods: dict[str, Round] | None = None) -> RoundScore:
    """Score every unit of a loaded round that has a scheme; `final` makes pending an error. `periods`:
    period rounds to use as given instead of loading them (an import's preview of its period rows)."""
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
    channels = {unit_id: [score_channel(round_, unit_id, obs) for obs in files.values()]
                for unit_id, files in round_.channels.items()}
    measures = {unit_id: obs.measures for unit_id, obs in round_.observations.items()}
    return rank_round(round_, scores, measures, final,
                      {k: [c for c in v if c is not None] for k, v in channels.items()},
                      period_scores(round_, seen, periods))


def channel_scheme(round_: Round, unit_id: str, obs: Observations) -> tuple[Scheme, Any] | None:
    """The scheme that scores a channel: that of the unit's group taking the channel's type."""
    units = round_.unit_set.by_id() if round_.unit_set else {}
    unit = units.get(unit_id)
    scheme = round_.scheme_for(unit) if unit is not None else None
    if scheme is None:
        return None
    for group in scheme.groups:
        if group.of == "channels" and (not group.types or obs.channel_type in group.types):
            sub = round_.schemes.get(group.scheme or "")
            return (sub, group) if sub is not None else None
    return None


def channel_unit(unit_id: str, obs: Observations) -> Unit:
    """A channel as the unit its sub-scheme scores: `<unit>/<channel>`, its type the channel's."""
    return Unit(f"{unit_id}/{obs.channel}", obs.channel_name or obs.channel or "", obs.channel_type or "",
                parent=unit_id, src=obs.src, at=())


def score_channel(round_: Round, unit_id: str, obs: Observations) -> UnitScore | None:
    found = channel_scheme(round_, unit_id, obs)
    if found is None:
        return None
    return score_unit(found[0], channel_unit(unit_id, obs), obs, None, None, round_.stages.get("evidence_due"))


def period_scores(round_: Round, seen: tuple[str, ...] = (),
                  given: dict[str, Round] | None = None) -> dict[str, list[UnitScore]]:
    """Unit id → its scores in the round's periods (other rounds), in the order the round lists them;
    the rounds in `given` as they are, the others loaded from their directories."""
    out: dict[str, list[UnitScore]] = {}
    if not round_.periods or round_.id in seen:
        return out
    from gapctl.scoring.load import load

    for period in round_.periods:
        directory = Path(round_.directory).parent / period
        tree = round_.tree
        if period in seen or not (tree.is_dir(directory) if tree is not None else directory.is_dir()):
            continue  # a cycle or a missing round: validate reports it
        period_round = (given or {}).get(period) or load(directory, tree=tree).round  # at the same revision
        if period_round is None:
            continue
        scored = score_round(period_round, seen=seen + (round_.id,))
        for unit_score in scored.units:
            unit_score.period, unit_score.period_title = period_round.id, period_round.title
            out.setdefault(unit_score.unit.id, []).append(unit_score)
    return out


def _group_values(round_: Round, score: UnitScore, by_id: dict[str, UnitScore], channels: dict[str, list[UnitScore]],
                  periods: dict[str, list[UnitScore]]) -> dict[str, Any]:
    """gapctl.scheme.constructs.groups.group_values: {} for a scheme without groups, without importing it."""
    if not score.scheme.groups:
        return {}
    from gapctl.scheme.constructs.groups import group_values

    return group_values(round_, score, by_id, channels, periods)


def rank_round(round_: Round, scores: list[UnitScore], measures: dict[str, dict[str, Decimal]],
               final: bool = False, channels: dict[str, list[UnitScore]] | None = None,
               periods: dict[str, list[UnitScore]] | None = None, finished: set[int] | None = None) -> RoundScore:
    """Phase 5 over units scored one by one: rank bonuses, then every unit finished after the
    scores it is built from (channels, subordinates, periods), then ranks and order. `finished`: id()s
    of scores finished already (read from gapctl.scoring.outcomes' finished records), not finished again;
    with it, the caller has set categories and rank bonuses (`rank_bonuses`) already."""
    channels, periods = channels or {}, periods or {}
    if finished is None:
        rank_bonuses(scores, measures)
    for found in channels.values():
        for channel in found:
            finish_unit(channel)
    by_id = {s.unit.id: s for s in scores}
    for score in _subordinates_first(scores, by_id):
        if finished is None or id(score) not in finished:
            finish_unit(score, _group_values(round_, score, by_id, channels, periods))
    _assign_ranks(scores)
    result = RoundScore(round_, sorted(scores, key=_order(round_)), channels=channels, periods=periods)
    if final:
        for score in result.units:
            if score.pending:
                shown = ", ".join(score.pending[:8]) + (" …" if len(score.pending) > 8 else "")
                result.problems.append(Problem(
                    NOT_ASSESSED_FINAL, f"{score.unit.name}: {len(score.pending)} indicator(s) not yet "
                    f"assessed, a final score needs them: {shown}", score.source or round_.src,
                    ("results",) if score.source else ("units",)))
    return result


def _subordinates_first(scores: list[UnitScore], by_id: dict[str, UnitScore]) -> list[UnitScore]:
    """Units ordered so that every unit comes after its subordinates (deepest first; a cycle of
    parents, which validate reports, is broken where it is found)."""
    def depth(score: UnitScore) -> int:
        seen, parent, level = {score.unit.id}, score.unit.parent, 0
        while parent is not None and parent in by_id and parent not in seen:
            seen.add(parent)
            level += 1
            parent = by_id[parent].unit.parent
        return level
    return sorted(scores, key=lambda s: -depth(s))


def ranking_inputs(scheme: Scheme) -> set[str]:
    """Indicators whose earned points other units' `rank` rules compare."""
    return {str(rule.params["indicator"]) for ind in scheme.all_indicators() for rule in ind.rules
            if rule.kind == "rank" and rule.params.get("indicator")}


def summarise(score: UnitScore, keep_nodes: set[str]) -> UnitScore:
    """What `rank_round` needs of a unit's score and no more: totals, section leaves, ranked nodes.

    Leaves of the main tree, their observations and the tree itself are dropped; so a
    round's summary can be kept for thousands of units and passed between processes.
    """
    leaves = {key: LeafSummary(leaf.indicator, leaf.state, leaf.points, leaf.earned, leaf.rule)
              for key, leaf in score.leaves.items()
              if leaf.indicator.section != "main" or (leaf.rule and leaf.rule.kind == "rank")}
    nodes, stack = [], list(score.tree)
    while stack:
        node = stack.pop()
        if node.indicator.id in keep_nodes:
            nodes.append(NodeScore(node.indicator, node.points, node.earned))
        stack.extend(node.children)
    score.leaves, score.tree, score.detailed, score.observed = leaves, nodes, False, None
    return score


def _order(round_: Round) -> Any:
    """Scheme by scheme in the round's order; within a scheme that publishes a ranking by rank, else
    in the unit set's order (a list by total would be a ranking the scheme does not publish)."""
    schemes = [a.scheme for a in round_.assignments]
    listed = {u.id: n for n, u in enumerate(round_.unit_set.units)} if round_.unit_set else {}

    def key(score: UnitScore) -> tuple[int, int, int, str]:
        position = schemes.index(score.scheme.id) if score.scheme.id in schemes else len(schemes)
        if not score.scheme.publishes_ranking:
            return (position, 0, listed.get(score.unit.id, 1 << 30), score.unit.id)
        return (position, score.rank if score.rank is not None else 1 << 30, 0, score.unit.id)
    return key
