"""expert-grade: an evaluator's graded score in [0, points] (随州 年报质量 3 分, 专家测评)."""

from decimal import Decimal

from gapctl.data.schema import F
from gapctl.i18n import _, in_lang
from gapctl.scheme.rules import ZERO, RuleKind, num


def check_params(rule, indicator) -> list[str]:
    step = rule.params.get("step")
    if step is not None and step <= 0:
        return [_("'step' must be above 0")]
    if step is not None and indicator.points is not None and indicator.points % step:
        return [_("the indicator's {points} points are not a multiple of step {step}").format(points=indicator.points,
                                                                                             step=step)]
    return []


def check_value(result, rule, indicator, unit) -> list[str]:
    if result.grade is None:
        return [] if result.state in ("done", "not-done") else [_("needs 'grade: <points awarded>'")]
    if indicator.points is not None and not Decimal(0) <= result.grade <= indicator.points:
        return [_("grade {grade} is outside 0…{points}").format(grade=result.grade, points=indicator.points)]
    step = rule.params.get("step")
    if step and result.grade % step:
        return [_("grade {grade} is not a multiple of the step {step}").format(grade=result.grade, step=step)]
    return []


def earned(result, rule, indicator, unit) -> Decimal:
    if result.grade is None:
        return indicator.points if result.state == "done" else ZERO
    return result.grade


def describe(rule, indicator, lang) -> str:
    p, step = num(indicator.points), rule.params.get("step")
    if step:
        return in_lang("expert grade, 0 to {points} in steps of {step}", lang).format(points=p, step=num(step))
    return in_lang("expert grade, 0 to {points}", lang).format(points=p)


KIND = RuleKind(
    name="expert-grade",
    summary="The points an evaluator awards, between 0 and the maximum, optionally in steps.",
    example='rule: {kind: expert-grade, step: 0.5}\n# observation: {indicator: "5.1.2", grade: 2.5}',
    params={"step": F("number", doc="grades must be multiples of this")},
    value_field="grade",
    check_params=check_params,
    check_value=check_value,
    earned=earned,
    describe=describe,
    uses_points=True,
)
