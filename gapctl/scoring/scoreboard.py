"""`gapctl score` output: one row per unit, as data (JSON, CSV) and as aligned text.

Ranks appear only for schemes that publish a ranking, or when asked for (`score --rank`); asked-for
ranks are labelled as not published (a line under the scheme's heading, `rank_published: false`
in JSON), since the office never ranked those units.

JSON keeps every value as written; the CSV and the text show bidi and control characters
(`gapctl.escape`) and the CSV keeps a spreadsheet from reading a name as a formula.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from gapctl.escape import csv_cell, csv_field, plain
from gapctl.figures import figure
from gapctl.i18n import in_lang
from gapctl.labels import label, name_in, written
from gapctl.scheme.rules import num
from gapctl.scoring.score import RoundScore, UnitScore
from gapctl.textwidth import table

COLUMNS = ("rank", "unit", "category", "applicable", "earned", "base", "bonus", "penalty",
           "external", "total", "grade", "flags")


def two(value: Decimal) -> str:
    """A computed figure for display: at most two decimals, half-up, no trailing zeros."""
    return figure(value, 2, trim=True)


def fixed(value: Decimal, places: int) -> str:
    """A rounded score as published: always `places` decimals (87.0, not 87), half-up."""
    return figure(value, places)


def total_text(score: UnitScore) -> str:
    """A unit's total as published, or "—" when a veto withheld it (`stop`)."""
    return fixed(score.total, score.scheme.scoring.places) if score.total is not None else "—"


def unit_row(score: UnitScore, ranked: bool = True) -> dict[str, Any]:
    """Everything `score` prints for a unit, as JSON-friendly values (numbers as text); `ranked`: its
    ranks are shown (else None)."""
    row: dict[str, Any] = {
        "scheme": score.scheme.id,
        "rank": score.rank if ranked else None,
        "category_rank": score.category_rank if ranked else None,
        "rank_published": score.scheme.publishes_ranking,
        "unit": score.unit.id,
        "name": score.unit.name,
        "type": score.unit.type,
        "category": score.category.id if score.category else None,
        "category_name": score.category.name if score.category else None,
        "applicable": num(score.applicable),  # unrounded: sums of exact points (base and total are rounded)
        "earned": num(score.earned),
        "base": fixed(score.base, score.scheme.scoring.places),
        "components": {k: (two(v) if v is not None else None) for k, v in score.components.items()},
        "bonus": num(score.bonus),
        "bonus_uncapped": num(score.bonus_raw),
        "penalty": num(score.penalty),
        "external": num(score.external),
        "total": fixed(score.total, score.scheme.scoring.places) if score.total is not None else None,
        "grade": score.grade,
        "flags": list(score.flags),
        "vetoes": [v.id for v in score.vetoed],
        "groups": {gid: {"value": num(g.value) if g.value is not None else None,
                         "members": [{"id": m.id, "name": m.name, "type": m.kind,
                                      "total": num(m.total) if m.total is not None else None, "vetoed": m.vetoed}
                                     for m in g.members]}
                   for gid, g in score.groups.items()},
        "pending": list(score.pending),
    }
    if score.performance_points is not None:
        row["performance_points"] = fixed(score.performance_points, 2)
    if score.passdown is not None:
        row["passdown"] = num(score.passdown)
    return row


def select(result: RoundScore, unit: str | None = None, by_category: bool = False) -> list[UnitScore]:
    """The units to print, in order: by rank where ranks are shown (within category with `by_category`),
    else in the unit set's order."""
    scores = result.in_rank_order([s for s in result.units if unit is None or s.unit.id == unit])
    if by_category:
        scheme_order = [a.scheme for a in result.round.assignments]
        listed = {s.unit.id: n for n, s in enumerate(scores)}

        def key(s: UnitScore) -> tuple[int, int, int, int]:
            cats = [c.id for c in s.scheme.ranking.categories] if s.scheme.ranking else []
            position = cats.index(s.category.id) if s.category and s.category.id in cats else len(cats)
            scheme_pos = scheme_order.index(s.scheme.id) if s.scheme.id in scheme_order else 0
            rank = (s.category_rank or s.rank or 0) if result.ranks_shown(s.scheme) else 0
            return (scheme_pos, position, rank, listed[s.unit.id])
        scores.sort(key=key)
    return scores


def ranking_word(result: RoundScore, scheme: Any) -> str:
    """published (the scheme publishes a ranking), asked (shown though not published) or none."""
    return "published" if scheme.publishes_ranking else "asked" if result.ranks_asked else "none"


def json_data(result: RoundScore, scores: list[UnitScore]) -> dict[str, Any]:
    round_ = result.round
    schemes = {s.scheme.id: s.scheme for s in result.units}
    return {
        "round": round_.id, "title": round_.title, "example": round_.example,
        "schemes": [a.scheme for a in round_.assignments],
        "ranking": {ident: ranking_word(result, scheme) for ident, scheme in schemes.items()},
        "units": [unit_row(s, result.ranks_shown(s.scheme)) for s in scores],
    }


_CSV_TEXT = {"scheme", "unit", "name", "type", "category", "category_name", "grade", "flags"}  # not numbers


