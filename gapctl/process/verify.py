"""Does a published results table follow from the data? (`gapctl verify ROUND RESULTS.xlsx|csv`)

An office (or an auditor) reads the ranking a 通报 published — unit, total, grade, rank — next to
what gapctl computes from the round's files, and lists every difference with the lines of
`explain` that would have to change for the published figure to hold.

Contract.
- The table is read safely (gapctl.io.sheets: CSV in UTF-8 or UTF-16, or one sheet of an xlsx
  workbook); its header is the first of its first ten rows with values that reads as one (a title
  above it is passed over), and rows below it without a total, grade or rank (a note, a blank
  line) are passed over too. Headers are read as `import` reads them
  (stray spaces and full-width characters ignored, case too): a unit column (单位, 单位名称,
  评估对象, 被考核单位, unit, name, id …) and at least one of total (总分, 总得分, 得分, 综合得分,
  total, score), grade (等次, 等级, grade), rank (排名, 名次, rank) and rank in category (分类排名,
  category_rank). With several unit columns (an id and a name), the first that names a unit counts.
- A row names a unit by id or name as gapctl.names reads them (exact id, exact name, a prefix of
  one name only), then by the name without spaces and brackets; a name that fits several units, or
  none, is a difference of its own, and so is a unit named by two rows.
- A total matches when it is within `tolerance` of the computed total (default 0: exactly, at the
  scheme's places); an empty cell or "—" matches a total a veto withheld. A grade matches the
  scheme's label or its English one. A rank is a number, "第3名" included. Where a scheme ranks by
  category (分类排名) and the table has no rank-in-category column, its rank column is read as
  ranks within the category when that fits more rows than the overall rank (the result says which).
- Each total difference names the computation's total line, and the lines that would have to
  change: the leaves that lost points when the published total is higher, the leaves that earned
  points when it is lower. A grade difference names the grade and total lines; a rank difference
  the rank line and the unit computed at the published rank.
- Units of the round that no row names are differences too, for every scheme the table covers (a
  scheme none of whose units is in the table is only noted: a 通报 may publish one table per scheme).
Nothing here prints or exits; the command line maps `ok` to the exit code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from gapctl.figures import ZERO
from gapctl.scoring.score import RoundScore, UnitScore

SHOWN_LINES = 5  # explain lines named under one difference, then "… and N more"
HEADERS = {  # field → headers, compared after `_key`
    "unit": ("单位", "单位名称", "评估对象", "被考核单位", "被评估单位", "考核对象", "单位编号", "unit", "name",
             "unit name", "id", "unit id"),
    "total": ("总分", "总得分", "得分", "综合得分", "最终得分", "评估得分", "total", "score"),
    "grade": ("等次", "等级", "评定等次", "考核等次", "grade"),
    "rank": ("排名", "名次", "总排名", "rank"),
    "category_rank": ("分类排名", "类别排名", "分类名次", "category rank", "category_rank", "rank in category"),
}
WHAT = ("total", "grade", "rank", "category_rank", "unknown", "ambiguous", "twice", "missing")


@dataclass
class Mismatch:
    what: str  # one of WHAT
    unit: str  # the unit's id, or the table's spelling when no unit is named
    name: str
    row: int | None  # the table's row (None: a unit of the round no row names)
    published: str
    computed: str
    lines: list[str] = field(default_factory=list)  # the explain lines that would have to change


@dataclass
class Verified:
    table: str
    sha256: str | None = None  # of the table's bytes, as read
    rows: int = 0  # rows below the header with a unit
    matched: int = 0
    columns: dict[str, str] = field(default_factory=dict)  # field → the header as written
    category_ranks: bool = False  # the rank column was read as ranks within the category
    mismatches: list[Mismatch] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # the table could not be read as a results table
    not_covered: list[tuple[str, int]] = field(default_factory=list)  # (scheme, units) no row names

    @property
    def ok(self) -> bool:
        return not self.mismatches and not self.problems


def _key(value: Any) -> str:
    """A header or a name as compared: full-width characters as ASCII, no spaces or brackets, lower case."""
    from gapctl.io.cells import FULLWIDTH, text
    return re.sub(r"[\s（）()【】\[\]·•、_-]", "", text(value).translate(FULLWIDTH)).lower()


_HEADER_KEYS = {_key(h): f for f, names in HEADERS.items() for h in names}


def _columns(header: dict[int, Any]) -> tuple[list[int], dict[str, int]]:
    """(the unit columns in order, other field → column) of a header row; the first column of a field counts."""
    units: list[int] = []
    found: dict[str, int] = {}
    for column, value in sorted(header.items()):
        name = _HEADER_KEYS.get(_key(value))
        if name == "unit":
            units.append(column)
        elif name is not None and name not in found:
            found[name] = column
    return units, found


HEADER_ROWS = 10  # a 通报's table may have its title and a date above the header


def _header(rows: list[tuple[int, dict[int, Any]]]) -> tuple[int, list[int], dict[str, int]] | None:
    """(position, unit columns, other columns) of the first of the first rows that reads as a header."""
    for at, (_, cells) in enumerate(rows[:HEADER_ROWS]):
        unit_columns, columns = _columns(cells)
        if unit_columns and {"total", "grade", "rank", "category_rank"} & set(columns):
            return at, unit_columns, columns
    return None


def _cell(cells: dict[int, Any], column: int | None) -> str:
    from gapctl.io.cells import text
    return text(cells[column]).strip() if column is not None and column in cells else ""


def _whole(text: str) -> int | None:
    found = re.fullmatch(r"第?\s*(\d+)\s*名?", text.translate(_FULL))
    return int(found.group(1)) if found else None


_FULL = str.maketrans("０１２３４５６７８９", "0123456789")


def _total(value: Any) -> Decimal | None:
    from gapctl.io.cells import Refused, number
    if value is None or (isinstance(value, str) and value.strip() in ("", "—", "-", "－")):
        return None
    if isinstance(value, str):
        value = value.strip().removesuffix("分")
    found = number(value, [])
    return None if isinstance(found, Refused) else found


def _unit(cells: dict[int, Any], columns: list[int], scored: list[UnitScore]) -> tuple[UnitScore | None, str, bool]:
    """(the unit the row names, the spelling, whether the spelling fits several units)."""
    from gapctl import names

    options = names.choices(s.unit for s in scored)
    by_id = {s.unit.id: s for s in scored}
    spelled, several = "", False
    for column in columns:
        text = _cell(cells, column)
        if not text:
            continue
        spelled = spelled or text
        ident, fits = names.lookup(text, options)
        if ident is None and not fits:
            key = _key(text)
            loose = [s.unit.id for s in scored if key and key in (_key(s.unit.name), _key(s.unit.id))]
            ident = loose[0] if len(loose) == 1 else None
            fits = [(u, ()) for u in loose] if len(loose) > 1 else []
        if ident is not None:
            return by_id[ident], text, False
        several = several or bool(fits)
    return None, spelled, several


def verify(scored: RoundScore, table: Path, tolerance: Decimal = ZERO, sheet: str | None = None,
           lang: str = "zh") -> Verified:
    """Compare the published table `table` with the round as scored (see the module docstring)."""
    from gapctl.i18n import in_lang
    from gapctl.io import sheets

    read = sheets.read(Path(table), sheet)
    out = Verified(Path(table).name)
    if not read.problems:
        import hashlib
        try:
            out.sha256 = hashlib.sha256(Path(table).read_bytes()).hexdigest()
        except OSError:  # gone since it was read: the figures still are what was read
            out.sha256 = None
    if read.problems:
        out.problems = read.problems.lines()
        return out
    if not read.rows:
        out.problems = [in_lang("the table is empty", lang)]
        return out
    found = _header(read.rows)
    if found is None:
        out.problems = [in_lang("row {row}: no column of units and of totals, grades or ranks found "
                                "(headers such as 单位, 总分, 等次, 排名)", lang).format(row=read.rows[0][0])]
        return out
    at, unit_columns, columns = found
    header = read.rows[at][1]
    from gapctl.io.cells import text
    out.columns = {"unit": text(header[unit_columns[0]]).strip(),
                   **{f: text(header[c]).strip() for f, c in sorted(columns.items(), key=lambda kv: kv[1])}}
    units = [s for s in scored.units if s.detailed]
    rows: list[tuple[int, dict[int, Any], UnitScore]] = []
    seen: dict[str, int] = {}
    figures = list(columns.values())
    for row, cells in read.rows[at + 1:]:
        if not any(_cell(cells, c) for c in figures):  # a note or a subtotal, not a unit's result
            continue
        score, spelled, several = _unit(cells, unit_columns, units)
        if not spelled:
            continue
        out.rows += 1
        if score is None:
            what = "ambiguous" if several else "unknown"
            out.mismatches.append(Mismatch(what, spelled, spelled, row, spelled, "—"))
            continue
        if score.unit.id in seen:
            out.mismatches.append(Mismatch("twice", score.unit.id, score.unit.name, row,
                                           str(seen[score.unit.id]), str(row)))
            continue
        seen[score.unit.id] = row
        out.matched += 1
        rows.append((row, cells, score))
    out.category_ranks = "category_rank" not in columns and "rank" in columns and _reads_category_ranks(
        rows, columns["rank"])
    for row, cells, score in rows:
        out.mismatches += _compare(score, row, cells, columns, tolerance, out.category_ranks, units, lang)
    covered = {s.scheme.id for _, _, s in rows}
    for scheme_id in dict.fromkeys(s.scheme.id for s in units):
        absent = [s for s in units if s.scheme.id == scheme_id and s.unit.id not in seen]
        if scheme_id not in covered:
            out.not_covered.append((scheme_id, len(absent)))
            continue
        for s in absent:
            out.mismatches.append(Mismatch("missing", s.unit.id, s.unit.name, None, "—",
                                           _total_text(s), _lines(s, lang, ("total",))))
    return out


def _reads_category_ranks(rows: list[tuple[int, dict[int, Any], UnitScore]], column: int) -> bool:
    """Whether a rank column fits the ranks within category better than the overall ranks."""
    if not any(s.category is not None for _, _, s in rows):
        return False
    ranks = [(_whole(_cell(cells, column)), s) for _, cells, s in rows]
    overall = sum(1 for r, s in ranks if r is not None and r == s.rank)
    within = sum(1 for r, s in ranks if r is not None and r == (s.category_rank if s.category else s.rank))
    return within > overall


def _total_text(score: UnitScore) -> str:
    from gapctl.scoring.scoreboard import total_text
    return total_text(score)


def _compare(score: UnitScore, row: int, cells: dict[int, Any], columns: dict[str, int], tolerance: Decimal,
             category_ranks: bool, units: list[UnitScore], lang: str) -> list[Mismatch]:
    from gapctl.labels import written

    out = []

    def differ(what: str, published: str, computed: str, lines: list[str]) -> None:
        out.append(Mismatch(what, score.unit.id, score.unit.name, row, published, computed, lines))

    if "total" in columns:
        raw = cells.get(columns["total"])
        published = _total(raw)
        shown = _cell(cells, columns["total"]) or "—"
        if score.total is None:
            if published is not None or shown not in ("—", "-", "－"):
                differ("total", shown, "—", _lines(score, lang, ("veto", "total")))
        elif published is None or abs(published - score.total) > tolerance:
            direction = "lost" if published is None or published > score.total else "earned"
            differ("total", shown, _total_text(score), _lines(score, lang, ("base", "total", direction)))
    if "grade" in columns:
        published_grade = _cell(cells, columns["grade"])
        labels = {g for g in (score.grade, score.grade_en) if g}
        if (published_grade or None) != score.grade and published_grade not in labels:
            differ("grade", published_grade or "—", written(score.grade, score.grade_en, lang) or "—",
                   _lines(score, lang, ("grade", "total")))
    for field_name in ("rank", "category_rank"):
        if field_name not in columns:
            continue
        within = field_name == "category_rank" or (category_ranks and score.category is not None)
        computed = score.category_rank if within else score.rank
        written_rank = _cell(cells, columns[field_name])
        if _whole(written_rank) != computed:
            lines = _lines(score, lang, ("rank",))
            holder = _holder(score, _whole(written_rank), within, units)
            if holder is not None:
                lines.append(_holder_line(holder, _whole(written_rank), within, lang))
            differ(field_name, written_rank or "—", str(computed or "—"), lines)
    return out


def _holder(score: UnitScore, rank: int | None, within: bool, units: list[UnitScore]) -> UnitScore | None:
    """The unit computed at `rank` among the units `score` is ranked with (the first by id on a tie)."""
    if rank is None:
        return None
    peers = [s for s in units if s.scheme.id == score.scheme.id and s is not score
             and (not within or s.category is score.category)]
    return next((s for s in sorted(peers, key=lambda s: s.unit.id)
                 if (s.category_rank if within else s.rank) == rank), None)


def _holder_line(holder: UnitScore, rank: int | None, within: bool, lang: str) -> str:
    from gapctl.i18n import in_lang
    return in_lang("rank {rank} is {name} ({unit}), total {total}", lang).format(
        rank=rank, name=holder.unit.name, unit=holder.unit.id, total=_total_text(holder))


def _lines(score: UnitScore, lang: str, kinds: tuple[str, ...]) -> list[str]:
    """The explain lines of `kinds`: base, total, grade, rank, veto (the computation's lines), lost and earned
    (the leaves that lost or earned points, at most SHOWN_LINES, then how many more)."""
    from gapctl.escape import plain_line
    from gapctl.i18n import in_lang
    from gapctl.scoring.explain import computation_lines, leaf_line

    computation = computation_lines(score, lang)
    starts = {"base": in_lang("Base", lang), "total": in_lang("Total", lang), "grade": in_lang("Grade", lang),
              "rank": in_lang("Rank", lang),
              "veto": in_lang("Veto {veto}", lang).split("{")[0]}
    out: list[str] = []
    for kind in kinds:
        if kind in starts:
            found = [x for x in computation if x.startswith(starts[kind])]
            out += found[:1] if kind != "veto" else found
            continue
        leaves = [leaf for leaf in score.leaves.values() if leaf.indicator.section == "main" and leaf.state == "scored"
                  and (leaf.lost > 0 if kind == "lost" else leaf.earned > 0)]
        out += [leaf_line(leaf, lang) for leaf in leaves[:SHOWN_LINES]]
        if len(leaves) > SHOWN_LINES:
            more = len(leaves) - SHOWN_LINES
            out.append(in_lang("… and {count} more indicator(s) that lost points", lang).format(count=more)
                       if kind == "lost" else
                       in_lang("… and {count} more indicator(s) that earned points", lang).format(count=more))
    return [plain_line(line) for line in out]


def json_data(result: Verified) -> dict[str, Any]:
    return {"table": result.table, "sha256": result.sha256, "ok": result.ok, "rows": result.rows,
            "matched": result.matched,
            "columns": result.columns, "ranks_within_category": result.category_ranks, "problems": result.problems,
            "not_covered": [{"scheme": s, "units": n} for s, n in result.not_covered],
            "mismatches": [{"what": m.what, "unit": m.unit, "name": m.name, "row": m.row, "published": m.published,
                            "computed": m.computed, "explain": m.lines} for m in result.mismatches]}


def text_lines(result: Verified, lang: str = "zh") -> list[str]:
    from gapctl.escape import plain_line
    from gapctl.i18n import in_lang

    table = result.table
    lines = [plain_line(f"{table}: {p}") for p in result.problems]
    words = {"total": in_lang("total", lang), "grade": in_lang("grade", lang), "rank": in_lang("rank", lang),
             "category_rank": in_lang("rank in category", lang)}
    for m in result.mismatches:
        where = in_lang("{table} row {row}", lang).format(table=table, row=m.row) if m.row is not None else table
        if m.what in words:
            line = in_lang("{where}: {name} ({unit}): {what} published {published}, computed {computed}",
                           lang).format(where=where, name=m.name, unit=m.unit, what=words[m.what],
                                        published=m.published, computed=m.computed)
        elif m.what == "unknown":
            line = in_lang("{where}: '{name}' is no unit of the round", lang).format(where=where, name=m.name)
        elif m.what == "ambiguous":
            line = in_lang("{where}: '{name}' names more than one unit of the round; give the id",
                           lang).format(where=where, name=m.name)
        elif m.what == "twice":
            line = in_lang("{where}: {name} ({unit}) is in the table twice (row {first} too)", lang).format(
                where=where, name=m.name, unit=m.unit, first=m.published)
        else:
            line = in_lang("{where}: {name} ({unit}) is in the round (total {computed}) but not in the table",
                           lang).format(where=where, name=m.name, unit=m.unit, computed=m.computed)
        lines.append(plain_line(line))
        lines += ["    " + x for x in m.lines]
    if result.category_ranks:
        lines.append(in_lang("note: the rank column was read as ranks within each category (分类排名)", lang))
    for scheme, count in result.not_covered:
        lines.append(in_lang("note: no row names a unit of scheme {scheme} ({count} unit(s)); not compared",
                             lang).format(scheme=scheme, count=count))
    summary = in_lang("{matched} of {rows} row(s) matched a unit; {n} difference(s).", lang).format(
        matched=result.matched, rows=result.rows, n=len(result.mismatches))
    return lines + ([""] if lines else []) + [
        (in_lang("OK: ", lang) if result.ok else in_lang("Failed: ", lang)) + summary]
