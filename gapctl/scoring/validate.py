"""Cross-reference and arithmetic checks over a loaded repository or round.

Shape problems were found while loading; here: duplicate ids, dangling references, points
that do not add up, rules that do not fit their indicator, observations that do not fit
their rule, and what is still missing (warnings).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from gapctl.data.model import Indicator, Observations, Round, Scheme, Selector, Unit, UnitSet, evidence_date
from gapctl.data.tree import DiskTree
from gapctl.figures import ZERO
from gapctl.i18n import _
from gapctl.problems import (
    APPEAL_OUT_OF_WINDOW,
    BAD_CALENDAR,
    BAD_VALUE,
    DECISION_WITHOUT_REVIEWER,
    DUPLICATE_ID,
    EVIDENCE_HASH,
    EVIDENCE_MISSING,
    LATE_EVIDENCE,
    MISSING_KEY,
    MISSING_REASON,
    NO_OBSERVATIONS,
    NOT_APPLICABLE,
    NOT_OBSERVED,
    PARENT_CYCLE,
    POINTS_MISMATCH,
    RULE_PARAMS,
    UNIT_WITHOUT_SCHEME,
    UNKNOWN_REFERENCE,
    VALUE_DOES_NOT_FIT,
    Location,
    Problem,
    Report,
    did_you_mean,
)
from gapctl.scheme.rules import REGISTRY, listed
from gapctl.scoring.load import Loaded

UNSCORED_STATES = ("n/a", "pending")


def validate(loaded: Loaded) -> Report:
    """Every problem of what was loaded: shape problems from loading, then these checks."""
    report = Report(list(loaded.problems))
    repo = loaded.repository
    report.extend(check_definitions(repo))
    rounds = [loaded.round] if loaded.round else list(repo.rounds.values())
    for round_ in rounds:
        if round_ is not None:
            report.extend(check_round(round_))
    return report


def check_definitions(repo: Any) -> list[Problem]:
    """Every scheme and unit set of what was loaded, on its own."""
    out: list[Problem] = []
    for scheme in repo.schemes.values():
        out.extend(check_scheme(scheme))
    for unit_set in repo.unit_sets.values():
        out.extend(check_unit_set(unit_set))
    return out


_suggest = did_you_mean  # (gapctl.problems; the rule kinds below this package use it too)


# --- schemes --------------------------------------------------------------------------

def check_scheme(scheme: Scheme) -> list[Problem]:
    out: list[Problem] = []
    seen: dict[str, Indicator] = {}
    for ind in scheme.all_indicators():
        if ind.id in seen:
            first = seen[ind.id]
            out.append(Problem(DUPLICATE_ID, _("indicator id '{id}' is already used by '{name}'").format(
                id=ind.id, name=first.name), ind.src, ind.at + ("id",)))
        else:
            seen[ind.id] = ind
        problems = _check_indicator(scheme, ind)
        if any(p.kind is RULE_PARAMS for p in problems) or ind.invalid & {"points", "rule"}:
            scheme.invalid.add(ind.id)  # its values are not scored against what could not be read
        out.extend(problems)
    scheme.index = seen
    top = scheme.top_total()
    if scheme.total_points is not None and top != scheme.total_points:
        parts = " + ".join(f"{i.points}" for i in scheme.indicators)
        out.append(Problem(POINTS_MISMATCH, _("total_points is {total}, but the top-level indicators add up to "
                                              "{sum} ({parts})").format(total=scheme.total_points, sum=top,
                                                                        parts=parts),
                           scheme.src, ("total_points",)))
    last = None
    for grade in scheme.grades:
        if last is not None and grade.min >= last:
            out.append(Problem(BAD_VALUE, _("grade '{grade}': bands must be listed best first with decreasing "
                                            "'min'").format(grade=grade.label), grade.src, grade.at + ("min",)))
        last = grade.min
    for component in scheme.components:
        kind, _sep, ident = component.source.partition(":")
        known = {"measure": {m.id for m in scheme.measures}, "indicator": set(seen)}
        if kind == "group":
            continue  # checked with the scheme's groups (gapctl.scoring.check_rollups)
        if component.source != "indicators" and kind not in known:
            out.append(Problem(BAD_VALUE, _("component source '{source}' must be indicators, indicator:<id>, "
                                            "measure:<id> or group:<id>").format(source=component.source),
                               component.src, component.at + ("source",)))
        elif kind in known and ident not in known[kind]:
            message = (_("component source names measure '{id}', which the scheme does not declare{hint}")
                       if kind == "measure" else
                       _("component source names indicator '{id}', which the scheme does not declare{hint}"))
            out.append(Problem(UNKNOWN_REFERENCE, message.format(id=ident, hint=_suggest(ident, known[kind])),
                               component.src, component.at + ("source",)))
    if scheme.components and scheme.scoring.weights == "share":
        weights = sum((c.weight for c in scheme.components), ZERO)
        if weights != 1:
            ratio = ":".join(str(c.weight) for c in scheme.components)
            out.append(Problem(BAD_VALUE, _("component weights add up to {sum}, not 1; weights written as a ratio "
                                            "({ratio}) need scoring.weights: ratio").format(sum=weights, ratio=ratio),
                               scheme.src, ("components",)))
    measures = {m.id for m in scheme.measures}
    for ind in scheme.all_indicators():
        for rule in ind.rules:
            measure = rule.params.get("measure")
            if rule.kind == "rank" and measure and measure not in measures:
                out.append(Problem(UNKNOWN_REFERENCE, _("rule ranks on measure '{measure}', which the scheme's "
                                                        "`measures` does not declare{hint}").format(
                                       measure=measure, hint=_suggest(measure, measures)),
                                   rule.src, rule.at + ("measure",)))
    _check_selectors_tags(scheme, out)
    from gapctl.scoring.check_constructs import check as check_constructs
    from gapctl.scoring.check_rollups import check_scheme_groups
    out.extend(check_constructs(scheme))
    out.extend(check_scheme_groups(scheme))
    return out


def _check_indicator(scheme: Scheme, ind: Indicator) -> list[Problem]:
    out: list[Problem] = []
    if ind.points is None and ind.section == "main" and "points" not in ind.invalid:
        out.append(Problem(MISSING_KEY, _("indicator '{id}' {name} has no 'points'").format(id=ind.id, name=ind.name),
                           ind.src, ind.at, on="key"))
    if ind.children:
        total = sum((c.points or ZERO for c in ind.children), ZERO)
        if ind.points is not None and total != ind.points:
            parts = " + ".join(f"{c.points}" if c.points is not None else "?" for c in ind.children)
            out.append(Problem(POINTS_MISMATCH, _("'{id}' {name} has {points} points, but its children add up to "
                                                  "{sum} ({parts})").format(id=ind.id, name=ind.name, points=ind.points,
                                                                           sum=total, parts=parts),
                               ind.src, ind.at + ("points",)))
        if ind.rules:
            out.append(Problem(RULE_PARAMS, _("'{id}' has children and a rule; rules belong on leaf "
                                              "indicators").format(id=ind.id), ind.src, ind.rules[0].at))
        return out
    if not ind.rules and "rule" not in ind.invalid:
        out.append(Problem(RULE_PARAMS, _("leaf indicator '{id}' {name} has no 'rule'").format(id=ind.id,
                                                                                            name=ind.name),
                           ind.src, ind.at, on="key"))
    defaults = [r for r in ind.rules if r.when is None]
    if len(defaults) > 1:
        out.append(Problem(RULE_PARAMS, _("'{ind}' has {n} rule variants without 'when'; only one can be the "
                                          "default").format(ind=ind.id, n=len(defaults)), ind.src, defaults[1].at))
    for rule in ind.rules:
        kind = REGISTRY[rule.kind]
        for message in kind.check_params(rule, ind):
            message, sub = message if isinstance(message, tuple) else (message, ())
            out.append(Problem(RULE_PARAMS, _("'{id}' {kind}: {message}").format(id=ind.id, kind=rule.kind,
                                                                                message=message),
                               rule.src, rule.at + tuple(sub)))
        if kind.uses_points and ind.points is None and ind.section != "main" and "points" not in ind.invalid:
            out.append(Problem(RULE_PARAMS, _("'{id}' {kind}: needs 'points' on the indicator (what the rule "
                                              "earns)").format(id=ind.id, kind=rule.kind),
                               rule.src, rule.at + ("kind",), on="key"))
        if ind.section == "main" and rule.kind in ("threshold", "rank"):
            out.append(Problem(RULE_PARAMS, _("'{id}': a {kind} rule belongs in the bonus or penalty "
                                              "section").format(id=ind.id, kind=rule.kind),
                               rule.src, rule.at + ("kind",)))
    return out


def scheme_selectors(scheme: Scheme) -> list[Selector]:
    """Every selector of a scheme: applies_to, rule variants' when, items' applies_to, ranking categories."""
    selectors: list[Selector] = []
    for ind in scheme.all_indicators():
        if ind.applies_to:
            selectors.append(ind.applies_to)
        for rule in ind.rules:
            if rule.when:
                selectors.append(rule.when)
            selectors.extend(item["applies_to"] for item in rule.params.get("items") or []
                             if isinstance(item, dict) and isinstance(item.get("applies_to"), Selector))
    if scheme.ranking:
        selectors.extend(c.selector for c in scheme.ranking.categories)
    return selectors


def _check_selectors_tags(scheme: Scheme, out: list[Problem]) -> None:
    if not scheme.tags:
        return
    for selector in scheme_selectors(scheme):
        for i, tag in enumerate(selector.tags):
            if tag not in scheme.tags:
                out.append(Problem(UNKNOWN_REFERENCE, _("tag '{tag}' is not declared in the scheme's "
                                                        "`tags`{hint}").format(tag=tag,
                                                                               hint=_suggest(tag, scheme.tags)),
                                   selector.src, selector.at + ("tags", i)))


# --- unit sets ------------------------------------------------------------------------

def check_unit_set(unit_set: UnitSet) -> list[Problem]:
    out: list[Problem] = []
    by_id: dict[str, Unit] = {}
    for unit in unit_set.units:
        if unit.id in by_id:
            out.append(Problem(DUPLICATE_ID, _("unit id '{id}' is already used by {name}").format(
                id=unit.id, name=by_id[unit.id].name), unit.src, unit.at + ("id",)))
        else:
            by_id[unit.id] = unit
        if unit_set.types and unit.type not in unit_set.types:
            out.append(Problem(BAD_VALUE, _("unit type '{type}' is not one of the set's types ({types}){hint}").format(
                type=unit.type, types=listed(unit_set.types), hint=_suggest(unit.type, unit_set.types)),
                unit.src, unit.at + ("type",)))
    for unit in unit_set.units:
        if unit.parent and unit.parent not in by_id:
            out.append(Problem(UNKNOWN_REFERENCE, _("parent '{parent}' of {name} is not a unit of this "
                                                    "set{hint}").format(parent=unit.parent, name=unit.name,
                                                                        hint=_suggest(unit.parent, by_id)),
                               unit.src, unit.at + ("parent",)))
    reported: set[str] = set()
    for unit in unit_set.units:
        chain = [unit.id]
        current = unit
        while current.parent and current.parent in by_id:
            if current.parent in chain:
                if current.parent not in reported:
                    reported.update(chain)
                    out.append(Problem(PARENT_CYCLE, _("units' parents form a cycle: {cycle}").format(
                        cycle=" → ".join(chain + [current.parent])), unit.src, unit.at + ("parent",)))
                break
            chain.append(current.parent)
            current = by_id[current.parent]
    return out


# --- rounds ---------------------------------------------------------------------------

def check_round(round_: Round) -> list[Problem]:
    out = check_round_context(round_)
    if round_.unit_set is None:
        return out
    units = round_.unit_set.by_id()
    for unit_id in sorted(round_.observations):
        out.extend(check_observation_file(round_, units, round_.observations[unit_id]))
    from gapctl.scoring.check_rollups import check_channel_file
    for unit_id in sorted(round_.channels):
        for channel_id in sorted(round_.channels[unit_id]):
            out.extend(check_channel_file(round_, units, round_.channels[unit_id][channel_id]))
    out.extend(check_appeals(round_, units))
    out.extend(check_missing_observations(round_))
    return out


def check_round_context(round_: Round) -> list[Problem]:
    """What does not depend on observation files: schemes against units, external sources."""
    out: list[Problem] = []
    unit_set = round_.unit_set
    units = unit_set.by_id() if unit_set else {}
    for scheme in round_.schemes.values():
        if not scheme.index:
            scheme.index = {i.id: i for i in scheme.all_indicators()}
        _check_named_units(scheme, units, unit_set, out)
        declared = {e.id for e in scheme.external}
        for ref in round_.external_refs:
            if ref.id not in declared:
                out.append(Problem(UNKNOWN_REFERENCE, _("external source '{id}' is not declared in scheme "
                                                        "'{scheme}' (`external`)").format(id=ref.id, scheme=scheme.id),
                                   ref.src, ref.at))
    if unit_set and round_.schemes:
        for unit in unit_set.units:
            if round_.scheme_for(unit) is None and all(a.scheme in round_.schemes for a in round_.assignments):
                out.append(Problem(UNIT_WITHOUT_SCHEME, _("no scheme of the round scores units of type '{type}' "
                                                          "({name})").format(type=unit.type, name=unit.name),
                                   unit.src, unit.at + ("type",)))
    from gapctl.scoring.check_rollups import check_round_graph
    out.extend(check_round_graph(round_))
    if round_.stages.get("appeal_working_days") is not None:
        out.extend(calendar_problems(Path(round_.directory).parent.parent))
    for data in round_.external.values():
        for d in data.deductions:
            if units and d.unit not in units:
                out.append(Problem(UNKNOWN_REFERENCE, _("unit '{unit}' is not in unit set '{set}'{hint}").format(
                    unit=d.unit, set=round_.units_id, hint=_suggest(d.unit, units)), d.src, d.at + ("unit",)))
    return out


def calendar_problems(root: Path) -> list[Problem]:
    """What is wrong with the repository's calendars/ files, each at its file, line and column."""
    import re

    from gapctl.data.workdays import load_calendar_files

    out = []
    for message in load_calendar_files(root)[1]:
        found = re.match(r"(.+?):(\d+):(\d+): (.*)", message, re.S)
        if found:
            location = Location(found.group(1), int(found.group(2)), int(found.group(3)))
            out.append(Problem(BAD_CALENDAR, found.group(4), location=location))
        else:
            out.append(Problem(BAD_CALENDAR, message, location=Location(str(Path(root) / "calendars"))))
    return out


