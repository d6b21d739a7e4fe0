"""What `gapctl show` prints: a scheme as a tree, a unit set as a table, a round's summary.

Each function returns plain data (for `--format json`) and a renderer turns it into lines. The
lines' labels and the texts made from the scheme's rules are in the current language
(gapctl.i18n); the data keeps its texts in Chinese, as `--format json` always gave them; what
the files say (names, titles, notes) is shown as written.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

from gapctl.data import assumptions as A
from gapctl.data.model import Assumption, Indicator, Round, Scheme, UnitSet
from gapctl.i18n import N_, _, in_lang, lang
from gapctl.scheme.constructs.vetoes import effects_text
from gapctl.scheme.rules import num
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


def _star(assumptions: list[Assumption], at: tuple) -> str:
    """`*` after what has an assumption at or below it (gapctl.data.assumptions)."""
    return "*" if A.under(assumptions, at) else ""


def _rule_text(ind: Indicator, assumptions: list[Assumption]) -> str:
    if not ind.rules:
        return ""
    kinds = []
    for rule in ind.rules:
        text = rule.kind + _star(assumptions, rule.at)
        kinds.append(text if rule.when is None else f"{text}(when)")
    return " | ".join(kinds)


def scheme_data(scheme: Scheme, language: str = "zh") -> dict[str, Any]:
    def node(ind: Indicator) -> dict[str, Any]:
        out: dict[str, Any] = {"id": ind.id, "name": ind.name, "points": fmt_points(ind.points)}
        if ind.methods:
            out["methods"] = list(ind.methods)
        if ind.scope or ind.applies_to:
            out["applies_to"] = _selector_text(ind)
        if ind.rules:
            out["rules"] = [r.kind for r in ind.rules]
        out.update(_construct_data(ind, language))
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
    data["scoring"] = {line[0]: line[1] for line in scoring_pairs(scheme, language)}
    data["vetoes"] = [{"id": v.id, "name": v.name, "when": v.when.text, "part": v.part,
                       "effects": effects_text(v, scheme, language)} for v in scheme.vetoes]
    data["declared"] = {key: value for key, value in _declared(scheme, language)}
    data["assumptions"] = assumption_data(scheme.assumptions)
    return data


def assumption_data(assumptions: list[Assumption]) -> list[dict[str, Any]]:
    """For JSON: each assumption where it sits, in Chinese (`what`) and English (`what_en`), and why."""
    out = []
    for zh, en in zip(A.data(assumptions, "zh"), A.data(assumptions, "en"), strict=True):
        out.append({"what": zh["what"], "what_en": en["what"], "where": zh["where"], "path": zh["path"],
                    "key": zh["key"], "note": zh["note"]})
    return out


_RANKING = {"published": N_("published"), "none": N_("none published (no ranks unless asked for: score --rank)"),
            "categories": N_("published, by category: {categories}")}


def ranking_text(scheme: Scheme, language: str) -> str:
    """Whether and how the scheme ranks its units, in words."""
    if not scheme.publishes_ranking:
        return in_lang(_RANKING["none"], language)
    assert scheme.ranking is not None
    if scheme.ranking.categories:
        names = [c.name if language == "zh" else c.name_en or c.name for c in scheme.ranking.categories]
        return in_lang(_RANKING["categories"], language).format(
            categories=("、" if language == "zh" else ", ").join(names))
    return in_lang(_RANKING["published"], language)


def _declared(scheme: Scheme, language: str) -> list[tuple[str, str]]:
    """What the scheme declares beside its tree, as (key, text): the total points it states, its ranking,
    its conversion into a larger assessment, external deductions, late evidence; `*` where assumed."""
    star = lambda *at: _star(scheme.assumptions, at)  # noqa: E731
    out = []
    if scheme.total_points is not None:
        out.append(("total_points", num(scheme.total_points) + star("total_points")))
    out.append(("ranking", ranking_text(scheme, language) + star("ranking")))
    conversion = scheme.conversion
    if conversion is not None and conversion.points is not None:
        out.append(("conversion", in_lang("total ÷ {scale} × {points} points of a larger assessment", language).format(
            scale=num(scheme.scoring.scale), points=num(conversion.points)) + star("conversion")
            + star("conversion", "points")))
    if conversion is not None and conversion.passdown_multiplier is not None:
        sources = [e.id for e in scheme.external if e.mode == "passdown"]
        text = in_lang("deductions passed down × {factor}, from {sources}", language).format(
            factor=num(conversion.passdown_multiplier), sources=", ".join(sources)) if sources else \
            in_lang("deductions passed down × {factor}, but no external source has mode passdown", language).format(
                factor=num(conversion.passdown_multiplier))
        out.append(("passdown", text + star("conversion") + star("conversion", "passdown_multiplier")))
    for source in scheme.external:
        out.append(("external", f"{source.id} ({source.mode}) {source.name}" + star(*source.at)))
    out.append(("late_evidence", scheme.late_evidence + star("late_evidence")))
    return out


def _construct_data(ind: Indicator, language: str) -> dict[str, Any]:
    from gapctl.scheme.rules.clauses import clause_text

    out: dict[str, Any] = {}
    for rule in ind.rules:
        if rule.kind == "clauses":
            out["clauses"] = [clause_text(c, language) for c in rule.params.get("clauses") or []]
    if ind.gate is not None:
        out["gate"] = ind.gate.when.text
    if ind.bounded is not None:
        out["bounded"] = ind.bounded
    if ind.redistribute is not None:
        out["redistribute"] = _redistribution_text(ind, language)
    return out


# what _redistribution_text says, by the rule's `to`, `by` and `mode`
_MOVES_TO = {"siblings": N_("the other indicators of its level"), "all": N_("the other top-level indicators")}
_SHARED = {"even": N_("shared evenly"), "points": N_("shared in proportion to their points")}
_MODE = {"deduct": N_("deductions unchanged (deduction scoring)"),
         "earned": N_("scores scaled up in proportion (earned scoring)")}


def _redistribution_text(ind: Indicator, language: str) -> str:
    rule = ind.redistribute
    assert rule is not None
    if isinstance(rule.to, str):
        to = in_lang(_MOVES_TO.get(rule.to, rule.to), language)
    else:
        to = ("、" if language == "zh" else ", ").join(rule.to)
    by = in_lang(_SHARED["even" if rule.by == "even" else "points"], language)
    mode = in_lang(_MODE["deduct" if rule.mode == "deduct" else "earned"], language)
    return in_lang("when not applicable, its points move to {to}, {by}, {mode}", language).format(
        to=to, by=by, mode=mode)


def _bounds_text(scheme: Scheme, language: str) -> str:
    bounds = scheme.scoring.bounds
    if bounds == "leaves":
        return in_lang("every leaf indicator between 0 and its points (deducted until nothing is left)", language)
    level = 1 if bounds == "top" else int(bounds)
    return in_lang("level-{level} indicators between 0 and their points (deducted until nothing is left); "
                   "indicators below may lose more, their parent bounds them", language).format(level=level)


def scoring_pairs(scheme: Scheme, language: str) -> list[tuple[str, str]]:
    """The scheme's computation in words and formulas: base, total, bounds, caps."""
    from gapctl.scheme.constructs.formulas import base_formula, total_formula
    from gapctl.scheme.formula import NAMES, render

    def names(node: tuple) -> str:
        if node[0] == "name":
            return NAMES[node[1]].zh if language == "zh" else NAMES[node[1]].en
        args = ", ".join(a[1] for a in node[2] if a[0] == "ref")
        return f"{node[1]}({args})"

    out = []
    for key, formula in (("base", base_formula(scheme)), ("total", total_formula(scheme))):
        out.append((key, render(formula, None, language, names) if formula is not None else "—"))
    out.append(("bounds", _bounds_text(scheme, language)))
    if scheme.scoring.max_total is not None:
        out.append(("max_total", num(scheme.scoring.max_total)))
    return out


