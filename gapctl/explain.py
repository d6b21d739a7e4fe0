"""Why a unit got its score, line by line; its output is the unit's problem list.

For every indicator: points, the rule in words, the observation that counted, points
earned or lost and why (扣分理由), what to fix (整改要求), the evidence; then how base,
bonus, penalty, external deductions and total were combined.

The text shows what the files say, not what they would do to a terminal: every line goes
through `gapctl.escape.plain_line` (bidi and control characters shown as `\u202e`, a line
break inside a note folded), so a value cannot fake a line of its own or reorder its
neighbours. `explain_data` (JSON) keeps the values as written.
"""

from __future__ import annotations

from typing import Any

from gapctl.escape import plain_line
from gapctl.labels import label, name_in
from gapctl.model import Result
from gapctl.rules import REGISTRY, num
from gapctl.score import LeafScore, NodeScore, UnitScore
from gapctl.scoreboard import fixed, two


def observation_text(leaf: LeafScore, lang: str, with_who: bool = True) -> str:
    """The observation that counted, in words (and who observed it, when)."""
    if leaf.state == "not-applicable":
        return label("not_applicable", lang)
    result: Result | None = leaf.result
    if leaf.state == "pending":
        return label("pending", lang)
    if result is None:
        return "—"
    if result.state in ("n/a", "no-evidence"):
        return label(result.state, lang)
    parts = []
    zh = lang == "zh"
    if result.items is not None:
        names = {str(i["id"]): (i.get("name") if zh else i.get("name_en") or i.get("name")) or i["id"]
                 for i in (leaf.rule.params.get("items") or [])} if leaf.rule else {}
        parts.append(" ".join(f"{names.get(k, k)}{'✓' if v else '✗'}" for k, v in result.items.items()))
    if result.count is not None:
        parts.append(f"开展{result.count}次" if zh else f"count {result.count}")
    if result.fraction is not None:
        parts.append(f"完成{num(result.fraction * 100)}%" if zh else f"{num(result.fraction * 100)}% done")
    if result.grade is not None:
        parts.append(f"评分{num(result.grade)}" if zh else f"graded {num(result.grade)}")
    if result.notices is not None:
        parts.append(f"通报{result.notices}次" if zh else f"{result.notices} notice(s)")
    if result.state in ("done", "not-done") and not parts:
        parts.append(label(result.state, lang))
    text = "；".join(parts) if zh else "; ".join(parts)
    if not with_who:
        return text
    who = ("，" if zh else ", ").join(
        x for x in (result.observer, result.observed_at.isoformat() if result.observed_at else None) if x)
    if result.source != "evaluator":
        source = SOURCE_WORDS.get(result.source, (result.source, result.source))[0 if zh else 1]
        who = f"{source}{'，' if zh else ', '}{who}" if who else source
    return f"{text}（{who}）" if who and zh else (f"{text} ({who})" if who else text)


SOURCE_WORDS = {"self": ("自评", "self-assessment"), "evaluator": ("评估", "evaluator"),
                "review": ("复核", "review"), "appeal": ("复核申请决定", "appeal decision")}
OUTCOME_WORDS = {"upheld": ("申请成立", "upheld"), "partly-upheld": ("部分成立", "partly upheld"),
                 "rejected": ("维持原结果", "rejected"), None: ("待决定", "undecided")}


def chain_text(leaf: LeafScore, lang: str) -> str:
    """Every entry for the indicator in order, the one that counts marked (✔)."""
    zh = lang == "zh"
    parts = []
    for entry in leaf.chain:
        if isinstance(entry, Result):
            who = SOURCE_WORDS.get(entry.source, (entry.source, entry.source))[0 if zh else 1]
            shown = LeafScore(leaf.indicator, "scored", leaf.points, leaf.earned, leaf.rule, entry)
            text = f"{who} {observation_text(shown, lang, with_who=False)}"
            if entry is leaf.result:
                text += " ✔"
        else:  # an appeal
            outcome = OUTCOME_WORDS.get(entry.outcome, (entry.outcome, entry.outcome))[0 if zh else 1]
            text = (f"复核申请（{entry.filed}）{outcome}" if zh else f"appeal ({entry.filed}) {outcome}")
            if entry.reviewer:
                text += f"（{entry.reviewer}）" if zh else f" ({entry.reviewer})"
            if entry.result is not None and entry.result is leaf.result:
                text += " ✔"
        parts.append(text)
    return " → ".join(parts)


