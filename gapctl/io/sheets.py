"""Spreadsheets from outside → rows of cell values, read safely and within limits.

Who calls it: `gapctl import` (gapctl.io.importer), on workbooks and CSV files that evaluators,
units and other offices send. Everything here assumes the file was made to hurt: it is read
with a bound on every resource, and what cannot be read becomes a problem (`Issue`), never an
exception.

- **CSV**: UTF-8 (with or without a BOM) or UTF-16 with a BOM (Excel's "Unicode text", then
  tab-separated). Anything else is refused with the encoding it looks like and a command that
  converts it (`gapctl.data.sources` tells, as it does for YAML files): GBK/GB18030 could as well be
  Big5 or Latin-1 read wrongly, and a wrong guess would write garbled 扣分理由. Fields longer
  than a cell (`Limits.cell_chars`) are refused with their row, and so are rows with fewer
  fields than the header (a cut line) or more non-empty ones (a comma that needed quotes).
- **xlsx**: only the parts needed are opened, each after its declared size is checked (zipfile
  then stops at the declared size, so a part cannot unpack to more): the package, workbook and
  styles parts that openpyxl parses whole (`Limits.tree_part_bytes`), and the shared strings and
  the one sheet wanted, which are streamed here (`Limits.part_bytes`); images and other parts are
  never unpacked. openpyxl parses with defusedxml (no entity expansion, no external entities;
  refused outright if openpyxl would not use it) and without external links. The sheet's XML is
  streamed cell by cell, each element dropped once read, so only cells present in the file are
  seen — never the sheet's declared dimensions (a 5 KB workbook that declares A1:XFD1048576 costs
  nothing) — and at most `Limits.elements` rows and cells, empty ones included, are looked at.
  Formulas are never evaluated: a formula cell gives the value Excel saved with it, and is refused
  when there is none or when it refers to another workbook (`[1]Sheet1!A1`) or a web address.
- **Both**: at most `Limits.rows` rows with a value and `Limits.cells` cells; the file at most
  `Limits.file_bytes`. Numbers are read from at most 64 characters with an exponent of at most
  four digits, as `Decimal`; workbook numbers (binary doubles) are rounded to the 15 significant
  digits Excel shows, so 0.1+0.2 reads as 0.3, not 0.30000000000000004.

Values in `Sheet.rows`: text (CSV cells are always text), `Decimal`, `bool`, `datetime.datetime`
(date-formatted cells), `datetime.time` / `datetime.timedelta` (time-formatted cells). Empty
cells are absent. What the values mean is the importer's business.

`IssueLog` prints problems the way a person can read them: one line per root cause, with the
other rows it affects, and at most `MAX_LINES_PER_CODE` lines of one kind before "… and 999,990
more rows with the same problem".
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from gapctl.i18n import N_, _

MAX_LINES_PER_CODE = 10
# gapctl's own export workbook (gapctl.io.export): its sheets, and the hidden sheet that marks it and keeps the
# matrix as exported, so that `gapctl import` reads the matrix without being told and knows which cells changed
EXPORT_SCORES, EXPORT_MATRIX, EXPORT_PROBLEMS = "得分与排名", "指标得分矩阵", "问题清单"
EXPORT_BASE, EXPORT_MARKER = "gapctl", "gapctl export"
EXCEL_MAX_ROW, EXCEL_MAX_COLUMN = 1_048_576, 16_384
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,4})?")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and encrypted xlsx
XLSX_SUFFIXES = (".xlsx", ".xlsm")


@dataclass(frozen=True)
class Limits:
    """What one import may cost. A real evaluator's sheet (3,000 units × 40 indicators) is ~10 MB."""

    file_bytes: int = 50 * 1024 * 1024      # the CSV or the workbook on disk
    part_bytes: int = 50 * 1024 * 1024      # the sheet, the shared strings (streamed), as the zip declares them
    tree_part_bytes: int = 8 * 1024 * 1024  # workbook.xml, styles.xml … (parsed whole by openpyxl)
    parts: int = 10_000                     # parts in the zip
    rows: int = 200_000                     # rows with a value
    cells: int = 2_000_000                  # cells with a value
    cell_chars: int = 32_767                # Excel's own limit for one cell
    elements: int = 3_000_000               # rows and cells in a sheet's XML, empty ones too (time)


