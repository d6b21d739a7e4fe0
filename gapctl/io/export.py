"""`export`: a scored round as tables for spreadsheets and data portals.

Three tables, the same in every format:

- ``scores``   得分与排名: one row per unit (ranks, figures, grade, flags);
- ``matrix``   指标得分矩阵: one row per unit — and one per channel (渠道) and per period (期次) of a unit,
  when the round has them —, one column per leaf indicator headed "1.1 主动公开专栏（5分）"; a cell holds
  the points earned, 不适用 (not applicable, or observed n/a), 待评 (not yet assessed), or nothing (the
  row's scheme has no such indicator). `gapctl import` reads it back (gapctl.io.import_wide);
- ``problems`` 问题清单: one row per leaf where points were lost (or not yet assessed), channels' and
  periods' too; 评估状态 in the words observation files accept (已评分, 待评, 无佐证).

Formats:

- ``csv``: ``scores.csv``, ``matrix.csv``, ``problems.csv`` with Chinese headers, UTF-8 **with BOM**
  so that Excel on Chinese Windows (which otherwise assumes GBK) opens them correctly; ``\\n`` line endings.
- ``xlsx``: one workbook ``<round-id>.xlsx``, one sheet per table (得分与排名, 指标得分矩阵, 问题清单),
  bold frozen header row, numbers stored as numbers, no formulas; and a hidden sheet ``gapctl`` that
  marks the workbook as gapctl's export (round id) and keeps the matrix as exported, so that `gapctl
  import` reads the matrix without `--sheet` and takes only the cells edited since.
- ``datapackage``: a Frictionless Data Package: the three CSVs (UTF-8 without BOM, headers are the
  English field names, as Table Schema requires header = field name) and ``datapackage.json`` whose
  schemas carry the Chinese headers as field titles.

Every format says what the tables were computed from (gapctl.review.provenance: the git commit, gapctl's
version, the lock file's hash and the sha256 of every scheme and round file used): ``csv`` in a
sidecar ``provenance.json`` beside the tables (a CSV file has no place for it), ``xlsx`` in a last
sheet 数据来源, ``datapackage`` as the descriptor's ``provenance`` property (the same object as the
``provenance`` of ``--format json`` outputs).

Output is deterministic: the same scored round gives byte-identical files, the workbook included
(its document timestamps and zip entry times are fixed).

No cell runs as a formula. Names, 扣分理由 and 整改要求 come from files anyone can edit, and the
tables are opened in spreadsheets by offices that publish them. Every cell of every format passes
through `neutralised` (one function, three writers), which follows OWASP's guidance on CSV
injection: text that starts with ``=``, ``+``, ``-`` or ``@`` (after leading spaces; the full-width
＝＋－＠ too), or with a tab or carriage return, gets a leading apostrophe, so a spreadsheet shows
``'=HYPERLINK(…)`` as text. Whether a cell is text is decided by its column's type, not by how the
value looks: a number in a ``number`` or ``integer`` column is written as a number (a penalty of
``-5`` is not a formula), while the same ``-5`` as text in a ``string`` column is quoted. The
workbook also stores every text cell as a string (never a formula) and writes the C0 control
characters XML cannot hold as visible ``\\u001b`` escapes.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import pickle
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from gapctl.data.spool import Spool
from gapctl.escape import csv_field
from gapctl.io.sheets import EXPORT_BASE, EXPORT_MARKER, EXPORT_MATRIX, EXPORT_PROBLEMS, EXPORT_SCORES
from gapctl.scoring.score import RoundScore
from gapctl.scoring.scoreboard import two, unit_row
from gapctl.textwidth import width

FORMATS = ("csv", "xlsx", "datapackage")
NOT_APPLICABLE_STATES = ("not-applicable", "n/a")  # matrix cells written NOT_APPLICABLE_CELL
NOT_APPLICABLE_CELL, PENDING_CELL = "不适用", "待评"  # the words observation files accept for n/a and pending
# 评估状态 in the problem list, in the words observation files accept (gapctl.data.schema.RESULT_ALIASES)
STATE_WORDS = {"scored": "已评分", "pending": PENDING_CELL, "no-evidence": "无佐证", "n/a": NOT_APPLICABLE_CELL,
               "not-applicable": NOT_APPLICABLE_CELL}
FIXED_TIME = dt.datetime(2000, 1, 1)  # the workbook's created/modified stamp, for stable bytes
ZIP_TIME = (2000, 1, 1, 0, 0, 0)


@dataclass
class Field:
    name: str   # stable English name (datapackage header and schema)
    title: str  # Chinese header (csv, xlsx, schema title)
    type: str = "string"  # Table Schema type: string / number / integer


@dataclass
class Table:
    name: str
    sheet: str
    fields: list[Field]
    rows: list[list[Any]] = field(default_factory=list)  # str / int / Decimal / None
    primary_key: list[str] = field(default_factory=list)
    descriptions: dict[str, str] = field(default_factory=dict)  # field name → schema description
    missing: list[str] = field(default_factory=list)  # texts a number column holds for "no number" (Table Schema)


# --- the tables ---------------------------------------------------------------------------

def _dec(text: str | None) -> Decimal | None:
    return Decimal(text) if text not in (None, "") else None


def scores_table(scored: RoundScore, rows: bool = True) -> Table:
    """`rows` False: the table's fields only (its rows made one at a time by `scores_rows`, e.g. `scores_csv`)."""
    fields = _scores_fields()
    return Table("scores", EXPORT_SCORES, fields, list(scores_rows(scored, fields)) if rows else [], ["unit"])


def _scores_fields() -> list[Field]:
    return [
        Field("rank", "排名", "integer"), Field("category_rank", "类别排名", "integer"),
        Field("unit", "单位编号"), Field("name", "单位名称"), Field("type", "单位类型"),
        Field("scheme", "指标体系"), Field("category", "类别编号"), Field("category_name", "类别"),
        Field("applicable", "应得分", "number"), Field("earned", "实得分", "number"),
        Field("base", "基础得分", "number"), Field("bonus", "加分", "number"), Field("penalty", "减分", "number"),
        Field("external", "外部扣分", "number"), Field("total", "总得分", "number"),
        Field("grade", "等次"), Field("flags", "标记"),
    ]


def scores_rows(scored: RoundScore, fields: list[Field]) -> Iterator[list[Any]]:
    """The scores table's rows, one unit at a time."""
    numbers = {f.name for f in fields if f.type == "number"}
    for score in scored.units:
        row = unit_row(score, scored.ranks_shown(score.scheme))  # no rank where the scheme publishes none
        row["flags"] = "; ".join(row["flags"])
        yield [_dec(row[f.name]) if f.name in numbers else row[f.name] for f in fields]


