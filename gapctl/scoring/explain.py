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

from gapctl.data.model import Result
from gapctl.escape import plain_line
from gapctl.i18n import N_, in_lang
from gapctl.labels import aside, enumerated, label, listed, name_in, pair, written
from gapctl.scheme.constructs import Decision
from gapctl.scheme.constructs.bounds import cut_text
from gapctl.scheme.constructs.formulas import base_formula, total_formula
from gapctl.scheme.constructs.vetoes import effects_text
from gapctl.scheme.formula import NAMES, Formula, FormulaError, exact, render
from gapctl.scheme.rules import REGISTRY, num
from gapctl.scheme.rules.clauses import clause_text, parts
from gapctl.scoring.score import LeafScore, NodeScore, UnitScore
from gapctl.scoring.scoreboard import fixed, two


def observation_text(leaf: LeafScore, lang: str, with_who: bool = True) -> str:
    """The observation that counted, in words (and who observed it, when)."""
    if leaf.state == "not-applicable":
        return in_lang("not applicable", lang)
    result: Result | None = leaf.result
    if leaf.state == "pending":
        return in_lang("not yet assessed", lang)
    if result is None:
        return "—"
    if result.state in ("n/a", "no-evidence"):
        return label(result.state, lang)
    parts = []
    if result.items is not None:
        names = {str(i["id"]): written(i.get("name"), i.get("name_en"), lang) or i["id"]
                 for i in (leaf.rule.params.get("items") or [])} if leaf.rule else {}
        parts.append(" ".join(f"{names.get(k, k)}{'✓' if v else '✗'}" for k, v in result.items.items()))
    if result.count is not None:
        parts.append(in_lang("count {count}", lang).format(count=result.count))
    if result.fraction is not None:
        parts.append(in_lang("{share} done", lang).format(share=num(result.fraction * 100) + "%"))
    if result.grade is not None:
        parts.append(in_lang("graded {grade}", lang).format(grade=num(result.grade)))
    if result.notices is not None:
        parts.append(in_lang("{count} notice(s)", lang).format(count=result.notices))
    if result.findings is not None and leaf.rule is not None and leaf.rule.kind == "clauses" \
            and result.state not in ("done", "not-done"):
        for clause in leaf.rule.params.get("clauses") or []:
            name = clause.get("finding") or clause.get("id")
            if name in result.findings:
                parts.append(f"{clause.get('name') or name} {finding_text(result.findings[name], lang)}")
    if result.state in ("done", "not-done") and not parts:
        parts.append(label(result.state, lang))
    text = listed(parts, lang)
    if not with_who:
        return text
    who = ""
    for part in (result.observer, result.observed_at.isoformat() if result.observed_at else None):
        if part:
            who = in_lang("{first}, {then}", lang).format(first=who, then=part) if who else part
    if result.source != "evaluator":
        source = source_word(result.source, lang)
        who = in_lang("{first}, {then}", lang).format(first=source, then=who) if who else source
    return aside(text, who, lang) if who else text


SOURCE_WORDS = {"self": N_("self-assessment"), "evaluator": N_("evaluator"),
                "review": N_("review"), "appeal": N_("appeal decision")}
OUTCOME_WORDS = {"upheld": N_("upheld"), "partly-upheld": N_("partly upheld"),
                 "rejected": N_("rejected"), None: N_("undecided")}


def source_word(source: str, lang: str) -> str:
    """Who an entry of the chain comes from: 自评, 评估, 复核, 复核申请决定."""
    return in_lang(SOURCE_WORDS[source], lang) if source in SOURCE_WORDS else source


def outcome_word(outcome: str | None, lang: str) -> str:
    """What was decided on an appeal: 申请成立, 部分成立, 维持原结果, 待决定."""
    return in_lang(OUTCOME_WORDS[outcome], lang) if outcome in OUTCOME_WORDS else str(outcome)


def chain_text(leaf: LeafScore, lang: str) -> str:
    """Every entry for the indicator in order, the one that counts marked (✔)."""
    parts = []
    for entry in leaf.chain:
        if isinstance(entry, Result):
            who = source_word(entry.source, lang)
            shown = LeafScore(leaf.indicator, "scored", leaf.points, leaf.earned, leaf.rule, entry)
            text = f"{who} {observation_text(shown, lang, with_who=False)}"
            if entry is leaf.result:
                text += " ✔"
        else:  # an appeal
            text = in_lang("appeal ({filed}) {outcome}", lang).format(filed=entry.filed,
                                                                    outcome=outcome_word(entry.outcome, lang))
            if entry.reviewer:
                text = aside(text, entry.reviewer, lang)
            if entry.result is not None and entry.result is leaf.result:
                text += " ✔"
        parts.append(text)
    return " → ".join(parts)


