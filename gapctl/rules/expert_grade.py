"""expert-grade: an evaluator's graded score in [0, points] (随州 年报质量 3 分, 专家测评)."""

from decimal import Decimal

from gapctl.rules import RuleKind, num
from gapctl.schema import F


def check_params(rule, indicator) -> list[str]:
    step = rule.params.get("step")
    if step is not None and step <= 0:
        return ["'step' must be above 0"]
    if step is not None and indicator.points is not None and indicator.points % step:
        return [f"the indicator's {indicator.points} points are not a multiple of step {step}"]
    return []


def check_value(result, rule, indicator, unit) -> list[str]:
    if result.grade is None:
        return [] if result.state in ("done", "not-done") else ["needs 'grade: <points awarded>'"]
    if indicator.points is not None and not Decimal(0) <= result.grade <= indicator.points:
        return [f"grade {result.grade} is outside 0…{indicator.points}"]
    step = rule.params.get("step")
    if step and result.grade % step:
        return [f"grade {result.grade} is not a multiple of the step {step}"]
    return []


def earned(result, rule, indicator, unit) -> Decimal:
    if result.grade is None:
        return indicator.points if result.state == "done" else Decimal(0)
    return result.grade


def describe(rule, indicator, lang) -> str:
    p, step = num(indicator.points), rule.params.get("step")
    if lang == "zh":
        return f"专家评分，0至{p}分" + (f"，以{num(step)}分为单位" if step else "")
    return f"expert grade, 0 to {p}" + (f" in steps of {num(step)}" if step else "")


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