def scores_csv(scored: RoundScore, table: Table, head: bytes) -> bytes:
    """`head` and the scores table's CSV rows (`row_text` of `scores_rows`), encoded a unit at a time: a round of
    tens of thousands of units never holds its rows as cells, only their text."""
    parts = [head]
    for row in scores_rows(scored, table.fields):
        parts.append(row_text(table.fields, [row]).encode("utf-8"))
    return b"".join(parts)


def _leaf_columns(scored: RoundScore) -> list[tuple[str, str]]:
    """(leaf id, its header: id, name and points, "1.1 主动公开专栏（5分）") over the round's schemes in
    assignment order, each id once (the points of every scheme that has the id, when they differ)."""
    from gapctl.scheme.rules import num

    names: dict[str, str] = {}
    points: dict[str, list[str]] = {}
    penalties: set[str] = set()
    schemes = []
    for assignment in scored.round.assignments:
        scheme = scored.round.schemes.get(assignment.scheme)
        if scheme is not None and scheme not in schemes:
            schemes.append(scheme)
    for score in matrix_scores(scored):  # channels' and periods' schemes; any a unit was scored by
        if score.scheme not in schemes:
            schemes.append(score.scheme)
    for scheme in schemes:
        for leaf in scheme.leaves():
            names.setdefault(leaf.id, leaf.name)
            if leaf.points is None and leaf.section == "penalty":
                penalties.add(leaf.id)
            if leaf.points is not None and num(leaf.points) not in points.setdefault(leaf.id, []):
                points[leaf.id].append(num(leaf.points))
    return [(leaf_id, f"{leaf_id} {name}" + (f"（{'/'.join(points[leaf_id])}分）" if points.get(leaf_id)
                                             else "（减分项）" if leaf_id in penalties else ""))
            for leaf_id, name in names.items()]


def matrix_cell(leaf: Any) -> Decimal | str | None:
    """A matrix cell as exported: the points earned (two decimals at most); 不适用 where the indicator
    does not apply or was observed n/a; 待评 where it is not yet assessed; empty where the unit's scheme
    has no such indicator. `gapctl import` reads each back as what it says."""
    if leaf is None:
        return None
    if leaf.state in NOT_APPLICABLE_STATES:
        return NOT_APPLICABLE_CELL
    if leaf.state == "pending":
        return PENDING_CELL
    earned = Decimal(two(leaf.earned))
    return earned if earned else Decimal(0)  # 0, not -0 (a penalty item with nothing deducted)


def matrix_scores(scored: RoundScore) -> list[Any]:
    """The scores the matrix has a row for: each unit, then its channels', then its periods' (in the order
    the round lists them)."""
    out = []
    for score in scored.units:
        out.append(score)
        out += scored.channels.get(score.unit.id, [])
        out += scored.periods.get(score.unit.id, [])
    return out


def row_key(score: Any) -> tuple[str, str | None, str | None]:
    """(unit, channel, period) of a matrix row: a channel's score is its unit's `<unit>/<channel>`."""
    if score.unit.parent and "/" in score.unit.id:
        unit, channel = score.unit.id.split("/", 1)
        return unit, channel, None
    return score.unit.id, None, score.period


@dataclass
class Shape:
    """What every row of the matrix and the problem list depends on, decided once for the round: the
    leaf columns, whether a scheme column is needed, whether channels and periods have rows, and the
    units' names (a channel's row carries its unit's)."""

    columns: list[tuple[str, str]]
    several: bool
    with_channels: bool
    with_periods: bool
    names: dict[str, str]


def shape(scored: RoundScore) -> Shape:
    with_channels = any(scored.channels.get(s.unit.id) for s in scored.units)
    with_periods = any(scored.periods.get(s.unit.id) for s in scored.units)
    several = len({s.scheme.id for s in scored.units}) > 1 or len(scored.round.assignments) > 1 or with_channels
    return Shape(_leaf_columns(scored), several, with_channels, with_periods,
                 {s.unit.id: s.unit.name for s in scored.units})


def unit_scores(scored: RoundScore, score: Any) -> list[Any]:
    """A unit's rows' scores: the unit, its channels', its periods' (as `matrix_scores` lists them)."""
    return [score, *scored.channels.get(score.unit.id, []), *scored.periods.get(score.unit.id, [])]


def matrix_table(scored: RoundScore, rows: list[list[Any]] | None = None) -> Table:
    """`rows`: made by `matrix_rows` elsewhere (gapctl.scoring.details), when the units of `scored` are summaries."""
    found = shape(scored)
    fields = [Field("unit", "单位编号"), Field("name", "单位名称")]
    if found.several:
        fields.append(Field("scheme", "指标体系"))
    if found.with_channels:
        fields += [Field("channel", "渠道"), Field("channel_name", "渠道名称")]
    if found.with_periods:
        fields.append(Field("period", "期次"))
    fields += [Field(leaf_id, title, "number") for leaf_id, title in found.columns]
    if rows is None:
        rows = [row for score in scored.units for row in matrix_rows(unit_scores(scored, score), found)]
    # the header carries the indicator's id, name and points; the schema's description, its name alone
    leaf_names = {leaf.id: leaf.name for scheme in _last_schemes(matrix_scores(scored)) for leaf in scheme.leaves()}
    # a unit has several rows once its channels or periods have theirs: no primary key then (its cells are empty)
    key = [] if found.with_channels or found.with_periods else ["unit"]
    return Table("matrix", EXPORT_MATRIX, fields, rows, key, {i: leaf_names.get(i, i) for i, _ in found.columns},
                 missing=["", NOT_APPLICABLE_CELL, PENDING_CELL])


def _last_schemes(scores: list[Any]) -> list[Any]:
    """The schemes of `scores`, each once, in the order of each one's last score: a dict made over them takes
    for an id what the last score's scheme says, as over every score, without walking a scheme per unit."""
    seen: set[int] = set()
    out = []
    for score in reversed(scores):
        if id(score.scheme) not in seen:
            seen.add(id(score.scheme))
            out.append(score.scheme)
    return out[::-1]


def matrix_rows(scores: list[Any], found: Shape) -> list[list[Any]]:
    """The matrix rows of one unit's scores (`unit_scores`): the points earned per leaf indicator."""
    rows = []
    for score in scores:
        row = _matrix_head(score, found)
        row += [matrix_cell(score.leaves.get(leaf_id)) for leaf_id, _ in found.columns]
        rows.append(row)
    return rows


