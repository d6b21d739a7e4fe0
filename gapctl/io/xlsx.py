"""Reading an xlsx workbook from outside: the part of gapctl.io.sheets that knows the file format.

The contract is gapctl.io.sheets' (what is read, the limits, the problems); here is how: the zip's
listing first, then openpyxl (read-only, defusedxml, no external links) for the package, workbook
and styles parts only, then the shared strings and the one sheet wanted, streamed with
defusedxml's iterparse, each element dropped from the tree once read.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import warnings
import zipfile
from dataclasses import dataclass
from decimal import Context, Decimal, InvalidOperation
from typing import Any

from gapctl.i18n import _
from gapctl.io.sheets import (
    EXCEL_MAX_COLUMN,
    EXCEL_MAX_ROW,
    EXPORT_BASE,
    EXPORT_MARKER,
    EXPORT_MATRIX,
    EXPORT_PROBLEMS,
    EXPORT_SCORES,
    Limits,
    Sheet,
    number,
    old_workbook,
    size_text,
    too_many,
)

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and encrypted xlsx
_EXTERNAL_REF = re.compile(r"\[\d+\]|\[[^\]]*\.xl[a-z]*\]|https?://|\bfile:", re.IGNORECASE)
_CELL_REF = re.compile(r"([A-Z]{1,3})([0-9]{1,7})")
_EXCEL_PRECISION = Context(prec=15)  # what Excel shows of a double
_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW, _CELL, _VALUE, _FORMULA = _NS + "row", _NS + "c", _NS + "v", _NS + "f"
_INLINE, _TEXT, _RUN, _MERGE, _DATA = _NS + "is", _NS + "t", _NS + "r", _NS + "mergeCell", _NS + "sheetData"
_STRING_ITEM = _NS + "si"


def read_xlsx(raw: bytes, want: str | None, out: Sheet, limits: Limits) -> None:
    if raw.startswith(_OLE_MAGIC):
        out.problem("not-a-workbook", old_workbook())
        return
    if not raw.startswith(b"PK"):
        out.problem("not-a-workbook", _("not an xlsx workbook: an xlsx file is a zip archive, and this one is not"))
        return
    try:
        listing = zipfile.ZipFile(io.BytesIO(raw)).infolist()
    except Exception as err:  # untrusted bytes: BadZipFile, but also NotImplementedError for a zip "version 8.4"
        out.problem("not-a-workbook", _("not a complete xlsx workbook ({error}); was the file cut short?").format(
            error=f"{type(err).__name__}: {str(err)[:100]}"))
        return
    if len(listing) > limits.parts:
        out.problem("too-large", _("the workbook holds {count} parts, over the limit of {limit}").format(
            count=f"{len(listing):,}", limit=f"{limits.parts:,}"))
        return
    sizes = {info.filename: info.file_size for info in listing}
    if not _small_enough(TREE_PARTS, sizes, out, limits):
        return
    if any(info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) for info in listing):
        out.problem("not-a-workbook", _("the workbook is compressed in a way Excel does not use"))
        return
    import openpyxl.xml

    if openpyxl.xml.LXML or not openpyxl.xml.DEFUSEDXML:
        out.problem("unsafe-xml", _("openpyxl would parse this workbook without defusedxml (not installed, "
                                    "OPENPYXL_DEFUSEDXML is not True, or OPENPYXL_LXML=True): gapctl does not read "
                                    "workbooks that way"))
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns of what it does not support; nothing of ours
            _read_book(raw, want, sizes, out, limits)
    except Exception as err:  # the workbook's XML is untrusted: whatever openpyxl meets in it is bad data
        out.rows.clear()
        out.problem(*_workbook_error(err))


TREE_PARTS = ("[Content_Types].xml", "xl/styles.xml")  # and the workbook part the manifest names, and its rels


def _small_enough(names: Any, sizes: dict[str, int], out: Sheet, limits: Limits) -> bool:
    """Whether the parts openpyxl parses whole (not streamed) are small, as any real workbook's are."""
    for name in names:
        if sizes.get(name, 0) > limits.tree_part_bytes:
            out.problem("too-large", _("the workbook's part {part} unpacks to {size}, over the limit of "
                                       "{limit}").format(part=name, size=size_text(sizes[name]),
                                                         limit=size_text(limits.tree_part_bytes)))
            return False
    return True


