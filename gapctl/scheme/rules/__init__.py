"""Rule kinds: how one leaf's observation becomes points. One module per kind.

Each module defines `KIND`, a `RuleKind` with its parameters' shape, the observation field
it reads, checks for its parameters and for observed values, and `earned`. The registry
below is the only list of kinds; docs/rules.md is generated from it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from gapctl.data.schema import Shape
from gapctl.figures import ZERO as ZERO  # what a rule earns for nothing, for the rule kinds' modules
from gapctl.i18n import _
from gapctl.i18n import lang as current_lang

if TYPE_CHECKING:
    from gapctl.data.model import Indicator, Result, Rule, Unit


Message = str | tuple[str, tuple]


@dataclass(frozen=True)
class RuleKind:
    """A kind of rule. Checks return messages, or (message, key path under the rule) pairs
    that point at the parameter at fault; the caller turns them into problems."""

    name: str
    summary: str
    example: str
    params: Shape
    value_field: str | None  # observation key it reads; None when computed from scores
    check_params: Callable[[Rule, Indicator], list[Message]]
    check_value: Callable[[Result, Rule, Indicator, Unit], list[str]]
    earned: Callable[[Result, Rule, Indicator, Unit], Decimal]
    describe: Callable[[Rule, Indicator, str], str]  # the rule in words, lang "zh" or "en"
    uses_points: bool = False  # earns (part of) the indicator's own points, so it needs them
    needs_env: bool = False  # `earned` takes env=, what formulas in the rule read (gapctl.scoring.unit_env)


def no_problems(*_args: object) -> list[str]:
    return []


def listed(items: Iterable[object]) -> str:
    """Ids listed in a message in the current language: `a, b` in English, `a、b` in Chinese."""
    return ("、" if current_lang() == "zh" else ", ").join(str(item) for item in items)


def joined(parts: list[str], lang: str, zh: str = "，", en: str = ", ") -> str:
    """Parts of a rule in words, joined with the punctuation of `lang` (full-width in Chinese)."""
    return (zh if lang == "zh" else en).join(parts)


def num(value: object) -> str:
    """A number as people write it: 7, 0.5, never 7.0 or 5E+1."""
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def tiers_problems(rule: Rule, indicator: Indicator, amount_key: str) -> list[Message]:
    """Tiers must have increasing thresholds and amounts within the indicator's points."""
    out: list[Message] = []
    tiers = rule.params.get("tiers") or []
    if not tiers:
        return [(_("needs at least one tier"), ("tiers",))]
    last = -1
    for i, tier in enumerate(tiers):
        at_least, amount = tier.get("at_least"), tier.get(amount_key)
        if at_least is None or amount is None:
            out.append((_("tier {n} needs 'at_least' and '{key}'").format(n=i + 1, key=amount_key), ("tiers", i)))
            continue
        if at_least <= last:
            out.append((_("tier {n}: 'at_least' must increase from tier to tier").format(n=i + 1),
                        ("tiers", i, "at_least")))
        last = at_least
        if indicator.points is not None and amount > indicator.points:
            out.append((_("tier {n}: {key} {amount} is above the indicator's {points} points").format(
                n=i + 1, key=amount_key, amount=amount, points=indicator.points), ("tiers", i, amount_key)))
    return out


def reached_tier(tiers: list[dict], value: int) -> dict | None:
    """The highest tier whose threshold the value reaches."""
    best = None
    for tier in tiers:
        if tier.get("at_least") is not None and value >= tier["at_least"]:
            best = tier
    return best


def _registry() -> dict[str, RuleKind]:
    from gapctl.scheme.rules import (
        all_or_nothing,
        clauses,
        count_tiers,
        deduction_tiers,
        expert_grade,
        items,
        per_occurrence,
        proportional,
        rank,
        threshold,
    )
    kinds = [all_or_nothing.KIND, items.KIND, count_tiers.KIND, proportional.KIND,
             deduction_tiers.KIND, per_occurrence.KIND, expert_grade.KIND, threshold.KIND,
             rank.KIND, clauses.KIND]
    return {k.name: k for k in kinds}


REGISTRY: dict[str, RuleKind] = _registry()
