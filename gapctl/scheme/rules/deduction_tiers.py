"""deduction-tiers: deductions by number of notices, floored at 0 (雁江 政务新媒体: 1 次 −1, 2 次 −2, 3 次 −5)."""

from decimal import Decimal

from gapctl.data.schema import F
from gapctl.i18n import _, in_lang
from gapctl.scheme.rules import ZERO, RuleKind, joined, num, reached_tier, tiers_problems


def check_params(rule, indicator) -> list[str]:
    return tiers_problems(rule, indicator, "deduct")


def check_value(result, rule, indicator, unit) -> list[str]:
    if result.notices is None and result.state not in ("done", "not-done"):
        return [_("needs 'notices: <number of notices>' (0 if none)")]
    return []


def earned(result, rule, indicator, unit) -> Decimal:
    if result.notices is None:
        return indicator.points if result.state == "done" else ZERO
    tier = reached_tier(rule.params.get("tiers") or [], result.notices)
    deduct = Decimal(str(tier["deduct"])) if tier else ZERO
    return max(ZERO, indicator.points - deduct)


def describe(rule, indicator, lang) -> str:
    tiers = rule.params.get("tiers") or []
    steps = [in_lang("{at_least}+ notices: -{deduct}", lang).format(at_least=t["at_least"], deduct=num(t["deduct"]))
             for t in tiers]
    return in_lang("{points} less: {steps}; never below 0", lang).format(points=num(indicator.points),
                                                                         steps=joined(steps, lang, en="; "))


KIND = RuleKind(
    name="deduction-tiers",
    summary="Full points less the deduction of the highest tier the notices reach, never below 0.",
    example=('rule:\n  kind: deduction-tiers\n  tiers:\n    - {at_least: 1, deduct: 1}\n'
             '    - {at_least: 2, deduct: 2}\n    - {at_least: 3, deduct: 5}\n'
             '# observation: {indicator: "8", notices: 2}'),
    params={"tiers": F("list", required=True, doc="[{at_least, deduct}], thresholds increasing")},
    value_field="notices",
    check_params=check_params,
    check_value=check_value,
    earned=earned,
    describe=describe,
)
