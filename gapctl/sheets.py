"""Spreadsheets from outside → rows of cell values, read safely and within limits.

Who calls it: `gapctl import` (gapctl.importer), on workbooks and CSV files that evaluators,
units and other offices send. Everything here assumes the file was made to hurt: it is read
with a bound on every resource, and what cannot be read becomes a problem (`Issue`), never an
exception.

- **CSV**: UTF-8 (with or without a BOM) or UTF-16 with a BOM (Excel's "Unicode text", then
  tab-separated). Anything else is refused with the encoding it looks like and a command that
  converts it (`gapctl.sources` tells, as it does for YAML files): GBK/GB18030 could as well be
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
import warnings
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from decimal import Context, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

MAX_LINES_PER_CODE = 10
EXCEL_MAX_ROW, EXCEL_MAX_COLUMN = 1_048_576, 16_384
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,4})?")
_EXCEL_PRECISION = Context(prec=15)  # what Excel shows of a double
_CELL_REF = re.compile(r"([A-Z]{1,3})([0-9]{1,7})")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and encrypted xlsx
_EXTERNAL_REF = re.compile(r"\[\d+\]|\[[^\]]*\.xl[a-z]*\]|https?://|\bfile:", re.IGNORECASE)
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


TITLES = {  # code → what "… and N more rows with the same problem" names
    "unknown-unit": "unknown unit", "unknown-indicator": "unknown indicator", "not-a-number": "not a number",
    "number-bounds": "number out of bounds", "bad-date": "not a date", "result": "unknown result",
    "needs-value": "no result or value", "short-row": "short row", "long-row": "long row",
    "formula": "formula", "cell-error": "error value", "duplicate-row": "indicator twice",
    "conflict": "already observed", "merged": "merged cells", "spaces": "stray spaces",
    "fullwidth": "full-width characters", "text-number": "number stored as text", "serial-date": "serial date",
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
        for (_, message), cause in self._causes.items():
            line = f"{cause.first.ref}: {message}"
            if cause.count > 1:
                rows = list(dict.fromkeys(i.row for i in cause.more if i.row is not None
                                          and i.row != cause.first.row))[:3]
                rest = cause.count - 1 - len(rows)
                if rows:
                    also = f"rows {', '.join(str(r) for r in rows)}" + (f" and {rest:,} more" if rest else "")
                else:
                    also = f"{cause.count - 1:,} more"
                line += f" (also {also})"
            out.append(line)
        for code, count in self._hidden.items():
            out.append(f"… and {count:,} more row(s) with the same problem ({TITLES.get(code, code)})")
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

    def problem(self, code: str, message: str, row: int | None = None, col: int | None = None,
                at: str | None = None) -> None:
        self.problems.add(Issue(self.name, row, col, code, message, at))

    def note(self, code: str, message: str, row: int | None = None, col: int | None = None) -> None:
        self.notes.add(Issue(self.name, row, col, code, message))


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _column_index(letters: str) -> int:
    index = 0
    for char in letters:
        index = index * 26 + ord(char) - 64
    return index - 1


def number(text: str) -> Decimal | None:
    """A number written in at most 64 characters (digits, a point, an exponent of ≤ 4 digits), or None.

    Decimal would read "1e999999999" happily, and writing it out in full then takes a gigabyte;
    NaN, Infinity and sNaN are not numbers here either.
    """
    if len(text) > 64 or not _NUMBER.fullmatch(text):
        return None
    return Decimal(text)


def _size(size: int) -> str:
    return f"{size / 1048576:,.1f} MB" if size >= 1048576 else f"{size / 1024:,.1f} KB"


def read(path: Path, sheet: str | None = None, limits: Limits = LIMITS) -> Sheet:
    """Read a CSV file or one sheet of a workbook (the first, unless `sheet` names one)."""
    display = path.name
    is_csv = path.suffix.lower() in (".csv", ".tsv", ".txt")
    out = Sheet(display, is_csv=is_csv)
    try:
        size = path.stat().st_size
        if size > limits.file_bytes:
            out.problem("too-large", f"the file is {_size(size)}, over the limit of {_size(limits.file_bytes)}; "
                        "split it into several imports")
            return out
        raw = path.read_bytes()
    except (OSError, ValueError) as err:
        out.problem("unreadable", f"cannot read {display}: {getattr(err, 'strerror', None) or err}")
        return out
    if len(raw) > limits.file_bytes:  # it grew since stat
        out.problem("too-large", f"the file is over the limit of {_size(limits.file_bytes)}")
        return out
    if is_csv:
        _read_csv(raw, path, out, limits)
    elif path.suffix.lower() in XLSX_SUFFIXES or raw.startswith(b"PK"):
        _read_xlsx(raw, sheet, out, limits)
    elif raw.startswith(_OLE_MAGIC):
        out.problem("not-a-workbook", "this is an Excel 97–2003 workbook (.xls) or an encrypted one; "
                    "open it in Excel and save it as .xlsx without a password")
    else:
        out.problem("not-a-workbook", f"gapctl imports .xlsx workbooks and .csv files, not '{path.suffix}'")
    return out


# --- CSV ------------------------------------------------------------------------------

def _decode(raw: bytes, path: Path, out: Sheet) -> str | None:
    """The text of a CSV file, or None and a problem naming the encoding it looks like."""
    from gapctl.sources import SourceFile, _encoding_problem, decode, display_path

    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) and not raw.startswith(b"\xff\xfe\x00\x00"):
        try:
            return raw.decode("utf-16")  # the BOM says which byte order
        except UnicodeDecodeError as err:
            out.problem("encoding", f"the file starts with a UTF-16 byte-order mark but byte {err.start} "
                        "is not UTF-16; was it cut short?")
            return None
    text, hint = decode(raw)
    if text is not None:
        return text
    if raw.startswith(b"PK"):
        out.problem("encoding", f"{path.name} is a zip archive, not text: is it an xlsx workbook? Name it .xlsx")
        return None
    problem = _encoding_problem(SourceFile(path, display_path(path)), raw, hint or "")
    loc = problem.locate()
    message = problem.message.replace("file is not UTF-8", "the file is not UTF-8", 1)
    if "GB" in (hint or ""):
        message += "; or in Excel save it as “CSV UTF-8 (逗号分隔)(*.csv)”"
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
            out.problem("long-row", f"line {number_} holds more than {EXCEL_MAX_COLUMN:,} fields, Excel's limit",
                        at=f"{out.name}:{number_}")
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
                out.problem("short-row", f"this row has {len(fields)} field(s), the header {width}: "
                            "a line cut short, or a line break inside a value that needs quotes", record)
                continue  # its cells would be read into the wrong columns: nothing more to say about them
            elif max(values) >= width:
                out.problem("long-row", f"this row has a value in field {max(values) + 1}, the header only "
                            f"{width}: a comma inside a value that needs quotes?", record, max(values))
                continue
            cells += len(values)
            if len(out.rows) >= limits.rows or cells > limits.cells:
                _too_many(out, limits, record)
                return
            out.rows.append((record, values))
    except csv.Error as err:
        reason = str(err)
        if "field limit" in reason:
            out.problem("cell-too-long", f"a field longer than {limits.cell_chars:,} characters (a cell's limit "
                        "in Excel): a quote that is never closed?", record + 1)
        elif "end of data" in reason:
            out.problem("bad-csv", "a quote (\") that is never closed: the value runs to the end of the file",
                        record + 1)
        elif "expected after" in reason:
            out.problem("bad-csv", "text after the closing quote of a value; a quote inside a quoted value is "
                        "written twice (\"\")", record + 1)
        else:
            out.problem("bad-csv", f"cannot read this row as CSV ({reason})", record + 1)
    finally:
        csv.field_size_limit(old_limit)


def _too_many(out: Sheet, limits: Limits, row: int) -> None:
    if len(out.rows) >= limits.rows:
        out.problem("too-many-rows", f"more than {limits.rows:,} rows with values; split the sheet "
                    "into several imports", row)
    else:
        out.problem("too-many-cells", f"more than {limits.cells:,} cells with values; split the sheet "
                    "into several imports", row)
    out.rows.clear()  # what was read is not imported: nothing is, and the memory is free again


# --- xlsx -----------------------------------------------------------------------------

_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW, _CELL, _VALUE, _FORMULA = _NS + "row", _NS + "c", _NS + "v", _NS + "f"
_INLINE, _TEXT, _RUN, _MERGE, _DATA = _NS + "is", _NS + "t", _NS + "r", _NS + "mergeCell", _NS + "sheetData"
_STRING_ITEM = _NS + "si"


def _read_xlsx(raw: bytes, want: str | None, out: Sheet, limits: Limits) -> None:
    if raw.startswith(_OLE_MAGIC):
        out.problem("not-a-workbook", "this is an Excel 97–2003 workbook (.xls) or an encrypted one; "
                    "open it in Excel and save it as .xlsx without a password")
        return
    if not raw.startswith(b"PK"):
        out.problem("not-a-workbook", "not an xlsx workbook: an xlsx file is a zip archive, and this one is not")
        return
    try:
        listing = zipfile.ZipFile(io.BytesIO(raw)).infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as err:
        out.problem("not-a-workbook", f"not a complete xlsx workbook ({err}); was the file cut short?")
        return
    if len(listing) > limits.parts:
        out.problem("too-large", f"the workbook holds {len(listing):,} parts, over the limit of {limits.parts:,}")
        return
    sizes = {info.filename: info.file_size for info in listing}
    for name in TREE_PARTS:  # parsed whole by openpyxl: small in any real workbook
        if sizes.get(name, 0) > limits.tree_part_bytes:
            out.problem("too-large", f"the workbook's part {name} unpacks to {_size(sizes[name])}, over the limit "
                        f"of {_size(limits.tree_part_bytes)}")
            return
    if any(info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) for info in listing):
        out.problem("not-a-workbook", "the workbook is compressed in a way Excel does not use")
        return
    import openpyxl.xml

    if not openpyxl.xml.DEFUSEDXML:
        out.problem("unsafe-xml", "openpyxl would parse this workbook without defusedxml (not installed, or "
                    "OPENPYXL_DEFUSEDXML is not True): gapctl does not read workbooks that way")
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns of what it does not support; nothing of ours
            _read_book(raw, want, sizes, out, limits)
    except Exception as err:  # the workbook's XML is untrusted: whatever openpyxl meets in it is bad data
        out.rows.clear()
        out.problem(*_workbook_error(err))


TREE_PARTS = ("[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml")


def _read_book(raw: bytes, want: str | None, sizes: dict[str, int], out: Sheet, limits: Limits) -> None:
    """openpyxl reads the workbook's structure, styles and sheet names (read-only, no external links);
    the shared strings and the one sheet wanted are streamed here, within the limits."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet
    from openpyxl.xml.constants import SHARED_STRINGS

    reader = ExcelReader(io.BytesIO(raw), read_only=True, keep_vba=False, data_only=True, keep_links=False)
    try:
        reader.read_manifest()
        reader.read_workbook()  # workbook.xml and its relationships: the sheets' names and parts
        apply_stylesheet(reader.archive, reader.wb)  # which styles are dates
        book = reader.wb
        found = [(sheet.name, rel.target, rel.Type) for sheet, rel in reader.parser.find_sheets()]
        names = [name for name, _, _ in found]
        if want is not None and want not in names:
            out.problem("no-sheet", f"no sheet named '{want}'; the workbook has: {', '.join(names)}")
            return
        choice = next(((n, p, k) for n, p, k in found if (n == want if want is not None else "chartsheet" not in k)),
                      None)
        if choice is None or "chartsheet" in choice[2] or choice[1] not in sizes:
            out.problem("no-sheet", "the workbook has no worksheet" if choice is None else f"'{want}' is no worksheet")
            return
        name, part, _ = choice
        out.name = name
        out.epoch = book.epoch
        strings_type = reader.package.find(SHARED_STRINGS)
        strings_part = strings_type.PartName[1:] if strings_type is not None else None
        for streamed in (part, strings_part):
            if streamed is not None and sizes.get(streamed, 0) > limits.part_bytes:
                out.problem("too-large", f"the workbook's part {streamed} unpacks to {_size(sizes[streamed])}, "
                            f"over the limit of {_size(limits.part_bytes)}")
                return
        shared: list[str] = []
        if strings_part is not None and strings_part in sizes:
            with reader.archive.open(strings_part) as source:
                shared = _shared_strings(source, out, limits)
        if out.problems:
            return
        with reader.archive.open(part) as source:
            _stream_sheet(source, shared, set(book._date_formats), set(book._timedelta_formats), out, limits)
    finally:
        reader.archive.close()


_OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _text_of(element: Any) -> str:
    """A string item's text: its own `t`, or its runs' (`r/t`); phonetic hints (`rPh`) left out.

    Excel writes characters XML cannot hold as `_x001B_` (and a literal `_x` as `_x005F_x`)."""
    text = "".join(t.text or "" for t in [*element.findall(_TEXT), *element.findall(f"{_RUN}/{_TEXT}")])
    return _OOXML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def _shared_strings(source: Any, out: Sheet, limits: Limits) -> list[str]:
    """The workbook's shared strings, streamed: each item dropped from the tree once read."""
    from openpyxl.xml.functions import iterparse

    strings: list[str] = []
    root = None
    for event, element in iterparse(source, events=("start", "end")):
        if event == "start":
            if root is None:
                root = element
            continue
        if element.tag == _STRING_ITEM:
            text = _text_of(element)
            strings.append(text[: limits.cell_chars + 1])  # longer is refused where a cell uses it
            if root is not None:
                root.clear()
            if len(strings) > limits.cells:
                out.problem("too-many-cells", f"more than {limits.cells:,} shared strings; split the workbook")
                return []
    return strings


def _workbook_error(err: Exception) -> tuple[str, str]:
    root = err.__cause__ or err.__context__ or err
    name = type(root).__name__
    if name in ("EntitiesForbidden", "DTDForbidden", "ExternalReferenceForbidden", "NotSupportedError"):
        return "unsafe-xml", (f"the workbook's XML declares entities or external references ({name}); gapctl "
                              "does not read such workbooks — open it in Excel and save it again")
    text = str(root).splitlines()[0][:200] if str(root) else ""
    return "not-a-workbook", f"cannot read the workbook ({name}{': ' + text if text else ''}); was it cut short?"




