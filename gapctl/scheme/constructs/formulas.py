"""The base and the total as formulas over named subtotals (order of operations, weights).

By default the base is `earned` (a plain sum), `earned / applicable * scale` (`normalise:
applicable`) or the weighted components (`0.6 * component(a) + 0.4 * component(b)`), and the
total is `base + bonus + penalty - external`: gapctl builds these formulas from the scheme's
keys, so every scheme is computed and explained the same way. A scheme that adds its bonus
inside a weighted component, or weights parts in its own way, writes the formula itself:
`scoring.total: 0.6 * (base + bonus) + 0.4 * measure(panel)`. `scoring.max_total` caps the total
(otherwise a bonus may lift it above the scale). Rounding (half-up) is applied where
`scoring.round` says, after the formula.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from gapctl.data.model import Scheme
from gapctl.figures import ZERO
from gapctl.scheme.constructs import Construct
from gapctl.scheme.formula import Formula, built


def _num(value: Decimal) -> tuple:
    from gapctl.scheme.formula import exact
    return ("num", value, exact(value).replace("−", "-"), 0)


@lru_cache(maxsize=256)
def _default_base(normalise: str, scale: Decimal, components: tuple[tuple[str, Decimal], ...],
                  ratio: bool = False) -> Formula:
    if components:
        tree: tuple | None = None
        for ident, weight in components:
            term = ("bin", "*", _num(weight), ("call", "component", (("ref", ident, 0),), 0))
            tree = term if tree is None else ("bin", "+", tree, term)
        assert tree is not None
        text = " + ".join(f"{w} * component({i})" for i, w in components)
        if ratio:  # weights written as a ratio (5:3:2): the weighted sum over the sum of the weights
            whole = sum((w for _, w in components), ZERO)
            tree = ("bin", "/", tree, _num(whole))
            text = f"({text}) / {whole}"
        return built(tree, text)
    if normalise == "applicable":
        tree = ("bin", "*", ("bin", "/", ("name", "earned", 0), ("name", "applicable", 0)), _num(scale))
        return built(tree, f"earned / applicable * {scale}")
    return built(("name", "earned", 0), "earned")


_TOTAL = built(("bin", "-", ("bin", "+", ("bin", "+", ("name", "base", 0), ("name", "bonus", 0)),
                             ("name", "penalty", 0)), ("name", "external", 0)), "base + bonus + penalty - external")


def base_formula(scheme: Scheme) -> Formula | None:
    """The base's formula: the scheme's own, or the one its keys describe (None: unreadable)."""
    scoring = scheme.scoring
    if scoring.base is not None:
        return scoring.base.formula
    return _default_base(scoring.normalise, scoring.scale, tuple((c.id, c.weight) for c in scheme.components),
                         scoring.weights == "ratio")


def total_formula(scheme: Scheme) -> Formula | None:
    scoring = scheme.scoring
    if scoring.total is not None:
        return scoring.total.formula
    return _TOTAL


def is_default_total(scheme: Scheme) -> bool:
    return scheme.scoring.total is None


CONSTRUCT = Construct(
    name="formulas",
    keys="`scoring.base: <formula>`, `scoring.total: <formula>`, `scoring.max_total`; `components:` with weights",
    summary=("The base and the total are formulas over named subtotals, so the order of operations is declared, "
             "not implied: a bonus inside a weighted component (`0.6 * (base + bonus) + 0.4 * measure(panel)`) or "
             "added after weighting (the default `base + bonus + penalty - external`); totals above the scale "
             "unless `max_total` says otherwise."),
    explain="the formula, then the same with every operand's unrounded value, its result and the rounding",
    example="formulas/bonus-inside-weight",
)
