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

from gapctl.constructs import Decision
from gapctl.constructs.bounds import cut_text
from gapctl.constructs.formulas import base_formula, total_formula
from gapctl.constructs.vetoes import effects_text
from gapctl.escape import plain_line
from gapctl.formula import NAMES, Formula, FormulaError, exact, render
from gapctl.labels import label, name_in
from gapctl.model import Result
from gapctl.rules import REGISTRY, num
from gapctl.rules.clauses import clause_text, parts
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
    if result.findings is not None and leaf.rule is not None and leaf.rule.kind == "clauses" \
            and result.state not in ("done", "not-done"):
        for clause in leaf.rule.params.get("clauses") or []:
            name = clause.get("finding") or clause.get("id")
            if name in result.findings:
                parts.append(f"{clause.get('name') or name} {finding_text(result.findings[name], lang)}")
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


def _leaf_lines(leaf: LeafScore, lang: str, indent: str, score: UnitScore | None = None) -> list[str]:
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
    if leaf.panel and score is not None and score.scheme.panel is not None:
        from gapctl.constructs.panels import combine, explain_text
        value, apart = combine(score.scheme.panel, [v for _, v in leaf.panel])
        panel_text = explain_text(score.scheme.panel, leaf.panel, value, apart, lang)
        lines.append(f"{sub}{label('observation', lang)}{sep}{panel_text}")
    else:
        lines.append(f"{sub}{label('observation', lang)}{sep}{observation_text(leaf, lang)}")
    if leaf.rule and leaf.rule.kind == "clauses" and leaf.result is not None and leaf.state == "scored" \
            and leaf.result.state not in ("done", "not-done") and score is not None:
        lines += [sub + line for line in clause_lines(leaf, score, lang)]
    if leaf.moved_from:
        from gapctl.constructs.redistribute import moved_text
        amount = moved_text(leaf, lang)
        lines.append(f"{sub}{label('moved', lang)}{sep}{', '.join(leaf.moved_from)}"
                     + (f"（{amount}）" if zh else f" ({amount})"))
    if leaf.cut is not None:
        lines.append(sub + cut_text(leaf.cut, lang))
    if score is not None:
        for kind in ("gate", "threshold"):
            decided = score.decision(kind, ind.id)
            if decided is not None:
                lines.append(sub + decision_text(decided, score, lang))
    if not leaf.panel and (len(leaf.chain) > 1 or any(not isinstance(e, Result) or e.source != "evaluator"
                                                        for e in leaf.chain)):
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


def _node_lines(node: NodeScore, lang: str, depth: int = 0, score: UnitScore | None = None) -> list[str]:
    indent = "  " * depth
    if node.leaf is not None:
        lines = _leaf_lines(node.leaf, lang, indent, score)
    else:
        ind = node.indicator
        name = name_in(ind, lang)
        lines = [f"{indent}{ind.id} {name}  {two(node.earned)}/{two(node.points)}"]
        sub = indent + "    "
        if node.cut is not None:
            lines.append(sub + cut_text(node.cut, lang))
        decided = score.decision("gate", ind.id) if score is not None else None
        if decided is not None:
            lines.append(sub + decision_text(decided, score, lang))
    if score is not None:
        for veto in score.scheme.vetoes:
            decided = score.decision("veto", veto.id) if veto.part == node.indicator.id else None
            if decided is not None:
                lines.insert(1, f"{indent}    " + pass_line_text(veto, decided, score, lang))
    if node.zeroed is not None:
        lines.insert(1, f"{indent}    " + (f"单项否决 {node.zeroed}：本项记0分" if lang == "zh"
                                          else f"Veto {node.zeroed}: this part earns 0"))
    for child in node.children:
        lines += _node_lines(child, lang, depth + 1, score)
    return lines


def explain_lines(score: UnitScore, lang: str = "zh", indicator: str | None = None, depth: int = 0,
                  scored: Any = None) -> list[str]:
    """The explanation as terminal lines, user text made safe to print; with `depth` (and the
    round's `scored` RoundScore), the members the unit's groups are built from, explained below it,
    that many levels down."""
    lines = _explain_lines(score, lang, indicator)
    if depth > 0 and scored is not None and indicator is None:
        lines += member_lines(score, scored, lang, depth)
    return [plain_line(line) for line in lines]