def check_observation_file(round_: Round, units: dict[str, Unit], obs: Observations,
                           evidence_files: list[Any] | None = None, known: set[int] | None = None) -> list[Problem]:
    """One observation file: its unit exists, and its entries fit the unit's scheme.

    With `evidence_files`, evidence `file:` entries are collected there instead of checked
    (the cache keeps what depends on the file's bytes; the evidence files are checked live).
    `known`: see check_observations.
    """
    unit = units.get(obs.unit)
    if unit is None:
        return [unit_not_in_set(_("observations for unit '{unit}', which is not in unit set '{set}'{hint}"),
                                round_, units, obs)]
    scheme = round_.scheme_for(unit)
    return check_observations(round_, scheme, unit, obs, evidence_files, known) if scheme is not None else []


def unit_not_in_set(message: str, round_: Round, units: dict[str, Unit], obs: Observations) -> Problem:
    """A file's `unit:` names no unit of the round's unit set (an observation or a channel file): `message`,
    translated, gets the unit, the set and the closest ids."""
    return Problem(UNKNOWN_REFERENCE, message.format(unit=obs.unit, set=round_.units_id,
                                                     hint=_suggest(obs.unit, units)), obs.src, ("unit",))


def check_missing_observations(round_: Round) -> list[Problem]:
    out: list[Problem] = []
    for unit in round_.unit_set.units if round_.unit_set else []:
        scheme = round_.scheme_for(unit)
        if unit.id not in round_.observation_files and scheme is not None \
                and any(ind.section == "main" for ind in scheme.leaves()):  # a scheme of groups only: no file
            out.append(Problem(NO_OBSERVATIONS, _("unit '{id}' {name} has no observation file "
                                                  "(observations/{id}.yaml)").format(id=unit.id, name=unit.name),
                               round_.src, ("units",)))
    return out


