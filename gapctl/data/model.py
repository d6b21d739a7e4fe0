"""The in-memory model: plain dataclasses built by `load`, read by validate and score.

Every object keeps `src` (its file) and `at` (its key path in that file) so that any
problem found later can point at file, line and column.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from gapctl import memo
from gapctl.data.sources import SourceFile


@dataclass(slots=True)
class Placed:
    """Where an object was read from."""

    src: SourceFile | None = field(default=None, repr=False, compare=False, kw_only=True)
    at: tuple[Any, ...] = field(default=(), repr=False, compare=False, kw_only=True)


@dataclass(slots=True)
class Selector(Placed):
    """Selects units by type, tag or id; a unit matches if it matches any entry."""

    unit_types: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    units: tuple[str, ...] = ()

    def matches(self, unit: Unit) -> bool:
        if unit.type in self.unit_types or unit.id in self.units:
            return True
        for tag in self.tags:  # a loop, not any(…): most selectors name no tag, and this runs per leaf per unit
            if tag in unit.tags:
                return True
        return False


@dataclass(slots=True)
class Condition(Placed):
    """A formula written in a scheme (gapctl.scheme.formula), kept with where it was written.

    `formula` is None when the text could not be read (validate reported it); such a condition
    is never true and a formula that cannot be computed gives 0."""

    text: str
    formula: Any = None  # gapctl.scheme.formula.Formula


@dataclass(slots=True)
class Gate(Placed):
    """A section, indicator or group counts only when its condition holds (加分门槛)."""

    when: Condition
    name: str | None = None
    name_en: str | None = None


@dataclass(slots=True)
class Veto(Placed):
    """单项否决 / 一票否决: when the condition holds, the grade, total or parts are decided by it.

    Effects, any of: `grade` forced; `total` set to a figure; `zero` parts earn nothing;
    `cancel` sections (bonus, penalty) do not count; `stop` withholds the total altogether.
    A pass line on a part (`pass_line`) is a veto whose condition is the part below its line."""

    id: str
    name: str
    when: Condition
    name_en: str | None = None
    grade: str | None = None
    total: Decimal | None = None
    zero: tuple[str, ...] = ()
    cancel: tuple[str, ...] = ()
    stop: bool = False
    part: str | None = None  # the indicator whose pass line this is
    line: tuple[str, Decimal] | None = None  # a pass line: ("rate" or "score", the figure to reach)
    assumed: bool = False
    assumed_note: str | None = None


@dataclass(slots=True)
class Redistribution(Placed):
    """分值调剂: points of an indicator that does not apply, spread over others.

    `to`: indicator ids, or "siblings" (the applicable indicators beside it) or "all" (every
    applicable top-level indicator); `by`: "even" shares or in proportion to "points";
    `mode`: "earn" (earned points scale with the points, 得分制) or "deduct" (deductions keep
    their size, 扣分制)."""

    to: tuple[str, ...] | str
    by: str = "points"
    mode: str = "earn"


@dataclass(slots=True)
class Group(Placed):
    """A set of other scores that a unit's score is built from (汇总): its channels (账号、网站),
    its subordinate units (下属部门、乡镇), or its own scores in the round's periods (月度、季度).

    `group(id)` in a formula, or a component with `source: group:<id>`, is the members' totals
    combined (`combine`: mean, min, max, sum, median, last, weighted), each member's total put on
    the unit's scale; `by_type` takes the mean of each type's mean instead of pooling all members.
    `sample` keeps only the members drawn for the round (round.toml `[[samples]]`)."""

    id: str
    name: str
    of: str  # channels, subordinates, periods
    name_en: str | None = None
    scheme: str | None = None  # the scheme that scores the members (channels: required)
    select: Selector | None = None  # subordinates: which ones; channels: by `types`
    types: tuple[str, ...] = ()  # channels: the channel types it takes
    combine: str = "mean"
    weights: dict[str, Decimal] = field(default_factory=dict)  # periods: round id → weight
    by_type: bool = False
    sample: bool = False
    withheld: str = "skip"  # a member whose total a veto withheld: skip it, or count it as 0 ("zero")


@dataclass(slots=True)
class Panel(Placed):
    """Several assessors score the same indicator (专家评分): their figures combine."""

    combine: str = "mean"  # mean, trimmed-mean (highest and lowest dropped), median
    tolerance: Decimal | None = None  # further apart than this: the review's figure counts
    at_least: int = 2


@dataclass(slots=True)
class Rule(Placed):
    """How a leaf is scored: a rule kind and its parameters; `when` picks a variant."""

    kind: str
    params: dict[str, Any]
    when: Selector | None = None
    assumed: bool = False
    assumed_note: str | None = None


@dataclass(slots=True)
class Indicator(Placed):
    """A node of the indicator tree (一级/二级/三级指标), or a bonus/penalty item."""

    id: str
    name: str
    points: Decimal | None
    name_en: str | None = None
    children: list[Indicator] = field(default_factory=list)
    methods: tuple[str, ...] = ()
    checkpoints: str | None = None
    basis: str | None = None
    scope: str | None = None
    applies_to: Selector | None = None
    rules: list[Rule] = field(default_factory=list)
    note: str | None = None
    section: str = "main"  # main / bonus / penalty
    parent_id: str | None = None
    depth: int = 1
    cap: Decimal | None = None
    floor: Decimal | None = None
    moves_to: str | None = None
    redistribute: Redistribution | None = None  # `moves_to: X` is shorthand for one to [X]
    bounded: bool | None = None  # None: as scoring.bounds says for its level
    gate: Gate | None = None
    replaces: tuple[str, ...] = ()
    assumed: bool = False
    assumed_note: str | None = None
    invalid: frozenset[str] = frozenset()  # keys given with a value that could not be read
    inherited: tuple[Selector, ...] = ()  # the applies_to of its ancestors, which it inherits

    @property
    def is_leaf(self) -> bool:
        return not self.children

    def applies(self, unit: Unit) -> bool:
        """Whether it applies to the unit: its own applies_to and every ancestor's."""
        if self.applies_to is not None and not self.applies_to.matches(unit):
            return False
        for selector in self.inherited:  # a loop, not all(…): this runs for every leaf of every unit
            if not selector.matches(unit):
                return False
        return True

    def rule_for(self, unit: Unit) -> Rule | None:
        """The first variant whose `when` matches the unit; a variant without `when` is the default."""
        default = None
        for rule in self.rules:
            if rule.when is None:
                default = default or rule
            elif rule.when.matches(unit):
                return rule
        return default

    def walk(self) -> list[Indicator]:
        out = [self]
        for child in self.children:
            out.extend(child.walk())
        return out


