"""What `gapctl show` prints: a scheme as a tree, a unit set as a table, a round's summary.

Each function returns plain data (for `--format json`) and a renderer turns it into lines.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

from gapctl.constructs.vetoes import effects_text
from gapctl.model import Indicator, Round, Scheme, UnitSet
from gapctl.rules import num
from gapctl.textwidth import pad, table, width


def fmt_points(value: Decimal | None) -> str:
    return "-" if value is None else num(value)


def _selector_text(ind: Indicator) -> str:
    if ind.scope:
        return ind.scope
    if ind.applies_to is None:
        return ""
    sel = ind.applies_to
    parts = list(sel.unit_types) + [f"#{t}" for t in sel.tags] + [f"@{u}" for u in sel.units]
    return "、".join(parts)


def _rule_text(ind: Indicator) -> str:
    if not ind.rules:
        return ""
    kinds = []
    for rule in ind.rules:
        text = rule.kind + ("*" if rule.assumed else "")
        kinds.append(text if rule.when is None else f"{text}(when)")
    return " | ".join(kinds)


def scheme_data(scheme: Scheme) -> dict[str, Any]:
    def node(ind: Indicator) -> dict[str, Any]:
        out: dict[str, Any] = {"id": ind.id, "name": ind.name, "points": fmt_points(ind.points)}
        if ind.methods:
            out["methods"] = list(ind.methods)
        if ind.scope or ind.applies_to:
            out["applies_to"] = _selector_text(ind)
        if ind.rules:
            out["rules"] = [r.kind for r in ind.rules]
        out.update(_construct_data(ind))
        if ind.children:
            out["children"] = [node(c) for c in ind.children]
        return out

    data: dict[str, Any] = {
        "id": scheme.id, "title": scheme.title, "total": fmt_points(scheme.top_total()),
        "indicators": [node(i) for i in scheme.indicators],
    }
    for name in ("bonus", "penalty"):
        section = getattr(scheme, name)
        if section:
            data[name] = {"name": section.name, "cap": fmt_points(section.cap),
                          "gate": section.gate.when.text if section.gate else None,
                          "indicators": [node(i) for i in section.indicators]}
    data["scoring"] = {line[0]: line[1] for line in _scoring_pairs(scheme)}
    data["vetoes"] = [{"id": v.id, "name": v.name, "when": v.when.text, "part": v.part,
                       "effects": effects_text(v, scheme, "zh")} for v in scheme.vetoes]
    data["assumptions"] = [{"what": a.what, "note": a.note} for a in scheme.assumptions]
    return data


def _construct_data(ind: Indicator) -> dict[str, Any]:
    from gapctl.rules.clauses import clause_text

    out: dict[str, Any] = {}
    for rule in ind.rules:
        if rule.kind == "clauses":
            out["clauses"] = [clause_text(c, "zh") for c in rule.params.get("clauses") or []]
    if ind.gate is not None:
        out["gate"] = ind.gate.when.text
    if ind.bounded is not None:
        out["bounded"] = ind.bounded
    if ind.redistribute is not None:
        out["redistribute"] = _redistribution_text(ind)
    return out


def _redistribution_text(ind: Indicator) -> str:
    rule = ind.redistribute
    assert rule is not None
    to = {"siblings": "同级其他指标", "all": "其他一级指标"}.get(rule.to, None) if isinstance(rule.to, str) \
        else "、".join(rule.to)
    by = "平均分配" if rule.by == "even" else "按分值比例分配"
    mode = "扣分不变（倒扣制）" if rule.mode == "deduct" else "得分同比例放大（得分制）"
    return f"不适用时分值调剂至{to}，{by}，{mode}"


def _bounds_text(scheme: Scheme) -> str:
    bounds = scheme.scoring.bounds
    if bounds == "leaves":
        return "每个末级指标在0至其分值之间（扣完为止）"
    level = 1 if bounds == "top" else int(bounds)
    return f"第{level}级指标在0至其分值之间（扣完为止），下级指标可超扣，由其上级兜底"


def _scoring_pairs(scheme: Scheme) -> list[tuple[str, str]]:
    """The scheme's computation in words and formulas: base, total, bounds, caps."""
    from gapctl.constructs.formulas import base_formula, total_formula
    from gapctl.formula import NAMES, render

    def names(node: tuple) -> str:
        if node[0] == "name":
            return NAMES[node[1]].zh
        args = ", ".join(a[1] for a in node[2] if a[0] == "ref")
        return f"{node[1]}({args})"

    out = []
    for key, formula in (("base", base_formula(scheme)), ("total", total_formula(scheme))):
        out.append((key, render(formula, None, "zh", names) if formula is not None else "—"))
    out.append(("bounds", _bounds_text(scheme)))
    if scheme.scoring.max_total is not None:
        out.append(("max_total", num(scheme.scoring.max_total)))
    return out