def _stream_sheet(source: Any, shared: Any, date_styles: set[int], time_styles: set[int], out: Sheet,
                  limits: Limits) -> None:
    """The sheet's XML, one element at a time; each row and cell is dropped once read."""
    from openpyxl.xml.functions import iterparse  # defusedxml's (checked by the caller)

    row_no, col_no, last_row, cells = 0, -1, 0, 0
    current: dict[int, Any] = {}
    row_element = data_element = None
    elements = 0
    for event, element in iterparse(source, events=("start", "end")):
        tag = element.tag
        if event == "start":
            if tag in (_ROW, _CELL):
                elements += 1
                if elements > limits.elements:
                    out.problem("too-many-cells", f"more than {limits.elements:,} rows and cells in the sheet's "
                                "XML, empty ones included; split the sheet", row_no)
                    out.rows.clear()
                    return
            if tag == _ROW:
                given = element.get("r")
                row_no = int(given) if given and given.isdigit() and len(given) <= 7 else row_no + 1
                col_no, current, row_element = -1, {}, element
            elif tag == _DATA:
                data_element = element
            continue
        if tag == _CELL:
            before = len(current)
            col_no = _cell(element, row_no, col_no, current, shared, date_styles, time_styles, out, limits)
            cells += len(current) - before
            if row_element is not None:
                row_element.clear()  # the cells read so far: a row of a million cells is never held
            if col_no >= EXCEL_MAX_COLUMN:
                out.rows.clear()
                return
            if cells > limits.cells:
                _too_many(out, limits, row_no)
                return
        elif tag == _ROW:
            row_element = None
            if data_element is not None:
                data_element.clear()
            if not current:
                continue
            if row_no <= last_row or row_no > EXCEL_MAX_ROW:
                out.problem("bad-cell", f"row {row_no} comes after row {last_row} in the sheet's XML, or lies "
                            "beyond Excel's last row; open the workbook in Excel and save it again", row_no)
                continue
            last_row = row_no
            if len(out.rows) >= limits.rows or cells > limits.cells:
                _too_many(out, limits, row_no)
                return
            out.rows.append((row_no, current))
        elif tag == _MERGE:
            if len(out.merged) < 10_000:
                out.merged.append(str(element.get("ref") or "?")[:40])
            element.clear()


