"""`export`: a scored round as tables for spreadsheets and data portals.

Three tables, the same in every format:

- ``scores``   得分与排名: one row per unit (ranks, figures, grade, flags);
- ``matrix``   指标得分矩阵: one row per unit, one column per leaf indicator (earned points);
- ``problems`` 问题清单: one row per leaf where points were lost (or not yet assessed).

Formats:

- ``csv``: ``scores.csv``, ``matrix.csv``, ``problems.csv`` with Chinese headers, UTF-8 **with BOM**
  so that Excel on Chinese Windows (which otherwise assumes GBK) opens them correctly; ``\\n`` line endings.
- ``xlsx``: one workbook ``<round-id>.xlsx``, one sheet per table (得分与排名, 指标得分矩阵, 问题清单),
  bold frozen header row, numbers stored as numbers, no formulas.
- ``datapackage``: a Frictionless Data Package: the three CSVs (UTF-8 without BOM, headers are the
  English field names, as Table Schema requires header = field name) and ``datapackage.json`` whose
  schemas carry the Chinese headers as field titles.

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
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from gapctl.escape import csv_field
from gapctl.score import RoundScore
from gapctl.scoreboard import two, unit_row
from gapctl.textwidth import width

FORMATS = ("csv", "xlsx", "datapackage")
NOT_COUNTED = ("not-applicable", "n/a", "pending")  # matrix cells left empty
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


# --- the tables ---------------------------------------------------------------------------

def _dec(text: str | None) -> Decimal | None:
    return Decimal(text) if text not in (None, "") else None


def scores_table(scored: RoundScore) -> Table:
    fields = [
        Field("rank", "排名", "integer"), Field("category_rank", "类别排名", "integer"),
        Field("unit", "单位编号"), Field("name", "单位名称"), Field("type", "单位类型"),
        Field("scheme", "指标体系"), Field("category", "类别编号"), Field("category_name", "类别"),
        Field("applicable", "应得分", "number"), Field("earned", "实得分", "number"),
        Field("base", "基础得分", "number"), Field("bonus", "加分", "number"), Field("penalty", "减分", "number"),
        Field("external", "外部扣分", "number"), Field("total", "总得分", "number"),
        Field("grade", "等次"), Field("flags", "标记"),
    ]
    numbers = {f.name for f in fields if f.type == "number"}
    rows = []
    for score in scored.units:
        row = unit_row(score)
        row["flags"] = "; ".join(row["flags"])
        rows.append([_dec(row[f.name]) if f.name in numbers else row[f.name] for f in fields])
    return Table("scores", "得分与排名", fields, rows, ["unit"])


def _leaf_columns(scored: RoundScore) -> list[tuple[str, str]]:
    """(leaf id, indicator name) over the round's schemes in assignment order, each id once."""
    seen: dict[str, str] = {}
    schemes = []
    for assignment in scored.round.assignments:
        scheme = scored.round.schemes.get(assignment.scheme)
        if scheme is not None and scheme not in schemes:
            schemes.append(scheme)
    for score in scored.units:  # schemes a unit was scored by but not assigned (defensive)
        if score.scheme not in schemes:
            schemes.append(score.scheme)
    for scheme in schemes:
        for leaf in scheme.leaves():
            seen.setdefault(leaf.id, leaf.name)
    return list(seen.items())


def matrix_table(scored: RoundScore) -> Table:
    columns = _leaf_columns(scored)
    several = len({s.scheme.id for s in scored.units}) > 1 or len(scored.round.assignments) > 1
    fields = [Field("unit", "单位编号"), Field("name", "单位名称")]
    if several:
        fields.append(Field("scheme", "指标体系"))
    fields += [Field(leaf_id, leaf_id, "number") for leaf_id, _ in columns]
    rows = []
    for score in scored.units:
        row: list[Any] = [score.unit.id, score.unit.name] + ([score.scheme.id] if several else [])
        for leaf_id, _ in columns:
            leaf = score.leaves.get(leaf_id)
            row.append(None if leaf is None or leaf.state in NOT_COUNTED else Decimal(two(leaf.earned)))
        rows.append(row)
    # the header is the indicator id; its name goes to the schema's description
    return Table("matrix", "指标得分矩阵", fields, rows, ["unit"], dict(columns))


