"""The report's robustness section (`gapctl report --robustness`): how far ranks and grades move.

Given the results of gapctl.scoring.robustness for the schemes of a round (the command line draws them;
nothing here draws), the overview gets one section: what was moved and how often, then per
scheme a rank-interval chart (inline SVG, gapctl.report.svg.rank_intervals) and one sentence per
unit whose rank or grade is not robust (its 5–95% interval is not its rank, or its grade changes
in some draw), and the weight that moves the ranking most. Off by default: a report without it
is as fast and byte-stable as before; with it, the same seed gives the same bytes.
"""

from __future__ import annotations

from typing import Any

from gapctl.escape import md
from gapctl.figures import figure
from gapctl.i18n import in_lang
from gapctl.labels import name_in, pair, written
from gapctl.report import svg
from gapctl.scoring.robustness import sentence, unpublished
from gapctl.scoring.score import RoundScore


def section(scored: RoundScore, results: list[Any], lang: str, charts: dict[str, str]) -> list[str]:
    """The section's Markdown lines; its charts are added to `charts` (robustness-N.svg)."""
    if not results:
        return []
    settings = results[0].settings
    heading = in_lang("Robustness of ranks and grades", lang)
    moved = [in_lang("every top-level weight moved by up to ±{weights} and renormalised", lang).format(
        weights=f"{figure(settings.weights * 100, 0)}%")] if settings.weights else []
    if settings.grades:
        moved.append(in_lang("expert grades by one step down or up", lang))
    if settings.assessors:
        moved.append(in_lang("where several assessors scored an indicator, one of them", lang))
    joiner = "；" if lang == "zh" else "; "
    lines = [f"## {heading}", "",
             in_lang("Each unit was scored again in {draws} draws (seed {seed}): {moved}. The chart shows each "
                     "unit's rank as computed, its median rank and the ranks it took in 90 per cent of the draws "
                     "(5th to 95th percentile).", lang).format(draws=settings.draws, seed=settings.seed,
                                                                moved=joiner.join(moved) or "—"), ""]
    schemes = {s.scheme.id: s.scheme for s in scored.units}
    names = {s.unit.id: name_in(s.unit, lang) for s in scored.units}
    grades = {s.unit.id: written(s.grade, s.grade_en, lang) for s in scored.units}
    legend = (in_lang("ranks in 90 per cent of draws", lang), in_lang("median rank", lang),
              in_lang("rank as computed", lang))
    for n, result in enumerate(results, start=1):
        units = sorted((u for u in result.units if u.rank is not None and u.ranks), key=lambda u: (u.rank, u.unit))
        if not units:
            continue
        title = in_lang("Ranks in the draws: {scheme}", lang).format(scheme=schemes[result.scheme].title)
        if len(results) > 1:
            lines += [f"### {md(schemes[result.scheme].title)}", ""]
        if not schemes[result.scheme].publishes_ranking:
            lines += [unpublished(lang), ""]
        rows = [(names[u.unit], u.rank, u.median, *u.interval, u.robust()) for u in units]
        most = max([len(result.units)] + [u.interval[1] for u in units])
        charts[f"robustness-{n}.svg"] = svg.rank_intervals(title, rows, most, legend)
        lines += [f"![{md(title)}](charts/robustness-{n}.svg)", ""]
        unstable = [u for u in units if not u.robust()]
        if not unstable:
            lines += [in_lang("Every unit's rank and grade held in 90 per cent of the draws.", lang), ""]
        for u in unstable:
            lines.append("- " + pair(md(names[u.unit]), md(sentence(u, names, grades, lang)), lang))
        if unstable:
            lines.append("")
        if result.sensitivity and result.sensitivity[0].shift > 0:
            top = result.sensitivity[0]
            lines += [in_lang("The weight that moves the ranking most: {indicator} (moved alone by ±{weights}, a "
                              "unit's rank moves by {shift} on average).", lang).format(
                indicator=md(f"{top.what} {top.name}"), weights=f"{figure(settings.weights * 100, 0)}%",
                shift=figure(top.shift, 2)), ""]
    return lines
