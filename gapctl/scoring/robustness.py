"""How much a round's ranking moves when its judgement calls move (uncertainty and sensitivity).

The method of the OECD/JRC Handbook on Constructing Composite Indicators and the JRC's audits of
published indices: perturb the choices that are judgement calls, score again, and report how far
each unit's rank travels. Here the judgement calls are
- the weights: each top-level indicator's points (or each component's weight, when the scheme
  weighs components) multiplied by a factor drawn from [1 − w, 1 + w] and renormalised, so the
  full score stays the same;
- expert grades: each `expert-grade` leaf moved by one step down, none, or one step up (within
  0 and its points), with `grades=True`;
- assessors: where a panel scored an indicator, one assessor's figure instead of the panel's.

Each draw re-scores from the figures already computed (the round is read and scored once;
nothing is re-read): a unit's top-level nodes, the leaves that move, then the unit is finished
again (base, bonus gates and thresholds, total, vetoes, grade) by the same code as `score`, in
Decimal. Draw n uses its own generator, seeded from (seed, n): the result does not depend on how
the draws are shared between processes, and the same seed gives byte-identical output.
"""

from __future__ import annotations

import copy
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from gapctl.figures import ZERO
from gapctl.scheme.constructs.bounds import apply as bound
from gapctl.scoring.score import RoundScore, UnitScore, competition_ranks, finish_unit


@dataclass
class Settings:
    draws: int = 1000
    seed: int = 1
    weights: Decimal = Decimal("0.2")  # ± this share
    grades: bool = False
    assessors: bool = True


@dataclass
class UnitRobustness:
    unit: str
    name: str
    rank: int | None  # as computed
    grade: str | None
    ranks: list[int] = field(default_factory=list)
    other_grade: int = 0  # draws that gave another grade
    swaps: dict[str, int] = field(default_factory=dict)  # other unit → draws in which their order flipped

    def percentile(self, share: float) -> int | None:
        """The rank at `share` of the draws; None when no draw ranked the unit (a veto withheld its total)."""
        if not self.ranks:
            return None
        ordered = sorted(self.ranks)
        index = min(len(ordered) - 1, max(0, int(share * (len(ordered) - 1) + 0.5)))
        return ordered[index]

    @property
    def median(self) -> int | None:
        return self.percentile(0.5)

    @property
    def interval(self) -> tuple[int | None, int | None]:
        return self.percentile(0.05), self.percentile(0.95)

    def grade_share(self) -> Decimal:
        return Decimal(self.other_grade) / Decimal(len(self.ranks)) if self.ranks else ZERO

    def robust(self) -> bool:
        low, high = self.interval
        return low == high == self.rank and not self.other_grade


@dataclass
class Sensitivity:
    """One weight moved alone by ± the range: how far ranks move on average."""

    what: str  # indicator or component id
    name: str
    shift: Decimal  # mean absolute rank change over units, the larger of down and up


@dataclass
class Robustness:
    settings: Settings
    scheme: str
    units: list[UnitRobustness]
    sensitivity: list[Sensitivity]


# --- one draw -------------------------------------------------------------------------

def _weighted(scheme: Any) -> list[tuple[str, str, Decimal]]:
    """(id, name, weight) of what the draws perturb: components if the scheme weighs them, else the
    top-level indicators."""
    if scheme.components:
        return [(c.id, c.name, c.weight) for c in scheme.components]
    return [(i.id, i.name, i.points or ZERO) for i in scheme.indicators]


_STEPS = 1_000_000  # a factor is drawn on a grid of a millionth of the spread: exact in Decimal


def _factors(scheme: Any, rng: random.Random, spread: Decimal) -> dict[str, Decimal]:
    """A factor per weight, drawn in [1 − spread, 1 + spread] and renormalised (Σ weight stays)."""
    weights = _weighted(scheme)
    raw = {i: 1 + spread * Decimal(rng.randint(-_STEPS, _STEPS)) / _STEPS for i, _, _ in weights}
    whole = sum((w for _, _, w in weights), ZERO)
    moved = sum((w * raw[i] for i, _, w in weights), ZERO)
    scale = whole / moved if moved else Decimal(1)
    return {i: f * scale for i, f in raw.items()}


@dataclass
class _Prepared:
    """What each draw needs of one unit, worked out once: the score, its bonus and penalty items that
    finish_unit decides again (thresholds, gates), the leaves that may move, the leaves under each group."""

    score: UnitScore
    sections: list[str]
    movable: list[tuple[str, Decimal, list[tuple[str, Decimal]], Decimal | None]]
    # scored main-section leaves a draw may move: (id, earned, the panel's figures, an expert grade's step)
    under: dict[str, frozenset[str]]  # group indicator id → the ids below it


