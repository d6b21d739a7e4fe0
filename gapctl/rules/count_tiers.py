"""count-tiers: points by how many times something was done (雁江 政务开放日 1 次 7 分, 2 次 10 分)."""

from decimal import Decimal

from gapctl.rules import RuleKind, num, reached_tier, tiers_problems
from gapctl.schema import F


def check_params(rule, indicator) -> list[str]:
    return tiers_problems(rule, indicator, "points")


def check_value(result, rule, indicator, unit) -> list[str]:
    if result.count is None and result.state != "not-done":
        return ["needs 'count: <number of times>'"]
    return []


def earned(result, rule, indicator, unit) -> Decimal:
    if result.state == "done" and result.count is None:
        return indicator.points
    tier = reached_tier(rule.params.get("tiers") or [], result.count or 0)
    return Decimal(str(tier["points"])) if tier else Decimal(0)


def describe(rule, indicator, lang) -> str:
    tiers = rule.params.get("tiers") or []
    if lang == "zh":
        return "，".join(f"{t['at_least']}次及以上得{num(t['points'])}分" for t in tiers) + "，不足不得分"
    return "; ".join(f"{t['at_least']}+ times: {num(t['points'])}" for t in tiers) + "; fewer: 0"


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