def _read_book(raw: bytes, want: str | None, sizes: dict[str, int], out: Sheet, limits: Limits) -> None:
    """openpyxl reads the workbook's structure, styles and sheet names (read-only, no external links);
    the shared strings and the one sheet wanted are streamed here, within the limits."""
    from openpyxl.packaging.relationship import get_rels_path
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet
    from openpyxl.xml.constants import SHARED_STRINGS, XLSM, XLSX, XLTM, XLTX

    workbook_types = (XLSX, XLSM, XLTX, XLTM)

    reader = ExcelReader(io.BytesIO(raw), read_only=True, keep_vba=False, data_only=True, keep_links=False)
    try:
        reader.read_manifest()
        workbook = next((o.PartName[1:] for o in reader.package.Override if o.ContentType in workbook_types),
                        "xl/workbook.xml")
        if not _small_enough((workbook, get_rels_path(workbook)), sizes, out, limits):
            return
        reader.read_workbook()  # workbook.xml and its relationships: the sheets' names and parts
        apply_stylesheet(reader.archive, reader.wb)  # which styles are dates
        book = reader.wb
        found = [_Found(sheet.name, rel.target, rel.Type, getattr(sheet, "state", None) or "visible")
                 for sheet, rel in reader.parser.find_sheets()]
        choice = _choose(found, want, out)
        if choice is None:
            return
        if choice.part not in sizes:
            out.problem("no-sheet", _("'{sheet}' is no worksheet").format(sheet=choice.name))
            return
        out.name = choice.name
        out.epoch = book.epoch
        base = next((f for f in found if f.name == EXPORT_BASE and f.part in sizes), None)
        if choice.name != EXPORT_MATRIX:
            base = None  # the matrix as exported is only of use beside the matrix
        strings_type = reader.package.find(SHARED_STRINGS)
        strings_part = strings_type.PartName[1:] if strings_type is not None else None
        for streamed in (choice.part, strings_part, base.part if base else None):
            if streamed is not None and sizes.get(streamed, 0) > limits.part_bytes:
                out.problem("too-large", _("the workbook's part {part} unpacks to {size}, over the limit of "
                                           "{limit}").format(part=streamed, size=size_text(sizes[streamed]),
                                                             limit=size_text(limits.part_bytes)))
                return
        shared: list[str] = []
        if strings_part is not None and strings_part in sizes:
            with reader.archive.open(strings_part) as source:
                shared = _shared_strings(source, out, limits)
        if out.problems:
            return
        styles = set(book._date_formats), set(book._timedelta_formats)
        with reader.archive.open(choice.part) as source:
            _stream_sheet(source, shared, *styles, out, limits)
        if base is not None and not out.problems:
            _read_base(reader.archive, base.part, shared, styles, out, limits)
    finally:
        reader.archive.close()


@dataclass(frozen=True)
class _Found:
    """A sheet the workbook lists: its name, its part, its kind (worksheet, chartsheet) and visibility."""

    name: str
    part: str
    kind: str
    state: str


def _choose(found: list[_Found], want: str | None, out: Sheet) -> _Found | None:
    """The sheet to read: the one named; else the matrix of gapctl's own export workbook; else the only
    visible worksheet. Several sheets and no name is one problem naming them (None)."""
    names = [f.name for f in found]
    worksheets = [f for f in found if "chartsheet" not in f.kind]
    if want is not None:
        chosen = next((f for f in found if f.name == want), None)
        if chosen is None:
            out.problem("no-sheet", _("no sheet named '{sheet}'; the workbook has: {sheets}").format(
                sheet=want, sheets=", ".join(names)))
        elif "chartsheet" in chosen.kind:
            out.problem("no-sheet", _("'{sheet}' is no worksheet").format(sheet=want))
            return None
        return chosen
    if EXPORT_MATRIX in names and (EXPORT_BASE in names or {EXPORT_SCORES, EXPORT_PROBLEMS} <= set(names)):
        return next(f for f in found if f.name == EXPORT_MATRIX)  # gapctl's own export workbook
    visible = [f for f in worksheets if f.state == "visible"] or worksheets
    if not visible:
        out.problem("no-sheet", _("the workbook has no worksheet"))
        return None
    if len(visible) > 1:
        shown = [f.name for f in visible]
        out.problem("several-sheets", _("the workbook has {count} sheets ({sheets}); say which to import with "
                                        "--sheet, e.g. --sheet {first}").format(
            count=len(shown), sheets=", ".join(shown), first=_quoted(shown[0])))
        return None
    return visible[0]


def _quoted(name: str) -> str:
    """A sheet name as a shell argument (quoted only when the shell needs it: 评估结果 stays as it is)."""
    import shlex

    return name if re.fullmatch(r"[\w.\-\u3000-\uffef]+", name) and name[0] != "-" else shlex.quote(name)


def _read_base(archive: Any, part: str, shared: list[str], styles: tuple[set[int], set[int]], out: Sheet,
               limits: Limits) -> None:
    """gapctl's export keeps the matrix as exported in a hidden sheet, under a first row that marks it
    (EXPORT_MARKER, a format version, the round's id): `out.base`, unless the marker is not there."""
    base = Sheet(EXPORT_BASE, epoch=out.epoch)
    with archive.open(part) as source:
        _stream_sheet(source, shared, *styles, base, limits)
    if base.problems or not base.rows:
        return
    first = base.rows[0][1]
    if first.get(0) != EXPORT_MARKER or not isinstance(first.get(2), str):
        return
    out.base, out.base_round = Sheet(EXPORT_MATRIX, rows=base.rows[1:], epoch=out.epoch), first[2]


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
                out.problem("too-many-cells", _("more than {count} shared strings; split the workbook").format(
                    count=f"{limits.cells:,}"))
                return []
    return strings


