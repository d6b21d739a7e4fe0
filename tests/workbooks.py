"""Workbooks made by hand, byte by byte, for the import tests: what openpyxl would never write
(shared strings out of range, entity bombs, formulas without values, cells at XFD1048576, parts
that declare gigabytes) is exactly what an import must survive.

`xlsx(rows)` builds a minimal valid workbook whose first sheet (评估结果) holds `rows`, the XML of
`<row>` elements. Styles: s="1" is a date (numFmt 14), s="2" a time (numFmt 21). `cell()` and `row()`
write the common cells.
"""

from __future__ import annotations

import io
import re
import zipfile
from xml.sax.saxutils import escape

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
SHEET_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"


def ooxml(text: str) -> str:
    """Text as Excel writes it into XML: `_x001B_` for what XML cannot hold (and `_x005F_` before a
    literal `_x`), then XML-escaped."""
    text = re.sub(r"_(?=x[0-9A-Fa-f]{4}_)", "_x005F_", text)
    text = re.sub("[\x00-\x08\x0b\x0c\x0d\x0e-\x1f\ufffe\uffff]", lambda m: f"_x{ord(m.group()):04X}_", text)
    return escape(text)


def cell(ref: str, value: object = None, *, kind: str | None = None, style: int | None = None,
         formula: str | None = None) -> str:
    """One `<c>`: text as an inline string, numbers as numbers, or `kind` (s, b, e, str, d) as given."""
    attrs = f' r="{ref}"' if ref else ""
    if style is not None:
        attrs += f' s="{style}"'
    f = f"<f>{escape(formula)}</f>" if formula is not None else ""
    if kind is None and isinstance(value, str):
        return f'<c{attrs} t="inlineStr">{f}<is><t xml:space="preserve">{ooxml(value)}</t></is></c>'
    if kind is not None:
        attrs += f' t="{kind}"'
    v = f"<v>{escape(str(value))}</v>" if value is not None else ""
    return f"<c{attrs}>{f}{v}</c>"


def row(number: int, *cells: str) -> str:
    return f'<row r="{number}">{"".join(cells)}</row>'


def text_row(number: int, *values: object) -> str:
    """A row of values from column A on: text inline, numbers as numbers, None skipped."""
    return row(number, *(cell(f"{chr(65 + i)}{number}", v) for i, v in enumerate(values) if v is not None))


def xlsx(rows: str, *, strings: list[str] | None = None, date1904: bool = False, sheet_tail: str = "",
         sheet_head: str = "", extra: dict[str, bytes] | None = None, prolog: str = "",
         replace: dict[str, bytes] | None = None) -> bytes:
    """The bytes of a workbook whose first sheet holds `rows`. `prolog` goes before the sheet's root
    element (a DOCTYPE); `extra` adds parts; `replace` swaps a part's bytes."""
    sheet = (f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<worksheet xmlns="{MAIN}">{sheet_head}'
             f"<sheetData>{rows}</sheetData>{sheet_tail}</worksheet>")
    parts: dict[str, bytes | str] = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.styles+xml"/>'
            + ('<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
               'officedocument.spreadsheetml.sharedStrings+xml"/>' if strings is not None else "")
            + "</Types>"),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL}">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{REL}">'
            + ('<workbookPr date1904="1"/>' if date1904 else "")
            + '<sheets><sheet name="评估结果" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL}">'
            f'<Relationship Id="rId1" Type="{SHEET_TYPE}" Target="worksheets/sheet1.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'styles" Target="styles.xml"/>'
            + ('<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
               'sharedStrings" Target="sharedStrings.xml"/>' if strings is not None else "")
            + "</Relationships>"),
        "xl/styles.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{MAIN}">'
            '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
            '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
            '<xf numFmtId="21" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
            "</styleSheet>"),
        "xl/worksheets/sheet1.xml": sheet,
    }
    if strings is not None:
        items = "".join(f"<si><t>{ooxml(s)}</t></si>" for s in strings)
        parts["xl/sharedStrings.xml"] = (f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}" '
                                         f'count="{len(strings)}" uniqueCount="{len(strings)}">{items}</sst>')
    parts.update(extra or {})
    parts.update(replace or {})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data.encode("utf-8") if isinstance(data, str) else data)
    return buffer.getvalue()