def _prepare(score: UnitScore) -> _Prepared:
    under: dict[str, frozenset[str]] = {}
    stack = list(score.tree)
    while stack:
        node = stack.pop()
        if node.leaf is None:
            under[node.indicator.id] = frozenset(i.id for i in node.indicator.walk())
            stack.extend(node.children)
    decided = [k for k, leaf in score.leaves.items() if leaf.indicator.section != "main"  # what finish_unit writes
               and (leaf.indicator.gate is not None or (leaf.rule is not None and leaf.rule.kind == "threshold"))]
    movable = []
    for leaf in score.leaves.values():
        if leaf.state != "scored" or leaf.indicator.section != "main" or leaf.rule is None:
            continue
        step = Decimal(str(leaf.rule.params.get("step") or 1)) if leaf.rule.kind == "expert-grade" else None
        if leaf.panel or step is not None:
            movable.append((leaf.indicator.id, leaf.earned, leaf.panel, step))
    return _Prepared(score, decided, movable, under)


def _redo(unit: _Prepared, factors: dict[str, Decimal], leaf_moves: dict[str, Decimal]) -> UnitScore:
    """The unit scored again with weights scaled and leaves moved; the computed score is not changed.

    Only what finish_unit writes is copied: the score itself and its bonus and penalty items with a
    threshold or a gate (a gate that did not hold is undone, to be decided again); the tree and the
    other leaves are read, never written."""
    score = unit.score
    scheme = score.scheme
    draw = copy.copy(score)
    if unit.sections:
        draw.leaves = dict(score.leaves)
        for key in unit.sections:
            leaf = draw.leaves[key] = copy.copy(score.leaves[key])
            if leaf.gated:
                leaf.earned, leaf.gated = leaf.ungated if leaf.ungated is not None else ZERO, False
    draw.decisions, draw.vetoed, draw.flags, draw.problems = [], [v for v in score.vetoed if _early(v, scheme)], [], []
    draw.pending = [p for p in score.pending if not p.startswith("group:")]
    draw.components = dict(score.components)
    draw.grade = draw.grade_en = None
    earned = applicable = ZERO
    weighed = not scheme.components
    for node in score.tree:
        value, points = _node_value(node, leaf_moves, scheme, unit.under) if leaf_moves else (node.earned, node.points)
        factor = factors.get(node.indicator.id) if weighed else None
        if factor is None:
            earned += value
            applicable += points
        else:
            earned += value * factor
            applicable += points * factor
    draw.earned, draw.applicable = earned, applicable
    if scheme.components:
        # the base formula weighs components by the scheme's weights: a weight moved by a factor is the
        # same as its component's value moved by it; the tree's own component follows moved leaves
        own = earned / applicable * scheme.scoring.scale if scheme.scoring.normalise == "applicable" and applicable \
            else earned
        if "base" in scheme.scoring.round_at:
            from gapctl.scoring.score import half_up
            own = half_up(own, scheme.scoring.places)
        for component in scheme.components:
            value = own if component.source == "indicators" else score.components.get(component.id)
            draw.components[component.id] = value * factors.get(component.id, Decimal(1)) if value is not None \
                else None
    finish_unit(draw, score.groups)
    return draw


def _early(veto: Any, scheme: Any) -> bool:
    from gapctl.scheme.constructs.vetoes import early
    return early(veto, scheme)


def _node_value(node: Any, moves: dict[str, Decimal], scheme: Any,
                under: dict[str, frozenset[str]]) -> tuple[Decimal, Decimal]:
    """A node's earned points with its moved leaves, summed and bounded as the scorer does."""
    if node.leaf is not None:
        move = moves.get(node.indicator.id)
        if move is None or node.leaf.state != "scored":
            return node.earned, node.points
        value = min(max(node.leaf.earned + move, ZERO), node.points)
        return bound(value, node.points, node.indicator, scheme.scoring)[0], node.points
    if under[node.indicator.id].isdisjoint(moves):
        return node.earned, node.points
    total = ZERO
    for child in node.children:
        total += _node_value(child, moves, scheme, under)[0]
    if node.zeroed or node.gated:
        return ZERO, node.points
    return bound(total, node.points, node.indicator, scheme.scoring)[0], node.points


_STEPS_MOVED = (-1, 0, 1)