def appeal_deadline(round_: Round) -> tuple[Any, Any]:
    """(preliminary date, last day to appeal): `appeal_working_days` working days of China's calendar after
    the preliminary result, or after the last day of its feedback (`preliminary_end`) when that runs over
    several days (汕尾: 10月15日至10月19日反馈, then 3 working days)."""
    import datetime as dt

    prelim, days = round_.stages.get("preliminary"), round_.stages.get("appeal_working_days")
    if prelim is None or days is None:
        return prelim, None
    start = round_.stages.get("preliminary_end") or prelim
    try:
        from gapctl.data.workdays import WorkCalendar, load_calendar_files
        files, _messages = load_calendar_files(round_.directory.parent.parent)
        return prelim, WorkCalendar(files).add_working_days(start, days)
    except ImportError:  # the calendar module is optional: fall back to Monday–Friday
        day, left = start, days
        while left:
            day += dt.timedelta(days=1)
            left -= day.weekday() < 5
        return prelim, day


def check_appeals(round_: Round, units: dict[str, Unit]) -> list[Problem]:
    """Appeals name a real observation, were filed inside the window, and decisions name a reviewer."""
    out: list[Problem] = []
    if not round_.appeals:
        return out
    prelim, deadline = appeal_deadline(round_)
    for unit_id in sorted(round_.appeals):
        unit = units.get(unit_id)
        for appeal in round_.appeals[unit_id]:
            if unit is None:
                out.append(Problem(UNKNOWN_REFERENCE, _("appeal by unit '{unit}', which is not in unit set "
                                                        "'{set}'{hint}").format(unit=unit_id, set=round_.units_id,
                                                                                hint=_suggest(unit_id, units)),
                                   appeal.src, ("unit",)))
                break
            scheme = round_.scheme_for(unit)
            ind = scheme.index.get(appeal.indicator) if scheme else None
            if scheme is not None and ind is None:
                out.append(Problem(UNKNOWN_REFERENCE, _("appeal against indicator '{ind}', which is not in scheme "
                                                        "'{scheme}'{hint}").format(
                                       ind=appeal.indicator, scheme=scheme.id,
                                       hint=_suggest(appeal.indicator, scheme.index)),
                                   appeal.src, appeal.at + ("indicator",)))
            if prelim is not None and appeal.filed < prelim:
                out.append(Problem(APPEAL_OUT_OF_WINDOW, _("appeal filed on {filed}, before the preliminary result "
                                                           "of {preliminary}").format(filed=appeal.filed,
                                                                                      preliminary=prelim),
                                   appeal.src, appeal.at + ("filed",)))
            elif deadline is not None and appeal.filed > deadline and round_.stages.get("preliminary_end"):
                out.append(Problem(APPEAL_OUT_OF_WINDOW, _("appeal filed on {filed}, after the window closed on "
                                                           "{deadline} ({days} working days after the feedback of "
                                                           "preliminary results ended on {end})").format(
                                       filed=appeal.filed, deadline=deadline,
                                       days=round_.stages.get("appeal_working_days"),
                                       end=round_.stages["preliminary_end"]),
                                   appeal.src, appeal.at + ("filed",)))
            elif deadline is not None and appeal.filed > deadline:
                out.append(Problem(APPEAL_OUT_OF_WINDOW, _("appeal filed on {filed}, after the window closed on "
                                                           "{deadline} ({days} working days after the preliminary "
                                                           "result of {preliminary})").format(
                                       filed=appeal.filed, deadline=deadline,
                                       days=round_.stages.get("appeal_working_days"), preliminary=prelim),
                                   appeal.src, appeal.at + ("filed",)))
            if appeal.outcome and not (appeal.reviewer and appeal.reviewer.strip()):
                out.append(Problem(DECISION_WITHOUT_REVIEWER, _("the decision on the appeal against '{ind}' names no "
                                                                "reviewer").format(ind=appeal.indicator),
                                   appeal.src, appeal.at + ("decision",), on="key"))
            if appeal.result is not None and ind is not None and ind.is_leaf:
                rule = ind.rule_for(unit)
                if rule is not None:
                    out.extend(p for p in _check_value(ind, rule, unit, appeal.result, scheme.invalid)
                               if p.kind is VALUE_DOES_NOT_FIT)
    return out