LIMITS = Limits()


@dataclass(frozen=True)
class Issue:
    """One problem (or note) found in a sheet: where, a stable code, and what is wrong."""

    sheet: str
    row: int | None      # 1-based, as the spreadsheet numbers rows; None: the whole sheet
    col: int | None      # 0-based; None: the whole row
    code: str
    message: str
    at: str | None = None  # a position given otherwise (a CSV's line:column)

    @property
    def ref(self) -> str:
        if self.at is not None:
            return self.at
        if self.row is None:
            return self.sheet
        if self.col is None:
            return f"{self.sheet} row {self.row}"
        return f"{self.sheet}!{column_letter(self.col)}{self.row}"


TITLES = {  # code → what "… and N more rows with the same problem" names (translated when printed)
    "unknown-unit": N_("unknown unit"), "unknown-indicator": N_("unknown indicator"),
    "not-a-number": N_("not a number"), "number-bounds": N_("number out of bounds"), "bad-date": N_("not a date"),
    "result": N_("unknown result"), "needs-value": N_("no result or value"), "short-row": N_("short row"),
    "long-row": N_("long row"), "formula": N_("formula"), "cell-error": N_("error value"),
    "duplicate-row": N_("indicator twice"), "conflict": N_("already observed"), "merged": N_("merged cells"),
    "spaces": N_("stray spaces"), "fullwidth": N_("full-width characters"),
    "text-number": N_("number stored as text"), "serial-date": N_("serial date"),
    "stale-reason": N_("扣分理由 marked for review"), "changed-since-export": N_("changed since the export"),
    "points": N_("points that cannot be earned"), "not-applicable": N_("not applicable"),
}


@dataclass
class _Cause:
    first: Issue
    count: int = 1
    more: list[Issue] = field(default_factory=list)  # further issues of this cause, the first few


MORE_KEPT = 10  # further issues kept per cause (for tests and the "also rows …" of a line)


class IssueLog:
    """Problems of one import, one line per root cause (same code and message), repeats capped.

    Memory stays bounded whatever the input: after `per_code` causes of one code, further ones
    are only counted.
    """

    def __init__(self, per_code: int = MAX_LINES_PER_CODE):
        self.per_code = per_code
        self._causes: dict[tuple[str, str], _Cause] = {}
        self._shown: Counter[str] = Counter()
        self._hidden: Counter[str] = Counter()
        self.total = 0

    def add(self, issue: Issue) -> None:
        self.total += 1
        key = (issue.code, issue.message)
        cause = self._causes.get(key)
        if cause is not None:
            cause.count += 1
            if len(cause.more) < MORE_KEPT:
                cause.more.append(issue)
            return
        if self._shown[issue.code] >= self.per_code:
            self._hidden[issue.code] += 1
            return
        self._shown[issue.code] += 1
        self._causes[key] = _Cause(issue)

    def __bool__(self) -> bool:
        return self.total > 0

    def __len__(self) -> int:
        return self.total

    def items(self) -> list[Issue]:
        """The issues of each cause shown: its first and up to MORE_KEPT more (what tests compare)."""
        return [issue for cause in self._causes.values() for issue in (cause.first, *cause.more)]

    def lines(self) -> list[str]:
        out = []
        for (_code, message), cause in self._causes.items():
            line = f"{cause.first.ref}: {message}"
            if cause.count > 1:
                rows = list(dict.fromkeys(i.row for i in cause.more if i.row is not None
                                          and i.row != cause.first.row))[:3]
                rest = cause.count - 1 - len(rows)
                listed = ", ".join(str(r) for r in rows)
                if rows and rest:
                    also = _(" (also rows {rows} and {count} more)").format(rows=listed, count=f"{rest:,}")
                elif len(rows) == 1:
                    also = _(" (also row {row})").format(row=listed)
                elif rows:
                    also = _(" (also rows {rows})").format(rows=listed)
                else:
                    also = _(" (also {count} more)").format(count=f"{cause.count - 1:,}")
                line += also
            out.append(line)
        for code, count in self._hidden.items():
            title = _(TITLES[code]) if code in TITLES else code
            out.append(_("… and {count} more row(s) with the same problem ({title})").format(
                count=f"{count:,}", title=title))
        return out