def _leaf_moves(unit: _Prepared, rng: random.Random, settings: Settings) -> dict[str, Decimal]:
    """The leaves this draw moves, by how much (a move of 0 is left out: nothing to score again)."""
    moves: dict[str, Decimal] = {}
    for ident, earned, panel, step in unit.movable:
        if settings.assessors and panel:
            move = rng.choice(panel)[1] - earned
        elif settings.grades and step is not None:
            move = step * rng.choice(_STEPS_MOVED)
        else:
            continue
        if move:
            moves[ident] = move
    return moves


def one_draw(scores: list[UnitScore], settings: Settings, n: int) -> list[UnitScore]:
    """Draw `n` of a seed: every unit scored again (the same for every way of sharing the draws)."""
    return _one_draw([_prepare(s) for s in scores], settings, n)


def _one_draw(units: list[_Prepared], settings: Settings, n: int) -> list[UnitScore]:
    rng = random.Random(f"{settings.seed}:{n}")
    factors = _factors(units[0].score.scheme, rng, settings.weights) if settings.weights and units else {}
    return [_redo(u, factors, _leaf_moves(u, rng, settings)) for u in units]


# --- many draws -----------------------------------------------------------------------

@dataclass
class _Tally:
    """What a share of the draws gave, per unit (by position): its ranks, how often its grade
    changed, and how often each pair of units came in the other order than computed."""

    ranks: list[list[int]]
    other_grade: list[int]
    swaps: dict[tuple[int, int], int] = field(default_factory=dict)

    def add(self, other: _Tally) -> None:
        for mine, theirs in zip(self.ranks, other.ranks, strict=True):
            mine.extend(theirs)
        self.other_grade = [a + b for a, b in zip(self.other_grade, other.other_grade, strict=True)]
        for pair, count in other.swaps.items():
            self.swaps[pair] = self.swaps.get(pair, 0) + count


_JOB: tuple[list[_Prepared], Settings] | None = None


def _draws(numbers: list[int]) -> _Tally:
    """In a worker (or in this process): the tally of the draws `numbers`."""
    assert _JOB is not None
    units, settings = _JOB
    size = len(units)
    computed = [u.score.rank for u in units]
    grades = [u.score.grade for u in units]
    # the pairs whose computed order is strict, as (lower position, higher position, which is ahead)
    ordered = [(a, b, computed[a] < computed[b]) for a in range(size) for b in range(a + 1, size)  # type: ignore
               if computed[a] is not None and computed[b] is not None and computed[a] != computed[b]]
    tally = _Tally([[] for _ in units], [0] * size)
    swaps = tally.swaps
    for n in numbers:
        ranked = _ranked(_one_draw(units, settings, n))
        ranks = [r for r, _ in ranked]
        for position, (rank, grade) in enumerate(ranked):
            if rank is not None:
                tally.ranks[position].append(rank)
            if grade != grades[position]:
                tally.other_grade[position] += 1
        for a, b, ahead in ordered:
            ra, rb = ranks[a], ranks[b]
            if ra is not None and rb is not None and (ra < rb) != ahead:
                swaps[(a, b)] = swaps.get((a, b), 0) + 1
    return tally


def _ranked(scores: list[UnitScore]) -> list[tuple[int | None, str | None]]:
    ranks = competition_ranks([(s.unit.id, s.total) for s in scores if s.total is not None])
    return [(ranks.get(s.unit.id), s.grade) for s in scores]


Progress = Callable[[int, int], None]  # (draws done, draws in all)
PARALLEL_FROM = 200  # draws; below this a process pool costs more than it saves


def jobs_wanted() -> int:
    """Worker processes: GAPCTL_JOBS, else the cores this process may use (at most 8)."""
    from gapctl.scoring.outcomes import jobs_wanted as wanted
    return min(wanted(), 8)