def _leaf_lines(leaf: LeafScore, lang: str, indent: str, score: UnitScore | None = None) -> list[str]:
    ind = leaf.indicator
    name = name_in(ind, lang)
    if leaf.state == "not-applicable":
        return [f"{indent}{ind.id} {name}  — " + in_lang("not applicable", lang)]
    if ind.section == "penalty":
        head = f"{indent}{ind.id} {name}  {num(leaf.earned)}"
    elif ind.section == "bonus":
        head = f"{indent}{ind.id} {name}  +{num(leaf.earned)}/{num(leaf.points)}"
    else:
        head = f"{indent}{ind.id} {name}  {two(leaf.earned)}/{num(leaf.points)}"
        if leaf.lost > 0:
            head += "  " + in_lang("lost {points}", lang).format(points=two(leaf.lost))
    lines = [head]
    sub = indent + "    "
    if leaf.rule:
        lines.append(sub + pair(in_lang("Rule", lang), REGISTRY[leaf.rule.kind].describe(leaf.rule, ind, lang), lang))
    if leaf.panel and score is not None and score.scheme.panel is not None:
        from gapctl.scheme.constructs.panels import combine, explain_text
        value, apart = combine(score.scheme.panel, [v for _, v in leaf.panel])
        panel_text = explain_text(score.scheme.panel, leaf.panel, value, apart, lang)
        lines.append(sub + pair(in_lang("Observation", lang), panel_text, lang))
    else:
        lines.append(sub + pair(in_lang("Observation", lang), observation_text(leaf, lang), lang))
    if leaf.rule and leaf.rule.kind == "clauses" and leaf.result is not None and leaf.state == "scored" \
            and leaf.result.state not in ("done", "not-done") and score is not None:
        lines += [sub + line for line in clause_lines(leaf, score, lang)]
    if leaf.moved_from:
        from gapctl.scheme.constructs.redistribute import moved_text
        amount = moved_text(leaf, lang)
        lines.append(sub + aside(pair(in_lang("takes the points of", lang), ", ".join(leaf.moved_from), lang),
                                 amount, lang))
    if leaf.cut is not None:
        lines.append(sub + cut_text(leaf.cut, lang))
    if score is not None:
        for kind in ("gate", "threshold"):
            decided = score.decision(kind, ind.id)
            if decided is not None:
                lines.append(sub + decision_text(decided, score, lang))
    if not leaf.panel and (len(leaf.chain) > 1 or any(not isinstance(e, Result) or e.source != "evaluator"
                                                        for e in leaf.chain)):
        lines.append(sub + pair(in_lang("Chain", lang), chain_text(leaf, lang), lang))
    result = leaf.result
    if result is not None:
        if result.note:
            lines.append(sub + pair(in_lang("Note", lang), result.note, lang))
        if result.reason and leaf.lost > 0:
            lines.append(sub + pair(in_lang("Reason", lang), result.reason, lang))
        if result.fix and leaf.lost > 0:
            lines.append(sub + pair(in_lang("To fix", lang), result.fix, lang))
        for ev in result.evidence:
            where = ev.url or ev.file or ""
            extra = ", ".join(x for x in (ev.title, ev.captured.isoformat() if ev.captured else None,
                                          f"sha256 {ev.sha256[:12]}…" if ev.sha256 else None) if x)
            lines.append(sub + pair(in_lang("Evidence", lang), where, lang) + (f" ({extra})" if extra else ""))
    return lines


def leaf_line(leaf: LeafScore, lang: str) -> str:
    """The first line `explain` prints for a leaf: id, name, earned/points and what was lost."""
    return plain_line(_leaf_lines(leaf, lang, "")[0])


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
        lines.insert(1, f"{indent}    " + in_lang("Veto {veto}: this part earns 0", lang).format(veto=node.zeroed))
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
            head = f"{'    ' * level}── " + pair(group_name, f"{member.unit.name} ({member.unit.id})", lang)
            out += ["", head]
            out += ["    " * level + line if line else "" for line in _explain_lines(member, lang, None)]
            if level < depth:
                stack.append((member, level + 1))
    return out