def _check_late(round_: Round, scheme: Scheme, result: Any) -> list[Problem]:
    due = round_.stages.get("evidence_due")
    out: list[Problem] = []
    if due is None:
        return out
    for ev in result.evidence:
        when = evidence_date(ev)
        if when is not None and when > due:
            message = (_("'{ind}': evidence dated {date}, after the deadline of {due}; it does not count")
                       if scheme.late_evidence == "ignore" else
                       _("'{ind}': evidence dated {date}, after the deadline of {due}; it is counted "
                         "(late_evidence: warn)"))
            out.append(Problem(LATE_EVIDENCE, message.format(ind=result.indicator, date=when, due=due),
                               ev.src, ev.at + ("submitted",)))
    return out


def _check_named_units(scheme: Scheme, units: dict[str, Unit], unit_set: UnitSet | None,
                       out: list[Problem]) -> None:
    if not units:
        return
    for selector in scheme_selectors(scheme):
        for i, name in enumerate(selector.units):
            if name not in units:
                out.append(Problem(UNKNOWN_REFERENCE, _("unit '{unit}' is not in unit set '{set}'{hint}").format(
                    unit=name, set=unit_set.id if unit_set else "?", hint=_suggest(name, units)),
                    selector.src, selector.at + ("units", i)))


def check_observations(round_: Round, scheme: Scheme, unit: Unit, obs: Observations,
                       evidence_files: list[Any] | None = None, known: set[int] | None = None) -> list[Problem]:
    """One unit's file against its scheme: references, values, reasons, and what is missing.

    `known`: entries (their index in the file's `results`) whose own problems the caller knows already —
    an import's check of a file it edited, where these entries are the file's before, untouched: what
    each says of itself is left out; they still count for what looks across entries (what is missing).
    The caller makes sure no entry's problems depend on the others' (no panel, no indicator observed
    twice: gapctl.io.import_check.known_entries)."""
    if known is not None and scheme.panel is not None:
        known = None
    out: list[Problem] = []
    index = scheme.index
    seen: dict[str, int] = {}  # evaluator entries, to catch the same indicator observed twice
    observed: set[str] = set()
    assessed: set[tuple[str, str | None]] = set()  # a panel of assessors: (indicator, observer)
    panels: dict[str, list[Any]] = {}
    measures = {m.id for m in scheme.measures}
    for key in obs.measures:
        if key not in measures:
            out.append(Problem(UNKNOWN_REFERENCE, _("measure '{measure}' is not declared in scheme "
                                                    "'{scheme}'{hint}").format(measure=key, scheme=scheme.id,
                                                                               hint=_suggest(key, measures)),
                               obs.src, ("measures", key), on="key"))
    read = None
    if obs.facts:
        from gapctl.scoring.check_constructs import fact_names
        read = fact_names(scheme)
        for key in obs.facts:
            if key not in read:
                hint = _suggest(key, read) or _("; facts are read by fact(…) and count(…) in formulas")
                out.append(Problem(UNKNOWN_REFERENCE, _("no condition of scheme '{scheme}' reads fact "
                                                        "'{fact}'{hint}").format(scheme=scheme.id, fact=key, hint=hint),
                                   obs.src, ("facts", key), on="key"))
    for result in obs.results:
        ind = index.get(result.indicator)
        if known is not None and result.at[1] in known:
            if ind is not None:  # as below for an entry observed once, without its own problems
                if result.source == "evaluator":
                    seen.setdefault(result.indicator, result.at[1])
                if result.source != "self":
                    observed.add(result.indicator)
            continue
        if ind is None:
            out.append(Problem(UNKNOWN_REFERENCE, _("indicator '{ind}' is not in scheme '{scheme}'{hint}").format(
                ind=result.indicator, scheme=scheme.id, hint=_suggest(result.indicator, index)),
                result.src, result.at + ("indicator",)))
            continue
        if result.source != "evaluator":
            pass  # self-assessments, reviews and appeal decisions sit beside the evaluator's entry
        elif scheme.panel is not None:  # several assessors: one entry each, told apart by `observer`
            who = (result.indicator, result.observer)
            if who in assessed:
                out.append(Problem(DUPLICATE_ID, _("'{observer}' assessed indicator '{ind}' twice in this "
                                                   "file").format(observer=result.observer or _("(no observer)"),
                                                                  ind=result.indicator),
                                   result.src, result.at + ("indicator",)))
                continue
            assessed.add(who)
            panels.setdefault(result.indicator, []).append(result)
        elif result.indicator in seen:
            out.append(Problem(DUPLICATE_ID, _("indicator '{ind}' is observed twice in this file (first as entry "
                                               "{n})").format(ind=result.indicator, n=seen[result.indicator] + 1),
                               result.src, result.at + ("indicator",)))
            continue
        if result.source == "evaluator":
            seen.setdefault(result.indicator, result.at[1] if len(result.at) > 1 else 0)
        if result.source != "self":  # a self-assessment is not an observation
            observed.add(result.indicator)
        if not ind.is_leaf:
            out.append(Problem(VALUE_DOES_NOT_FIT, _("'{id}' {name} is a group; record its sub-indicators "
                                                     "instead").format(id=ind.id, name=ind.name),
                               result.src, result.at + ("indicator",)))
            continue
        if not ind.applies(unit):
            if result.state != "n/a":
                out.append(Problem(NOT_APPLICABLE, _("'{id}' {name} does not apply to {unit} ({scope}); the entry "
                                                     "is ignored").format(id=ind.id, name=ind.name, unit=unit.name,
                                                                          scope=ind.scope or _("see applies_to")),
                                   result.src, result.at + ("indicator",)))
            continue
        rule = ind.rule_for(unit)
        if rule is None:
            continue
        if result.findings and rule.kind != "clauses":  # findings outside clauses are read by formulas
            from gapctl.scoring.check_constructs import fact_names
            read = read if read is not None else fact_names(scheme)
            for key in result.findings:
                if key not in read:
                    out.append(Problem(UNKNOWN_REFERENCE, _("no clause or condition of scheme '{scheme}' reads "
                                                            "finding '{finding}' of '{ind}'{hint}").format(
                                           scheme=scheme.id, finding=key, ind=ind.id, hint=_suggest(key, read)),
                                       result.src, result.at + ("findings", key), on="key"))
        out.extend(_check_value(ind, rule, unit, result, scheme.invalid))
        out.extend(_check_evidence(round_, result, evidence_files))
        out.extend(_check_late(round_, scheme, result))
    if scheme.panel is not None:
        out.extend(_check_panels(scheme, unit, obs, panels))
    missing = [ind for ind in scheme.leaves()
               if ind.section == "main" and ind.applies(unit) and ind.id not in observed]
    pending = [r.indicator for r in obs.results if r.state == "pending" and r.source != "self"]
    pending += [c.source for c in scheme.components
                if c.source.startswith("measure:") and c.source[8:] not in obs.measures]
    if missing or pending:
        ids = [i.id for i in missing] + pending
        shown = listed(ids[:8]) + (" …" if len(ids) > 8 else "")
        out.append(Problem(NOT_OBSERVED, _("{n} applicable indicator(s) not yet observed for {unit}: "
                                           "{ids}").format(n=len(ids), unit=unit.name, ids=shown),
                           obs.src, ("results",), on="key"))
    return out