def construct_lines(scheme: Scheme) -> list[str]:
    """计分规则: formulas, bounds, clauses, gates, pass lines, redistribution, vetoes."""
    words = {"base": "基础得分", "total": "总得分", "bounds": "界限", "max_total": "总得分上限"}
    lines = ["", "计分规则"]
    for key, text in _scoring_pairs(scheme):
        lines.append(f"  {words[key]} = {text}" if key in ("base", "total") else f"  {words[key]}：{text}")
    for ind in scheme.all_indicators():
        extra = _construct_data(ind)
        for clause in extra.get("clauses", []):
            lines.append(f"  {ind.id} 条款：{clause}")
        if "gate" in extra:
            lines.append(f"  {ind.id} 门槛：{extra['gate']}")
        if "bounded" in extra:
            lines.append(f"  {ind.id} 界限：{'在0至其分值之间' if extra['bounded'] else '不设界限（由上级兜底）'}")
        if "redistribute" in extra:
            lines.append(f"  {ind.id} 分值调剂：{extra['redistribute']}")
    for name in ("bonus", "penalty"):
        section = getattr(scheme, name)
        if section is not None and section.gate is not None:
            lines.append(f"  {section.name}门槛：{section.gate.when.text}")
    for veto in scheme.vetoes:
        what = "合格线" if veto.part else "单项否决"
        lines.append(f"  {what} {veto.id} {veto.name}：{veto.when.text} → {effects_text(veto, scheme, 'zh')}")
    return lines


def scheme_lines(scheme: Scheme) -> list[str]:
    """The indicator tree, indented by level, with points aligned in one column."""
    rows: list[tuple[str, str, str, str, str]] = []

    def add(ind: Indicator) -> None:
        label = "  " * (ind.depth - 1) + ind.name + ("*" if ind.assumed else "")
        rows.append((ind.id, label, fmt_points(ind.points), _rule_text(ind) if ind.is_leaf else "",
                     _selector_text(ind) if ind.is_leaf else ""))
        for child in ind.children:
            add(child)

    for top in scheme.indicators:
        add(top)
    sections = []
    for name in ("bonus", "penalty"):
        section = getattr(scheme, name)
        if section:
            sections.append((section, len(rows)))
            for item in section.indicators:
                add(item)
    id_w = max([width(r[0]) for r in rows] + [2])
    name_w = max([width(r[1]) for r in rows] + [4])
    pts_w = max([width(r[2]) for r in rows] + [4])
    rule_w = max([width(r[3]) for r in rows] + [4])
    lines = [f"{scheme.title} ({scheme.id})"]
    meta = [x for x in (scheme.place, str(scheme.year) if scheme.year else None) if x]
    if meta:
        lines.append(" · ".join(meta))
    lines.append("")
    header = f"{pad('id', id_w)}  {pad('指标', name_w)}  {pad('分值', pts_w, 'right')}  {pad('规则', rule_w)}  适用范围"
    lines.append(header.rstrip())
    lines.append("-" * width(header))
    section_starts = {start: section for section, start in sections}
    for n, (ident, label, pts, rule, scope) in enumerate(rows):
        if n in section_starts:
            section = section_starts[n]
            cap = f"（上限 {fmt_points(section.cap)} 分）" if section.cap is not None else "（不设上限）"
            lines.append("")
            lines.append(f"{section.name}{cap}")
        line = f"{pad(ident, id_w)}  {pad(label, name_w)}  {pad(pts, pts_w, 'right')}  {pad(rule, rule_w)}  {scope}"
        lines.append(line.rstrip())
    lines.append("-" * width(header))
    total = fmt_points(scheme.top_total())
    parts = " + ".join(f"{fmt_points(i.points)}" for i in scheme.indicators)
    lines.append(f"{pad('', id_w)}  {pad('合计', name_w)}  {pad(total, pts_w, 'right')}  = {parts}")
    lines += construct_lines(scheme)
    if any(i.assumed or any(r.assumed for r in i.rules) for i in scheme.all_indicators()):
        lines.append("")
        lines.append("* 假定（方案未公布），见下方假定清单 / assumed, not published: see the list below.")
    if scheme.assumptions:
        lines.append("")
        lines.append(f"假定（非公布数据） / assumptions: {len(scheme.assumptions)}")
        for a in scheme.assumptions:
            lines.append(f"  - {a.what}: {a.note}")
    return lines