@dataclass(slots=True)
class Section(Placed):
    """加分项 or 减分项: items scored like leaves, the section's sum capped at `cap`."""

    name: str
    indicators: list[Indicator]
    cap: Decimal | None = None
    name_en: str | None = None
    gate: Gate | None = None


@dataclass(slots=True)
class Scoring(Placed):
    normalise: str = "none"
    scale: Decimal = Decimal(100)
    places: int = 1
    round_at: tuple[str, ...] = ("base", "total")
    weights: str = "share"  # component weights: shares adding to 1, or a ratio (5:3:2) normalised
    bounds: str | int = "leaves"  # where [0, points] bounds apply: leaves, top, or a level (1 = top)
    base: Condition | None = None  # a formula for the base; default from normalise and components
    total: Condition | None = None  # a formula for the total; default base + bonus + penalty − external
    max_total: Decimal | None = None  # the total never exceeds this when set
    assumed: bool = False
    assumed_note: str | None = None

    def bounded_at(self, depth: int, is_leaf: bool) -> bool:
        """Whether an indicator at `depth` (1 = top) is held within [0, its points] by default."""
        if self.bounds == "leaves":
            return is_leaf
        level = 1 if self.bounds == "top" else int(self.bounds)
        return depth == level or (is_leaf and depth < level)