def _leaf_lines(leaf: LeafScore, lang: str, indent: str) -> list[str]:
    ind = leaf.indicator
    zh = lang == "zh"
    name = ind.name if zh or not ind.name_en else ind.name_en
    if leaf.state == "not-applicable":
        return [f"{indent}{ind.id} {name}  — {label('not_applicable', lang)}"]
    if ind.section == "penalty":
        head = f"{indent}{ind.id} {name}  {num(leaf.earned)}"
    elif ind.section == "bonus":
        head = f"{indent}{ind.id} {name}  +{num(leaf.earned)}/{num(leaf.points)}"
    else:
        head = f"{indent}{ind.id} {name}  {two(leaf.earned)}/{num(leaf.points)}"
        if leaf.lost > 0:
            head += f"  {label('lost', lang)} {two(leaf.lost)}" if not zh else f"  扣{two(leaf.lost)}分"
    lines = [head]
    sub = indent + "    "
    sep = "：" if zh else ": "
    if leaf.rule:
        lines.append(f"{sub}{label('rule', lang)}{sep}{REGISTRY[leaf.rule.kind].describe(leaf.rule, ind, lang)}")
    if leaf.moved_from:
        lines.append(f"{sub}{label('moved', lang)}{sep}{', '.join(leaf.moved_from)}")
    lines.append(f"{sub}{label('observation', lang)}{sep}{observation_text(leaf, lang)}")
    if len(leaf.chain) > 1 or any(not isinstance(e, Result) or e.source != "evaluator" for e in leaf.chain):
        lines.append(f"{sub}{'评估链' if zh else 'Chain'}{sep}{chain_text(leaf, lang)}")
    result = leaf.result
    if result is not None:
        if result.note:
            lines.append(f"{sub}{'说明' if zh else 'Note'}{sep}{result.note}")
        if result.reason and leaf.lost > 0:
            lines.append(f"{sub}{label('reason', lang)}{sep}{result.reason}")
        if result.fix and leaf.lost > 0:
            lines.append(f"{sub}{label('fix', lang)}{sep}{result.fix}")
        for ev in result.evidence:
            where = ev.url or ev.file or ""
            extra = ", ".join(x for x in (ev.title, ev.captured.isoformat() if ev.captured else None,
                                          f"sha256 {ev.sha256[:12]}…" if ev.sha256 else None) if x)
            lines.append(f"{sub}{label('evidence', lang)}{sep}{where}" + (f" ({extra})" if extra else ""))
    return lines


def _node_lines(node: NodeScore, lang: str, depth: int = 0) -> list[str]:
    indent = "  " * depth
    if node.leaf is not None:
        return _leaf_lines(node.leaf, lang, indent)
    ind = node.indicator
    name = name_in(ind, lang)
    lines = [f"{indent}{ind.id} {name}  {two(node.earned)}/{two(node.points)}"]
    for child in node.children:
        lines += _node_lines(child, lang, depth + 1)
    return lines


def explain_lines(score: UnitScore, lang: str = "zh", indicator: str | None = None) -> list[str]:
    """The explanation as terminal lines, user text made safe to print."""
    return [plain_line(line) for line in _explain_lines(score, lang, indicator)]


def _explain_lines(score: UnitScore, lang: str, indicator: str | None) -> list[str]:
    unit, scheme = score.unit, score.scheme
    zh = lang == "zh"
    name = unit.name if zh or not unit.name_en else unit.name_en
    lines = [f"{name} ({unit.id}) · {unit.type}",
             f"{label('scheme', lang)}{'：' if zh else ': '}{scheme.title} ({scheme.id})"]
    if indicator is not None:
        node = score.node(indicator)
        if node is not None:
            return lines + [""] + _node_lines(node, lang)
        leaf = score.leaves.get(indicator)
        return lines + [""] + (_leaf_lines(leaf, lang, "") if leaf else [f"? {indicator}"])
    lines.append("")
    for node in score.tree:
        lines += _node_lines(node, lang)
    for section in (scheme.bonus, scheme.penalty):
        if section:
            cap = ""
            if section.cap is not None:
                cap = f"（上限{num(section.cap)}分）" if zh else f" (at most {num(section.cap)})"
            lines += ["", f"{section.name if zh or not section.name_en else section.name_en}{cap}"]
            for item in section.indicators:
                leaf = score.leaves.get(item.id)
                if leaf:
                    lines += _leaf_lines(leaf, lang, "")
    lines += ["", label("computation", lang)] + ["  " + line for line in computation_lines(score, lang)]
    lines += ["", label("problem_list", lang)] + problem_list_lines(score, lang)
    return lines