def _evidence(score_leaf: Any) -> str:
    result = score_leaf.result
    return "; ".join(ev.url for ev in result.evidence if ev.url) if result else ""


def problems_table(scored: RoundScore) -> Table:
    fields = [
        Field("unit", "单位编号"), Field("unit_name", "单位名称"), Field("indicator", "指标编号"),
        Field("indicator_name", "指标名称"), Field("lost", "扣分", "number"), Field("state", "评估状态"),
        Field("reason", "扣分理由"), Field("fix", "整改要求"), Field("evidence", "佐证链接"),
    ]
    rows = []
    for score in scored.units:
        for leaf in score.lost_leaves():
            result = leaf.result
            rows.append([
                score.unit.id, score.unit.name, leaf.indicator.id, leaf.indicator.name,
                None if leaf.state == "pending" else Decimal(two(leaf.lost)), leaf.state,
                (result.reason if result else None) or "", (result.fix if result else None) or "",
                _evidence(leaf),
            ])
    return Table("problems", "问题清单", fields, rows, ["unit", "indicator"])


def tables(scored: RoundScore) -> list[Table]:
    return [scores_table(scored), matrix_table(scored), problems_table(scored)]


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


def csv_text(table: Table, header: str = "title") -> str:
    lines = [",".join(csv_field(getattr(f, header)) for f in table.fields)]
    for row in table.rows:
        lines.append(",".join(csv_field(_text(v)) for v in _cells(table, row)))
    return "".join(line + "\n" for line in lines)


def csv_files(scored: RoundScore) -> dict[str, bytes]:
    """Chinese headers, UTF-8 with BOM (Excel on Chinese Windows reads BOM-less CSV as GBK)."""
    return {f"{table.name}.csv": csv_text(table).encode("utf-8-sig") for table in tables(scored)}


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


def datapackage_files(scored: RoundScore) -> dict[str, bytes]:
    tabs = tables(scored)
    text = json.dumps(descriptor(scored, tabs), ensure_ascii=False, indent=2) + "\n"
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


def workbook_bytes(scored: RoundScore) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.writer.excel import ExcelWriter

    wb = Workbook()
    wb.remove(wb.active)
    bold = Font(bold=True)
    for table in tables(scored):
        ws = wb.create_sheet(table.sheet)
        ws.append([f.title for f in table.fields])
        for cell in ws[1]:
            cell.font = bold
        for row in table.rows:
            cells = _cells(table, row)
            ws.append([float(v) if isinstance(v, Decimal) else _xml_text(v) for v in cells])
            for cell, value in zip(ws[ws.max_row], cells, strict=True):
                if isinstance(value, Decimal) and (fmt := _number_format(value)):
                    cell.number_format = fmt
                elif isinstance(value, str):
                    cell.data_type = "s"  # text, never a formula
        for n, f in enumerate(table.fields, start=1):
            widest = max([width(f.title), *(width(_text(row[n - 1])) for row in table.rows)])
            ws.column_dimensions[get_column_letter(n)].width = min(max(widest, 4), 60) + 2
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = ws.dimensions
    wb.properties.creator = "gapctl"
    wb.properties.title = scored.round.title
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    buffer = io.BytesIO()
    # not wb.save(): save_workbook stamps `modified` with the current time
    archive = _StableZip(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    ExcelWriter(wb, archive).save()
    return buffer.getvalue()


def xlsx_files(scored: RoundScore) -> dict[str, bytes]:
    return {f"{scored.round.id}.xlsx": workbook_bytes(scored)}


def export(scored: RoundScore, fmt: str, out: Path) -> list[Path]:
    """Write the round's tables to the directory `out` (created if needed); the files written.

    Each file is written atomically and the set all or none (gapctl.writes); `out` and the files
    in it must not be symbolic links. Raises WriteError.
    """
    from gapctl.writes import Write, write_files

    makers = {"csv": csv_files, "xlsx": xlsx_files, "datapackage": datapackage_files}
    if fmt not in makers:
        raise ValueError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
    out = Path(out)
    files = makers[fmt](scored)
    return write_files([Write(out / name, data) for name, data in files.items()], root=out.parent)


__all__ = ["FORMATS", "Field", "Table", "export", "matrix_table", "neutralised", "package_name", "problems_table",
           "scores_table", "tables"]