def _matrix_head(score: Any, found: Shape) -> list[Any]:
    """A matrix row's cells before its leaves: unit, name (scheme, channel, period when the round has them)."""
    unit, channel, period = row_key(score)
    row: list[Any] = [unit, found.names.get(unit, score.unit.name)] + ([score.scheme.id] if found.several else [])
    if found.with_channels:
        row += [channel, score.unit.name if channel else None]
    if found.with_periods:
        row.append(period)
    return row


def _evidence(score_leaf: Any) -> str:
    result = score_leaf.result
    return "; ".join(ev.url for ev in result.evidence if ev.url) if result else ""


def problems_table(scored: RoundScore, rows: list[list[Any]] | None = None) -> Table:
    """Every point lost, a unit's channels' and periods' too (with their 渠道 / 期次, when the round has any).
    `rows`: made by `problem_rows` elsewhere (gapctl.scoring.details), when the units of `scored` are summaries."""
    found = shape(scored)
    fields = [Field("unit", "单位编号"), Field("unit_name", "单位名称")]
    if found.with_channels:
        fields += [Field("channel", "渠道"), Field("channel_name", "渠道名称")]
    if found.with_periods:
        fields.append(Field("period", "期次"))
    fields += [
        Field("indicator", "指标编号"), Field("indicator_name", "指标名称"), Field("lost", "扣分", "number"),
        Field("state", "评估状态"), Field("reason", "扣分理由"), Field("fix", "整改要求"),
        Field("evidence", "佐证链接"),
    ]
    if rows is None:
        rows = [row for score in scored.units for row in problem_rows(unit_scores(scored, score), found)]
    key = ["unit", "indicator"] if not (found.with_channels or found.with_periods) else []
    words = "; ".join(f"{word}: {state}" for state, word in STATE_WORDS.items() if state != "not-applicable")
    return Table("problems", EXPORT_PROBLEMS, fields, rows, key, {"state": words})


def problem_rows(scores: list[Any], found: Shape) -> list[list[Any]]:
    """The problem-list rows of one unit's scores (`unit_scores`): every leaf where points were lost."""
    rows = []
    for score in scores:
        where = _where(score, found)
        for leaf in score.lost_leaves():
            rows.append(_problem_row(where, leaf))
    return rows


def _where(score: Any, found: Shape) -> list[Any]:
    """The first cells of a score's problem rows: its unit (and channel, period)."""
    unit, channel, period = row_key(score)
    where: list[Any] = [unit, found.names.get(unit, score.unit.name)]
    if found.with_channels:
        where += [channel, score.unit.name if channel else None]
    if found.with_periods:
        where.append(period)
    return where


def _problem_row(where: list[Any], leaf: Any) -> list[Any]:
    return [*where, *_problem_cells(leaf)]


def _problem_cells(leaf: Any) -> list[Any]:
    """A problem row's cells after its unit's (`_where`): the indicator, 扣分, 评估状态, reason, fix, evidence."""
    result = leaf.result
    return [leaf.indicator.id, leaf.indicator.name,
            None if leaf.state == "pending" else Decimal(two(leaf.lost)), STATE_WORDS.get(leaf.state, leaf.state),
            (result.reason if result else None) or "", (result.fix if result else None) or "", _evidence(leaf)]


def tables(scored: RoundScore, source: Any = None) -> list[Table]:
    """The three tables. `source` (a gapctl.scoring.details.Source whose `scored` is this round's summary): the
    matrix and problem rows are made unit by unit by workers from each unit's own files (and its
    channels'), and only the rows come back; the tables are the same."""
    if source is None:
        return [scores_table(scored), matrix_table(scored), problems_table(scored)]
    from gapctl.scoring import details
    found = shape(scored)

    def work(detailed: list[Any]) -> tuple[list[list[Any]], list[list[Any]]]:
        scores = _detailed_scores(source, scored, detailed[0])
        return matrix_rows(scores, found), problem_rows(scores, found)
    matrix: list[list[Any]] = []
    problems: list[list[Any]] = []
    for rows, lost in details.each([source], details.units_of(source), work):
        matrix += rows
        problems += lost
    return [scores_table(scored), matrix_table(scored, matrix), problems_table(scored, problems)]


def _detailed_scores(source: Any, scored: RoundScore, unit: Any) -> list[Any]:
    """A detailed unit's rows' scores (`unit_scores`): it, its channels' detailed too, its periods'."""
    from gapctl.scoring import details
    return [unit, *details.channel_details(source, unit.unit.id), *scored.periods.get(unit.unit.id, [])]


@dataclass
class Streamed:
    """The matrix and the problem list of a round whose units are summaries, as CSV rows rendered
    unit by unit by the workers that detail each unit (gapctl.scoring.details): `tables` without rows
    (their fields, for headers and the Data Package's schemas), and the rows' bytes, streamed in the
    units' order into the files as they are written (the problem list's are spooled to a temporary
    file meanwhile), so that the parent never holds a round's rows."""

    tables: list[Table]
    pieces: Any  # iterable of (matrix rows, problem rows), each UTF-8 CSV without header, one unit at a time
    spool: Any = None

    def matrix(self, head: bytes) -> Iterator[bytes]:
        import tempfile
        yield head
        self.spool = tempfile.TemporaryFile()
        pending: list[bytes] = []
        size = 0
        for rows, lost in self.pieces:
            if lost:
                self.spool.write(lost)
            pending.append(rows)
            size += len(rows)
            if size >= 1 << 20:
                yield b"".join(pending)
                pending, size = [], 0
        yield b"".join(pending)

    def problems(self, head: bytes) -> Iterator[bytes]:
        yield head
        if self.spool is None:  # written after the matrix, which fills the spool
            raise RuntimeError("the problem list is written after the matrix")
        try:
            self.spool.seek(0)
            while chunk := self.spool.read(1 << 20):
                yield chunk
        finally:
            self.spool.close()


def streamed(scored: RoundScore, source: Any, pieces: Any = None) -> Streamed:
    """The matrix and problem rows of a summarised round, made by the workers as CSV text (see `Streamed`).
    `pieces`: path → each unit file's `pieces`, made while the round was checked (gapctl.scoring.one_pass,
    a dict or a `PieceSpool`); the rows are finished from them here, without reading the files again."""
    found = shape(scored)
    tabs = [scores_table(scored, rows=False), matrix_table(scored, []), problems_table(scored, [])]  # scores_csv
    matrix_fields, problem_fields = tabs[1].fields, tabs[2].fields
    if pieces:
        finished = _finished(scored, source, pieces, found, matrix_fields, problem_fields)
        if finished is not None:
            return Streamed(tabs, finished)

    return Streamed(tabs, _rendered(scored, source, found, matrix_fields, problem_fields))


