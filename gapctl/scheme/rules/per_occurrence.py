"""per-occurrence: a fixed deduction for each notice (雁江 减分项: 每次扣5分, 累计叠加, 不计上限)."""

from decimal import Decimal

from gapctl.data.schema import F
from gapctl.i18n import _, in_lang
from gapctl.scheme.rules import RuleKind, num
from gapctl.scheme.rules.clauses import clause_part


def check_params(rule, indicator) -> list[str]:
    deduct = rule.params.get("deduct")
    if deduct is None or deduct <= 0:
        return [_("needs 'deduct: <points per occurrence>' above 0")]
    if indicator.section == "main" and indicator.points is None:
        return [_("inside the indicator tree the item needs 'points' to deduct from")]
    return []


def check_value(result, rule, indicator, unit) -> list[str]:
    if result.notices is None and result.state not in ("done", "not-done"):
        return [_("needs 'notices: <number of occurrences>' (0 if none)")]
    return []


def earned(result, rule, indicator, unit) -> Decimal:
    """Shorthand for one clause reading `notices`: minus the deductions (capped only by `cap`);
    in the tree, from the indicator's points, held within its bounds like any indicator."""
    clause = {"id": "notices", "deduct": rule.params.get("deduct") or 0,
              "per": "once" if rule.params.get("once") else "each", "max": rule.params.get("cap")}
    taken = clause_part(clause, result.notices or 0).amount
    if indicator.section == "penalty" or indicator.points is None:
        return taken
    return indicator.points + taken


def describe(rule, indicator, lang) -> str:
    d, cap = num(rule.params.get("deduct") or 0), rule.params.get("cap")
    if rule.params.get("once"):
        return in_lang("-{deduct} once if it happens", lang).format(deduct=d)
    if cap is not None:
        return in_lang("-{deduct} per occurrence, at most -{cap}", lang).format(deduct=d, cap=num(cap))
    return in_lang("-{deduct} per occurrence, cumulative, no limit", lang).format(deduct=d)


KIND = RuleKind(
    name="per-occurrence",
    summary=("A fixed deduction for each occurrence; uncapped in a penalty section unless `cap` is set, "
             "floored at 0 in the tree."),
    example=('penalty:\n  indicators:\n    - id: "12.1"\n      name: 被省、市通报批评\n'
             '      rule: {kind: per-occurrence, deduct: 5}\n'
             '# observation: {indicator: "12.1", notices: 2}   # −10'),
    params={"deduct": F("number", required=True, doc="points per occurrence"),
            "cap": F("number", doc="the most that can be deducted"),
            "once": F("bool", doc="deduct once, however many occurrences")},
    value_field="notices",
    check_params=check_params,
    check_value=check_value,
    earned=earned,
    describe=describe,
)