def _column_index(letters: str) -> int:
    index = 0
    for char in letters:
        index = index * 26 + ord(char) - 64
    return index - 1


def _workbook_error(err: Exception) -> tuple[str, str]:
    root = err.__cause__ or err.__context__ or err
    name = type(root).__name__
    if name in ("EntitiesForbidden", "DTDForbidden", "ExternalReferenceForbidden", "NotSupportedError"):
        return "unsafe-xml", _("the workbook's XML declares entities or external references ({name}); gapctl does "
                               "not read such workbooks — open it in Excel and save it again").format(name=name)
    text = str(root).splitlines()[0][:200] if str(root) else ""
    return "not-a-workbook", _("cannot read the workbook ({error}); was it cut short?").format(
        error=name + (": " + text if text else ""))



def _stream_sheet(source: Any, shared: Any, date_styles: set[int], time_styles: set[int], out: Sheet,
                  limits: Limits) -> None:
    """The sheet's XML, one element at a time; each row and cell is dropped once read."""
    from openpyxl.xml.functions import iterparse  # defusedxml's (checked by the caller)

    row_no, col_no, last_row, cells, known = 0, -1, 0, 0, 0
    current: dict[int, Any] = {}
    row_element = data_element = None
    elements = 0
    for event, element in iterparse(source, events=("start", "end")):
        tag = element.tag
        if event == "start":
            if tag in (_ROW, _CELL):
                elements += 1
                if elements > limits.elements:
                    out.problem("too-many-cells", _("more than {count} rows and cells in the sheet's XML, empty "
                                                    "ones included; split the sheet").format(
                                                        count=f"{limits.elements:,}"), row_no)
                    out.rows.clear()
                    return
            if tag == _ROW:
                given = element.get("r")
                row_no = int(given) if given and given.isdigit() and len(given) <= 7 else row_no + 1
                col_no, current, row_element = -1, {}, element
                known = out.problems.total
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
                too_many(out, limits, row_no)
                return
        elif tag == _ROW:
            row_element = None
            if data_element is not None:
                data_element.clear()
            if not current:
                continue
            if out.problems.total > known:
                continue  # a cell of this row could not be read: what follows from that is no news
            if row_no <= last_row or row_no > EXCEL_MAX_ROW:
                out.problem("bad-cell", _("row {row} comes after row {last} in the sheet's XML, or lies beyond "
                                          "Excel's last row; open the workbook in Excel and save it again").format(
                                              row=row_no, last=last_row), row_no)
                continue
            last_row = row_no
            if len(out.rows) >= limits.rows or cells > limits.cells:
                too_many(out, limits, row_no)
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
        out.problem("bad-cell", _("a cell beyond Excel's last column (XFD){cell}: not a workbook Excel wrote; open "
                                  "it in Excel and save it again").format(cell=f" ({ref[:20]})" if ref else ""),
                    row_no)
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
            out.problem("bad-cell", _("the cell names a shared string the workbook does not have"), row_no, col)
            return col
        value = shared[index]
    elif kind == "str":
        value = raw
    elif kind == "b":
        value = raw.strip() in ("1", "true")
    elif kind == "e":
        out.problem("cell-error", _("the cell holds the error {error}; enter the value itself").format(
            error=raw[:20]), row_no, col)
        return col
    elif kind == "d":
        from openpyxl.utils.datetime import from_ISO8601
        try:
            value = from_ISO8601(raw)
        except (ValueError, TypeError, OverflowError):
            out.problem("bad-cell", _("'{value}' is not a date{hint}").format(value=raw[:40], hint=""), row_no, col)
            return col
    elif kind == "n":
        value = _excel_number(raw)
        if value is None:
            out.problem("bad-cell", _("'{value}' is not a number{hint}").format(value=raw[:40], hint=""), row_no, col)
            return col
        style = element.get("s")
        if style and style.isdigit() and int(style) in date_styles:
            value = _excel_date(value, out.epoch, int(style) in time_styles)
    else:
        out.problem("bad-cell", _("unknown cell type '{kind}'").format(kind=kind[:20]), row_no, col)
        return col
    if formula is not None:
        text = formula.text or ""
        if _EXTERNAL_REF.search(text):
            out.problem("formula", _("a formula that refers to another workbook or a web address; gapctl reads no "
                                     "external links: paste the values instead"), row_no, col)
            return col
        if value is None:
            out.problem("formula", _("a formula without a saved value; open the workbook in Excel and save it, or "
                                     "paste the values instead"), row_no, col)
            return col
        out.note("formula", _("formula read as the value Excel saved with it"), row_no, col)
    if isinstance(value, str):
        if len(value) > limits.cell_chars:
            out.problem("cell-too-long", _("the cell holds {count} characters, over Excel's limit of {limit}").format(
                count=f"{len(value):,}", limit=f"{limits.cell_chars:,}"), row_no, col)
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