def _explain_lines(score: UnitScore, lang: str, indicator: str | None) -> list[str]:
    unit, scheme = score.unit, score.scheme
    lines = [f"{name_in(unit, lang)} ({unit.id}) · {unit.type}",
             pair(in_lang("Scheme", lang), f"{scheme.title} ({scheme.id})", lang)]
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
            heading = name_in(section, lang)
            if section.cap is not None:
                heading = in_lang("{name} (at most {cap})", lang).format(name=heading, cap=num(section.cap))
            lines += ["", heading]
            decided = score.decision("gate", key)
            if decided is not None:
                lines.append("    " + decision_text(decided, score, lang))
            for item in section.indicators:
                leaf = score.leaves.get(item.id)
                if leaf:
                    lines += _leaf_lines(leaf, lang, "", score)
    lines += ["", in_lang("How the score was combined", lang)]
    lines += ["  " + line for line in computation_lines(score, lang)]
    lines += ["", in_lang("Problem list (where, why, what to fix)", lang)] + problem_list_lines(score, lang)
    return lines


def computation_lines(score: UnitScore, lang: str) -> list[str]:
    """How base, bonus, penalty, external and total were combined: each formula as written, then
    with every operand's unrounded value, its exact result and the rounding, so the line reproduces
    the figure it shows."""
    scheme = score.scheme
    scoring = scheme.scoring
    places = scoring.places
    out = [in_lang("Applicable", lang) + f" {exact(score.applicable)} · " + in_lang("Earned", lang)
           + f" {exact(score.earned)}"]
    from gapctl.scheme.constructs.groups import explain_text as group_text
    for found in score.groups.values():
        out.append(in_lang("Group {explained}", lang).format(explained=group_text(found, lang)))
    if scheme.components:
        for component in scheme.components:
            value = score.components.get(component.id)
            out.append(in_lang("Components", lang) + f" {name_in(component, lang)} = "
                       f"{exact(value) if value is not None else '—'}")
    out.append(formula_line(in_lang("Base", lang), base_formula(scheme), score, score.base,
                            "base" in scoring.round_at, lang))
    if scheme.penalty:
        out.append(in_lang("Penalty", lang) + f" {exact(score.penalty)}")
    if scheme.bonus:
        line = in_lang("Bonus", lang) + f" +{exact(score.bonus)}"
        if score.bonus != score.bonus_raw:
            line = aside(line, in_lang("{uncapped}, capped at {cap}", lang).format(
                uncapped=exact(score.bonus_raw), cap=num(scheme.bonus.cap)), lang)
        out.append(line)
    for share in score.externals:
        sign = "−" if share.mode == "subtract" else "×"
        line = in_lang("External", lang) + f" {share.name} {sign}{num(share.points)}"
        out.append(aside(line, share.reason, lang) if share.reason else line)
    shown_total = score.total if not score.vetoed else _before_vetoes(score)
    out.append(formula_line(in_lang("Total", lang), total_formula(scheme), score, shown_total,
                            "total" in scoring.round_at, lang, raw=score.total_raw))
    if scoring.max_total is not None and score.total_raw is not None and score.total_raw > scoring.max_total:
        out.append(in_lang("{total} ≤ {most} (the most it can be)", lang).format(
            total=in_lang("Total", lang), most=num(scoring.max_total)))
    for veto in score.vetoed:
        out.append(pair(in_lang("Veto {veto}", lang).format(veto=veto.id), effects_text(veto, scheme, lang), lang))
    if score.vetoed:
        out.append(in_lang("Total", lang) + " = " + (in_lang("withheld (veto)", lang) if score.total is None else
                                                    fixed(score.total, places)))
    if score.grade:
        out.append(in_lang("Grade", lang) + f" {written(score.grade, score.grade_en, lang)}")
    if score.rank is not None and scheme.publishes_ranking:  # a rank the scheme does not publish is not said
        line = in_lang("Rank", lang) + f" {score.rank}"
        if score.category:
            line += " · " + aside(in_lang("Rank in category", lang) + f" {score.category_rank}", score.category.name,
                                  lang)
        out.append(line)
    for flag in scheme.flags:
        if flag.id in score.flags:
            out.append(in_lang("Flags", lang) + f" {written(flag.label, flag.label_en, lang)}")
    if score.performance_points is not None and scheme.conversion and score.total is not None:
        out.append(in_lang("Performance points", lang) + f" = {fixed(score.total, places)} ÷ {num(scoring.scale)} × "
                   f"{num(scheme.conversion.points)} = {exact(score.total / scoring.scale * scheme.conversion.points)}"
                   f" → {fixed(score.performance_points, 2)}")
    if score.passdown is not None and scheme.conversion:
        out.append(in_lang("Passed-down deduction", lang) + f" × {num(scheme.conversion.passdown_multiplier)} = "
                   f"{num(score.passdown)}")
    if score.pending:
        out.append(in_lang("some indicators are not yet assessed; the score is provisional: {indicators}", lang)
                   .format(indicators=", ".join(score.pending)))
    return out