@dataclass(slots=True)
class Measure(Placed):
    id: str
    name: str
    name_en: str | None = None
    higher_is_better: bool = True


@dataclass(slots=True)
class ExternalSource(Placed):
    """Deductions imported from another evaluation (Suizhou: the city's)."""

    id: str
    name: str
    mode: str = "subtract"
    name_en: str | None = None


@dataclass(slots=True)
class Component(Placed):
    """A weighted component of the total (Shanghai: special evaluations, survey …); its `source`
    is the tree (`indicators`), a group (`indicator:<id>`), a measure, or a group of other scores
    (`group:<id>`)."""

    id: str
    name: str
    weight: Decimal
    source: str
    name_en: str | None = None


@dataclass(slots=True)
class Grade(Placed):
    label: str
    min: Decimal
    label_en: str | None = None
    assumed: bool = False


@dataclass(slots=True)
class Flag(Placed):
    id: str
    label: str
    below: Decimal
    of: str = "total"
    label_en: str | None = None


@dataclass(slots=True)
class Category(Placed):
    id: str
    name: str
    selector: Selector
    name_en: str | None = None


@dataclass(slots=True)
class Ranking(Placed):
    """How the scheme ranks units, and whether it publishes that ranking (a scheme without `ranking`, or
    with `ranking: none`, publishes none: its units get no rank unless one is asked for, `score --rank`)."""

    of: str = "total"
    categories: list[Category] = field(default_factory=list)
    published: bool = True


@dataclass(slots=True)
class Conversion(Placed):
    points: Decimal | None = None
    passdown_multiplier: Decimal | None = None
    label: str | None = None
    label_en: str | None = None


@dataclass(slots=True)
class Assumption(Placed):
    """Something a file says that its published source does not (`assumed`), and why (gapctl.data.assumptions).

    `root`: the kind of file (scheme, round, units, external); `steps`: where it sits, (word, text) from
    the file's root down; `key`: the key whose value was assumed, None for the whole mapping; `at`: the
    key path of what was assumed."""

    root: str
    steps: tuple[tuple[str, str], ...]
    note: str
    key: str | None = None


@dataclass(slots=True)
class Scheme(Placed):
    id: str
    title: str
    indicators: list[Indicator]
    title_en: str | None = None
    place: str | None = None
    year: int | None = None
    source: str | None = None
    language: str = "zh-CN"
    total_points: Decimal | None = None
    scoring: Scoring = field(default_factory=Scoring)
    tags: dict[str, str] = field(default_factory=dict)
    measures: list[Measure] = field(default_factory=list)
    bonus: Section | None = None
    penalty: Section | None = None
    external: list[ExternalSource] = field(default_factory=list)
    components: list[Component] = field(default_factory=list)
    grades: list[Grade] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    vetoes: list[Veto] = field(default_factory=list)  # pass lines of parts included
    groups: list[Group] = field(default_factory=list)
    panel: Panel | None = None
    ranking: Ranking | None = None
    conversion: Conversion | None = None
    late_evidence: str = "warn"
    note: str | None = None
    assumptions: list[Assumption] = field(default_factory=list)
    index: dict[str, Indicator] = field(default_factory=dict, repr=False)
    invalid: set[str] = field(default_factory=set, repr=False)  # ids whose rule has problems

    def all_indicators(self) -> list[Indicator]:
        """Every indicator of the tree and of the bonus and penalty sections, in file order."""
        out: list[Indicator] = []
        for top in self.indicators:
            out.extend(top.walk())
        for section in (self.bonus, self.penalty):
            if section:
                for item in section.indicators:
                    out.extend(item.walk())
        return out

    def leaves(self) -> list[Indicator]:
        """The leaves of `all_indicators`, in file order (a new list each call).

        Kept per scheme and process (every observation file asks twice): made again when the scheme's lists
        of top indicators or its sections are other lists or of other lengths. A scheme's tree is complete
        once loaded; nothing adds children to an indicator afterwards."""
        bonus, penalty = self.bonus, self.penalty
        shape = (id(self.indicators), len(self.indicators), id(bonus), id(penalty),
                 len(bonus.indicators) if bonus else 0, len(penalty.indicators) if penalty else 0)
        kept = _LEAVES.get(id(self))
        if kept is None or kept[0] is not self or kept[1] != shape:
            kept = memo.kept(_LEAVES, id(self), (self, shape, [i for i in self.all_indicators() if i.is_leaf]),
                             256)  # at most: schemes a test session made and dropped
        return list(kept[2])

    @property
    def publishes_ranking(self) -> bool:
        """Whether the scheme publishes a ranking (排名): only then do its units get ranks unasked."""
        return self.ranking is not None and self.ranking.published

    def top_total(self) -> Decimal:
        return sum((i.points or Decimal(0) for i in self.indicators), Decimal(0))