@dataclass
class Sheet:
    """What reading gave: the sheet's name, its rows with values, and the problems met."""

    name: str
    rows: list[tuple[int, dict[int, Any]]] = field(default_factory=list)  # (row number, {column: value})
    merged: list[str] = field(default_factory=list)   # merged ranges, as E6:E7
    problems: IssueLog = field(default_factory=IssueLog)
    notes: IssueLog = field(default_factory=IssueLog)
    epoch: dt.datetime = dt.datetime(1899, 12, 30)    # day 0 of serial dates (1904 workbooks differ)
    is_csv: bool = False
    base: Sheet | None = None       # gapctl's export: the matrix as exported (its hidden sheet EXPORT_BASE)
    base_round: str | None = None   # … and the round it was exported from

    def problem(self, code: str, message: str, row: int | None = None, col: int | None = None,
                at: str | None = None) -> None:
        self.problems.add(Issue(self.name, row, col, code, message, at))

    def note(self, code: str, message: str, row: int | None = None, col: int | None = None) -> None:
        self.notes.add(Issue(self.name, row, col, code, message))


def old_workbook() -> str:
    """The message for an .xls or encrypted workbook, in the language of the moment."""
    return _("this is an Excel 97–2003 workbook (.xls) or an encrypted one; open it in Excel and save it as .xlsx "
             "without a password")


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def number(text: str) -> Decimal | None:
    """A number written in at most 64 characters (digits, a point, an exponent of ≤ 4 digits), or None.

    Decimal would read "1e999999999" happily, and writing it out in full then takes a gigabyte;
    NaN, Infinity and sNaN are not numbers here either.
    """
    if len(text) > 64 or not _NUMBER.fullmatch(text):
        return None
    return Decimal(text)


def size_text(size: int) -> str:
    from decimal import Decimal

    from gapctl.figures import figure
    megabytes = size >= 1048576
    return figure(Decimal(size) / (1048576 if megabytes else 1024), 1) + (" MB" if megabytes else " KB")


def read(path: Path, sheet: str | None = None, limits: Limits = LIMITS) -> Sheet:
    """Read a CSV file or one sheet of a workbook (the first, unless `sheet` names one)."""
    display = path.name
    is_csv = path.suffix.lower() in (".csv", ".tsv", ".txt")
    out = Sheet(display, is_csv=is_csv)
    try:
        size = path.stat().st_size
        if size > limits.file_bytes:
            out.problem("too-large", _("the file is {size}, over the limit of {limit}; split it into several "
                                       "imports").format(size=size_text(size), limit=size_text(limits.file_bytes)))
            return out
        raw = path.read_bytes()
    except (OSError, ValueError) as err:
        out.problem("unreadable", _("cannot read {file}: {reason}").format(
            file=display, reason=getattr(err, "strerror", None) or err))
        return out
    if len(raw) > limits.file_bytes:  # it grew since stat
        out.problem("too-large", _("the file is over the limit of {limit}").format(limit=size_text(limits.file_bytes)))
        return out
    if is_csv:
        _read_csv(raw, path, out, limits)
    elif path.suffix.lower() in XLSX_SUFFIXES or raw.startswith(b"PK"):
        from gapctl.io.xlsx import read_xlsx

        read_xlsx(raw, sheet, out, limits)
    elif raw.startswith(_OLE_MAGIC):
        out.problem("not-a-workbook", old_workbook())
    else:
        out.problem("not-a-workbook", _("gapctl imports .xlsx workbooks and .csv files, not '{suffix}'").format(
            suffix=path.suffix))
    return out


# --- CSV ------------------------------------------------------------------------------