def _before_vetoes(score: UnitScore):
    from gapctl.scoring.score import half_up
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
        from gapctl.scheme.formula import evaluate, number
        try:
            value = number(evaluate(formula, score.env().at(_decision_names(score))))
        except (FormulaError, KeyError):
            value = None
    if value is not None and exact(value) != with_values:
        text += f" = {exact(value)}"
    if shown is not None and rounded and (value is None or fixed(shown, places) != exact(value)):
        text += " → " + in_lang("{value} (rounded half-up to {places} places)", lang).format(
            value=fixed(shown, places), places=places)
    elif shown is not None and value is not None and shown != value:
        text += f" → {exact(shown)}"
    return text


def _decision_names(score: UnitScore) -> dict:
    """The subtotals with the total before any veto (formulas are explained as computed)."""
    names = dict(score.env().snapshot().items())
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
                return name_in(component, lang)
        if function in ("group", "members", "vetoed"):
            group = next((g for g in scheme.groups if g.id == args[0]), None)
            name = name_in(group, lang) if group else args[0]
            return in_lang(FUNCTION_WORDS[function], lang).format(name=name)
        if function == "measure":
            measure = next((m for m in scheme.measures if m.id == args[0]), None)
            if measure is not None:
                return name_in(measure, lang)
        if function in FUNCTION_WORDS:
            return in_lang(FUNCTION_WORDS[function], lang).format(name="·".join(args))
        return f"{function}({', '.join(args)})"
    return name_of


FUNCTION_WORDS = {  # how a formula's function of an indicator, group or fact reads in an explanation
    "group": N_("{name} combined"), "members": N_("number of {name}"), "vetoed": N_("{name} vetoed"),
    "score": N_("score of {name}"), "points": N_("points of {name}"), "rate": N_("rate of {name}"),
    "count": N_("count of {name}"), "result": N_("result of {name}"), "fact": N_("\"{name}\""),
}
DECISION_WORDS = {"gate": N_("Gate"), "threshold": N_("Condition"), "veto": N_("Veto condition")}


def decision_text(decided: Decision, score: UnitScore, lang: str) -> str:
    """`门槛：基础得分 > 85：86 > 85 → 成立` — a condition, its figures and the outcome."""
    head = in_lang(DECISION_WORDS[decided.kind], lang) if decided.kind in DECISION_WORDS else decided.kind
    condition = decided.condition
    if condition is None or condition.formula is None:
        return pair(head, condition.text if condition else "?", lang)
    symbolic = render(condition.formula, None, lang, formula_names(score, lang))
    try:
        values = render(condition.formula, score.env().at(decided.names or _decision_names(score)), lang)
    except (FormulaError, KeyError):
        values = "—"
    outcome = in_lang("holds", lang) if decided.held else in_lang("does not hold", lang)
    if not decided.held and decided.kind == "gate":
        outcome = in_lang("does not hold, so it counts 0", lang)
    if values in ("成立", "不成立", "true", "false"):  # a single finding: its value is the outcome
        return pair(head, f"{symbolic} → {outcome}", lang)
    return pair(head, pair(symbolic, f"{values} → {outcome}", lang), lang)


def pass_line_text(veto, decided: Decision, score: UnitScore, lang: str) -> str:
    """`合格线：1得分率 ≥ 0.5：0.6571… → 达到` (a pass line is a veto on the part below it)."""
    function, line = veto.line
    names = formula_names(score, lang)
    figure = score.known.get((function, (veto.part,)))
    if figure is None:
        figure = score.env().call(function, (veto.part,)) if score.observed is not None else None
    what = names(("call", function, (("ref", veto.part, 0),), 0))
    shown = exact(figure) if figure is not None else "—"
    outcome = in_lang("below, {effects}", lang).format(effects=effects_text(veto, score.scheme, lang)) \
        if decided.held else in_lang("reached", lang)
    return in_lang("Pass line: {what} ≥ {line}: {figure} → {outcome}", lang).format(
        what=what, line=exact(line), figure=shown, outcome=outcome)


