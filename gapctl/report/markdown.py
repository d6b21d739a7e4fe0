"""The report as Markdown: the one source that the HTML is rendered from.

An overview (title, scheme, period, grade distribution, rankings per category, attainment
per top-level indicator, where most points were lost, units below a threshold) and one
page per unit (score card, indicators, problem list with evidence, and with a previous
round: last year's total and grade and which of last year's problems are fixed).
Every string from the data goes through `gapctl.escape.md()` (or `link()`/`code()`), so
nothing a unit wrote becomes markup, a mention or a link other than http(s).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from gapctl.escape import code, link, md
from gapctl.explain import observation_text
from gapctl.figures import figure
from gapctl.labels import in_lang, label, name_in
from gapctl.report import svg
from gapctl.rules import num
from gapctl.score import LeafScore, RoundScore, UnitScore
from gapctl.scoreboard import fixed, total_text, two

WORDS: dict[str, tuple[str, str]] = {
    "overview": ("总览", "Overview"),
    "period": ("评估期间", "Period"),
    "unit_count": ("评估对象", "Units assessed"),
    "grade_distribution": ("等次分布", "Grade distribution"),
    "ranking": ("排名", "Ranking"),
    "attainment": ("各一级指标平均得分率", "Average attainment per top-level indicator"),
    "most_lost": ("失分最多的指标", "Where most points were lost"),
    "below": ("低于警戒线的单位", "Units below a threshold"),
    "score_distribution": ("总得分分布", "Score distribution"),
    "score_card": ("得分", "Score card"),
    "indicators": ("指标得分", "Indicators"),
    "method": ("测评方式", "Method"),
    "where": ("扣分点", "Where"),
    "previous": ("上一轮", "Last round"),
    "fixed_problems": ("上一轮问题整改情况", "Last round's problems"),
    "fixed": ("已整改", "fixed"),
    "not_fixed": ("未整改", "not fixed"),
    "units_losing": ("失分单位数", "Units losing points"),
    "points_lost": ("合计失分", "Points lost"),
    "none": ("无", "None"),
    "back": ("返回总览", "Back to the overview"),
    "count": ("单位数", "Units"),
    "share": ("平均得分率", "Average attainment"),
    "generated": ("生成时间", "Generated"),
    "other": ("其他", "Other"),
}


def word(key: str, lang: str) -> str:
    """A report word from WORDS, else one of the shared labels."""
    return label(key, lang, WORDS)


@dataclass
class Page:
    """One Markdown page and the charts it references (name → SVG)."""

    path: str
    markdown: str
    charts: dict[str, str]
    title: str = ""  # as written in the data, for the HTML <title> (escaped there)


def _table(head: list[str], rows: list[list[str]], right: set[int] | None = None) -> list[str]:
    right = right or set()
    out = ["| " + " | ".join(head) + " |",
           "|" + "|".join("---:" if i in right else "---" for i in range(len(head))) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out + [""]


def _name(score: UnitScore, lang: str) -> str:
    return name_in(score.unit, lang)


def banner(scored: RoundScore, lang: str) -> list[str]:
    if not scored.round.example:
        return []
    return [f"> **{label('example', lang)}**", ""]


def overview(scored: RoundScore, lang: str, ext: str, stamp: str | None = None) -> Page:
    round_ = scored.round
    zh = lang == "zh"
    title = round_.title if zh or not round_.title_en else round_.title_en
    lines = [f"# {md(title)}", ""] + banner(scored, lang)
    schemes = {s.scheme.id: s.scheme for s in scored.units}
    facts = [[word("period", lang), " – ".join(d.isoformat() for d in round_.period) if round_.period else "—"],
             [label("scheme", lang), "；".join(f"{md(s.title)} ({code(s.id)})" for s in schemes.values())],
             [word("unit_count", lang), str(len(scored.units))]]
    if stamp:
        facts.append([word("generated", lang), md(stamp)])
    sep = "：" if zh else ": "
    lines += [f"- {key}{sep}{value}" for key, value in facts] + [""]
    charts: dict[str, str] = {}
    grades = [g for scheme in schemes.values() for g in scheme.grades]
    if grades:
        counts = Counter(s.grade for s in scored.units)
        order = list(dict.fromkeys(g.label for g in grades))
        bars = [(g, counts.get(g, 0)) for g in order]
        lines += [f"## {word('grade_distribution', lang)}", ""]
        lines += _table([label("grade", lang), word("count", lang)], [[md(g), str(n)] for g, n in bars], {1})
        charts["grades.svg"] = svg.column_chart(word("grade_distribution", lang), bars)
        lines += [f"![{word('grade_distribution', lang)}](charts/grades.svg)", ""]
    lines += _rankings(scored, lang, ext)
    lines += _attainment(scored, lang, charts)
    lines += _most_lost(scored, lang)
    lines += _below(scored, lang)
    bins = Counter(min(int(s.total // 10), 9) for s in scored.units if s.total is not None)
    dist = [(f"{b * 10}–{b * 10 + 9 if b < 9 else 100}", bins.get(b, 0)) for b in range(10)]
    charts["scores.svg"] = svg.column_chart(word("score_distribution", lang), dist)
    lines += [f"## {word('score_distribution', lang)}", "", f"![{word('score_distribution', lang)}](charts/scores.svg)",
              ""]
    return Page(f"index{ext}", "\n".join(lines), charts, title)


def _rankings(scored: RoundScore, lang: str, ext: str) -> list[str]:
    lines = [f"## {word('ranking', lang)}", ""]
    groups: dict[tuple[str, str], list[UnitScore]] = {}
    for s in scored.units:
        category = s.category.id if s.category else ""
        groups.setdefault((s.scheme.id, category), []).append(s)
    scheme_order = [a.scheme for a in scored.round.assignments]

    def group_order(key: tuple[str, str]) -> tuple[int, int]:
        scheme = next(s.scheme for s in scored.units if s.scheme.id == key[0])
        cats = [c.id for c in scheme.ranking.categories] if scheme.ranking else []
        return (scheme_order.index(key[0]) if key[0] in scheme_order else 0,
                cats.index(key[1]) if key[1] in cats else len(cats))
    for key in sorted(groups, key=group_order):
        members = groups[key]
        scheme = members[0].scheme
        heading = scheme.title
        if members[0].category:
            cat = members[0].category
            heading += f" · {cat.name if lang == 'zh' or not cat.name_en else cat.name_en}"
        lines += [f"### {md(heading)}", ""]
        members = sorted(members, key=lambda s: ((s.category_rank if s.category else s.rank) or 0, s.unit.id))
        has_grade = any(s.grade for s in members)
        head = [label("rank", lang), label("unit", lang), label("base", lang), label("total", lang)]
        head += [label("grade", lang)] if has_grade else []
        head += [label("flags", lang)]
        rows = []
        for s in members:
            rank = s.category_rank if s.category else s.rank
            places = s.scheme.scoring.places
            row = [str(rank), link(_name(s, lang), f"units/{s.unit.id}{ext}"), fixed(s.base, places),
                   total_text(s)]
            row += [md(s.grade or "")] if has_grade else []
            row += [md(", ".join(_flag_labels(s, lang)))]
            rows.append(row)
        lines += _table(head, rows, {0, 2, 3})
    return lines


def _flag_labels(s: UnitScore, lang: str) -> list[str]:
    names = {f.id: in_lang(f.label, f.label_en, lang) for f in s.scheme.flags}
    out = [names.get(f, f) for f in s.flags]
    if s.pending:
        out.append(f"{label('pending', lang)} {len(s.pending)}")
    return out


def _attainment(scored: RoundScore, lang: str, charts: dict[str, str]) -> list[str]:
    totals: dict[tuple[str, str], list[Decimal]] = {}
    names: dict[tuple[str, str], str] = {}
    for s in scored.units:
        for node in s.tree:
            if node.points:
                key = (s.scheme.id, node.indicator.id)
                bucket = totals.setdefault(key, [Decimal(0), Decimal(0)])
                bucket[0] += node.earned
                bucket[1] += node.points
                names[key] = name_in(node.indicator, lang)
    if not totals:
        return []
    several = len({k[0] for k in totals}) > 1
    rows, bars = [], []
    for key, (earned, points) in totals.items():
        share = earned / points * 100
        name = f"{key[1]} {names[key]}" + (f" ({key[0]})" if several else "")
        rows.append([md(name), f"{figure(share, 1)}%"])
        bars.append((name, share))
    charts["attainment.svg"] = svg.bar_chart(word("attainment", lang), bars)
    head = ["指标" if lang == "zh" else "Indicator", word("share", lang)]
    return [f"## {word('attainment', lang)}", ""] + _table(head, rows, {1}) + \
        [f"![{word('attainment', lang)}](charts/attainment.svg)", ""]


def _most_lost(scored: RoundScore, lang: str, top: int = 10) -> list[str]:
    lost: dict[tuple[str, str], list] = {}
    for s in scored.units:
        for leaf in s.leaves.values():
            if leaf.indicator.section == "main" and leaf.lost > 0 and leaf.state != "pending":
                entry = lost.setdefault((s.scheme.id, leaf.indicator.id), [leaf.indicator, Decimal(0), 0])
                entry[1] += leaf.lost
                entry[2] += 1
    if not lost:
        return []
    ranked = sorted(lost.values(), key=lambda e: (-e[1], e[0].id))[:top]
    rows = [[md(f"{ind.id} {ind.name}"), two(points), str(count)] for ind, points, count in ranked]
    return [f"## {word('most_lost', lang)}", ""] + _table(
        ["指标" if lang == "zh" else "Indicator", word("points_lost", lang), word("units_losing", lang)], rows, {1, 2})


def _below(scored: RoundScore, lang: str) -> list[str]:
    flagged = [s for s in scored.units if s.flags]
    if not any(s.scheme.flags for s in scored.units):
        return []
    lines = [f"## {word('below', lang)}", ""]
    if not flagged:
        return lines + [word("none", lang), ""]
    rows = [[md(_name(s, lang)), total_text(s), md(", ".join(_flag_labels(s, lang)))]
            for s in sorted(flagged, key=lambda s: (s.total if s.total is not None else -1, s.unit.id))]
    return lines + _table([label("unit", lang), label("total", lang), label("flags", lang)], rows, {1})


# --- unit pages -----------------------------------------------------------------------

def unit_page(scored: RoundScore, s: UnitScore, lang: str, ext: str, previous: UnitScore | None = None) -> Page:
    zh = lang == "zh"
    places = s.scheme.scoring.places
    lines = [f"# {md(_name(s, lang))}", ""] + banner(scored, lang)
    lines += [f"[{word('back', lang)}](../index{ext}) · {md(scored.round.title)} · {md(s.scheme.title)}", ""]
    card = [[label("base", lang), fixed(s.base, places)]]
    if s.scheme.bonus:
        card.append([label("bonus", lang), num(s.bonus)])
    if s.scheme.penalty:
        card.append([label("penalty", lang), num(s.penalty)])
    if s.externals:
        card.append([label("external", lang), num(-s.external)])
    card.append([f"**{label('total', lang)}**", f"**{total_text(s)}**"])
    if s.grade:
        card.append([label("grade", lang), md(s.grade if zh or not s.grade_en else s.grade_en)])
    card.append([label("rank", lang), f"{s.rank} / {len([u for u in scored.units if u.scheme is s.scheme])}"])
    if s.category:
        card.append([label("category_rank", lang), f"{s.category_rank}（{md(s.category.name)}）" if zh
                     else f"{s.category_rank} ({md(s.category.name_en or s.category.name)})"])
    if s.performance_points is not None:
        card.append([label("performance", lang), fixed(s.performance_points, 2)])
    if s.flags or s.pending:
        card.append([label("flags", lang), md(", ".join(_flag_labels(s, lang)))])
    if previous is not None:
        card.append([f"{word('previous', lang)} {label('total', lang)}",
                     total_text(previous)
                     + (f"（{md(previous.grade)}）" if previous.grade and zh else
                        (f" ({md(previous.grade_en or previous.grade)})" if previous.grade else ""))])
    lines += [f"## {word('score_card', lang)}", ""] + _table(["项目" if zh else "Item", "得分" if zh else "Score"],
                                                              card, {1})
    if s.vetoed:
        from gapctl.constructs.vetoes import effects_text
        lines += [f"## {'单项否决' if zh else 'Vetoes'}", ""]
        lines += [f"- {md(v.name if zh or not v.name_en else v.name_en)}：{md(effects_text(v, s.scheme, lang))}"
                  if zh else f"- {md(v.name_en or v.name)}: {md(effects_text(v, s.scheme, lang))}" for v in s.vetoed]
        lines.append("")
    lines += _members(scored, s, lang, ext)
    rows = []
    for leaf in s.leaves.values():
        if leaf.state == "not-applicable":
            continue
        ind = leaf.indicator
        rows.append([md(f"{ind.id} {ind.name if zh or not ind.name_en else ind.name_en}"),
                     two(leaf.points) if ind.section == "main" else "", two(leaf.earned),
                     md("、".join(ind.methods) if zh else ", ".join(ind.methods))])
    lines += [f"## {word('indicators', lang)}", ""]
    head = ["指标" if zh else "Indicator", label("points", lang), label("earned", lang), word("method", lang)]
    lines += _table(head, rows, {1, 2})
    lines += [f"## {label('problem_list', lang)}", ""] + _problems(s, lang)
    if previous is not None:
        lines += _fixed(previous, s, lang)
    return Page(f"units/{s.unit.id}{ext}", "\n".join(lines), {}, _name(s, lang))


def _members(scored: RoundScore, s: UnitScore, lang: str, ext: str) -> list[str]:
    """The channels, subordinate units and periods the unit's score is built from, group by group."""
    from gapctl.constructs.groups import explain_text

    zh = lang == "zh"
    lines: list[str] = []
    units = {u.unit.id for u in scored.units}
    for found in s.groups.values():
        group = found.group
        lines += [f"## {md(group.name if zh or not group.name_en else group.name_en)}", "",
                  md(explain_text(found, lang)), ""]
        rows = []
        for m in found.members:
            name = f"[{md(m.name)}]({m.id}{ext})" if group.of == "subordinates" and m.id in units else md(m.name)
            rows.append([name, md(m.kind), total_text_of(m), md(m.grade or ""),
                         ("否决" if zh else "veto") if m.vetoed else ""])
        head = ["对象" if zh else "Member", "类型" if zh else "Type", label("total", lang), label("grade", lang),
                label("flags", lang)]
        lines += _table(head, rows, {2}) + [""]
    if s.unit.id in {d.unit for d in scored.round.samples}:
        for sample in scored.round.samples:
            if sample.unit == s.unit.id:
                how = f"种子 {sample.seed}" if sample.seed else (sample.minutes or "")
                lines += [f"{'抽查' if zh else 'Sample'}：{md('、'.join(sample.drawn))}"
                          f"（{len(sample.drawn)}/{sample.of or '?'}，{md(how)}）", ""]
    return lines