def _rendered(scored: RoundScore, source: Any, found: Shape, matrix_fields: list[Field],
              problem_fields: list[Field]) -> Iterator[tuple[bytes, bytes]]:
    """Each unit's (matrix rows, problem rows) from its own files, in the units' order: in a pool of forked
    workers for large rounds, forked again every few batches (gapctl.scoring.executors.in_order) so that
    none ends up with a private copy of the round's summaries."""
    from gapctl.scoring import details
    from gapctl.scoring.executors import in_order

    units = scored.units
    workers = min(details.jobs_wanted(), max(1, len(units) // (details.PARALLEL_FROM // 2)))
    if len(units) < details.PARALLEL_FROM:
        workers = 1
    batches = [range(n, min(n + details.BATCH, len(units))) for n in range(0, len(units), details.BATCH)]
    yield from in_order(_render_batch, (scored, source, found, matrix_fields, problem_fields), batches, workers)


def _render_batch(context: tuple[Any, ...], batch: range) -> list[tuple[bytes, bytes]]:
    from gapctl.collector import paused_gc
    from gapctl.scoring import details

    scored, source, found, matrix_fields, problem_fields = context
    out = []
    with paused_gc():
        for index in batch:
            scores = _detailed_scores(source, scored, details.detail(source, scored.units[index]))
            out.append(("".join(",".join(matrix_texts(score, found, matrix_fields)) + "\n" for score in scores
                                ).encode("utf-8"),
                        row_text(problem_fields, problem_rows(scores, found)).encode("utf-8")))
    return out


# --- writers --------------------------------------------------------------------------------

NUMERIC = ("number", "integer")  # Table Schema types whose numbers are written as numbers
# Where a spreadsheet starts reading a formula (OWASP, CSV injection): these first characters, after
# leading spaces; full-width forms too, which input methods in Chinese locales may turn into them.
FORMULA_START = frozenset("=+-@＝＋－＠")
LEADING_SPACE = " \u3000\t\r\n"
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def neutralised(value: Any, column_type: str) -> Any:
    """A cell as every export format writes it: never a formula.

    None stays empty. A number (int or Decimal, not bool) in a numeric column is returned as it is,
    to be written as a number. Anything else is text: if a spreadsheet would read it as a formula
    (it starts with a tab or carriage return, or with =, +, -, @ after leading spaces) it gets a
    leading apostrophe, as OWASP's CSV-injection guidance says.
    """
    if value is None:
        return None
    if column_type in NUMERIC and isinstance(value, int | Decimal) and not isinstance(value, bool):
        return value
    text = _text(value)
    if text[:1] in ("\t", "\r", "\n") or text.lstrip(LEADING_SPACE)[:1] in FORMULA_START:
        return "'" + text
    return text


def _cells(table: Table, row: list[Any]) -> list[Any]:
    return [neutralised(value, f.type) for value, f in zip(row, table.fields, strict=True)]


# --- one pass with the cache off (gapctl.scoring.one_pass) -------------------------------------

@dataclass(slots=True)
class Pieces:
    """A unit's matrix row and problem rows as its worker made them from the unit's full score before
    ranking: CSV text, except around the leaves whose figures ranking may change (those `score.summarise`
    keeps), which the parent finishes from the round's summary as `gapctl.scoring.details.graft` does.
    Compact, since the parent holds every unit's until the round is ranked."""

    matrix: list[str]              # the row's text around its open cells: matrix[0] open[0] matrix[1] … matrix[-1]
    open: list[tuple[str, str]]    # (leaf id, its cell before ranking) of each open cell
    problems: list[Any]            # CSV lines (str), or (leaf id, points, text before and after its 扣分 and
                                   # 评估状态, its line before ranking or "") for a leaf ranking may change
    later: frozenset[str]          # the leaves ranking may change
    digest: str | None = None      # the sha256 of the file they were made from, when made before its check
                                   # (`early_piece`): `_finish` uses them only if the check read the same bytes


_PROVISIONAL: tuple[Any, Shape, list[Field], list[Field]] | None = None  # a worker's, for its round


def _provisional(round_: Any) -> tuple[Shape, list[Field], list[Field]]:
    """The round's shape and fields as far as they are known before any unit is scored (no unit's
    channels or periods, the assignments' schemes): what `_finished` checks against the real ones."""
    global _PROVISIONAL
    if _PROVISIONAL is None or _PROVISIONAL[0] is not round_:
        empty = RoundScore(round_, [])
        _PROVISIONAL = (round_, shape(empty), matrix_table(empty, []).fields, problems_table(empty, []).fields)
    return _PROVISIONAL[1], _PROVISIONAL[2], _PROVISIONAL[3]


def _decided_later(leaf: Any) -> bool:
    """A leaf `score.summarise` keeps, whose figures ranking may change (`_finished` checks this)."""
    return leaf.indicator.section != "main" or bool(leaf.rule and leaf.rule.kind == "rank")


def _cells_text(values: list[Any], fields: list[Field]) -> list[str]:
    return [_cell(v, f.type) for v, f in zip(values, fields, strict=True)]


_LEAF_CELLS: dict[tuple[str, str], str] = {}  # (state, earned as written) → the cell's CSV text


def _leaf_cell(leaf: Any) -> str:
    """`_cell(matrix_cell(leaf), "number")`, each (state, figure) formatted once: a round's cells repeat a few
    figures hundreds of thousands of times."""
    if leaf is None:
        return _cell(None, "number")
    key = (leaf.state, str(leaf.earned))
    found = _LEAF_CELLS.get(key)
    if found is None:
        found = _cell(matrix_cell(leaf), "number")
        if len(_LEAF_CELLS) < 65536:
            _LEAF_CELLS[key] = found
    return found


def matrix_texts(score: Any, found: Shape, fields: list[Field]) -> list[str]:
    """The CSV fields of a score's matrix row: `_cells_text(matrix_rows([score], found)[0], fields)`."""
    leaves = score.leaves
    return _cells_text(_matrix_head(score, found), fields[:len(fields) - len(found.columns)]) + [
        _leaf_cell(leaves.get(leaf_id)) for leaf_id, _ in found.columns]


_ORDERS: dict[int, tuple[Any, dict[str, int]]] = {}  # id(scheme) → (the scheme, its indicators' places)


def _indicator_order(scheme: Any) -> dict[str, int]:
    """Each indicator id's place in `scheme.all_indicators()`, made once per scheme (a worker's units share a few)."""
    held = _ORDERS.get(id(scheme))
    if held is None or held[0] is not scheme:
        held = _ORDERS[id(scheme)] = (scheme, {ind.id: n for n, ind in enumerate(scheme.all_indicators())})
    return held[1]


def pieces(plan: Any, full: Any, obs: Any, digest: str | None = None) -> bytes:
    """A unit's `Pieces` from its full score before ranking, pickled (a gapctl.scoring.one_pass extra, made in
    a worker: the parent keeps the bytes as they come, in a `PieceSpool`). `digest`: the sha256 of the file's
    bytes, when they were read before the round's check (see `Pieces.digest`)."""
    found, matrix_fields, problem_fields = _provisional(plan.round)
    cells = matrix_texts(full, found, matrix_fields)
    later = frozenset(key for key, leaf in full.leaves.items() if _decided_later(leaf))
    offset = len(cells) - len(found.columns)
    segments: list[str] = []
    opened: list[tuple[str, str]] = []
    current = ""
    for n, cell in enumerate(cells):
        current += "," if n else ""
        leaf_id = found.columns[n - offset][0] if n >= offset else None
        if leaf_id is not None and leaf_id in later:
            segments.append(current)
            opened.append((leaf_id, cell))
            current = ""
        else:
            current += cell
    segments.append(current + "\n")
    where = _where(full, found)
    lost_at = len(problem_fields) - 5  # 扣分, then 评估状态
    # a problem line is `row_text` of `_problem_row`: its unit's cells, the same on each line, written once
    prefix = ",".join(_cells_text(where, problem_fields[:len(where)])) + ","
    cell_fields = problem_fields[len(where):]
    order = _indicator_order(full.scheme)
    items: list[Any] = []
    for key, leaf in sorted(full.leaves.items(), key=lambda item: order.get(item[1].indicator.id, 0)):
        lost = leaf.lost > 0 or leaf.state == "pending"
        if key in later:
            row = _cells_text(_problem_row(where, leaf), problem_fields)
            items.append((key, leaf.points, ",".join(row[:lost_at]) + ",", "," + ",".join(row[lost_at + 2:]) + "\n",
                          ",".join(row) + "\n" if lost else ""))
        elif lost:
            line = prefix + ",".join(_cells_text(_problem_cells(leaf), cell_fields)) + "\n"
            if items and isinstance(items[-1], str):
                items[-1] += line
            else:
                items.append(line)
    return pickle.dumps(Pieces(segments, opened, items, later, digest), pickle.HIGHEST_PROTOCOL)


# Where the parent keeps every unit's pieces (pickled, as the workers send them) until the round is ranked, so
# that a round of tens of thousands of units does not hold its rows twice (`one_pass.check` and `streamed`).
PieceSpool = Spool


EARLY_BATCH = 16  # unit files a worker takes at a time in `early_pieces`


def early_run(spool: Any, progress: Any = None) -> Any:
    """A `run(plan, only_round)` for `gapctl.scoring.outcomes.check` with the cache on: every unit file's
    `pieces` made first (`early_pieces`, into `spool`), then the files' outcomes as usual (`run_plan`, from
    the cache when it is warm). The pool that renders the rows is forked while the parent holds only the
    round and its plan, before it reads 30,000 outcomes from the cache and ranks them: its workers share
    the little the parent holds then, instead of copying pages of a parent at its largest; and the parent
    finishes the rows from the spool (`_finished`) with no second pool."""
    from gapctl.scoring import outcomes

    def run(plan: Any, only_round: bool) -> None:
        if only_round and early_fits(plan):
            early_pieces(plan, spool, progress)
        outcomes.run_plan(plan, progress)
    return run


SPOOL_OUTCOMES_FROM = 10_000  # observation files; from this many `_spooled` decodes the outcomes after the pool


def spooled_run(spool: Any, progress: Any = None) -> Any:
    """A `run(plan, only_round)` for `gapctl.scoring.outcomes.check` with the cache off: each file read,
    checked and scored once by a worker that also makes its unit's `pieces` (`gapctl.scoring.one_pass`'s
    one pass). In a large round (`SPOOL_OUTCOMES_FROM` files or more) the outcomes' bytes are spooled to a
    temporary file and decoded only once the pool is done: the parent holds the round and its plan while
    the workers run, and grows to 30,000 decoded outcomes only after they are gone, so that the two never
    add up. In a smaller one each outcome is decoded as it comes, while the workers go on (as `gapctl score`
    does): the few MB it holds meanwhile cost less than the wait for a decoding left until the pool ends."""

    def run(plan: Any, only_round: bool) -> None:
        _spooled(plan, pieces if only_round else None, spool, progress)
    return run


def _spooled(plan: Any, extra: Any, spool: Any, progress: Any) -> None:
    import os
    import tempfile

    from gapctl.scoring import outcomes

    paths = outcomes.round_paths(plan)
    total = len(paths)
    results: list[Any] = [None] * total
    workers = min(outcomes.jobs_wanted(), total // (outcomes.PARALLEL_FROM // 2) or 1)
    if total < outcomes.PARALLEL_FROM or workers < 2 or not hasattr(os, "fork"):
        for index, path in enumerate(paths):
            results[index], _key, kept = outcomes.compute_with(plan, path, extra)
            if kept is not None:
                spool[path] = kept
    else:
        if extra is not None:
            _provisional(plan.round)  # made once here: the workers inherit it
        places: list[tuple[int, int] | None] = [None] * total
        end = 0
        later = total >= SPOOL_OUTCOMES_FROM
        with tempfile.TemporaryFile() as payloads:
            for computed in _batched(_spooled_batch, (plan, extra), paths, workers, progress):
                for index, payload, kept, digest in computed:
                    if digest is not None:
                        plan.hashes[paths[index]] = digest
                    if payload is not None:
                        if later:
                            payloads.write(payload)
                            places[index] = (end, len(payload))
                            end += len(payload)
                        else:
                            results[index] = outcomes.load_outcome(plan, paths[index], payload)
                    if kept is not None:
                        spool[paths[index]] = kept
            payloads.seek(0)
            for index, path in enumerate(paths):
                if results[index] is not None:  # decoded as it came
                    continue
                place = places[index]
                if place is None:  # could not travel: computed again here
                    results[index], _key, kept = outcomes.compute_with(plan, path, extra)
                    if kept is not None:
                        spool[path] = kept
                    continue
                payloads.seek(place[0])
                results[index] = outcomes.load_outcome(plan, path, payloads.read(place[1]))
    if progress:
        progress(total, total)
    plan.computed = total
    plan.outcomes = [r for r in results if r is not None]


def _spooled_batch(context: tuple[Any, Any], items: list[Any], _extra: Any) -> list[tuple[int, Any, Any, Any]]:
    """In a worker: each file's outcome encoded, its pieces, and its content hash (what
    the parent's plan.hashes keeps for gapctl.review.provenance), as gapctl.scoring.one_pass's workers do."""
    from gapctl.collector import paused_gc
    from gapctl.scoring import outcomes

    plan, extra = context
    out = []
    with paused_gc():
        for index, path, _data in items:
            outcome, key, kept = outcomes.compute_with(plan, path, extra)
            out.append((index, outcomes.dump_outcome(plan, outcome), kept, plan.hashes.pop(path, None)))
    return out


def early_fits(plan: Any) -> bool:
    """Whether the rows can be made before the round is scored: one round that may be scored, on this
    machine, without channels or periods (whose rows `_finished` does not finish)."""
    from gapctl.scoring.executors import chosen

    round_ = plan.round
    return plan.can_score and chosen() is None and not round_.channel_paths and not round_.periods \
        and round_.unit_set is not None


def early_pieces(plan: Any, spool: Any, progress: Any = None) -> None:
    """Each unit file's `pieces` made from its bytes and the round's plan alone (no other unit, no
    cache), in a pool of forked workers for large rounds, put in `spool` by path as they come."""
    from gapctl.scoring import details

    paths = plan.round.observation_paths
    total = len(paths)
    workers = min(details.jobs_wanted(), max(1, total // (details.PARALLEL_FROM // 2)))
    if total < details.PARALLEL_FROM:
        workers = 1
    _provisional(plan.round)  # made once here: the workers inherit it
    for result in _batched(_early_batch, plan, paths, workers, progress):
        for index, data in result:
            spool[paths[index]] = data  # the plan's own path: no second Path object per unit held meanwhile


def _batched(job: Any, context: Any, paths: list[Path], workers: int, progress: Any) -> Iterator[Any]:
    """`job(context, items, None)`'s results for `paths` taken EARLY_BATCH at a time (items: (index, path,
    None)), in a pool of `workers` (`map_here`), in order; `progress` told every hundred files."""
    from gapctl.scoring.executors import map_here

    total = len(paths)
    jobs = [([(index, paths[index], None) for index in range(n, min(n + EARLY_BATCH, total))], None)
            for n in range(0, total, EARLY_BATCH)]
    done = 0
    for items, result in map_here(job, context, jobs, workers):
        yield result
        if progress and (done + len(items)) // 100 > done // 100:
            progress(done + len(items), total)
        done += len(items)


def _early_batch(plan: Any, items: list[Any], _extra: Any) -> list[tuple[int, bytes]]:
    from gapctl.collector import paused_gc

    out = []
    with paused_gc():
        for index, path, _data in items:
            made = early_piece(plan, path)
            if made is not None:
                out.append((index, made))
    return out


def early_piece(plan: Any, path: Path) -> bytes | None:
    """One unit file's `pieces`: the file read, its observations built and the unit scored as
    `gapctl.scoring.details.detail` does (before the summary finishes it); None when the file cannot give
    them (too large, unreadable, not a unit's observations, errors, no such unit or scheme), and then
    `_finished` details the unit from its file, if it has a summary at all."""
    from gapctl.data.cache import content_hash
    from gapctl.data.sources import over_limit
    from gapctl.data.tree import DiskTree
    from gapctl.scoring.outcomes import file_score

    tree = plan.round.tree or DiskTree()
    on_disk = isinstance(tree, DiskTree)
    if on_disk and over_limit(path):
        return None
    try:
        data = tree.read_bytes(path)
    except OSError:
        return None
    found = file_score(plan, path, data, keep_text=not on_disk, without_errors=True)
    if found is None:
        return None
    full, obs = found
    return pieces(plan, full, obs, content_hash(data))


def _unpacked(found: Any) -> Pieces | None:
    """A unit's pieces as a worker sent them (pickled by `pieces`, in this same run), or None."""
    return pickle.loads(found) if isinstance(found, bytes) else found


def _finished(scored: RoundScore, source: Any, found_pieces: Any, found: Shape,
              matrix_fields: list[Field], problem_fields: list[Field]) -> Iterator[tuple[bytes, bytes]] | None:
    """Every unit's (matrix rows, problem rows) finished from its pieces (`found_pieces`: path → what
    `pieces` made), or None when the round's shape is not the one the workers assumed (it has channels
    or periods, or another unit's scheme); a unit whose file has no pieces, or whose summary has a leaf
    the pieces did not leave open, is detailed here instead (`_detailed_scores`)."""
    provisional, p_matrix, p_problems = _provisional(scored.round)
    if found.with_channels or found.with_periods or (found.columns, found.several) != (
            provisional.columns, provisional.several) or [(f.name, f.type) for f in matrix_fields] != [
            (f.name, f.type) for f in p_matrix] or [(f.name, f.type) for f in problem_fields] != [
            (f.name, f.type) for f in p_problems]:
        return None
    return _finish(scored, source, found_pieces, found, matrix_fields, problem_fields)


def _finish(scored: RoundScore, source: Any, found_pieces: Any, found: Shape,
            matrix_fields: list[Field], problem_fields: list[Field]) -> Iterator[tuple[bytes, bytes]]:
    from gapctl.scoring import details
    from gapctl.scoring.score import points_lost

    lost_type, state_type = problem_fields[len(problem_fields) - 5].type, problem_fields[len(problem_fields) - 4].type
    hashes = source.plan.hashes
    for summary in scored.units:
        path = source.files.get(summary.unit.id)
        got = _unpacked(found_pieces.pop(path, None)) if path is not None else None  # none kept once written
        decided = summary.leaves
        # no file, not left open, or made from other bytes than the check read (edited meanwhile): read here
        if got is None or any(key not in got.later for key in decided) or (
                got.digest is not None and got.digest != hashes.get(path)):
            scores = _detailed_scores(source, scored, details.detail(source, summary))
            yield (row_text(matrix_fields, matrix_rows(scores, found)).encode("utf-8"),
                   row_text(problem_fields, problem_rows(scores, found)).encode("utf-8"))
            continue
        parts = [got.matrix[0]]
        for (leaf_id, cell), after in zip(got.open, got.matrix[1:], strict=True):
            parts.append(_cell(matrix_cell(decided[leaf_id]), "number") if leaf_id in decided else cell)
            parts.append(after)
        lines = []
        for item in got.problems:
            if isinstance(item, str):
                lines.append(item)
                continue
            key, points, before, after, line = item
            if key not in decided:
                lines.append(line)
                continue
            leaf = decided[key]  # its `lost` with the points the worker saw, no copy made
            state = leaf.state
            lost = points_lost(leaf.indicator.section, points, leaf.earned)
            if lost > 0 or state == "pending":
                figure = None if state == "pending" else Decimal(two(lost))
                lines.append(before + _cell(figure, lost_type) + "," + _cell(STATE_WORDS.get(state, state),
                                                                             state_type) + after)
        yield "".join(parts).encode("utf-8"), "".join(lines).encode("utf-8")


def header_text(table: Table, header: str = "title") -> str:
    return ",".join(csv_field(getattr(f, header)) for f in table.fields) + "\n"


_SUSPECT_START = FORMULA_START | frozenset(LEADING_SPACE)  # a text starting otherwise is never a formula
_QUOTED = re.compile('[,"\r\n]')  # what makes csv_field quote a field


def _cell(value: Any, column_type: str) -> str:
    """One CSV field of a cell as `csv_text` writes it, `csv_field(_text(neutralised(value, column_type)))`,
    with the two common cases short: text (neutralised only when its first character could start a
    formula) and a Decimal in a numeric column (digits, a sign and a point: never quoted)."""
    kind = type(value)
    if kind is str:
        if value[:1] in _SUSPECT_START:
            value = neutralised(value, column_type)
        return '"' + value.replace('"', '""') + '"' if _QUOTED.search(value) else value
    if kind is Decimal and column_type in NUMERIC:
        return format(value, "f")
    return csv_field(_text(neutralised(value, column_type)))


def row_text(fields: list[Field], rows: list[list[Any]]) -> str:
    """Rows as CSV lines (each cell `neutralised` by its field's type), without the header."""
    types = [f.type for f in fields]
    return "".join(",".join([_cell(v, t) for v, t in zip(row, types, strict=True)]) + "\n" for row in rows)


def csv_text(table: Table, header: str = "title") -> str:
    return header_text(table, header) + row_text(table.fields, table.rows)


def csv_files(scored: RoundScore, tabs: list[Table] | None = None) -> dict[str, bytes]:
    """Chinese headers, UTF-8 with BOM (Excel on Chinese Windows reads BOM-less CSV as GBK)."""
    return {f"{table.name}.csv": csv_text(table).encode("utf-8-sig") for table in tabs or tables(scored)}


def package_name(round_id: str) -> str:
    """A valid Data Package name: lower case, `a-z0-9._-` only."""
    return re.sub(r"[^a-z0-9._-]+", "-", round_id.lower()).strip("-.") or "round"


def descriptor(scored: RoundScore, tabs: list[Table]) -> dict[str, Any]:
    round_ = scored.round
    resources = []
    for table in tabs:
        fields = []
        for f in table.fields:
            entry: dict[str, Any] = {"name": f.name, "type": f.type, "title": f.title}
            if f.name in table.descriptions:
                entry["description"] = table.descriptions[f.name]
            fields.append(entry)
        schema: dict[str, Any] = {"fields": fields}
        if table.missing:
            schema["missingValues"] = list(table.missing)
        if table.primary_key:
            schema["primaryKey"] = list(table.primary_key)
        resources.append({
            "name": table.name, "title": table.sheet, "path": f"{table.name}.csv", "profile": "tabular-data-resource",
            "format": "csv", "mediatype": "text/csv", "encoding": "utf-8", "schema": schema,
        })
    package: dict[str, Any] = {"profile": "tabular-data-package", "name": package_name(round_.id),
                               "title": round_.title}
    if round_.title_en:
        package["description"] = round_.title_en
    if round_.example:
        package["keywords"] = ["example"]
    package["resources"] = resources
    return package


def datapackage_files(scored: RoundScore, provenance: Any = None, tabs: list[Table] | None = None) -> dict[str, bytes]:
    tabs = tabs or tables(scored)
    package = descriptor(scored, tabs)
    if provenance is not None:
        package["provenance"] = provenance.data()
    text = json.dumps(package, ensure_ascii=False, indent=2) + "\n"
    return {"datapackage.json": text.encode("utf-8"),
            **{f"{table.name}.csv": csv_text(table, header="name").encode("utf-8") for table in tabs}}


class _StableZip(zipfile.ZipFile):
    """A ZipFile whose entries all carry one fixed time, so the archive's bytes do not depend on when."""

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):  # type: ignore[override]
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            info = zipfile.ZipInfo(zinfo_or_arcname, date_time=ZIP_TIME)
            info.compress_type = self.compression
            info.external_attr = 0o644 << 16
            zinfo_or_arcname = info
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):  # type: ignore[override]
        """openpyxl writes worksheets from temporary files, whose times would leak into the archive."""
        with open(filename, "rb") as handle:
            self.writestr(str(arcname or filename), handle.read(), compress_type, compresslevel)


def _number_format(value: Decimal) -> str | None:
    exponent = value.as_tuple().exponent
    return "0." + "0" * -exponent if isinstance(exponent, int) and exponent < 0 else None


def _xml_text(value: Any) -> Any:
    """Text a worksheet can hold: the C0 controls XML 1.0 forbids as visible `\\u001b` escapes."""
    if isinstance(value, str) and _XML_ILLEGAL.search(value):
        return _XML_ILLEGAL.sub(lambda m: f"\\u{ord(m.group()):04x}", value)
    return value


BASE_FORMAT = 1  # the layout of the hidden sheet EXPORT_BASE
BASE_NOTE = "gapctl 导出时的得分矩阵：gapctl import 据此判断哪些单元格被修改过，请勿编辑本表"


def _write_rows(ws: Any, table: Table, header: list[str]) -> None:
    """The header, then the table's rows: numbers as numbers (with their decimals shown), text as text."""
    ws.append(header)
    for row in table.rows:
        cells = _cells(table, row)
        ws.append([float(v) if isinstance(v, Decimal) else _xml_text(v) for v in cells])
        for cell, value in zip(ws[ws.max_row], cells, strict=True):
            if isinstance(value, Decimal) and (fmt := _number_format(value)):
                cell.number_format = fmt
            elif isinstance(value, str):
                cell.data_type = "s"  # text, never a formula


PROVENANCE_SHEET = "数据来源"


def provenance_rows(provenance: Any) -> list[list[Any]]:
    """The 数据来源 sheet: what the tables were computed from, then every file with its sha256."""
    rows: list[list[Any]] = [["项目", "内容"],
                             ["提交 (commit)", provenance.commit or ""],
                             ["提交时间", provenance.committed or ""],
                             ["使用的文件有未提交的修改", {True: "是", False: "否"}.get(provenance.dirty, "")],
                             ["gapctl 版本", provenance.gapctl],
                             ["requirements.lock sha256", provenance.requirements_lock or ""],
                             ["文件清单 sha256", provenance.digest],
                             [],
                             ["文件", "sha256"]]
    rows += [[path, digest] for path, digest in provenance.files]
    return rows


def workbook_bytes(scored: RoundScore, provenance: Any = None, tabs: list[Table] | None = None) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.writer.excel import ExcelWriter

    wb = Workbook()
    wb.remove(wb.active)
    bold = Font(bold=True)
    tabs = tabs or tables(scored)
    for table in tabs:
        ws = wb.create_sheet(table.sheet)
        _write_rows(ws, table, [f.title for f in table.fields])
        for cell in ws[1]:
            cell.font = bold
        for n, f in enumerate(table.fields, start=1):
            widest = max([width(f.title), *(width(_text(row[n - 1])) for row in table.rows)])
            ws.column_dimensions[get_column_letter(n)].width = min(max(widest, 4), 60) + 2
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = ws.dimensions
    # the matrix as exported, hidden: `gapctl import` recognises the workbook by it and imports only the
    # cells edited since, so that what changed in the files meanwhile is never reverted
    base = wb.create_sheet(EXPORT_BASE)
    base.sheet_state = "hidden"
    base.append([EXPORT_MARKER, BASE_FORMAT, scored.round.id, BASE_NOTE])
    matrix = next(t for t in tabs if t.name == "matrix")
    _write_rows(base, matrix, [f.name for f in matrix.fields])
    if provenance is not None:
        ws = wb.create_sheet(PROVENANCE_SHEET)
        for row in provenance_rows(provenance):
            ws.append([_xml_text(neutralised(v, "string")) for v in row])
            for cell in ws[ws.max_row]:
                cell.data_type = "s"
        for cell in [*ws[1], *ws[9]]:
            cell.font = bold
        ws.column_dimensions["A"].width = max(width(path) for path, _ in provenance.files) + 2 \
            if provenance.files else 30
        ws.column_dimensions["B"].width = 68
    wb.properties.creator = "gapctl"
    wb.properties.title = scored.round.title
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    buffer = io.BytesIO()
    # not wb.save(): save_workbook stamps `modified` with the current time
    archive = _StableZip(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    ExcelWriter(wb, archive).save()
    return buffer.getvalue()


def xlsx_files(scored: RoundScore, provenance: Any = None, tabs: list[Table] | None = None) -> dict[str, bytes]:
    return {f"{scored.round.id}.xlsx": workbook_bytes(scored, provenance, tabs)}


def export(scored: RoundScore, fmt: str, out: Path, provenance: Any = None, source: Any = None,
           pieces: Any = None) -> list[Path]:
    """Write the round's tables to the directory `out` (created if needed); the files written.
    `source`: a gapctl.scoring.details.Source, when the units of `scored` are summaries (see `tables`);
    `pieces`: its units' rows as the check made them (see `streamed`).

    `provenance` (gapctl.review.provenance) goes with them as the module's docstring says. Each file is
    written atomically and the set all or none (gapctl.data.writes); `out` and the files in it must not
    be symbolic links. Raises WriteError.
    """
    from gapctl.data.writes import Write, write_files

    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
    out = Path(out)
    if source is not None and fmt != "xlsx":  # rows rendered by the workers, streamed into the files
        found = streamed(scored, source, pieces)
        return write_files([Write(out / name, data) for name, data in _streamed_files(scored, fmt, provenance, found)],
                           root=out.parent)
    tabs = tables(scored, source) if source is not None else None
    if fmt == "csv":
        files = csv_files(scored, tabs)
        if provenance is not None:
            files["provenance.json"] = _provenance_json(scored, provenance)
    elif fmt == "xlsx":
        files = xlsx_files(scored, provenance, tabs)
    else:
        files = datapackage_files(scored, provenance, tabs)
    return write_files([Write(out / name, data) for name, data in files.items()], root=out.parent)


def _provenance_json(scored: RoundScore, provenance: Any) -> bytes:
    from gapctl.escape import json_document
    return json_document({"round": scored.round.id}, provenance).encode("utf-8")


def _when_written(make: Any, *args: Any) -> Iterator[bytes]:
    """`make(*args)`'s bytes, made only when the file is written and let go once it is: a 30,000-unit round's
    scores table (~3 MB) and provenance (~6 MB) are not held while the matrix and problem rows are finished."""
    yield make(*args)


def _streamed_files(scored: RoundScore, fmt: str, provenance: Any, found: Streamed) -> list[tuple[str, Any]]:
    """The files of `csv_files` / `datapackage_files` (same names, order and bytes) from streamed rows; the
    matrix before the problem list, whose rows it spools."""
    scores, matrix, problems = found.tables
    if fmt == "csv":  # UTF-8 with BOM, Chinese headers
        bom = "\ufeff"
        files: list[tuple[str, Any]] = [
            ("scores.csv", _when_written(scores_csv, scored, scores, (bom + header_text(scores)).encode("utf-8"))),
            ("matrix.csv", found.matrix((bom + header_text(matrix)).encode("utf-8"))),
            ("problems.csv", found.problems((bom + header_text(problems)).encode("utf-8")))]
        if provenance is not None:
            files.append(("provenance.json", _when_written(_provenance_json, scored, provenance)))
        return files
    package = descriptor(scored, found.tables)
    if provenance is not None:
        package["provenance"] = provenance.data()
    return [("datapackage.json", (json.dumps(package, ensure_ascii=False, indent=2) + "\n").encode("utf-8")),
            ("scores.csv", _when_written(scores_csv, scored, scores,
                                         header_text(scores, header="name").encode("utf-8"))),
            ("matrix.csv", found.matrix(header_text(matrix, header="name").encode("utf-8"))),
            ("problems.csv", found.problems(header_text(problems, header="name").encode("utf-8")))]


__all__ = ["FORMATS", "Field", "Table", "export", "matrix_table", "neutralised", "package_name", "problems_table",
           "scores_table", "tables"]