def unit_set_data(unit_set: UnitSet) -> dict[str, Any]:
    return {"id": unit_set.id, "name": unit_set.name,
            "units": [{"id": u.id, "name": u.name, "type": u.type, "parent": u.parent,
                       "tags": list(u.tags)} for u in unit_set.units]}


def unit_set_lines(unit_set: UnitSet) -> list[str]:
    rows = [["id", "名称", "类型", "上级", "标签"]]
    for u in unit_set.units:
        rows.append([u.id, u.name, u.type, u.parent or "", ", ".join(u.tags)])
    counts = Counter(u.type for u in unit_set.units)
    summary = "；".join(f"{t} {n}" for t, n in sorted(counts.items()))
    return [f"{unit_set.name} ({unit_set.id}): {len(unit_set.units)} 个单位（{summary}）", "",
            *table(rows)]


def round_data(round_: Round) -> dict[str, Any]:
    units = round_.unit_set.units if round_.unit_set else []
    by_scheme: Counter[str] = Counter()
    for unit in units:
        scheme = round_.scheme_for(unit)
        by_scheme[scheme.id if scheme else "-"] += 1
    observed = sum(1 for u in units if u.id in round_.observations)
    entries = sum(len(o.results) for o in round_.observations.values())
    return {
        "id": round_.id, "title": round_.title, "example": round_.example,
        "period": [d.isoformat() for d in round_.period] if round_.period else None,
        "units": round_.units_id, "unit_count": len(units),
        "schemes": [{"scheme": a.scheme, "unit_types": list(a.unit_types),
                     "units": by_scheme.get(a.scheme, 0)} for a in round_.assignments],
        "observation_files": len(round_.observations), "units_observed": observed,
        "observation_entries": entries,
        "stages": {k: (v.isoformat() if hasattr(v, "isoformat") else v)
                   for k, v in round_.stages.items() if v is not None},
        "external": [ref.id for ref in round_.external_refs],
    }


def round_lines(round_: Round) -> list[str]:
    data = round_data(round_)
    lines = [f"{round_.title} ({round_.id})"]
    if round_.example:
        lines.append("示例数据，非真实评估结果 (illustrative data, not a real assessment)")
    rows = [["项目", "内容"]]
    if data["period"]:
        rows.append(["评估期间 period", " – ".join(data["period"])])
    rows.append(["评估对象 units", f"{data['units']}（{data['unit_count']} 个）"])
    for s in data["schemes"]:
        types = "、".join(s["unit_types"]) or "全部单位"
        rows.append(["指标体系 scheme", f"{s['scheme']} → {types}（{s['units']} 个）"])
    rows.append(["观测记录 observations", f"{data['units_observed']}/{data['unit_count']} 个单位，"
                 f"{data['observation_entries']} 条"])
    for key, value in data["stages"].items():
        rows.append([f"阶段 {key}", str(value)])
    for ext in data["external"]:
        rows.append(["外部扣分 external", ext])
    return lines + [""] + table(rows)