def members_of(score: UnitScore, scored: Any) -> list[tuple[str, UnitScore]]:
    """(group name, member score) for every member of the unit's groups, in the groups' order."""
    by_id = scored.by_unit()
    channels = {s.unit.id: s for s in scored.channels.get(score.unit.id, [])}
    periods = {s.period: s for s in scored.periods.get(score.unit.id, [])}
    out = []
    for found in score.groups.values():
        for m in found.members:
            member = (channels.get(m.id) if found.group.of == "channels" else
                      periods.get(m.id) if found.group.of == "periods" else by_id.get(m.id))
            if member is not None:
                out.append((found.group.name, member))
    return out


def member_lines(score: UnitScore, scored: Any, lang: str, depth: int) -> list[str]:
    """The members' explanations, indented one level per depth (explain --depth N)."""
    out: list[str] = []
    stack = [(score, 1)]
    while stack:
        current, level = stack.pop(0)
        for group_name, member in members_of(current, scored):
            head = f"{'    ' * level}── {group_name}：" if lang == "zh" else f"{'    ' * level}── {group_name}: "
            out += ["", head + f"{member.unit.name} ({member.unit.id})"]
            out += ["    " * level + line if line else "" for line in _explain_lines(member, lang, None)]
            if level < depth:
                stack.append((member, level + 1))
    return out


def _explain_lines(score: UnitScore, lang: str, indicator: str | None) -> list[str]:
    unit, scheme = score.unit, score.scheme
    zh = lang == "zh"
    name = unit.name if zh or not unit.name_en else unit.name_en
    lines = [f"{name} ({unit.id}) · {unit.type}",
             f"{label('scheme', lang)}{'：' if zh else ': '}{scheme.title} ({scheme.id})"]
    if indicator is not None:
        node = score.node(indicator)
        if node is not None:
            return lines + [""] + _node_lines(node, lang, score=score)
        leaf = score.leaves.get(indicator)
        return lines + [""] + (_leaf_lines(leaf, lang, "", score) if leaf else [f"? {indicator}"])
    if score.vetoed:
        lines += [""] + veto_lines(score, lang)
    lines.append("")
    for node in score.tree:
        lines += _node_lines(node, lang, score=score)
    for key, section in (("bonus", scheme.bonus), ("penalty", scheme.penalty)):
        if section:
            cap = ""
            if section.cap is not None:
                cap = f"（上限{num(section.cap)}分）" if zh else f" (at most {num(section.cap)})"
            lines += ["", f"{section.name if zh or not section.name_en else section.name_en}{cap}"]
            decided = score.decision("gate", key)
            if decided is not None:
                lines.append("    " + decision_text(decided, score, lang))
            for item in section.indicators:
                leaf = score.leaves.get(item.id)
                if leaf:
                    lines += _leaf_lines(leaf, lang, "", score)
    lines += ["", label("computation", lang)] + ["  " + line for line in computation_lines(score, lang)]
    lines += ["", label("problem_list", lang)] + problem_list_lines(score, lang)
    return lines