# the keys of `scoring` each line of the computation rests on (an assumption on one of them stars the line)
_SCORING_KEYS = {"base": ("base", "normalise", "scale", "places", "round", "weights"),
                 "total": ("total", "max_total", "places", "round"), "bounds": ("bounds",), "max_total": ("max_total",)}


def construct_lines(scheme: Scheme) -> list[str]:
    """计分规则 (scoring): formulas, bounds, clauses, gates, pass lines, redistribution, vetoes."""
    language = lang()
    words = {"base": _("base score"), "total": _("total score"), "bounds": _("bounds"),
             "max_total": _("maximum total")}
    lines = ["", _("Scoring")]
    for key, text in scoring_pairs(scheme, language):
        star = "*" if any(a.at == ("scoring",) or a.at[:1] == ("scoring",) and a.key in _SCORING_KEYS[key]
                          for a in scheme.assumptions) else ""
        lines.append(f"  {words[key]} = {text}{star}" if key in ("base", "total") else
                     "  " + _("{what}: {text}").format(what=words[key], text=text + star))
    declared = {"total_points": _("declared total points"), "ranking": _("ranking"),
                "conversion": _("conversion"), "passdown": _("passed-down deductions"),
                "external": _("external deductions"), "late_evidence": _("late evidence")}
    for key, text in _declared(scheme, language):
        lines.append("  " + _("{what}: {text}").format(what=declared[key], text=text))
    for ind in scheme.all_indicators():
        extra = _construct_data(ind, language)
        for clause in extra.get("clauses", []):
            lines.append("  " + _("{id} clause: {text}").format(id=ind.id, text=clause))
        if "gate" in extra:
            lines.append("  " + _("{id} gate: {text}").format(id=ind.id, text=extra["gate"]))
        if "bounded" in extra:
            bounded = _("between 0 and its points") if extra["bounded"] else _("not bounded (its parent bounds it)")
            lines.append("  " + _("{id} bounds: {text}").format(id=ind.id, text=bounded))
        if "redistribute" in extra:
            lines.append("  " + _("{id} redistribution: {text}").format(id=ind.id, text=extra["redistribute"]))
    for name in ("bonus", "penalty"):
        section = getattr(scheme, name)
        if section is not None and section.gate is not None:
            lines.append("  " + _("{section} gate: {text}").format(section=section.name,
                                                                    text=section.gate.when.text))
    for veto in scheme.vetoes:
        what = _("pass line") if veto.part else _("veto")
        lines.append("  " + _("{what} {id} {name}: {when} → {effects}").format(
            what=what, id=veto.id, name=veto.name, when=veto.when.text, effects=effects_text(veto, scheme, language)))
    return lines


