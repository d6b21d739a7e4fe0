"""threshold: points when the unit's own score reaches a level (雁江 加分项: 总评分90分以上加3分).

Computed from the unit's scores; needs no observation.
"""

from decimal import Decimal

from gapctl.data.schema import F
from gapctl.i18n import _, in_lang
from gapctl.scheme.rules import ZERO, RuleKind, no_problems, num


def check_params(rule, indicator) -> list[str]:
    if rule.params.get("at_least") is None:
        return [_("needs 'at_least: <score>'")]
    if indicator.points is None:
        return [_("needs 'points' on the indicator: what reaching the threshold earns")]
    return []


def earned(result, rule, indicator, unit) -> Decimal:
    return ZERO  # decided by the scorer from `condition`, once the figure it compares is known


def condition(rule):
    """Shorthand for the condition `<of> >= <at_least>`: `of` names a subtotal (base, penalty …)
    or an indicator, whose score is compared."""
    from gapctl.scheme.formula import NAMES, built

    of = str(rule.params.get("of") or "base")
    at_least = rule.params.get("at_least") or Decimal(0)
    left = ("name", of, 0) if of in NAMES else ("call", "score", (("ref", of, 0),), 0)
    text = f"{of} >= {at_least}" if of in NAMES else f"score({of}) >= {at_least}"
    return built(("cmp", left, ((">=", ("num", at_least, str(at_least), 0)),)), text)


def describe(rule, indicator, lang) -> str:
    of, at_least, p = rule.params.get("of") or "base", num(rule.params.get("at_least") or 0), num(indicator.points)
    if of == "base":
        return in_lang("{points} when the base score reaches {at_least}", lang).format(points=p, at_least=at_least)
    return in_lang("{points} when the points on {of} reaches {at_least}", lang).format(points=p, of=of,
                                                                                       at_least=at_least)


KIND = RuleKind(
    name="threshold",
    summary=("The indicator's points when the unit's own `base` (or an indicator's score) reaches `at_least`; "
             "computed, not observed. Shorthand for a gate `<of> >= <at_least>` on an item worth its points."),
    example=('bonus:\n  cap: 10\n  indicators:\n    - id: "11.1"\n      name: 总评分在90分以上加3分\n'
             '      points: 3\n      rule: {kind: threshold, of: base, at_least: 90}'),
    params={"of": F("text", doc="`base` (default), another subtotal known before the bonus (`penalty`), or an "
                    "indicator id: which figure is compared"),
            "at_least": F("number", required=True, doc="the score to reach")},
    value_field=None,
    check_params=check_params,
    check_value=no_problems,
    earned=earned,
    describe=describe,
)