def _cell(element: Any, row_no: int, col_no: int, current: dict[int, Any], shared: Any, date_styles: set[int],
          time_styles: set[int], out: Sheet, limits: Limits) -> int:
    """Read one `<c>` into `current`; its column (0-based)."""
    ref = element.get("r")
    if ref:
        match = _CELL_REF.fullmatch(ref)
        col = _column_index(match.group(1)) if match else EXCEL_MAX_COLUMN
    else:
        col = col_no + 1
    if col >= EXCEL_MAX_COLUMN:
        out.problem("bad-cell", f"a cell beyond Excel's last column (XFD){f' ({ref[:20]})' if ref else ''}: "
                    "not a workbook Excel wrote; open it in Excel and save it again", row_no)
        return col
    kind = element.get("t", "n")
    formula = element.find(_FORMULA)
    raw = element.findtext(_VALUE)
    value: Any = None
    if kind == "inlineStr":
        inline = element.find(_INLINE)
        if inline is not None:
            value = _text_of(inline)
    elif raw is None or raw == "":
        pass
    elif kind == "s":
        index = int(raw) if raw.isdigit() and len(raw) < 10 else -1
        if not 0 <= index < len(shared):
            out.problem("bad-cell", "the cell names a shared string the workbook does not have", row_no, col)
            return col
        value = shared[index]
    elif kind == "str":
        value = raw
    elif kind == "b":
        value = raw.strip() in ("1", "true")
    elif kind == "e":
        out.problem("cell-error", f"the cell holds the error {raw[:20]}; enter the value itself", row_no, col)
        return col
    elif kind == "d":
        from openpyxl.utils.datetime import from_ISO8601
        try:
            value = from_ISO8601(raw)
        except (ValueError, TypeError, OverflowError):
            out.problem("bad-cell", f"'{raw[:40]}' is not a date", row_no, col)
            return col
    elif kind == "n":
        value = _excel_number(raw)
        if value is None:
            out.problem("bad-cell", f"'{raw[:40]}' is not a number", row_no, col)
            return col
        style = element.get("s")
        if style and style.isdigit() and int(style) in date_styles:
            value = _excel_date(value, out.epoch, int(style) in time_styles)
    else:
        out.problem("bad-cell", f"unknown cell type '{kind[:20]}'", row_no, col)
        return col
    if formula is not None:
        text = formula.text or ""
        if _EXTERNAL_REF.search(text):
            out.problem("formula", "a formula that refers to another workbook or a web address; gapctl reads "
                        "no external links: paste the values instead", row_no, col)
            return col
        if value is None:
            out.problem("formula", "a formula without a saved value; open the workbook in Excel and save it, "
                        "or paste the values instead", row_no, col)
            return col
        out.note("formula", "formula read as the value Excel saved with it", row_no, col)
    if isinstance(value, str):
        if len(value) > limits.cell_chars:
            out.problem("cell-too-long", f"the cell holds {len(value):,} characters, over Excel's limit of "
                        f"{limits.cell_chars:,}", row_no, col)
            return col
        if value == "":
            return col
    if value is not None:
        current[col] = value
    return col


def _excel_number(raw: str) -> Decimal | None:
    """A number cell as Excel shows it: at most 15 significant digits."""
    value = number(raw.strip())
    if value is None:
        return None
    try:
        return _EXCEL_PRECISION.create_decimal(value) if len(value.as_tuple().digits) > 15 else value
    except InvalidOperation:
        return None


def _excel_date(value: Decimal, epoch: dt.datetime, duration: bool) -> Any:
    """A date-formatted number as the datetime (or duration, time) Excel shows; the number if none."""
    from openpyxl.utils.datetime import from_excel

    try:
        return from_excel(float(value), epoch, timedelta=duration)
    except (OverflowError, ValueError, ArithmeticError):
        return value