def total_text_of(m) -> str:
    from gapctl.formula import exact
    return exact(m.total) if m.total is not None else "—"


def _evidence(leaf: LeafScore) -> str:
    if leaf.result is None:
        return ""
    links = []
    for ev in leaf.result.evidence:
        if ev.url:
            links.append(link(ev.title or ev.url, ev.url, relative=False))  # evidence is on the web
        elif ev.file:
            links.append(md(ev.file) + (f" (sha256 {md(ev.sha256[:12])}…)" if ev.sha256 else ""))
    return "；".join(links)


def _problems(s: UnitScore, lang: str) -> list[str]:
    lost = s.lost_leaves()
    if not lost:
        return [label("no_problems", lang), ""]
    rows = []
    for leaf in lost:
        amount = two(leaf.lost) if leaf.state != "pending" else label("pending", lang)
        result = leaf.result
        where = f"{leaf.indicator.id} {leaf.indicator.name}"
        if leaf.state != "pending":  # what the evaluator found, as the rule reads it
            where += f"（{observation_text(leaf, lang, with_who=False)}）" if lang == "zh" else \
                f" ({observation_text(leaf, lang, with_who=False)})"
        rows.append([md(where), amount, md(result.reason if result else ""), md(result.fix if result else ""),
                     _evidence(leaf)])
    return _table([word("where", lang), label("lost", lang) if lang != "zh" else "扣分", label("reason", lang),
                   label("fix", lang), label("evidence", lang)], rows, {1})