def analyse(scored: RoundScore, settings: Settings, scheme_id: str | None = None,
            progress: Progress | None = None) -> Robustness:
    """Draw `settings.draws` times over the units of one scheme of the round (the first, by default).

    Large runs are shared among forked workers (GAPCTL_JOBS, else every usable core) in batches,
    `progress(done, total)` called after each; the figures do not depend on how they were shared."""
    global _JOB
    schemes = [a.scheme for a in scored.round.assignments]
    scheme_id = scheme_id or next((s for s in schemes if any(u.scheme.id == s for u in scored.units)), "")
    scores = [s for s in scored.units if s.scheme.id == scheme_id and s.detailed]
    out = [UnitRobustness(s.unit.id, s.unit.name, s.rank, s.grade) for s in scores]
    units = [_prepare(s) for s in scores]
    numbers = list(range(settings.draws))
    jobs = jobs_wanted()
    tally = _Tally([[] for _ in units], [0] * len(units))
    _JOB = (units, settings)
    try:
        if jobs > 1 and settings.draws >= PARALLEL_FROM and hasattr(os, "fork"):
            from gapctl.scoring.executors import forked_pool

            batch = max(10, settings.draws // (jobs * 8))  # a few batches per worker: progress, and even shares
            batches = [numbers[i:i + batch] for i in range(0, len(numbers), batch)]
            with forked_pool(jobs, renewed=False) as pool:
                done = 0
                for part, numbers_done in zip(pool.imap(_draws, batches), batches, strict=True):
                    tally.add(part)
                    done += len(numbers_done)
                    if progress is not None:
                        progress(done, settings.draws)
        else:
            batch = max(10, settings.draws // 20)
            for i in range(0, len(numbers), batch):
                tally.add(_draws(numbers[i:i + batch]))
                if progress is not None:
                    progress(min(i + batch, settings.draws), settings.draws)
    finally:
        _JOB = None
    for position, unit in enumerate(out):
        unit.ranks = sorted(tally.ranks[position])
        unit.other_grade = tally.other_grade[position]
    for (a, b), count in sorted(tally.swaps.items()):
        out[a].swaps[out[b].unit] = count
        out[b].swaps[out[a].unit] = count
    return Robustness(settings, scheme_id, out, sensitivity(scores, settings) if settings.weights else [])


def sensitivity(scores: list[UnitScore], settings: Settings) -> list[Sensitivity]:
    """One weight at a time moved by ± the range (the others renormalised): mean absolute rank change."""
    if not scores:
        return []
    scheme = scores[0].scheme
    base = dict(zip((s.unit.id for s in scores), (r for r, _ in _ranked(scores)), strict=True))
    weights = _weighted(scheme)
    whole = sum((w for _, _, w in weights), ZERO)
    units = [_prepare(s) for s in scores]
    out = []
    for position, (ident, name, weight) in enumerate(weights):
        shifts = []
        for sign in (-1, 1):
            moved = weight * (1 + sign * settings.weights)
            rest = whole - weight
            others = (whole - moved) / rest if rest else Decimal(1)
            factors = {i: (moved / weight if i == ident and weight else others) for i, _, _ in weights}
            ranks = _ranked([_redo(u, factors, {}) for u in units])
            moved_units = [abs((r or 0) - (base[s.unit.id] or 0)) for s, (r, _) in zip(scores, ranks, strict=True)]
            shifts.append(Decimal(sum(moved_units)) / len(moved_units))
        out.append((position, Sensitivity(ident, name, max(shifts))))
    return [s for _, s in sorted(out, key=lambda p: (-p[1].shift, p[0]))]  # ties in the scheme's order


# --- output ---------------------------------------------------------------------------

def json_data(result: Robustness) -> dict[str, Any]:
    from gapctl.scheme.formula import exact
    s = result.settings
    return {
        "scheme": result.scheme,
        "settings": {"draws": s.draws, "seed": s.seed, "weights": exact(s.weights), "grades": s.grades,
                     "assessors": s.assessors},
        "units": [{"unit": u.unit, "name": u.name, "rank": u.rank, "median_rank": u.median,
                   "interval": list(u.interval), "other_grade_share": exact(u.grade_share()),
                   "robust": u.robust(),
                   "swaps_with": [{"unit": k, "share": exact(Decimal(v) / len(u.ranks))}
                                  for k, v in sorted(u.swaps.items(), key=lambda kv: (-kv[1], kv[0]))[:3]]}
                  for u in result.units],
        "sensitivity": [{"what": x.what, "name": x.name, "mean_rank_shift": exact(x.shift)}
                        for x in result.sensitivity],
    }


def text_lines(result: Robustness, lang: str = "zh") -> list[str]:
    from gapctl.escape import plain_line
    from gapctl.figures import figure
    from gapctl.i18n import in_lang
    from gapctl.labels import pair
    from gapctl.textwidth import table

    s = result.settings
    zh = lang == "zh"
    head = in_lang("{draws} draws, seed {seed}: weights ±{weights}%", lang).format(
        draws=s.draws, seed=s.seed, weights=figure(s.weights * 100, 0))
    if s.grades:
        head += in_lang(", expert grades ±1 step", lang)
    rows = [[in_lang("Unit", lang), in_lang("Rank", lang), in_lang("Median", lang), in_lang("5–95%", lang),
             in_lang("Other grade", lang), in_lang("Swaps most with", lang)]]
    names = {u.unit: u.name for u in result.units}
    for u in sorted(result.units, key=lambda u: (u.rank or 1 << 30, u.unit)):
        low, high = u.interval
        partner = max(u.swaps.items(), key=lambda kv: (kv[1], kv[0]), default=None)
        swap = f"{names[partner[0]]} {figure(Decimal(partner[1]) * 100 / len(u.ranks), 0)}%" if partner else ""
        spread = f"{low}–{high}" if low != high else str(low or "—")
        rows.append([u.name, str(u.rank or "—"), str(u.median or "—"), spread, f"{figure(u.grade_share() * 100, 0)}%",
                     swap])
    lines = [head, ""] + table(rows, ["left", "right", "right", "right", "right", "left"])
    if result.sensitivity:
        lines += ["", in_lang("Which weight moves the ranking most (one at a time, ±{weights}%):", lang).format(
            weights=figure(s.weights * 100, 0))]
        rows = [[in_lang("Weight", lang), in_lang("Mean rank shift", lang)]]
        rows += [[f"{x.what} {x.name}", figure(x.shift, 2)] for x in result.sensitivity]
        lines += table(rows, ["left", "right"])
    unstable = [u for u in result.units if not u.robust()]
    if unstable:
        lines += [""]
        grades = {u.unit: u.grade for u in result.units}
        for u in sorted(unstable, key=lambda u: (u.rank or 1 << 30, u.unit)):
            lines.append(("· " if zh else "- ") + pair(u.name, sentence(u, names, grades, lang), lang))
    return [plain_line(line) for line in lines]  # names as written: bidi and control characters shown


def sentence(u: UnitRobustness, names: dict[str, str], grades: dict[str, str | None], lang: str) -> str:
    """Why a unit is not robust, in one sentence: where its rank went (and with whom it changed places
    most often), and how often its grade changed. `names`, `grades`: by unit id, as they are to be shown."""
    from gapctl.figures import figure
    from gapctl.i18n import in_lang

    def share(count: int) -> str:
        return f"{figure(Decimal(count) * 100 / len(u.ranks), 0)}%" if u.ranks else "0%"

    parts = []
    low, high = u.interval
    if (low, high) != (u.rank, u.rank):
        partner = max(u.swaps.items(), key=lambda kv: (kv[1], kv[0]), default=None)
        if partner is not None:
            parts.append(in_lang("rank {rank} as computed, {low} to {high} in 90 per cent of draws, most often "
                                 "changing places with {other} ({share} of draws)", lang).format(
                rank=u.rank or "—", low=low or "—", high=high or "—", other=names.get(partner[0], partner[0]),
                share=share(partner[1])))
        else:
            parts.append(in_lang("rank {rank} as computed, {low} to {high} in 90 per cent of draws", lang).format(
                rank=u.rank or "—", low=low or "—", high=high or "—"))
    if u.other_grade:
        parts.append(in_lang("a grade other than {grade} in {share} of draws", lang).format(
            grade=grades.get(u.unit) or "—", share=share(u.other_grade)))
    return ("；" if lang == "zh" else "; ").join(parts) + ("。" if lang == "zh" else ".")


def unpublished(lang: str) -> str:
    """The line for a scheme that publishes no ranking: its ranks are computed for this analysis only."""
    from gapctl.i18n import in_lang
    return in_lang("This scheme publishes no ranking: the ranks here are computed by gapctl only to show how far "
                   "they would move.", lang)


def round_data(scored: RoundScore, results: list[Robustness]) -> dict[str, Any]:
    """`gapctl robustness --format json`: the round, then every scheme's figures (json_data)."""
    schemes = {s.scheme.id: s.scheme for s in scored.units}
    return {"round": scored.round.id,
            "schemes": [{**json_data(r), "rank_published": schemes[r.scheme].publishes_ranking} for r in results]}


def round_lines(scored: RoundScore, results: list[Robustness], lang: str = "zh") -> list[str]:
    """`gapctl robustness`: the round, then per scheme its title and text_lines."""
    from gapctl.escape import plain
    from gapctl.i18n import in_lang
    from gapctl.labels import written

    round_ = scored.round
    lines = [f"{plain(written(round_.title, round_.title_en, lang))} ({plain(round_.id)})"]
    schemes = {s.scheme.id: s.scheme for s in scored.units}
    for result in results:
        scheme = schemes[result.scheme]
        lines += ["", in_lang("Scheme: {title} ({id})", lang).format(title=plain(scheme.title), id=plain(scheme.id))]
        if not scheme.publishes_ranking:
            lines.append(unpublished(lang))
        lines += text_lines(result, lang)
    return lines
