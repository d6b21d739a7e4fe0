"""proportional: a fraction of the points by progress (雁江 政务公开专区: 未完成按进度扣分)."""

from decimal import Decimal

from gapctl.i18n import _, in_lang
from gapctl.scheme.rules import ZERO, RuleKind, no_problems, num


def check_value(result, rule, indicator, unit) -> list[str]:
    if result.fraction is None:
        return [] if result.state in ("done", "not-done") else [_("needs 'fraction: <0…1>'")]
    if not Decimal(0) <= result.fraction <= Decimal(1):
        return [_("fraction {fraction} is outside 0…1 (write 0.8 for 80%)").format(fraction=result.fraction)]
    return []


def earned(result, rule, indicator, unit) -> Decimal:
    if result.fraction is None:
        return indicator.points if result.state == "done" else ZERO
    return indicator.points * result.fraction


def describe(rule, indicator, lang) -> str:
    return in_lang("fraction done × {points}", lang).format(points=num(indicator.points))


KIND = RuleKind(
    name="proportional",
    summary="The indicator's points times the observed fraction (0…1) of the work finished.",
    example='rule: {kind: proportional}\n# observation: {indicator: "7", fraction: 0.8}',
    params={},
    value_field="fraction",
    check_params=no_problems,
    check_value=check_value,
    earned=earned,
    describe=describe,
    uses_points=True,
)