_LEAVES: dict[int, tuple[Scheme, tuple[int, ...], list[Indicator]]] = {}  # Scheme.leaves, by the scheme's id


@dataclass(slots=True)
class Unit(Placed):
    id: str
    name: str
    type: str
    name_en: str | None = None
    parent: str | None = None
    tags: tuple[str, ...] = ()
    note: str | None = None


@dataclass(slots=True)
class UnitSet(Placed):
    id: str
    name: str
    units: list[Unit]
    name_en: str | None = None
    types: tuple[str, ...] = ()
    note: str | None = None
    assumptions: list[Assumption] = field(default_factory=list)

    def by_id(self) -> dict[str, Unit]:
        return {u.id: u for u in self.units}


@dataclass(slots=True)
class Evidence(Placed):
    url: str | None = None
    file: str | None = None
    sha256: str | None = None
    captured: dt.date | None = None
    title: str | None = None
    submitted: dt.date | None = None


def evidence_date(ev: Evidence) -> dt.date | None:
    """When a unit sent the evidence (`submitted`); what evaluators captured themselves has no deadline."""
    return ev.submitted


@dataclass(slots=True)
class Result(Placed):
    """One observation entry: what an evaluator found for one indicator of one unit."""

    indicator: str
    state: str | None = None  # done / not-done / n/a / no-evidence / pending
    items: dict[str, Any] | None = None
    count: int | None = None
    fraction: Decimal | None = None
    grade: Decimal | None = None
    notices: int | None = None
    note: str | None = None
    reason: str | None = None
    fix: str | None = None
    evidence: list[Evidence] = field(default_factory=list)
    observer: str | None = None
    observed_at: dt.date | None = None
    source: str = "evaluator"
    invalid: frozenset[str] = frozenset()  # keys given with a value that could not be read
    findings: dict[str, Any] | None = None  # clause or fact name → true/false, a count, {kind: count}, …

    VALUE_FIELDS = ("items", "count", "fraction", "grade", "notices")  # findings are read by clauses and formulas

    def value_fields(self) -> list[str]:
        """The value keys present in this entry (items, count, …)."""
        return [name for name in self.VALUE_FIELDS if getattr(self, name) is not None]


@dataclass(slots=True)
class Observations(Placed):
    """One unit's observation file."""

    unit: str
    results: list[Result]
    observer: str | None = None
    observed_at: dt.date | None = None
    measures: dict[str, Decimal] = field(default_factory=dict)
    note: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)  # findings about the unit as a whole
    channel: str | None = None  # a channel's file: its id, name and type (rounds/<r>/channels/<unit>/)
    channel_name: str | None = None
    channel_type: str | None = None