def _check_panels(scheme: Scheme, unit: Unit, obs: Observations, panels: dict[str, list[Any]]) -> list[Problem]:
    """Each indicator has as many assessors as the scheme asks; assessors too far apart need a review."""
    from gapctl.scheme.constructs.panels import combine
    from gapctl.scheme.rules import REGISTRY as KINDS

    panel = scheme.panel
    assert panel is not None
    out = []
    reviewed = {r.indicator for r in obs.results if r.source in ("review", "appeal")}
    for ind_id, entries in panels.items():
        ind = scheme.index.get(ind_id)
        if ind is None or not ind.is_leaf or ind_id in reviewed:
            continue
        counted = [e for e in entries if e.state not in ("pending", "n/a")]
        if len(counted) < panel.at_least:
            out.append(Problem(NOT_OBSERVED, _("'{id}' {name}: {n} assessor(s), the scheme asks for "
                                               "{wanted}").format(id=ind_id, name=ind.name, n=len(counted),
                                                                  wanted=panel.at_least),
                               entries[0].src, entries[0].at + ("indicator",)))
            continue
        rule = ind.rule_for(unit)
        if rule is None or panel.tolerance is None or ind_id in scheme.invalid:
            continue
        kind = KINDS[rule.kind]
        try:
            figures = [kind.earned(e, rule, ind, unit, env=None) if kind.needs_env else kind.earned(e, rule, ind, unit)
                       for e in counted]
        except Exception:  # a value that does not fit was reported with its entry
            continue
        if combine(panel, figures)[1]:
            shown = "、".join(str(f) for f in figures)
            out.append(Problem(NOT_OBSERVED, _("'{id}' {name}: the assessors' figures ({figures}) are more than "
                                               "{tolerance} apart; a review (source: review) decides it").format(
                                   id=ind_id, name=ind.name, figures=shown, tolerance=panel.tolerance),
                               entries[0].src, entries[0].at + ("indicator",)))
    return out


