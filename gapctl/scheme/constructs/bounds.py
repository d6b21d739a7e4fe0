"""Bounds (扣完为止): where a node is held within [0, its points], and `cap` / `floor` anywhere.

By default every leaf of the indicator tree is held within [0, its points] (`scoring.bounds:
leaves`): a leaf's deductions stop at its points. Some schemes bound only the first level
(`bounds: top`) or another level (`bounds: 2`): a second-level item may then lose more than its
own points, and its parent stops the loss. An indicator's `bounded: true/false` overrides the
level; `cap` and `floor` bound any indicator or group further. Bonus and penalty items are not
held by default (their sections have caps). Explain prints a line wherever a bound changed a figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from gapctl.data.model import Indicator, Scoring
from gapctl.figures import ZERO
from gapctl.i18n import N_, in_lang
from gapctl.scheme.constructs import Construct


@dataclass(frozen=True)
class Cut:
    """A bound changed a figure: from `before` to `after`, by `why` (points, floor, cap)."""

    before: Decimal
    after: Decimal
    why: str


def is_bounded(ind: Indicator, scoring: Scoring) -> bool:
    if ind.bounded is not None:
        return ind.bounded
    return ind.section == "main" and scoring.bounded_at(ind.depth, ind.is_leaf)


def apply(value: Decimal, points: Decimal, ind: Indicator, scoring: Scoring) -> tuple[Decimal, Cut | None]:
    """The value held within the node's bounds, and what was cut (None if nothing)."""
    if ZERO <= value <= points and ind.cap is None and ind.floor is None:
        return value, None  # within [0, points] and no cap or floor: no bound can change it
    before, why = value, ""
    if is_bounded(ind, scoring):
        if value < 0:
            value, why = ZERO, "points"
        elif value > points:
            value, why = points, "points"
    if ind.cap is not None and value > ind.cap:
        value, why = ind.cap, "cap"
    if ind.floor is not None and value < ind.floor:
        value, why = ind.floor, "floor"
    return value, (Cut(before, value, why) if value != before else None)


_WHY = {"points": N_("held within [0, points]"), "cap": N_("capped"), "floor": N_("floored")}


def cut_text(cut: Cut, lang: str) -> str:
    from gapctl.scheme.formula import exact

    return in_lang("Bound: {before} → {after} ({why})", lang).format(
        before=exact(cut.before), after=exact(cut.after), why=in_lang(_WHY[cut.why], lang))


CONSTRUCT = Construct(
    name="bounds",
    keys="`scoring.bounds: leaves | top | <level>`; an indicator's `bounded: true | false`, `cap`, `floor`",
    summary=("Where an indicator is held within [0, its points] (扣完为止): every leaf by default, or only the "
             "first level (`top`) or a named level, so a sub-item may lose more than its own points and its "
             "parent stops the loss. `cap` and `floor` bound any indicator or group further."),
    explain="a `界限` line under the indicator whose figure a bound changed: before → after, and why",
    example="bounds/top-level",
)