@dataclass(slots=True)
class Appeal(Placed):
    """A unit contests one observation; the decision, once made, may give a new result."""

    unit: str
    indicator: str
    filed: dt.date
    argument: str | None = None
    evidence: list[Evidence] = field(default_factory=list)
    outcome: str | None = None  # upheld / partly-upheld / rejected; None while undecided
    reviewer: str | None = None
    decided: dt.date | None = None
    result: Result | None = None  # the new result (upheld or partly upheld)
    note: str | None = None


@dataclass(slots=True)
class Deduction(Placed):
    unit: str
    points: Decimal
    reason: str | None = None


@dataclass(slots=True)
class ExternalData(Placed):
    name: str
    deductions: list[Deduction]
    assumptions: list[Assumption] = field(default_factory=list)


@dataclass(slots=True)
class SchemeAssignment(Placed):
    scheme: str
    unit_types: tuple[str, ...] = ()
    units: tuple[str, ...] = ()  # named units scored by this scheme whatever their type


@dataclass(slots=True)
class ExternalRef(Placed):
    id: str
    file: str | None = None
    round: str | None = None


@dataclass(slots=True)
class Sample(Placed):
    """抽查: the members of a group drawn for this round, and how (a seed, or the minutes of the draw);
    or, with `indicators`, the indicator areas drawn (the others do not count this round)."""

    group: str | None
    unit: str | None  # the unit whose members were drawn; None: every unit's
    drawn: tuple[str, ...]
    of: int | None = None  # how many there were to draw from
    seed: str | None = None
    minutes: str | None = None
    indicators: tuple[str, ...] = ()


@dataclass(slots=True)
class Round(Placed):
    """An assessment round: its settings, and what `load_round` resolved for it."""

    id: str
    title: str
    units_id: str
    assignments: list[SchemeAssignment]
    directory: Path
    title_en: str | None = None
    example: bool = False
    period: tuple[dt.date, dt.date] | None = None
    stages: dict[str, Any] = field(default_factory=dict)
    external_refs: list[ExternalRef] = field(default_factory=list)
    note: str | None = None
    samples: list[Sample] = field(default_factory=list)
    periods: tuple[str, ...] = ()  # rounds whose scores this round combines (月度、季度检查)
    assumptions: list[Assumption] = field(default_factory=list)  # its own (round.toml), not its schemes'
    # resolved by the loader
    unit_set: UnitSet | None = None
    schemes: dict[str, Scheme] = field(default_factory=dict)
    observations: dict[str, Observations] = field(default_factory=dict)
    observation_files: set[str] = field(default_factory=set)  # stems, readable or not
    observation_paths: list[Path] = field(default_factory=list)  # files not yet read (see Loaded.observations)
    appeals: dict[str, list[Appeal]] = field(default_factory=dict)  # unit id → appeals
    channels: dict[str, dict[str, Observations]] = field(default_factory=dict)  # unit → channel → file
    problems: list[Any] = field(default_factory=list)  # what validate found (gapctl.api.load_round)
    channel_paths: list[Path] = field(default_factory=list)  # channel files not yet read
    tree: Any = field(default=None, repr=False, compare=False)  # where its files were read from
    external: dict[str, ExternalData] = field(default_factory=dict)

    def scheme_for(self, unit: Unit) -> Scheme | None:
        for assignment in self.assignments:  # a unit named by an assignment takes it first
            if unit.id in assignment.units:
                return self.schemes.get(assignment.scheme)
        for assignment in self.assignments:
            if not assignment.units and (not assignment.unit_types or unit.type in assignment.unit_types):
                return self.schemes.get(assignment.scheme)
        return None


@dataclass(slots=True)
class Repository:
    """Everything `load` read: schemes, unit sets and rounds, keyed by id."""

    root: Path
    schemes: dict[str, Scheme] = field(default_factory=dict)
    unit_sets: dict[str, UnitSet] = field(default_factory=dict)
    rounds: dict[str, Round] = field(default_factory=dict)