def veto_lines(score: UnitScore, lang: str) -> list[str]:
    """The vetoes that held, first: each with its condition, figures and effects."""
    lines = [in_lang("Vetoes", lang)]
    for veto in score.vetoed:
        lines.append("  " + pair(f"{veto.id} {name_in(veto, lang)}", effects_text(veto, score.scheme, lang), lang))
        decided = score.decision("veto", veto.id)
        if decided is not None:
            lines.append("      " + decision_text(decided, score, lang))
    return lines


def finding_text(value, lang: str) -> str:
    """A recorded finding in words: 是/否, 3处, 错别字2处、链接失效1处."""
    if isinstance(value, dict):
        each = in_lang("{finding} {count}", lang)
        shown = enumerated((each.format(finding=k, count=v) for k, v in value.items()), lang)
        return shown or in_lang("none", lang)
    if isinstance(value, bool):
        return in_lang("yes", lang) if value else in_lang("no", lang)
    if value is None:
        return in_lang("not recorded", lang)
    return in_lang("{count} found", lang).format(count=value)


def clause_lines(leaf: LeafScore, score: UnitScore, lang: str) -> list[str]:
    """Each clause of a `clauses` rule on its own line, then the sum that gives the leaf's figure."""
    from gapctl.scheme.rules.clauses import start_of
    env = score.env() if score.observed is not None else None
    found = parts(leaf.result, leaf.rule, leaf.indicator, env)
    lines = []
    for part in found:
        shown = finding_text(part.finding, lang)
        if not part.applies:
            shown = aside(shown, in_lang("condition does not hold", lang), lang)
        amount = exact(part.amount) if part.amount < 0 else f"+{exact(part.amount)}"
        lines.append("· " + pair(clause_text(part.clause, lang), f"{shown} → {amount}", lang))
    start = start_of(leaf.rule, leaf.indicator)
    terms = " ".join(f"{'−' if p.amount < 0 else '+'} {exact(abs(p.amount))}" for p in found if p.amount)
    raw = start + sum((p.amount for p in found), start * 0)
    lines.append(f"= {exact(start)} {terms} = {exact(raw)}" if terms else f"= {exact(raw)}")
    return lines


def problem_list_lines(score: UnitScore, lang: str) -> list[str]:
    """扣分点, 扣分理由, 整改要求 for every point lost."""
    lost = score.lost_leaves()
    lines = []
    for veto in score.vetoed:  # vetoes first: they decide the unit
        effects = effects_text(veto, score.scheme, lang)
        lines.append("  " + aside(in_lang("Veto {veto}", lang).format(veto=veto.id) + f" {name_in(veto, lang)}",
                                  effects, lang))
    if not lost:
        return lines or ["  " + in_lang("No points lost.", lang)]
    for n, leaf in enumerate(lost, start=1):
        ind = leaf.indicator
        amount = lost_text(leaf, lang)
        lines.append(f"  {n}. " + aside(f"{ind.id} {name_in(ind, lang)}", amount, lang))
        result = leaf.result
        if result is not None and result.reason:
            lines.append("     " + pair(in_lang("Reason", lang), result.reason, lang))
        if result is not None and result.fix:
            lines.append("     " + pair(in_lang("To fix", lang), result.fix, lang))
    return lines


def lost_text(leaf: LeafScore, lang: str) -> str:
    """`扣2分` / `-2`, or 未评估 for an indicator not yet assessed."""
    if leaf.state == "pending":
        return in_lang("not yet assessed", lang)
    return in_lang("-{points}", lang).format(points=two(leaf.lost))


def explain_data(score: UnitScore) -> dict[str, Any]:
    """The same facts for `--format json`."""
    from gapctl.scoring.scoreboard import unit_row

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
        "score": unit_row(score, score.scheme.publishes_ranking),
        "indicators": [leaf_data(leaf) for leaf in score.leaves.values()],
        "vetoes": [{"id": v.id, "name": v.name, "effects": effects_text(v, score.scheme, "zh")} for v in score.vetoed],
        "decisions": [{"kind": d.kind, "owner": d.owner, "condition": d.condition.text if d.condition else None,
                       "held": d.held, "explained": decision_text(d, score, "zh")} for d in score.decisions],
        "computation": computation_lines(score, "zh"),
        "problems": [{"indicator": leaf.indicator.id, "name": leaf.indicator.name, "lost": two(leaf.lost),
                      "reason": leaf.result.reason if leaf.result else None,
                      "fix": leaf.result.fix if leaf.result else None} for leaf in score.lost_leaves()],
    }
