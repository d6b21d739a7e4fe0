"""Redistribution (分值调剂 / 平均分配): points of an indicator that does not apply go elsewhere.

`redistribute: {to: siblings, by: even, mode: deduct}` on an indicator: when it does not apply to
a unit (by `applies_to`), its points are spread over the targets — named indicators, its
siblings, or every other top-level indicator (`all`) — in even shares or in proportion to their
points; a target group passes its share on to its leaves in proportion to their points. In an
earn-up scheme (`mode: earn`, 得分制) a target's earned points grow with its points; in a
deduct-from-full scheme (`mode: deduct`, 倒扣制) a deduction keeps its size, so the target earns
the whole share. `moves_to: X` is shorthand for `{to: [X], by: points, mode: earn}`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from gapctl.data.model import Indicator, Scheme, Unit
from gapctl.figures import ZERO
from gapctl.i18n import in_lang
from gapctl.scheme.constructs import Construct


def moved_text(leaf: Any, lang: str) -> str:
    """`+6，扣分不变：−3.5 + 6 = 2.5` — how the points that moved here changed its figure."""
    from gapctl.scheme.formula import exact

    earned, points = leaf.before_move
    if leaf.moved_mode == "deduct":
        words = in_lang("+{moved}, deductions keep their size: {sum}", lang)
        sum_text = f"{exact(earned)} + {exact(leaf.moved_in)} = {exact(leaf.earned)}"
    else:
        words = in_lang("+{moved}, earned scales with the points: {sum}", lang)
        sum_text = f"{exact(earned)} × {exact(leaf.points)} ÷ {exact(points)} = {exact(leaf.earned)}"
    return words.format(moved=exact(leaf.moved_in), sum=sum_text)


def _open_leaves(ind: Indicator, leaves: dict[str, Any]) -> list[Any]:
    """The leaves under `ind` (itself, if a leaf) that apply and have points to grow."""
    found = [leaves[i.id] for i in ind.walk() if i.is_leaf and i.id in leaves]
    return [leaf for leaf in found if leaf.state not in ("not-applicable", "n/a") and leaf.points > 0]


def targets(ind: Indicator, scheme: Scheme) -> list[Indicator]:
    rule = ind.redistribute
    assert rule is not None
    if rule.to == "all":
        return [i for i in scheme.indicators if i is not ind]
    if rule.to == "siblings":
        parent = scheme.index.get(ind.parent_id or "") if ind.parent_id else None
        pool = parent.children if parent is not None else scheme.indicators
        return [i for i in pool if i is not ind]
    return [scheme.index[t] for t in rule.to if t in scheme.index]


def apply(scheme: Scheme, unit: Unit, leaves: dict[str, Any]) -> None:
    """Move the points of every indicator that does not apply and says where its points go."""
    for ind in scheme.all_indicators():
        rule = ind.redistribute
        if rule is None or ind.section != "main" or not ind.points:
            continue
        if ind.is_leaf:
            leaf = leaves.get(ind.id)
            if leaf is None or leaf.state != "not-applicable":
                continue
        elif ind.applies(unit):
            continue
        groups = [(t, _open_leaves(t, leaves)) for t in targets(ind, scheme)]
        groups = [(t, ls) for t, ls in groups if ls]
        if not groups:
            continue
        weights = [Decimal(1) if rule.by == "even" else sum((lf.points for lf in ls), ZERO) for _, ls in groups]
        whole = sum(weights, ZERO)
        for (_, group_leaves), weight in zip(groups, weights, strict=True):
            share = ind.points * weight / whole
            inside = sum((lf.points for lf in group_leaves), ZERO)
            for leaf in group_leaves:
                extra = share * leaf.points / inside
                _grow(leaf, extra, rule.mode)
                leaf.moved_from.append(ind.id)
                leaf.moved_in += extra


def _grow(leaf: Any, extra: Decimal, mode: str) -> None:
    if leaf.before_move is None:
        leaf.before_move, leaf.moved_mode = (leaf.earned, leaf.points), mode
    grown = leaf.points + extra
    if leaf.gated:  # its gate did not hold: it takes the points and earns none of them
        leaf.points = grown
        return
    if mode == "deduct":
        leaf.earned = leaf.earned + extra
    else:
        leaf.earned = leaf.earned * grown / leaf.points
    leaf.points = grown


CONSTRUCT = Construct(
    name="redistribution",
    keys="an indicator's `redistribute: {to: [ids] | siblings | all, by: even | points, mode: earn | deduct}`; "
         "`moves_to: <id>`",
    summary=("分值调剂: when an indicator does not apply to a unit, its points are spread over others, evenly or "
             "in proportion to their points; earned points scale with them (得分制) or deductions keep their size "
             "(倒扣制)."),
    explain="a `承接` line under each indicator that took points, naming where they came from",
    example="redistribution/even-deduct",
)
