"""all-or-nothing: done → full points, else 0 (重庆: 完成的得对应分值，未完成的不得分)."""

from decimal import Decimal

from gapctl.i18n import _, in_lang
from gapctl.scheme.rules import ZERO, RuleKind, no_problems, num


def check_value(result, rule, indicator, unit) -> list[str]:
    if result.state is None:
        return [_("needs 'result: done' or 'result: not-done'")]
    return []


def earned(result, rule, indicator, unit) -> Decimal:
    return indicator.points if result.state == "done" else ZERO


def describe(rule, indicator, lang) -> str:
    return in_lang("{points} if done, otherwise 0", lang).format(points=num(indicator.points))


KIND = RuleKind(
    name="all-or-nothing",
    summary="Full points when done, 0 otherwise.",
    example='rule: {kind: all-or-nothing}\n# observation: {indicator: "1.1", result: done}',
    params={},
    value_field="result",
    check_params=no_problems,
    check_value=check_value,
    earned=earned,
    describe=describe,
    uses_points=True,
)
