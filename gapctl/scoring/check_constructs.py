"""Checks of a scheme's formulas and scoring constructs: names, references, order, effects.

Every formula is checked where it is written, with the column inside it: ids it names must exist
(indicators, measures, components), and it may read only figures known before the place it is
used (gapctl.scheme.formula's stages: a gate on the bonus cannot read `total`, which includes that
bonus). Vetoes need an effect and grades the scheme has; pass lines, redistribution targets and
thresholds must name what exists. Returns problems; never raises on bad data.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gapctl.data.model import Condition, Indicator, Scheme
from gapctl.figures import ZERO
from gapctl.i18n import N_, _
from gapctl.problems import CONSTRUCT_PARAMS, FORMULA_ORDER, UNKNOWN_REFERENCE, Problem
from gapctl.scheme.formula import BASE as BASE_STAGE
from gapctl.scheme.formula import BONUS as BONUS_STAGE
from gapctl.scheme.formula import DEDUCTIONS as DEDUCTIONS_STAGE
from gapctl.scheme.formula import FUNCTIONS, GROUPS, NAMES, STAGES, TREE, Formula
from gapctl.scheme.formula import OBSERVED as OBSERVED_STAGE
from gapctl.scheme.formula import TOTAL as TOTAL_STAGE
from gapctl.scheme.rules import listed


def places(scheme: Scheme) -> Iterator[tuple[Condition, int, str]]:
    """Every condition of the scheme, the latest stage it may read, and where it is used (words)."""
    scoring = scheme.scoring
    if scoring.base is not None:
        yield scoring.base, BASE_STAGE, _("the base")
    if scoring.total is not None:
        yield scoring.total, BONUS_STAGE, _("the total")
    for ind in scheme.all_indicators():
        limit = {"main": OBSERVED_STAGE, "penalty": BASE_STAGE, "bonus": DEDUCTIONS_STAGE}[ind.section]
        if ind.gate is not None:
            yield ind.gate.when, limit, _("the gate of '{id}'").format(id=ind.id)
        for rule in ind.rules:
            for clause in rule.params.get("clauses") or []:
                if clause.get("when") is not None:
                    yield clause["when"], OBSERVED_STAGE, _("a clause of '{id}'").format(id=ind.id)
    for where, section, limit in ((N_("the gate of the bonus section"), scheme.bonus, DEDUCTIONS_STAGE),
                                  (N_("the gate of the penalty section"), scheme.penalty, BASE_STAGE)):
        if section is not None and section.gate is not None:
            yield section.gate.when, limit, _(where)
    from gapctl.scheme.constructs.vetoes import early, on_components
    for veto in scheme.vetoes:
        if early(veto, scheme):
            yield veto.when, TREE, _("veto '{id}' (it zeroes parts of the tree, so it is decided with the "
                                     "tree)").format(id=veto.id)
        elif on_components(veto, scheme):
            yield veto.when, GROUPS, _("veto '{id}' (it zeroes components, so it is decided before the "
                                       "base)").format(id=veto.id)
        else:
            yield veto.when, TOTAL_STAGE, _("veto '{id}'").format(id=veto.id)


def check(scheme: Scheme) -> list[Problem]:
    out: list[Problem] = []
    for condition, limit, where in places(scheme):
        if condition.formula is not None:
            out += _check_formula(scheme, condition, limit, where)
    if scheme.scoring.base is not None and scheme.scoring.base.formula is not None:
        for name, offset in scheme.scoring.base.formula.names():
            if name == "base":
                out.append(Problem(FORMULA_ORDER, _("the base formula cannot read 'base' itself"), scheme.src,
                                   ("scoring", "base"), offset=offset))
    out += _check_vetoes(scheme)
    out += _check_redistribution(scheme)
    out += _check_thresholds(scheme)
    return out


_NOT_IN_SCHEME = {
    "indicator": N_("'{formula}' names indicator '{id}', which the scheme does not have{hint}"),
    "measure": N_("'{formula}' names measure '{id}', which the scheme does not have{hint}"),
    "component": N_("'{formula}' names component '{id}', which the scheme does not have{hint}"),
    "group": N_("'{formula}' names group '{id}', which the scheme does not have{hint}"),
}


def _check_formula(scheme: Scheme, condition: Condition, limit: int, where: str) -> list[Problem]:
    formula: Formula = condition.formula
    out = []
    known = {"indicator": set(scheme.index), "measure": {m.id for m in scheme.measures},
             "component": {c.id for c in scheme.components}, "group": {g.id for g in scheme.groups}}
    for what, ident, offset in formula.references():
        if what in known and ident not in known[what]:
            from gapctl.scoring.validate import _suggest
            out.append(Problem(UNKNOWN_REFERENCE, _(_NOT_IN_SCHEME[what]).format(
                formula=condition.text, id=ident, hint=_suggest(ident, known[what])), condition.src, condition.at,
                offset=offset))
    late = [(NAMES[n].stage, n, o) for n, o in formula.names() if NAMES[n].stage > limit]
    late += [(FUNCTIONS[f].stage, f"{f}(…)", o) for f, _args, o in formula.calls() if FUNCTIONS[f].stage > limit]
    if late:
        stage, name, offset = max(late)
        out.append(Problem(FORMULA_ORDER, _("'{formula}' in {where} reads {name}, which is not known yet there: it is "
                                            "decided with the {stage}, {name} only with the {later}; it may read "
                                            "{known}").format(formula=condition.text, where=where, name=name,
                                                              stage=_(STAGES[limit]), later=_(STAGES[stage]),
                                                              known=_known_by(limit)),
                           condition.src, condition.at, offset=offset))
    return out


def _known_by(limit: int) -> str:
    names = [n for n, spec in NAMES.items() if spec.stage <= limit]
    functions = [f"{f}(…)" for f, spec in FUNCTIONS.items() if spec.stage <= limit]
    return listed(names + functions)


def _check_vetoes(scheme: Scheme) -> list[Problem]:
    out = []
    labels = [g.label for g in scheme.grades]
    main = {i.id for top in scheme.indicators for i in top.walk()}
    components = {c.id for c in scheme.components}
    seen: set[str] = set()
    for veto in scheme.vetoes:
        at = veto.at
        if veto.id in seen:
            out.append(Problem(CONSTRUCT_PARAMS, _("veto id '{id}' is used twice").format(id=veto.id), veto.src,
                               at + ("id",)))
        seen.add(veto.id)
        if veto.part is not None:
            out += _check_pass_line(scheme, veto, labels)
            continue
        if not (veto.grade or veto.total is not None or veto.zero or veto.cancel or veto.stop):
            out.append(Problem(CONSTRUCT_PARAMS, _("veto '{id}' has no effect: give a grade, a total, parts to zero, "
                                                   "sections to cancel, or stop").format(id=veto.id), veto.src, at))
        if veto.grade and veto.grade not in labels:
            out.append(Problem(CONSTRUCT_PARAMS, _("veto '{id}' forces grade '{grade}', which no grade band has "
                                                   "(bands: {bands})").format(id=veto.id, grade=veto.grade,
                                                                              bands=_bands(labels)),
                               veto.src, at + ("grade",)))
        for i, part in enumerate(veto.zero):
            if part not in main and part not in components:
                from gapctl.scoring.validate import _suggest
                out.append(Problem(UNKNOWN_REFERENCE, _("veto '{id}' zeroes '{part}', which is neither an indicator "
                                                        "of the tree nor a component{hint}").format(
                                       id=veto.id, part=part, hint=_suggest(part, main | components)),
                                   veto.src, at + ("zero", i)))
        if any(p in components for p in veto.zero) and any(p in main and p not in components for p in veto.zero):
            out.append(Problem(CONSTRUCT_PARAMS, _("veto '{id}' zeroes both parts of the tree and components; they "
                                                   "are decided at different times: write two vetoes").format(
                                   id=veto.id), veto.src, at + ("zero",)))
    return out


def _bands(labels: list[str]) -> str:
    return listed(labels) if labels else _("none")


def _check_pass_line(scheme: Scheme, veto: Any, labels: list[str]) -> list[Problem]:
    ind = scheme.index.get(veto.part)
    out = []
    at = veto.at
    if ind is not None and ind.section != "main":
        out.append(Problem(CONSTRUCT_PARAMS, _("'{id}': a pass line belongs on a part of the indicator tree").format(
            id=ind.id), veto.src, at))
    function, line = veto.line
    if function == "rate" and not ZERO < line <= 1:
        out.append(Problem(CONSTRUCT_PARAMS, _("'{part}': a pass line's rate is a share of the part's points, above "
                                               "0 and at most 1 (0.7 for 70%), not {rate}").format(part=veto.part,
                                                                                                 rate=line),
                           veto.src, at + ("rate",)))
    if function == "score" and ind is not None and ind.points is not None and line > ind.points:
        out.append(Problem(CONSTRUCT_PARAMS, _("'{part}': the pass line {line} is above the part's {points} "
                                               "points").format(part=veto.part, line=line, points=ind.points),
                           veto.src, at + ("points",)))
    if veto.grade and veto.grade not in labels:
        out.append(Problem(CONSTRUCT_PARAMS, _("'{part}': the pass line's grade '{grade}' is not a grade band "
                                               "(bands: {bands})").format(part=veto.part, grade=veto.grade,
                                                                          bands=_bands(labels)),
                           veto.src, at + ("grade",)))
    if not veto.grade and not labels:
        out.append(Problem(CONSTRUCT_PARAMS, _("'{part}': a pass line sets the lowest grade, but the scheme has no "
                                               "grades; give the pass line a grade").format(part=veto.part),
                           veto.src, at))
    return out


def _check_redistribution(scheme: Scheme) -> list[Problem]:
    out = []
    main = {i.id: i for top in scheme.indicators for i in top.walk()}
    for ind in scheme.all_indicators():
        rule = ind.redistribute
        if rule is None or isinstance(rule.to, str):
            continue
        key = ("to",) if rule.at[-1] != "moves_to" else ()
        for i, target in enumerate(rule.to):
            where = rule.at + (key + (i,) if key else ())
            if target == ind.id:
                out.append(Problem(CONSTRUCT_PARAMS, _("'{id}' redistributes its points to itself").format(id=ind.id),
                                   rule.src, where))
            elif target not in main:
                from gapctl.scoring.validate import _suggest
                out.append(Problem(UNKNOWN_REFERENCE, _("'{id}' gives its points to '{target}', which is not an "
                                                        "indicator of the tree{hint}").format(
                                       id=ind.id, target=target, hint=_suggest(target, main)), rule.src, where))
            elif any(target == i.id for i in ind.walk()) or any(target == a for a in _ancestors(scheme, ind)):
                out.append(Problem(CONSTRUCT_PARAMS, _("'{id}' cannot give its points to '{target}', which contains "
                                                       "it or is inside it").format(id=ind.id, target=target),
                                   rule.src, where))
    return out


def _ancestors(scheme: Scheme, ind: Indicator) -> list[str]:
    out, parent = [], ind.parent_id
    while parent is not None and parent not in out:
        out.append(parent)
        parent = scheme.index[parent].parent_id if parent in scheme.index else None
    return out


def _check_thresholds(scheme: Scheme) -> list[Problem]:
    out = []
    for ind in scheme.all_indicators():
        for rule in ind.rules:
            if rule.kind != "threshold":
                continue
            of = str(rule.params.get("of") or "base")
            limit = DEDUCTIONS_STAGE if ind.section == "bonus" else BASE_STAGE
            if of in NAMES:
                if NAMES[of].stage > limit:
                    message = (_("'{id}' threshold compares '{of}', which is known only after the bonus section is "
                                 "added (it includes this item); compare 'base' (before bonus and penalty) or an "
                                 "indicator's score") if ind.section == "bonus" else
                               _("'{id}' threshold compares '{of}', which is known only after the penalty section is "
                                 "added (it includes this item); compare 'base' (before bonus and penalty) or an "
                                 "indicator's score"))
                    out.append(Problem(FORMULA_ORDER, message.format(id=ind.id, of=of), rule.src, rule.at + ("of",)))
            elif of not in scheme.index:
                from gapctl.scoring.validate import _suggest
                out.append(Problem(UNKNOWN_REFERENCE, _("'{id}' threshold compares '{of}', which is neither a subtotal "
                                                        "({names}) nor an indicator{hint}").format(
                                       id=ind.id, of=of, names=listed(NAMES), hint=_suggest(of, scheme.index)),
                                   rule.src, rule.at + ("of",)))
    return out


def fact_names(scheme: Scheme) -> set[str]:
    """Every finding name the scheme's formulas read with fact(…) or count(…)."""
    cached = _FACTS.get(id(scheme))
    if cached is not None and cached[0] is scheme:
        return cached[1]
    names = set()
    for condition, _limit, _where in places(scheme):
        if condition.formula is not None:
            names |= {ident for what, ident, _ in condition.formula.references() if what == "fact"}
    _FACTS[id(scheme)] = (scheme, names)
    return names


_FACTS: dict[int, tuple[Scheme, set[str]]] = {}
