"""The reports' method section (计分方法和假定): how each scheme computes, whether it ranks, and every
assumption the results rest on.

Contract. `method(scored, lang)` gives plain text (no markup) for every renderer: the Markdown (and
so HTML and PDF) overview and the Word document take it from here, so they say the same. For each
scheme of the round: its source, the base and total formulas, its grade bands, its ranking (published,
none, or shown on request and so not published); then every `assumed` mark of the round, its external
deductions, its unit set and its schemes (gapctl.data.assumptions), by file, or a sentence saying there
are none. It reads the scores' round and schemes only; it changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gapctl.data import assumptions as A
from gapctl.i18n import N_, in_lang
from gapctl.labels import written
from gapctl.scheme.rules import num
from gapctl.scoring.score import RoundScore

FILES = {"round": N_("This round (round.toml)"), "external": N_("External deductions {id}"),
         "units": N_("Unit set {id}"), "scheme": N_("Scheme {id}"), "calendar": N_("Calendar {id}")}


@dataclass
class SchemeMethod:
    title: str
    facts: list[tuple[str, str]]  # (label, text)


@dataclass
class Method:
    schemes: list[SchemeMethod] = field(default_factory=list)
    assumptions: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)  # (file, [(what, why)])


def method(scored: RoundScore, lang: str) -> Method:
    from gapctl.scoring.show import ranking_text, round_assumptions, scoring_pairs

    out = Method()
    seen: dict[str, object] = {}
    for s in scored.units:
        seen.setdefault(s.scheme.id, s.scheme)
    order = [a.scheme for a in scored.round.assignments]
    for scheme in sorted(seen.values(), key=lambda x: order.index(x.id) if x.id in order else len(order)):
        facts = []
        if scheme.source:
            facts.append((in_lang("Source", lang), scheme.source))
        words = {"base": in_lang("Base score", lang), "total": in_lang("Total score", lang)}
        for key, text in scoring_pairs(scheme, lang):
            if key in words:
                facts.append((words[key], text))
        if scheme.grades:
            bands = [in_lang("{grade} from {min}", lang).format(grade=written(g.label, g.label_en, lang),
                                                                  min=num(g.min)) for g in scheme.grades]
            facts.append((in_lang("Grades", lang), in_lang(", ", lang).join(bands)))
        ranking = ranking_text(scheme, lang)
        if not scheme.publishes_ranking and scored.ranks_asked:
            ranking = in_lang("{ranking}; the ranks in this report were computed on request and are not "
                              "published", lang).format(ranking=ranking)
        facts.append((in_lang("Ranking", lang), ranking))
        if scheme.conversion is not None and scheme.conversion.points is not None:
            facts.append((in_lang("Performance points", lang), in_lang(
                "total ÷ {scale} × {points} points of a larger assessment", lang).format(
                scale=num(scheme.scoring.scale), points=num(scheme.conversion.points))))
        if scheme.conversion is not None and scheme.conversion.passdown_multiplier is not None:
            sources = "、".join(e.name for e in scheme.external if e.mode == "passdown") or "—"
            facts.append((in_lang("Passed-down deduction", lang), in_lang(
                "× {factor} of the points in {sources}, apart from the total", lang).format(
                factor=num(scheme.conversion.passdown_multiplier), sources=sources)))
        out.schemes.append(SchemeMethod(f"{written(scheme.title, scheme.title_en, lang)} ({scheme.id})", facts))
    for kind, ident, found in round_assumptions(scored.round):
        out.assumptions.append((in_lang(FILES[kind], lang).format(id=ident),
                                [(A.label(a, lang), a.note or in_lang("(no note)", lang)) for a in found]))
    return out