def computation_lines(score: UnitScore, lang: str) -> list[str]:
    """How base, bonus, penalty, external and total were combined: each formula as written, then
    with every operand's unrounded value, its exact result and the rounding, so the line reproduces
    the figure it shows."""
    scheme, zh = score.scheme, lang == "zh"
    scoring = scheme.scoring
    places = scoring.places
    out = [f"{label('applicable', lang)} {exact(score.applicable)} · {label('earned', lang)} {exact(score.earned)}"]
    from gapctl.constructs.groups import explain_text as group_text
    for found in score.groups.values():
        out.append(("汇总 " if zh else "Group ") + group_text(found, lang))
    if scheme.components:
        for component in scheme.components:
            value = score.components.get(component.id)
            name = component.name if zh or not component.name_en else component.name_en
            out.append(f"{label('components', lang)} {name} = {exact(value) if value is not None else '—'}")
    out.append(formula_line(label("base", lang), base_formula(scheme), score, score.base,
                            "base" in scoring.round_at, lang))
    if scheme.penalty:
        out.append(f"{label('penalty', lang)} {exact(score.penalty)}")
    if scheme.bonus:
        capped = ""
        if score.bonus != score.bonus_raw:
            capped = f"（{exact(score.bonus_raw)}，封顶{num(scheme.bonus.cap)}）" if zh else \
                f" ({exact(score.bonus_raw)}, capped at {num(scheme.bonus.cap)})"
        out.append(f"{label('bonus', lang)} +{exact(score.bonus)}{capped}")
    for share in score.externals:
        sign = "−" if share.mode == "subtract" else "×"
        why = f"（{share.reason}）" if share.reason and zh else (f" ({share.reason})" if share.reason else "")
        out.append(f"{label('external', lang)} {share.name} {sign}{num(share.points)}{why}")
    shown_total = score.total if not score.vetoed else _before_vetoes(score)
    out.append(formula_line(label("total", lang), total_formula(scheme), score, shown_total,
                            "total" in scoring.round_at, lang, raw=score.total_raw))
    if scoring.max_total is not None and score.total_raw is not None and score.total_raw > scoring.max_total:
        out.append(f"{label('total', lang)} ≤ {num(scoring.max_total)}"
                   + ("（总分上限）" if zh else " (the most it can be)"))
    for veto in score.vetoed:
        out.append(("单项否决 " if zh else "Veto ") + f"{veto.id}{'：' if zh else ': '}"
                   + effects_text(veto, scheme, lang))
    if score.vetoed:
        out.append(f"{label('total', lang)} = " + ("不计（单项否决）" if score.total is None and zh else
                                                 "withheld (veto)" if score.total is None else
                                                 fixed(score.total, places)))
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
    if score.performance_points is not None and scheme.conversion and score.total is not None:
        out.append(f"{label('performance', lang)} = {fixed(score.total, places)} ÷ {num(scoring.scale)} × "
                   f"{num(scheme.conversion.points)} = {exact(score.total / scoring.scale * scheme.conversion.points)}"
                   f" → {fixed(score.performance_points, 2)}")
    if score.passdown is not None and scheme.conversion:
        out.append(f"{label('passdown', lang)} × {num(scheme.conversion.passdown_multiplier)} = {num(score.passdown)}")
    if score.pending:
        out.append(f"{label('pending_note', lang)}: {', '.join(score.pending)}")
    return out


def _before_vetoes(score: UnitScore):
    from gapctl.score import half_up
    scoring = score.scheme.scoring
    raw = score.total_raw
    if raw is None:
        return None
    if scoring.max_total is not None:
        raw = min(raw, scoring.max_total)
    return half_up(raw, scoring.places) if "total" in scoring.round_at else raw


def formula_line(what: str, formula: Formula | None, score: UnitScore, shown, rounded: bool, lang: str,
                 raw=None) -> str:
    """`what = formula = the formula with values = exact result → rounded (how)`."""
    zh = lang == "zh"
    if formula is None:
        return f"{what} = —"
    names = formula_names(score, lang)
    symbolic = render(formula, None, lang, names)
    try:
        with_values = render(formula, score.env().at(_decision_names(score)), lang)
    except (FormulaError, KeyError):
        with_values = "—"
    places = score.scheme.scoring.places
    text = f"{what} = {symbolic}"
    if with_values != symbolic:
        text += f" = {with_values}"
    value = raw
    if value is None:
        from gapctl.formula import evaluate, number
        try:
            value = number(evaluate(formula, score.env().at(_decision_names(score))))
        except (FormulaError, KeyError):
            value = None
    if value is not None and exact(value) != with_values:
        text += f" = {exact(value)}"
    if shown is not None and rounded and (value is None or fixed(shown, places) != exact(value)):
        done = f"（四舍五入保留{places}位小数）" if zh else f" (rounded half-up to {places} places)"
        text += f" → {fixed(shown, places)}{done}"
    elif shown is not None and value is not None and shown != value:
        text += f" → {exact(shown)}"
    return text


def _decision_names(score: UnitScore) -> dict:
    """The subtotals with the total before any veto (formulas are explained as computed)."""
    names = score.env().snapshot()
    names["total"] = _before_vetoes(score) if score.vetoed else score.total
    return names