def _decode(raw: bytes, path: Path, out: Sheet) -> str | None:
    """The text of a CSV file, or None and a problem naming the encoding it looks like."""
    from gapctl.data.sources import SourceFile, _encoding_problem, decode, display_path

    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) and not raw.startswith(b"\xff\xfe\x00\x00"):
        try:
            return raw.decode("utf-16")  # the BOM says which byte order
        except UnicodeDecodeError as err:
            out.problem("encoding", _("the file starts with a UTF-16 byte-order mark but byte {byte} is not "
                                      "UTF-16; was it cut short?").format(byte=err.start))
            return None
    text, hint = decode(raw)
    if text is not None:
        return text
    if raw.startswith(b"PK"):
        out.problem("encoding", _("{file} is a zip archive, not text: is it an xlsx workbook? Name it "
                                  ".xlsx").format(file=path.name))
        return None
    problem = _encoding_problem(SourceFile(path, display_path(path)), raw, hint or "")
    loc = problem.locate()
    message = problem.message
    if "GB" in (hint or ""):
        message += _("; or in Excel save it as “CSV UTF-8 (逗号分隔)(*.csv)”")
    out.problem("encoding", message, at=f"{out.name}:{loc.line}:{loc.col}")
    return None


def _read_csv(raw: bytes, path: Path, out: Sheet, limits: Limits) -> None:
    text = _decode(raw, path, out)
    if text is None:
        return
    end = text.find("\n")
    first_line = text[:end] if end >= 0 else text
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    for number_, line in enumerate(io.StringIO(text), start=1):  # before csv builds a list of every field
        if line.count(delimiter) >= EXCEL_MAX_COLUMN:
            out.problem("long-row", _("line {line} holds more than {limit} fields, Excel's limit").format(
                line=number_, limit=f"{EXCEL_MAX_COLUMN:,}"), at=f"{out.name}:{number_}")
            return
    old_limit = csv.field_size_limit(limits.cell_chars)
    record, width, cells = 0, 0, 0
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        for fields in reader:
            record += 1
            values = {i: v for i, v in enumerate(fields) if v != ""}
            if not values:
                continue
            if not width:
                width = len(fields)
            elif len(fields) < width:
                out.problem("short-row", _("this row has {fields} field(s), the header {width}: a line cut short, "
                                           "or a line break inside a value that needs quotes").format(
                                               fields=len(fields), width=width), record)
                continue  # its cells would be read into the wrong columns: nothing more to say about them
            elif max(values) >= width:
                out.problem("long-row", _("this row has a value in field {field}, the header only {width}: a comma "
                                          "inside a value that needs quotes?").format(
                                              field=max(values) + 1, width=width), record, max(values))
                continue
            cells += len(values)
            if len(out.rows) >= limits.rows or cells > limits.cells:
                too_many(out, limits, record)
                return
            out.rows.append((record, values))
    except csv.Error as err:
        reason = str(err)
        if "field limit" in reason:
            out.problem("cell-too-long", _("a field longer than {limit} characters (a cell's limit in Excel): a "
                                           "quote that is never closed?").format(limit=f"{limits.cell_chars:,}"),
                        record + 1)
        elif "end of data" in reason:
            out.problem("bad-csv", _("a quote (\") that is never closed: the value runs to the end of the file"),
                        record + 1)
        elif "expected after" in reason:
            out.problem("bad-csv", _("text after the closing quote of a value; a quote inside a quoted value is "
                                     "written twice (\"\")"), record + 1)
        else:
            out.problem("bad-csv", _("cannot read this row as CSV ({reason})").format(reason=reason), record + 1)
    finally:
        csv.field_size_limit(old_limit)


def too_many(out: Sheet, limits: Limits, row: int) -> None:
    if len(out.rows) >= limits.rows:
        out.problem("too-many-rows", _("more than {count} rows with values; split the sheet into several "
                                       "imports").format(count=f"{limits.rows:,}"), row)
    else:
        out.problem("too-many-cells", _("more than {count} cells with values; split the sheet into several "
                                        "imports").format(count=f"{limits.cells:,}"), row)
    out.rows.clear()  # what was read is not imported: nothing is, and the memory is free again