def scheme_lines(scheme: Scheme) -> list[str]:
    """The indicator tree, indented by level, with points aligned in one column."""
    rows: list[tuple[str, str, str, str, str]] = []

    def add(ind: Indicator) -> None:
        own = [a for a in scheme.assumptions if a.at[:len(ind.at)] == ind.at
               and not any(a.at[:len(r.at)] == r.at for r in ind.rules)
               and not any(a.at[:len(c.at)] == c.at for c in ind.children)]
        label = "  " * (ind.depth - 1) + ind.name + ("*" if own else "")
        rows.append((ind.id, label, fmt_points(ind.points), _rule_text(ind, scheme.assumptions) if ind.is_leaf else "",
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
    indicator_word, points_word, rule_word, scope_word = _("indicator"), _("points"), _("rule"), _("applies to")
    name_w = max(name_w, width(indicator_word))
    pts_w = max(pts_w, width(points_word))
    rule_w = max(rule_w, width(rule_word))
    header = (f"{pad('id', id_w)}  {pad(indicator_word, name_w)}  {pad(points_word, pts_w, 'right')}  "
              f"{pad(rule_word, rule_w)}  {scope_word}")
    lines.append(header.rstrip())
    lines.append("-" * width(header))
    section_starts = {start: section for section, start in sections}
    for n, (ident, label, pts, rule, scope) in enumerate(rows):
        if n in section_starts:
            section = section_starts[n]
            lines.append("")
            lines.append(_("{section} (capped at {cap} points)").format(section=section.name,
                                                                        cap=fmt_points(section.cap))
                         if section.cap is not None else _("{section} (no cap)").format(section=section.name))
        line = f"{pad(ident, id_w)}  {pad(label, name_w)}  {pad(pts, pts_w, 'right')}  {pad(rule, rule_w)}  {scope}"
        lines.append(line.rstrip())
    lines.append("-" * width(header))
    total = fmt_points(scheme.top_total())
    parts = " + ".join(f"{fmt_points(i.points)}" for i in scheme.indicators)
    total_word = _("total")
    lines.append(f"{pad('', id_w)}  {pad(total_word, name_w)}  {pad(total, pts_w, 'right')}  = {parts}")
    lines += construct_lines(scheme)
    lines += assumption_lines(scheme.assumptions)
    return lines


def assumption_lines(assumptions: list[Assumption], heading: str | None = None) -> list[str]:
    """The list of assumptions under a heading (none: nothing), in the current language."""
    if not assumptions:
        return []
    heading = heading or _("assumptions (not published): {count}").format(count=len(assumptions))
    return ["", _("* assumed, not published: see the list of assumptions below."), "", heading,
            *A.lines(assumptions, lang())]


def unit_set_data(unit_set: UnitSet) -> dict[str, Any]:
    return {"id": unit_set.id, "name": unit_set.name, "note": unit_set.note,
            "units": [{"id": u.id, "name": u.name, "type": u.type, "parent": u.parent,
                       "tags": list(u.tags)} for u in unit_set.units],
            "assumptions": assumption_data(unit_set.assumptions)}


def unit_set_lines(unit_set: UnitSet) -> list[str]:
    rows = [["id", _("name"), _("type"), _("parent"), _("tags")]]
    for u in unit_set.units:
        rows.append([u.id, u.name, u.type, u.parent or "", ", ".join(u.tags)])
    counts = Counter(u.type for u in unit_set.units)
    summary = ("；" if lang() == "zh" else "; ").join(f"{t} {n}" for t, n in sorted(counts.items()))
    head = [_("{name} ({id}): {count} unit(s) ({types})").format(name=unit_set.name, id=unit_set.id,
                                                                 count=len(unit_set.units), types=summary)]
    if unit_set.note:
        head.append(unit_set.note)
    return [*head, "", *table(rows), *assumption_lines(unit_set.assumptions)]


def round_assumptions(round_: Round) -> list[tuple[str, str, list[Assumption]]]:
    """Every assumption a round rests on, by file: (kind, id, assumptions) for the round itself, its
    external deductions files, its unit set, each of its schemes and the calendars its appeal window
    is counted with; files without any left out."""
    out: list[tuple[str, str, list[Assumption]]] = [("round", round_.id, round_.assumptions)]
    out += [("external", ref, data.assumptions) for ref, data in sorted(round_.external.items())]
    if round_.unit_set is not None:
        out.append(("units", round_.unit_set.id, round_.unit_set.assumptions))
    out += [("scheme", scheme.id, scheme.assumptions) for scheme in round_.schemes.values()]
    if round_.stages.get("appeal_working_days") is not None:  # the calendar counts its appeal window
        from gapctl.data.workdays import load_calendar_files

        for calendar in load_calendar_files(round_.directory.parent.parent)[0]:
            out.append(("calendar", calendar.path.stem, calendar.assumptions))
    return [entry for entry in out if entry[2]]



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
        "appeal_deadline": _appeal_deadline(round_),
        "external": [ref.id for ref in round_.external_refs],
        "ranking": {scheme.id: "published" if scheme.publishes_ranking else "none"
                    for scheme in round_.schemes.values()},
        "assumptions": [{"file": kind, "id": ident, "assumptions": assumption_data(found)}
                        for kind, ident, found in round_assumptions(round_)],
    }


def _appeal_deadline(round_: Round) -> str | None:
    """The last day to appeal, as validate checks appeals against it (None without a window)."""
    from gapctl.scoring.validate import appeal_deadline

    _prelim, deadline = appeal_deadline(round_)
    return deadline.isoformat() if deadline is not None else None


def round_lines(round_: Round) -> list[str]:
    data = round_data(round_)
    lines = [f"{round_.title} ({round_.id})"]
    if round_.period and _star(round_.assumptions, ("period",)):
        data["period"] = [data["period"][0], data["period"][1] + "*"]
    if round_.example:
        lines.append(_("illustrative data, not a real assessment"))
    rows = [[_("item"), _("value")]]
    if data["period"]:
        rows.append([_("period"), " – ".join(data["period"])])
    rows.append([_("units"), _("{units} ({count})").format(units=data["units"], count=data["unit_count"])])
    for s in data["schemes"]:
        types = ("、" if lang() == "zh" else ", ").join(s["unit_types"]) or _("every unit")
        rows.append([_("scheme"), _("{scheme} → {types} ({count})").format(scheme=s["scheme"], types=types,
                                                                          count=s["units"])])
    rows.append([_("observations"), _("{observed}/{count} unit(s), {entries} entr(ies)").format(
        observed=data["units_observed"], count=data["unit_count"], entries=data["observation_entries"])])
    stars = round_.assumptions
    for key, value in data["stages"].items():
        whole = any(a.at == ("stages",) for a in stars)  # `assumed: true` on [stages]: every date
        rows.append([_("stage {key}").format(key=key), str(value) + ("*" if whole else _star(stars, ("stages", key)))])
    if data.get("appeal_deadline"):
        rows.append([_("appeal window closes"), data["appeal_deadline"]])
    for ext in data["external"]:
        rows.append([_("external deductions"), ext + _star(stars, ("external", ext))])
    for scheme in round_.schemes.values():
        rows.append([_("ranking"), f"{scheme.id}: {ranking_text(scheme, lang())}"])
    lines += [""] + table(rows)
    words = {"round": N_("this round (round.toml)"), "external": N_("external deductions {id}"),
             "units": N_("unit set {id}"), "scheme": N_("scheme {id}"), "calendar": N_("calendar {id}")}
    found = round_assumptions(round_)
    if found:
        lines += ["", _("* assumed, not published: see the list of assumptions below."), "",
                  _("assumptions (not published): {count}").format(count=sum(len(f[2]) for f in found))]
        for kind, ident, assumptions in found:
            lines.append("  " + _(words[kind]).format(id=ident))
            lines += A.lines(assumptions, lang(), indent="    ")
    return lines
