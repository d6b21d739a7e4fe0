"""count-tiers: points by how many times something was done (雁江 政务开放日 1 次 7 分, 2 次 10 分)."""

from decimal import Decimal

from gapctl.data.schema import F
from gapctl.i18n import _, in_lang
from gapctl.scheme.rules import ZERO, RuleKind, joined, num, reached_tier, tiers_problems


def check_params(rule, indicator) -> list[str]:
    return tiers_problems(rule, indicator, "points")


def check_value(result, rule, indicator, unit) -> list[str]:
    if result.count is None and result.state != "not-done":
        return [_("needs 'count: <number of times>'")]
    return []


def earned(result, rule, indicator, unit) -> Decimal:
    if result.state == "done" and result.count is None:
        return indicator.points
    tier = reached_tier(rule.params.get("tiers") or [], result.count or 0)
    return Decimal(str(tier["points"])) if tier else ZERO


def describe(rule, indicator, lang) -> str:
    tiers = rule.params.get("tiers") or []
    steps = [in_lang("{at_least}+ times: {points}", lang).format(at_least=t["at_least"], points=num(t["points"]))
             for t in tiers]
    return in_lang("{tiers}; fewer: 0", lang).format(tiers=joined(steps, lang, en="; "))


KIND = RuleKind(
    name="count-tiers",
    summary="Points of the highest tier the count reaches; below the first tier, 0.",
    example=('rule:\n  kind: count-tiers\n  tiers: [{at_least: 1, points: 7}, {at_least: 2, points: 10}]\n'
             '# observation: {indicator: "5", count: 2}'),
    params={"tiers": F("list", required=True, doc="[{at_least, points}], thresholds increasing")},
    value_field="count",
    check_params=check_params,
    check_value=check_value,
    earned=earned,
    describe=describe,
)