def _check_value(ind: Indicator, rule, unit: Unit, result, scheme_invalid: set[str]) -> list[Problem]:
    out: list[Problem] = []
    kind = REGISTRY[rule.kind]
    where = result.at
    if kind.value_field is None:
        given = result.value_fields() + (["result"] if result.state in ("done", "not-done") else [])
        if given:  # a note and evidence are welcome; a value would be ignored
            return [Problem(VALUE_DOES_NOT_FIT, _("'{id}' is computed by its {kind} rule; '{field}' would be ignored "
                                                  "(keep only note and evidence)").format(id=ind.id, kind=rule.kind,
                                                                                          field=given[0]),
                            result.src, where + (given[0],), on="key")]
        return out
    extra = [f for f in result.value_fields() if f != kind.value_field]
    for field_name in extra:
        out.append(Problem(VALUE_DOES_NOT_FIT, _("'{id}' is scored by a {kind} rule, which reads '{reads}', not "
                                                 "'{field}'").format(id=ind.id, kind=rule.kind, reads=kind.value_field,
                                                                     field=field_name),
                           result.src, where + (field_name,), on="key"))
    if result.state in ("n/a", "pending", "no-evidence") or result.invalid:
        return out  # a value that could not be read was reported when loading
    value_at = where + (kind.value_field,) if _has_value(result, kind.value_field) else where
    for message in kind.check_value(result, rule, ind, unit):
        out.append(Problem(VALUE_DOES_NOT_FIT, _("'{id}' ({kind}): {message}").format(id=ind.id, kind=rule.kind,
                                                                                   message=message),
                           result.src, value_at))
    if out or ind.id in scheme_invalid:
        return out
    earned = kind.earned(result, rule, ind, unit, env=None) if kind.needs_env else kind.earned(result, rule, ind, unit)
    lost = (ind.points is not None and earned < ind.points) if ind.section == "main" else earned < 0
    if lost and result.source != "self" and not (result.reason and result.reason.strip()):
        out.append(Problem(MISSING_REASON, _("'{id}' {name}: points lost without a 'reason' (扣分理由)").format(
            id=ind.id, name=ind.name), result.src, where))
    return out