def computation_lines(score: UnitScore, lang: str) -> list[str]:
    """How base, bonus, penalty, external and total were combined, with the figures."""
    scheme, zh = score.scheme, lang == "zh"
    scoring = scheme.scoring
    out = [f"{label('applicable', lang)} {two(score.applicable)} · {label('earned', lang)} {two(score.earned)}"]
    if scoring.normalise == "applicable":
        formula = (f"实得分 ÷ 应得分 × {num(scoring.scale)} = {two(score.earned)} ÷ {two(score.applicable)} × "
                   f"{num(scoring.scale)}") if zh else \
            (f"earned ÷ applicable × {num(scoring.scale)} = {two(score.earned)} ÷ {two(score.applicable)} × "
             f"{num(scoring.scale)}")
    else:
        formula = "实得分之和" if zh else "sum of earned points"
    if scheme.components:
        parts = []
        for component in scheme.components:
            value = score.components.get(component.id)
            parts.append(f"{num(component.weight)} × {two(value) if value is not None else '—'}"
                         f"（{component.name}）" if zh else
                         f"{num(component.weight)} × {two(value) if value is not None else '—'} ({component.name})")
        formula = " + ".join(parts)
    rounding = f"（四舍五入保留{scoring.places}位小数）" if zh else f" (rounded half-up to {scoring.places} places)"
    places = scoring.places
    out.append(f"{label('base', lang)} = {formula} = {fixed(score.base, places)}{rounding}")
    if scheme.bonus:
        capped = ""
        if score.bonus != score.bonus_raw:
            capped = f"（{num(score.bonus_raw)}，封顶{num(scheme.bonus.cap)}）" if zh else \
                f" ({num(score.bonus_raw)}, capped at {num(scheme.bonus.cap)})"
        out.append(f"{label('bonus', lang)} +{num(score.bonus)}{capped}")
    if scheme.penalty:
        out.append(f"{label('penalty', lang)} {num(score.penalty)}")
    for share in score.externals:
        sign = "−" if share.mode == "subtract" else "×"
        why = f"（{share.reason}）" if share.reason and zh else (f" ({share.reason})" if share.reason else "")
        out.append(f"{label('external', lang)} {share.name} {sign}{num(share.points)}{why}")
    total_formula = (f"{fixed(score.base, places)} + {num(score.bonus)} − {num(-score.penalty)} − "
                     f"{num(score.external)}")
    out.append(f"{label('total', lang)} = {total_formula} = {fixed(score.total, places)}")
    if score.grade:
        out.append(f"{label('grade', lang)} {score.grade if zh or not score.grade_en else score.grade_en}")
    if score.rank is not None:
        out.append(f"{label('rank', lang)} {score.rank}" + (
            f" · {label('category_rank', lang)} {score.category_rank}（{score.category.name}）"
            if score.category and zh else
            (f" · {label('category_rank', lang)} {score.category_rank} ({score.category.name})"
             if score.category else "")))
    for flag in scheme.flags:
        if flag.id in score.flags:
            out.append(f"{label('flags', lang)} {flag.label if zh or not flag.label_en else flag.label_en}")
    if score.performance_points is not None and scheme.conversion:
        out.append(f"{label('performance', lang)} = {fixed(score.total, places)} ÷ {num(scoring.scale)} × "
                   f"{num(scheme.conversion.points)} = {fixed(score.performance_points, 2)}")
    if score.passdown is not None and scheme.conversion:
        out.append(f"{label('passdown', lang)} × {num(scheme.conversion.passdown_multiplier)} = {num(score.passdown)}")
    if score.pending:
        out.append(f"{label('pending_note', lang)}: {', '.join(score.pending)}")
    return out


def problem_list_lines(score: UnitScore, lang: str) -> list[str]:
    """扣分点, 扣分理由, 整改要求 for every point lost."""
    zh = lang == "zh"
    lost = score.lost_leaves()
    if not lost:
        return ["  " + label("no_problems", lang)]
    lines = []
    for n, leaf in enumerate(lost, start=1):
        ind = leaf.indicator
        name = ind.name if zh or not ind.name_en else ind.name_en
        amount = (f"扣{two(leaf.lost)}分" if zh else f"-{two(leaf.lost)}") if leaf.state != "pending" \
            else label("pending", lang)
        lines.append(f"  {n}. {ind.id} {name}（{amount}）" if zh else f"  {n}. {ind.id} {name} ({amount})")
        result = leaf.result
        sep = "：" if zh else ": "
        if result is not None and result.reason:
            lines.append(f"     {label('reason', lang)}{sep}{result.reason}")
        if result is not None and result.fix:
            lines.append(f"     {label('fix', lang)}{sep}{result.fix}")
    return lines


def explain_data(score: UnitScore) -> dict[str, Any]:
    """The same facts for `--format json`."""
    from gapctl.scoreboard import unit_row

    def leaf_data(leaf: LeafScore) -> dict[str, Any]:
        r = leaf.result
        return {
            "indicator": leaf.indicator.id, "name": leaf.indicator.name, "section": leaf.indicator.section,
            "state": leaf.state, "points": two(leaf.points), "earned": two(leaf.earned), "lost": two(leaf.lost),
            "rule": leaf.rule.kind if leaf.rule else None,
            "rule_text": REGISTRY[leaf.rule.kind].describe(leaf.rule, leaf.indicator, "zh") if leaf.rule else None,
            "observation": observation_text(leaf, "zh"),
            "reason": r.reason if r else None, "fix": r.fix if r else None,
            "evidence": [{"url": e.url, "file": e.file, "sha256": e.sha256,
                          "captured": e.captured.isoformat() if e.captured else None} for e in r.evidence] if r else [],
        }
    return {
        "score": unit_row(score),
        "indicators": [leaf_data(leaf) for leaf in score.leaves.values()],
        "computation": computation_lines(score, "zh"),
        "problems": [{"indicator": leaf.indicator.id, "name": leaf.indicator.name, "lost": two(leaf.lost),
                      "reason": leaf.result.reason if leaf.result else None,
                      "fix": leaf.result.fix if leaf.result else None} for leaf in score.lost_leaves()],
    }
