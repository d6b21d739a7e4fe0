"""items: itemised partial credit; each item its points, missing items deduct theirs.

雁江 组织领导 4 = 分管领导 1 + 主要领导研究部署 2 + 协调解决问题 1 (每缺一项扣除相应分值).

An item may apply only to some units (`applies_to`, 雁江 制度清单: 政务服务协商事项清单 for 镇、街道,
26个领域基本目录 for 相关部门). Then the items need not add up to the indicator's points over all:
each unit's applicable items should, and where they do not, what the unit earned is scaled to the
indicator's points.
"""

from decimal import Decimal

from gapctl.data.schema import F
from gapctl.i18n import _, in_lang
from gapctl.scheme.rules import ZERO, RuleKind, joined, listed, num


def check_params(rule, indicator) -> list:
    items = rule.params.get("items") or []
    if not items:
        return [_("needs a list of 'items', each {id, name, points}")]
    out, seen = [], set()
    total = Decimal(0)
    for i, item in enumerate(items):
        if not isinstance(item, dict) or "id" not in item or "points" not in item:
            out.append(_("item {n} needs 'id' and 'points'").format(n=i + 1))
            continue
        if item["id"] in seen:
            out.append((_("item id '{id}' is used twice").format(id=item["id"]), ("items", i, "id")))
        seen.add(item["id"])
        total += Decimal(str(item["points"]))
    scoped = any(isinstance(item, dict) and item.get("applies_to") is not None for item in items)
    common = sum((Decimal(str(item["points"])) for item in items
                  if isinstance(item, dict) and "points" in item and item.get("applies_to") is None), Decimal(0))
    if not out and indicator.points is not None and not scoped and total != indicator.points:
        out.append((_("items add up to {sum}, but the indicator has {points} points").format(
            sum=total, points=indicator.points), ("items",)))
    elif not out and indicator.points is not None and scoped and common > indicator.points:
        out.append((_("the items for every unit add up to {sum}, more than the indicator's {points} points").format(
            sum=common, points=indicator.points), ("items",)))
    return out


def applicable_items(rule, unit) -> list[dict]:
    """The rule's items that count for this unit (an item's `applies_to` may leave it out)."""
    return [item for item in rule.params.get("items") or []
            if item.get("applies_to") is None or unit is None or item["applies_to"].matches(unit)]


def check_value(result, rule, indicator, unit) -> list[str]:
    if result.items is None:
        return [] if result.state in ("not-done",) else \
            [_("needs 'items: {<item id>: true/false}' for every item")]
    everything = [str(item.get("id")) for item in rule.params.get("items") or []]
    known = [str(item.get("id")) for item in applicable_items(rule, unit)]
    out = []
    for key, value in result.items.items():
        if key not in everything:
            out.append(_("unknown item '{item}'; items are: {items}").format(item=key, items=listed(everything)))
        elif not isinstance(value, bool):
            out.append(_("item '{item}' must be true or false").format(item=key))
    missing = [k for k in known if k not in result.items]
    if missing:
        out.append(_("items not recorded: {items}").format(items=listed(missing)))
    return out


def earned(result, rule, indicator, unit) -> Decimal:
    """Points of the items done; when the items that apply to the unit do not add up to the indicator's
    points, scaled to them."""
    if result.state == "done":
        return indicator.points
    done = result.items or {}
    items = applicable_items(rule, unit)
    possible = sum((item["points"] for item in items), Decimal(0))
    got = sum((item["points"] for item in items if done.get(str(item["id"])) is True), Decimal(0))
    if possible == 0:
        return ZERO
    return got if possible == indicator.points else got * indicator.points / possible


def describe(rule, indicator, lang) -> str:
    items = rule.params.get("items") or []
    parts = []
    for item in items:
        text = in_lang("{name} {points}", lang).format(
            name=(item.get("name") if lang == "zh" else item.get("name_en") or item.get("name")) or item["id"],
            points=num(item["points"]))
        selector = item.get("applies_to")
        if selector is not None:
            scope = list(selector.unit_types) + [f"#{t}" for t in selector.tags] + [f"@{u}" for u in selector.units]
            text = in_lang("{item} (only {scope})", lang).format(item=text, scope=joined(scope, lang, "、"))
        parts.append(text)
    return in_lang("items: {items}; each missing item loses its points", lang).format(items=joined(parts, lang, "、"))


KIND = RuleKind(
    name="items",
    summary="Itemised partial credit: each item done earns its points; a missing item loses them.",
    example=('rule:\n  kind: items\n  items:\n    - {id: lead, name: 明确分管领导, points: 1}\n'
             '    - {id: plan, name: 主要领导研究部署, points: 2}\n'
             '    - {id: solve, name: 协调解决问题, points: 1}\n'
             '# observation: {indicator: "1", items: {lead: true, plan: false, solve: true}}'),
    params={"items": F("list", required=True,
                       doc="[{id, name, points, applies_to}], points sum to the indicator's (with applies_to: "
                           "those of each unit should; else its score is scaled to them)")},
    value_field="items",
    check_params=check_params,
    check_value=check_value,
    earned=earned,
    describe=describe,
)