def _has_value(result, field_name: str) -> bool:
    attr = "state" if field_name == "result" else field_name
    return getattr(result, attr, None) is not None


def _check_evidence(round_: Round, result, evidence_files: list[Any] | None = None) -> list[Problem]:
    out: list[Problem] = []
    for ev in result.evidence:
        if not ev.url and not ev.file:
            out.append(Problem(MISSING_KEY, _("evidence needs a 'url' or a 'file'"), ev.src, ev.at))
            continue
        if ev.url and not ev.url.lower().startswith(("http://", "https://")):
            out.append(Problem(BAD_VALUE, _("evidence url '{url}' must start with http:// or https://").format(
                url=ev.url), ev.src, ev.at + ("url",)))
        if ev.file and evidence_files is not None:
            evidence_files.append(ev)
        elif ev.file:
            out.extend(check_evidence_file(round_.directory, ev, round_.tree))
    return out


def check_evidence_file(directory: Path, ev, tree=None) -> list[Problem]:
    """An evidence `file` is a file under the round, reached without leaving it, with the recorded sha256.

    Leaving it means an absolute path, '..' or a symbolic link whose target is outside the round:
    evidence must travel with the round's repository, and validating must not read elsewhere.
    """
    import os

    tree = tree or DiskTree()
    at = ev.at + ("file",)
    shown = ev.file.replace("\x00", "\\u0000")
    shown = shown if len(shown) <= 80 else shown[:60] + "…"

    def refuse(why: str) -> list[Problem]:
        return [Problem(EVIDENCE_MISSING, _("evidence file '{file}' {why}").format(file=shown, why=why), ev.src, at)]

    if "\x00" in ev.file:
        return refuse(_("cannot be a file name: it contains a NUL character"))
    if len(ev.file.encode("utf-8")) > 1024 or any(len(part.encode("utf-8")) > 255 for part in Path(ev.file).parts):
        return refuse(_("cannot be a file name: it is too long"))
    rel = Path(ev.file)
    if rel.is_absolute():
        return refuse(_("is an absolute path, outside the round directory; store evidence under the round and give "
                        "its path there (like evidence/unit/file.pdf)"))
    base = directory.resolve()
    try:
        target = (directory / rel).resolve()
    except (OSError, RuntimeError):  # RuntimeError: a loop of symbolic links (Python < 3.13)
        return refuse(_("cannot be resolved: its symbolic links form a loop"))
    if target != base and base not in target.parents:
        link = directory
        for part in rel.parts:
            link = link / part
            if link.is_symlink() and link == directory / rel:
                return refuse(_("is a symbolic link to {target}, outside the round; store a copy of the file under "
                                "the round instead").format(target=os.readlink(link)))
            if link.is_symlink():
                return refuse(_("is reached through the symbolic link '{link}' (to {target}), which leads outside "
                                "the round; store a copy under the round").format(
                    link=link.relative_to(directory), target=os.readlink(link)))
        return refuse(_("is outside the round directory ('..' leaves it); store evidence under the round"))
    try:
        found = tree.is_file(target)
    except OSError as err:
        return refuse(_("cannot be read: {error}").format(error=err.strerror or err))
    if not found:
        if (directory / rel).is_symlink():
            return refuse(_("is a symbolic link to {target}, which does not exist or loops back on itself").format(
                target=os.readlink(directory / rel)))
        return refuse(_("does not exist under {directory}/").format(directory=directory.name))
    if ev.sha256:
        try:  # the path as written, not resolved: gapctl.data.reads applies its rule to links (none in CI)
            data = tree.read_bytes(directory / rel)
        except OSError as err:
            return refuse(_("cannot be read: {error}").format(error=err.strerror or err))
        digest = hashlib.sha256(data).hexdigest()
        if digest != ev.sha256.lower():
            return [Problem(EVIDENCE_HASH, _("evidence file '{file}' has sha256 {found}…, not the recorded "
                                             "{recorded}…; the file changed after it was recorded").format(
                                file=ev.file, found=digest[:12], recorded=ev.sha256[:12]),
                            ev.src, ev.at + ("sha256",))]
    return []