def formula_names(score: UnitScore, lang: str):
    """How a name or function of a formula is written in an explanation (Chinese labels in zh)."""
    zh = lang == "zh"
    scheme = score.scheme

    def name_of(node: tuple) -> str:
        if node[0] == "name":
            spec = NAMES[node[1]]
            return spec.zh if zh else spec.en
        function, args = node[1], [a[1] for a in node[2] if a[0] == "ref"]
        if function in ("min", "max"):
            return f"{function}(…)"
        if function == "component":
            component = next((c for c in scheme.components if c.id == args[0]), None)
            if component is not None:
                return component.name if zh or not component.name_en else component.name_en
        if function in ("group", "members", "vetoed"):
            group = next((g for g in scheme.groups if g.id == args[0]), None)
            name = (group.name if zh or not group.name_en else group.name_en) if group else args[0]
            words_of = {"group": ("{}汇总", "{} combined"), "members": ("{}个数", "number of {}"),
                        "vetoed": ("{}中被否决的个数", "{} vetoed")}
            return words_of[function][0 if zh else 1].format(name)
        if function == "measure":
            measure = next((m for m in scheme.measures if m.id == args[0]), None)
            if measure is not None:
                return measure.name if zh or not measure.name_en else measure.name_en
        words = {"score": ("{}得分", "score of {}"), "points": ("{}分值", "points of {}"),
                 "rate": ("{}得分率", "rate of {}"), "count": ("“{}”次数", "count of {}"),
                 "result": ("{}结果", "result of {}"), "fact": ("“{}”", "{}")}
        if function in words:
            return words[function][0 if zh else 1].format("·".join(args))
        return f"{function}({', '.join(args)})"
    return name_of


def decision_text(decided: Decision, score: UnitScore, lang: str) -> str:
    """`门槛：基础得分 > 85：86 > 85 → 成立` — a condition, its figures and the outcome."""
    zh = lang == "zh"
    what = {"gate": ("门槛", "Gate"), "threshold": ("条件", "Condition"), "veto": ("否决条件", "Veto condition")}
    head = what.get(decided.kind, (decided.kind, decided.kind))[0 if zh else 1]
    condition = decided.condition
    if condition is None or condition.formula is None:
        return f"{head}{'：' if zh else ': '}{condition.text if condition else '?'}"
    symbolic = render(condition.formula, None, lang, formula_names(score, lang))
    try:
        values = render(condition.formula, score.env().at(decided.names or _decision_names(score)), lang)
    except (FormulaError, KeyError):
        values = "—"
    outcome = ("成立" if decided.held else "不成立") if zh else ("holds" if decided.held else "does not hold")
    if not decided.held and decided.kind == "gate":
        outcome += "，不计分" if zh else ", so it counts 0"
    sep = "：" if zh else ": "
    if values in ("成立", "不成立", "true", "false"):  # a single finding: its value is the outcome
        return f"{head}{sep}{symbolic} → {outcome}"
    return f"{head}{sep}{symbolic}{sep}{values} → {outcome}"


def pass_line_text(veto, decided: Decision, score: UnitScore, lang: str) -> str:
    """`合格线：1得分率 ≥ 0.5：0.6571… → 达到` (a pass line is a veto on the part below it)."""
    zh = lang == "zh"
    function, line = veto.line
    names = formula_names(score, lang)
    figure = score.known.get((function, (veto.part,)))
    if figure is None:
        figure = score.env().call(function, (veto.part,)) if score.observed is not None else None
    what = names(("call", function, (("ref", veto.part, 0),), 0))
    shown = exact(figure) if figure is not None else "—"
    if zh:
        outcome = "未达到，" + effects_text(veto, score.scheme, lang) if decided.held else "达到"
        return f"合格线：{what} ≥ {exact(line)}：{shown} → {outcome}"
    outcome = "below, " + effects_text(veto, score.scheme, lang) if decided.held else "reached"
    return f"Pass line: {what} ≥ {exact(line)}: {shown} → {outcome}"


