"""rank: points for ranking in the top N among units on a measure (雁江: 信箱回复满意率排名前3名加2分).

Reads `measures: {<id>: <number>}` from every unit's observation file.
"""

from decimal import Decimal

from gapctl.data.schema import F
from gapctl.i18n import _, in_lang
from gapctl.scheme.rules import ZERO, RuleKind, no_problems, num


def check_params(rule, indicator) -> list[str]:
    out = []
    if not rule.params.get("measure") and not rule.params.get("indicator"):
        out.append(_("needs 'measure: <measure id>' (declared in the scheme's `measures`) or 'indicator: <id>'"))
    top = rule.params.get("top")
    if top is None or top < 1:
        out.append(_("needs 'top: <n>' of at least 1"))
    if indicator.points is None:
        out.append(_("needs 'points' on the indicator: what ranking in the top earns"))
    return out


def earned(result, rule, indicator, unit) -> Decimal:
    return ZERO  # scored across units by the scorer


def describe(rule, indicator, lang) -> str:
    what = rule.params.get("measure") or rule.params.get("indicator")
    top, p = rule.params.get("top"), num(indicator.points)
    if rule.params.get("among") == "category":
        words = in_lang("{points} for ranking in the top {top} on {what} within the category (ties share)", lang)
    else:
        words = in_lang("{points} for ranking in the top {top} on {what} (ties share)", lang)
    return words.format(points=p, top=top, what=what)


KIND = RuleKind(
    name="rank",
    summary=("The indicator's points when the unit ranks in the top `top` on a measure, among all units "
             "or within its category."),
    example=('measures: [{id: mailbox-satisfaction, name: 信箱回复满意率, higher_is_better: true}]\n'
             'bonus:\n  indicators:\n    - id: "11.3"\n      name: 信箱回复满意率排名前3名\n      points: 2\n'
             '      rule: {kind: rank, measure: mailbox-satisfaction, top: 3, among: all}\n'
             '# each unit\'s observation file: measures: {mailbox-satisfaction: 0.97}'),
    params={"measure": F("id", doc="a measure id (or give `indicator`)"),
            "indicator": F("id", doc="rank on the points earned on this indicator"),
            "top": F("int", required=True, doc="how many ranks earn the points"),
            "among": F("text", choices=("all", "category"), doc="rank among all units or within the category")},
    value_field=None,
    check_params=check_params,
    check_value=no_problems,
    earned=earned,
    describe=describe,
)