def _fixed(previous: UnitScore, current: UnitScore, lang: str) -> list[str]:
    old_problems = previous.lost_leaves()
    lines = [f"## {word('fixed_problems', lang)}", ""]
    if not old_problems:
        return lines + [word("none", lang), ""]
    rows = []
    for leaf in old_problems:
        now = current.leaves.get(leaf.indicator.id)
        fixed_now = now is not None and now.lost <= 0 and now.state != "pending"
        rows.append([md(f"{leaf.indicator.id} {leaf.indicator.name}"), two(leaf.lost),
                     md(leaf.result.reason if leaf.result else ""),
                     word("fixed", lang) if fixed_now else word("not_fixed", lang)])
    return lines + _table([word("where", lang), "扣分" if lang == "zh" else label("lost", lang),
                           label("reason", lang), "整改情况" if lang == "zh" else "Status"], rows, {1})


def pages(scored: RoundScore, lang: str, ext: str, previous: RoundScore | None = None,
          stamp: str | None = None) -> list[Page]:
    """Every page of the report, overview first, units in ranking order."""
    before = previous.by_unit() if previous else {}
    out = [overview(scored, lang, ext, stamp)]
    for s in scored.units:
        out.append(unit_page(scored, s, lang, ext, before.get(s.unit.id)))
    return out
