"""Numbers as text: every figure gapctl prints or writes is rounded here, and only here.

Published scores are rounded half-up (四舍五入: 86.25 → 86.3), the way an evaluation office
rounds by hand and the way `gapctl.scoring.score.half_up` rounds while scoring. Python's own
formatting does not: `f"{Decimal('86.25'):.1f}"` is 86.2 (half-even), and a float formats its
binary value (`f"{0.125:.2f}"` is 0.12). So no module formats a number with a precision of its
own (`:.1f`, `%.2f`, `format(x, ".1f")`, `round()`, a `quantize` without `rounding=`):
`tests/test_figures.py` scans the package and fails on one outside this module.

- `figure(value, places)`: half-up at `places` decimals, always that many (87.0, 86.3, 12%);
  `trim=True` drops trailing zeros (2.5, 7) for computed figures shown as people write them;
- `scientific(value, digits)`: 1.000E+40, for numbers too long to show in a message.

Values may be `Decimal` (exact), `int`, or `float` (read as its shortest repr, 0.1 as 0.1, so
that a float and the Decimal it stands for round alike). Arithmetic uses a private context
of 100 digits, so neither a large value nor many places raises or rounds twice.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal

ZERO = Decimal(0)  # the one zero figure every module shares (a rule that earns nothing gives it: kept in summaries)
_CONTEXT = Context(prec=100, rounding=ROUND_HALF_UP)
_STEPS = {places: Decimal(1).scaleb(-places) for places in range(0, 10)}


def _decimal(value: Decimal | int | float | str) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def figure(value: Decimal | int | float, places: int = 1, *, trim: bool = False) -> str:
    """`value` rounded half-up at `places` decimals: "86.3" for 86.25; with `trim`, "7" not "7.00"."""
    # a table prints a few figures a unit, most of them alike (every unit's 100.00): their texts are kept
    if type(value) is Decimal and value.is_finite():
        key = (value, places, trim, value.is_signed())  # (-0 equals 0, and prints "-0.0")
        text = _FIGURES.get(key)
        if text is None:
            if len(_FIGURES) >= _FIGURES_HELD:
                _FIGURES.clear()
            text = _FIGURES[key] = _figure(value, places, trim)
        return text
    return _figure(_decimal(value), places, trim)


_FIGURES: dict[tuple[Decimal, int, bool, bool], str] = {}  # figure's texts of Decimals: equal values print alike
_FIGURES_HELD = 4096


def _figure(number: Decimal, places: int, trim: bool) -> str:
    if not number.is_finite():
        return str(number)
    step = _STEPS.get(places) or Decimal(1).scaleb(-places)
    text = format(number.quantize(step, rounding=ROUND_HALF_UP, context=_CONTEXT), "f")
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def scientific(value: Decimal | int | float, digits: int = 4) -> str:
    """`value` as mantissa and power of ten, the mantissa half-up to `digits` digits: "1.000E+40"."""
    number = _decimal(value)
    if not number.is_finite() or not number:
        return str(number)
    exponent = number.adjusted()
    step = Decimal(1).scaleb(1 - digits)
    rounded = number.scaleb(-exponent, context=_CONTEXT).quantize(step, rounding=ROUND_HALF_UP, context=_CONTEXT)
    if abs(rounded) >= 10:  # 9.9996 → 10.00: one more power of ten
        exponent += 1
        rounded = number.scaleb(-exponent, context=_CONTEXT).quantize(step, rounding=ROUND_HALF_UP, context=_CONTEXT)
    return f"{format(rounded, 'f')}E{'+' if exponent >= 0 else '-'}{abs(exponent)}"


__all__ = ["figure", "scientific"]