def csv_text(scores: list[UnitScore], result: RoundScore | None = None) -> str:
    fields = ["scheme", "rank", "category_rank", "unit", "name", "type", "category", "applicable", "earned",
              "base", "bonus", "penalty", "external", "total", "grade", "flags", "performance_points",
              "passdown", "pending"]
    lines = [",".join(fields)]
    for score in scores:
        ranked = result.ranks_shown(score.scheme) if result is not None else score.scheme.publishes_ranking
        row = unit_row(score, ranked)
        row["flags"] = ";".join([f"veto:{v}" for v in row["vetoes"]] + row["flags"])
        row["pending"] = len(row["pending"])
        cells = [csv_cell(row.get(key)) if key in _CSV_TEXT else row.get(key) for key in fields]
        lines.append(",".join(csv_field("" if cell is None else str(cell)) for cell in cells))
    return "".join(line + "\n" for line in lines)


def text_lines(result: RoundScore, scores: list[UnitScore], lang: str, by_category: bool = False) -> list[str]:
    """Aligned tables, one per scheme of the round, Chinese names aligned."""
    lines: list[str] = []
    round_ = result.round
    lines.append(f"{plain(round_.title)} ({plain(round_.id)})")
    if round_.example:
        lines.append(label("example", lang))
    for scheme_id in [a.scheme for a in round_.assignments]:
        group = [s for s in scores if s.scheme.id == scheme_id]
        if not group:
            continue
        scheme = group[0].scheme
        lines += ["", in_lang("Scheme: {title} ({id})", lang).format(title=plain(scheme.title), id=plain(scheme.id))]
        has_category = any(s.category for s in group)
        has_external = any(s.external for s in group)
        has_bonus = scheme.bonus is not None
        has_penalty = scheme.penalty is not None
        has_components = bool(scheme.components)
        ranked = result.ranks_shown(scheme)
        if ranked and not scheme.publishes_ranking:
            lines.append(in_lang("Ranks computed by gapctl on request: this scheme publishes no ranking.", lang))
        columns = ["rank", "unit"] if ranked else ["unit"]
        if has_category:
            columns = (["category_rank", "rank", "unit", "category"] if by_category else
                       ["rank", "unit", "category", "category_rank"]) if ranked else ["unit", "category"]
        if not has_components:
            columns += ["applicable", "earned"]
        columns.append("base")
        columns += (["bonus"] if has_bonus else []) + (["penalty"] if has_penalty else [])
        columns += (["external"] if has_external else []) + ["total"]
        if scheme.grades:
            columns.append("grade")
        if scheme.conversion and scheme.conversion.points is not None:
            columns.append("performance")
        if scheme.conversion and scheme.conversion.passdown_multiplier is not None \
                and any(e.mode == "passdown" for s in group for e in s.externals):
            columns.append("passdown")
        columns.append("flags")
        rows = [[label(c, lang) for c in columns]]
        flag_labels = {f.id: written(f.label, f.label_en, lang) for f in scheme.flags}
        rows += [_cells(s, lang, columns, flag_labels) for s in group]
        numeric = {"rank", "category_rank", "applicable", "earned", "base", "bonus", "penalty",
                   "external", "total", "performance", "passdown"}
        lines += table(rows, ["right" if c in numeric else "left" for c in columns])
    return lines


def _cells(s: UnitScore, lang: str, columns: list[str], labels: dict[str, str]) -> list[str]:
    """The text of these columns for one unit (the table escapes each cell); `labels`: the scheme's
    flag labels in `lang`. Only the columns shown are formatted: this runs once per unit."""
    return [_CELL[c](s, lang, labels) for c in columns]


def _flags(s: UnitScore, lang: str, labels: dict[str, str]) -> str:
    flags = [in_lang("veto: {name}", lang).format(name=written(v.name, v.name_en, lang)) for v in s.vetoed]
    flags += [labels.get(f, f) for f in s.flags]
    if s.pending:
        flags.append(pending_flag(len(s.pending), lang))
    return ", ".join(flags)


_CELL: dict[str, Any] = {
    "rank": lambda s, lang, labels: str(s.rank or ""),
    "category_rank": lambda s, lang, labels: str(s.category_rank or ""),
    "unit": lambda s, lang, labels: name_in(s.unit, lang),
    "category": lambda s, lang, labels: name_in(s.category, lang) if s.category else "",
    "applicable": lambda s, lang, labels: two(s.applicable),
    "earned": lambda s, lang, labels: two(s.earned),
    "base": lambda s, lang, labels: fixed(s.base, s.scheme.scoring.places),
    "bonus": lambda s, lang, labels: num(s.bonus) + ("*" if s.bonus != s.bonus_raw else ""),
    "penalty": lambda s, lang, labels: num(s.penalty),
    "external": lambda s, lang, labels: num(-s.external) if s.external else "0",
    "total": lambda s, lang, labels: total_text(s),
    "grade": lambda s, lang, labels: written(s.grade, s.grade_en, lang) or "",
    "performance": lambda s, lang, labels: fixed(s.performance_points, 2) if s.performance_points is not None else "",
    "passdown": lambda s, lang, labels: num(s.passdown) if s.passdown is not None else "",
    "flags": _flags,
}


def pending_flag(count: int, lang: str) -> str:
    """`未评估 3` / `not yet assessed 3`: the flag of a unit with indicators not yet assessed."""
    return in_lang("not yet assessed {count}", lang).format(count=count)