def veto_lines(score: UnitScore, lang: str) -> list[str]:
    """The vetoes that held, first: each with its condition, figures and effects."""
    zh = lang == "zh"
    lines = ["单项否决" if zh else "Vetoes"]
    for veto in score.vetoed:
        name = veto.name if zh or not veto.name_en else veto.name_en
        lines.append(f"  {veto.id} {name}{'：' if zh else ': '}{effects_text(veto, score.scheme, lang)}")
        decided = score.decision("veto", veto.id)
        if decided is not None:
            lines.append("      " + decision_text(decided, score, lang))
    return lines


def finding_text(value, lang: str) -> str:
    """A recorded finding in words: 是/否, 3处, 错别字2处、链接失效1处."""
    zh = lang == "zh"
    if isinstance(value, dict):
        shown = ("、".join(f"{k}{v}处" for k, v in value.items()) if zh
                 else ", ".join(f"{k} {v}" for k, v in value.items()))
        return shown or ("无" if zh else "none")
    if isinstance(value, bool):
        return ("是" if value else "否") if zh else ("yes" if value else "no")
    if value is None:
        return "未记录" if zh else "not recorded"
    return f"{value}处" if zh else str(value)


def clause_lines(leaf: LeafScore, score: UnitScore, lang: str) -> list[str]:
    """Each clause of a `clauses` rule on its own line, then the sum that gives the leaf's figure."""
    from gapctl.rules.clauses import start_of
    zh = lang == "zh"
    env = score.env() if score.observed is not None else None
    found = parts(leaf.result, leaf.rule, leaf.indicator, env)
    lines = []
    for part in found:
        shown = finding_text(part.finding, lang)
        if not part.applies:
            shown += "（条件不成立）" if zh else " (condition does not hold)"
        amount = exact(part.amount) if part.amount < 0 else f"+{exact(part.amount)}"
        lines.append(f"· {clause_text(part.clause, lang)}{'：' if zh else ': '}{shown} → {amount}")
    start = start_of(leaf.rule, leaf.indicator)
    terms = " ".join(f"{'−' if p.amount < 0 else '+'} {exact(abs(p.amount))}" for p in found if p.amount)
    raw = start + sum((p.amount for p in found), start * 0)
    lines.append(f"= {exact(start)} {terms} = {exact(raw)}" if terms else f"= {exact(raw)}")
    return lines


def problem_list_lines(score: UnitScore, lang: str) -> list[str]:
    """扣分点, 扣分理由, 整改要求 for every point lost."""
    zh = lang == "zh"
    lost = score.lost_leaves()
    lines = []
    for veto in score.vetoed:  # vetoes first: they decide the unit
        name = veto.name if zh or not veto.name_en else veto.name_en
        effects = effects_text(veto, score.scheme, lang)
        lines.append(f"  {'单项否决' if zh else 'Veto'} {veto.id} {name}（{effects}）" if zh else
                     f"  Veto {veto.id} {name} ({effects})")
    if not lost:
        return lines or ["  " + label("no_problems", lang)]
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
            "clauses": clause_lines(leaf, score, "zh") if leaf.rule and leaf.rule.kind == "clauses" and r is not None
            and leaf.state == "scored" and r.state not in ("done", "not-done") else None,
            "bound": cut_text(leaf.cut, "zh") if leaf.cut else None,
            "moved_from": list(leaf.moved_from) or None,
            "reason": r.reason if r else None, "fix": r.fix if r else None,
            "evidence": [{"url": e.url, "file": e.file, "sha256": e.sha256,
                          "captured": e.captured.isoformat() if e.captured else None} for e in r.evidence] if r else [],
        }
    return {
        "score": unit_row(score),
        "indicators": [leaf_data(leaf) for leaf in score.leaves.values()],
        "vetoes": [{"id": v.id, "name": v.name, "effects": effects_text(v, score.scheme, "zh")} for v in score.vetoed],
        "decisions": [{"kind": d.kind, "owner": d.owner, "condition": d.condition.text if d.condition else None,
                       "held": d.held, "explained": decision_text(d, score, "zh")} for d in score.decisions],
        "computation": computation_lines(score, "zh"),
        "problems": [{"indicator": leaf.indicator.id, "name": leaf.indicator.name, "lost": two(leaf.lost),
                      "reason": leaf.result.reason if leaf.result else None,
                      "fix": leaf.result.fix if leaf.result else None} for leaf in score.lost_leaves()],
    }
