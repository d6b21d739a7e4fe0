"""items: itemised partial credit; each item its points, missing items deduct theirs.

雁江 组织领导 4 = 分管领导 1 + 主要领导研究部署 2 + 协调解决问题 1 (每缺一项扣除相应分值).
"""

from decimal import Decimal

from gapctl.rules import RuleKind, num
from gapctl.schema import F


def check_params(rule, indicator) -> list:
    items = rule.params.get("items") or []
    if not items:
        return ["needs a list of 'items', each {id, name, points}"]
    out, seen = [], set()
    total = Decimal(0)
    for i, item in enumerate(items):
        if not isinstance(item, dict) or "id" not in item or "points" not in item:
            out.append(f"item {i + 1} needs 'id' and 'points'")
            continue
        if item["id"] in seen:
            out.append((f"item id '{item['id']}' is used twice", ("items", i, "id")))
        seen.add(item["id"])
        total += Decimal(str(item["points"]))
    if not out and indicator.points is not None and total != indicator.points:
        out.append((f"items add up to {total}, but the indicator has {indicator.points} points",
                    ("items",)))
    return out


def applicable_items(rule, unit) -> list[dict]:
    """The rule's items that count for this unit (an item's `applies_to` may leave it out)."""
    return [item for item in rule.params.get("items") or []
            if item.get("applies_to") is None or unit is None or item["applies_to"].matches(unit)]


def check_value(result, rule, indicator, unit) -> list[str]:
    if result.items is None:
        return [] if result.state in ("not-done",) else \
            ["needs 'items: {<item id>: true/false}' for every item"]
    everything = [str(item.get("id")) for item in rule.params.get("items") or []]
    known = [str(item.get("id")) for item in applicable_items(rule, unit)]
    out = []
    for key, value in result.items.items():
        if key not in everything:
            out.append(f"unknown item '{key}'; items are: {', '.join(everything)}")
        elif not isinstance(value, bool):
            out.append(f"item '{key}' must be true or false")
    missing = [k for k in known if k not in result.items]
    if missing:
        out.append(f"items not recorded: {', '.join(missing)}")
    return out


def earned(result, rule, indicator, unit) -> Decimal:
    """Points of the items done; when some items do not apply, scaled to the indicator's points."""
    if result.state == "done":
        return indicator.points
    done = result.items or {}
    items = applicable_items(rule, unit)
    possible = sum((item["points"] for item in items), Decimal(0))
    got = sum((item["points"] for item in items if done.get(str(item["id"])) is True), Decimal(0))
    if possible == 0:
        return Decimal(0)
    total = sum((item["points"] for item in rule.params.get("items") or []), Decimal(0))
    return got if possible == total else got * indicator.points / possible


def describe(rule, indicator, lang) -> str:
    items = rule.params.get("items") or []
    if lang == "zh":
        parts = "、".join(f"{item.get('name') or item['id']}{num(item['points'])}分" for item in items)
        return f"分项计分：{parts}；每缺一项扣除相应分值"
    parts = ", ".join(f"{item.get('name_en') or item.get('name') or item['id']} {num(item['points'])}"
                      for item in items)
    return f"items: {parts}; each missing item loses its points"


KIND = RuleKind(
    name="items",
    summary="Itemised partial credit: each item done earns its points; a missing item loses them.",
    example=('rule:\n  kind: items\n  items:\n    - {id: lead, name: 明确分管领导, points: 1}\n'
             '    - {id: plan, name: 主要领导研究部署, points: 2}\n'
             '    - {id: solve, name: 协调解决问题, points: 1}\n'
             '# observation: {indicator: "1", items: {lead: true, plan: false, solve: true}}'),
    params={"items": F("list", required=True,
                       doc="[{id, name, points, applies_to}], points sum to the indicator's")},
    value_field="items",
    check_params=check_params,
    check_value=check_value,
    earned=earned,
    describe=describe,
)
