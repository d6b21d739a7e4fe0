"""`gapctl.io.sheets`: workbooks and CSV from outside, read safely and within limits (issue #16).

Each test hands the reader a file made to hurt — an entity bomb, an external entity, a zip that
unpacks to gigabytes or lies about its sizes, a cell at XFD1048576, a row of a million cells,
formulas — and checks that it ends in a problem (sheet, row, column, code) or in the right
values, quickly and in bounded memory. The last test runs the real `gapctl import` on the worst
of them under a 1 GiB address-space limit.
"""

from __future__ import annotations

import io
import os
import resource
import subprocess
import sys
import time
import tracemalloc
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from gapctl.io import sheets
from gapctl.io.sheets import Issue, IssueLog, Limits
from tests.conftest import gapctl_command
from tests.workbooks import cell, row, text_row, xlsx

HEADER = text_row(1, "单位", "指标", "数值")
LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lolololololololololol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
          + "]>")


def _read(tmp_path: Path, data: bytes, name: str = "s.xlsx", **kwargs) -> sheets.Sheet:
    path = tmp_path / name
    path.write_bytes(data)
    return sheets.read(path, **kwargs)


def _codes(sheet: sheets.Sheet) -> list[tuple[int | None, int | None, str]]:
    return [(i.row, i.col, i.code) for i in sheet.problems.items()]


def test_defusedxml_is_what_openpyxl_parses_with() -> None:
    """openpyxl uses defusedxml only when it is installed (a dependency since issue #16); without it
    gapctl refuses workbooks rather than parse them with the standard library's expat."""
    import defusedxml.ElementTree
    import openpyxl.xml
    import openpyxl.xml.functions

    assert openpyxl.xml.DEFUSEDXML is True
    assert openpyxl.xml.LXML is False  # gapctl sets OPENPYXL_LXML=False: lxml (python-docx's) changes nothing
    assert openpyxl.xml.functions.iterparse is defusedxml.ElementTree.iterparse
    assert openpyxl.xml.functions.fromstring is defusedxml.ElementTree.fromstring


def test_lxml_forced_on_openpyxl_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import openpyxl.xml

    monkeypatch.setattr(openpyxl.xml, "LXML", True)
    sheet = _read(tmp_path, xlsx(HEADER + text_row(2, "a", "3", 0.5)))
    assert _codes(sheet) == [(None, None, "unsafe-xml")] and not sheet.rows


def test_without_defusedxml_no_workbook_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import openpyxl.xml

    monkeypatch.setattr(openpyxl.xml, "DEFUSEDXML", False)
    sheet = _read(tmp_path, xlsx(HEADER + text_row(2, "a", "3", 0.5)))
    assert _codes(sheet) == [(None, None, "unsafe-xml")] and not sheet.rows


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/workbook.xml",
                                  "xl/styles.xml", "[Content_Types].xml"])
def test_an_entity_bomb_in_any_part_is_refused_at_once(tmp_path: Path, part: str) -> None:
    """A billion laughs: ten levels of ten entities each, a gigabyte once expanded."""
    data = xlsx(HEADER + text_row(2, "a", "3", 0.5), strings=["x"])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        original = archive.read(part).decode("utf-8")
    head, _, body = original.partition("?>")
    bomb = f"{head}?>{LAUGHS}{body}".replace("<t>x</t>", "<t>&lol9;</t>").replace("<sheetData>", "<sheetData>&lol9;")
    started = time.perf_counter()
    sheet = _read(tmp_path, xlsx(HEADER + text_row(2, "a", "3", 0.5), strings=["x"], replace={part: bomb.encode()}))
    assert time.perf_counter() - started < 5
    assert _codes(sheet) == [(None, None, "unsafe-xml")], sheet.problems.lines()
    assert "declares entities" in sheet.problems.lines()[0]


def test_an_external_entity_is_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("机密内容", encoding="utf-8")
    prolog = f'<!DOCTYPE w [<!ENTITY xxe SYSTEM "file://{secret}">]>'
    sheet = _read(tmp_path, xlsx(HEADER + row(2, cell("A2", "a"), '<c r="B2" t="inlineStr"><is><t>&xxe;</t></is></c>'),
                                 prolog=prolog))
    assert _codes(sheet) == [(None, None, "unsafe-xml")]
    assert "机密" not in repr(sheet.rows) + "".join(sheet.problems.lines())


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/styles.xml"])
def test_a_zip_bomb_is_refused_by_its_declared_size(tmp_path: Path, part: str) -> None:
    """120 MB of spaces compress to ~120 KB; the declared size refuses a part before it is opened."""
    data = xlsx(HEADER, strings=["x"], replace={part: b"<x>" + b" " * (120 * 1024 * 1024) + b"</x>"})
    assert len(data) < 1024 * 1024
    tracemalloc.start()
    sheet = _read(tmp_path, data)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert _codes(sheet) == [(None, None, "too-large")] and "unpacks to 120.0 MB" in sheet.problems.lines()[0]
    assert peak < 20 * 1024 * 1024


def test_parts_never_read_are_never_unpacked(tmp_path: Path) -> None:
    """An image (or a bomb) among the workbook's parts costs nothing: only the parts read are opened."""
    data = xlsx(HEADER + text_row(2, "a", "3", 0.5), extra={"xl/media/zeros.bin": bytes(300 * 1024 * 1024)})
    tracemalloc.start()
    sheet = _read(tmp_path, data)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert not sheet.problems and len(sheet.rows) == 2 and peak < 20 * 1024 * 1024


def _lie_about_size(data: bytes, name: str, size: int) -> bytes:
    """The zip with `name`'s uncompressed size written as `size` in both of its headers."""
    out = bytearray(data)
    encoded = name.encode()
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (start := out.find(signature, start)) >= 0:
            name_at = start + (30 if signature == b"PK\x03\x04" else 46)
            if out[name_at:name_at + len(encoded)] == encoded:
                out[start + offset:start + offset + 4] = size.to_bytes(4, "little")
            start += 4
    return bytes(out)


def test_a_part_larger_than_it_declares_is_cut_at_its_declared_size(tmp_path: Path) -> None:
    """zipfile stops reading a part at its declared size (and its CRC then fails): the declared sizes
    checked before opening are the sizes that count."""
    rows = HEADER + "".join(text_row(n, f"u{n}", "3", 0.5) for n in range(2, 5000))
    honest = xlsx(rows)
    liar = _lie_about_size(honest, "xl/worksheets/sheet1.xml", 1000)
    sheet = _read(tmp_path, liar)
    assert _codes(sheet) == [(None, None, "not-a-workbook")] and not sheet.rows


def test_a_cell_at_xfd1048576_costs_nothing(tmp_path: Path) -> None:
    """A 5 KB workbook (openpyxl's own) with one cell at the sheet's last row and column: openpyxl
    iterates its declared dimensions (17 billion cells); only cells that exist are read here."""
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["单位", "指标", "数值"])
    book.active.append(["a", "3", 0.5])
    book.active["XFD1048576"] = 1
    path = tmp_path / "far.xlsx"
    book.save(path)
    assert path.stat().st_size < 6000
    tracemalloc.start()
    started = time.perf_counter()
    sheet = sheets.read(path)
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert sheet.rows == [(1, {0: "单位", 1: "指标", 2: "数值"}), (2, {0: "a", 1: "3", 2: Decimal("0.5")}),
                          (1048576, {16383: Decimal(1)})]
    assert elapsed < 2 and peak < 20 * 1024 * 1024


def test_a_row_of_a_million_cells_is_never_held(tmp_path: Path) -> None:
    """Each cell is dropped from the XML tree once read, so a huge row costs the cells kept, not the XML."""
    wide = "<row r=\"2\">" + "<c><v>1</v></c>" * 300_000 + "</row>"
    data = xlsx(HEADER + wide)
    tracemalloc.start()
    sheet = _read(tmp_path, data, limits=Limits(cells=1000))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert _codes(sheet) == [(2, None, "too-many-cells")] and not sheet.rows
    assert peak < 30 * 1024 * 1024


def test_row_and_cell_limits(tmp_path: Path) -> None:
    rows = HEADER + "".join(text_row(n, f"u{n}", "3", 0.5) for n in range(2, 40))
    assert _codes(_read(tmp_path, xlsx(rows), limits=Limits(rows=10))) == [(11, None, "too-many-rows")]
    assert _codes(_read(tmp_path, xlsx(rows), limits=Limits(cells=50))) == [(17, None, "too-many-cells")]
    text = "单位,指标,数值\n" + "".join(f"u{n},3,0.5\n" for n in range(40))
    assert _codes(_read(tmp_path, text.encode(), "s.csv", limits=Limits(rows=10))) == [(11, None, "too-many-rows")]
    assert _codes(_read(tmp_path, text.encode(), "s.csv", limits=Limits(file_bytes=100))) == \
        [(None, None, "too-large")]


def test_formulas_are_read_as_saved_values_never_evaluated(tmp_path: Path) -> None:
    """A formula with a saved value gives that value (noted); without one, or pointing at another
    workbook or a web address, it is refused. Nothing is computed: the saved 7 stays 7."""
    rows = HEADER + row(2, cell("A2", "a"), cell("B2", "3"), cell("C2", 7, formula="1+1")) \
        + row(3, cell("A3", "b"), cell("B3", "3"), cell("C3", None, formula="SUM(A1:A2)")) \
        + row(4, cell("A4", "b"), cell("B4", "3"), cell("C4", 1, formula="[1]Sheet1!A1")) \
        + row(5, cell("A5", "b"), cell("B5", "3"), cell("C5", 1, formula='WEBSERVICE("http://x/")')) \
        + row(6, cell("A6", "b"), cell("B6", "3"), cell("C6", "x", kind="str", formula='"x"'))
    sheet = _read(tmp_path, xlsx(rows))
    assert _codes(sheet) == [(3, 2, "formula"), (4, 2, "formula"), (5, 2, "formula")]
    assert "(also row 5)" in sheet.problems.lines()[1]
    assert sheet.rows[1] == (2, {0: "a", 1: "3", 2: Decimal(7)})
    assert [(i.row, i.col, i.code) for i in sheet.notes.items()] == [(2, 2, "formula"), (6, 2, "formula")]


def test_external_links_are_not_loaded(tmp_path: Path) -> None:
    """keep_links=False: the workbook's externalLink parts are never parsed (here, one is not even XML)."""
    from tests.workbooks import PKG_REL

    link_rel = ("http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLink")
    data = xlsx(HEADER + text_row(2, "a", "3", 0.5), extra={
        "xl/externalLinks/externalLink1.xml": b"<not xml",
    })
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        rels = archive.read("xl/_rels/workbook.xml.rels").decode().replace(
            "</Relationships>", f'<Relationship Id="rId9" Type="{link_rel}" '
                                'Target="externalLinks/externalLink1.xml"/></Relationships>')
        book = archive.read("xl/workbook.xml").decode().replace(
            "</sheets>", '</sheets><externalReferences><externalReference r:id="rId9"/></externalReferences>')
    assert PKG_REL in rels
    sheet = _read(tmp_path, xlsx(HEADER + text_row(2, "a", "3", 0.5), extra={
        "xl/externalLinks/externalLink1.xml": b"<not xml"},
        replace={"xl/_rels/workbook.xml.rels": rels.encode(), "xl/workbook.xml": book.encode()}))
    assert not sheet.problems and sheet.rows[1] == (2, {0: "a", 1: "3", 2: Decimal("0.5")})


@pytest.mark.parametrize(("cells", "expected"), [
    (cell("C2", "#DIV/0!", kind="e"), (2, 2, "cell-error")),
    (cell("C2", 5, kind="s"), (2, 2, "bad-cell")),             # no shared string 5
    (cell("C2", "x" * 70, kind="s"), (2, 2, "bad-cell")),
    (cell("C2", "1e999999999"), None),                          # inline text: the importer judges it
    ('<c r="C2"><v>1e999999999</v></c>', (2, 2, "bad-cell")),    # a number that is no number
    ('<c r="C2"><v>' + "9" * 5000 + "</v></c>", (2, 2, "bad-cell")),
    ('<c r="C2"><v>NaN</v></c>', (2, 2, "bad-cell")),
    ('<c r="C2" t="d"><v>2024-02-30</v></c>', (2, 2, "bad-cell")),
    ('<c r="C2" t="zz"><v>1</v></c>', (2, 2, "bad-cell")),
    ('<c r="XFE2"><v>1</v></c>', (2, None, "bad-cell")),        # beyond Excel's last column
])
def test_cells_that_are_no_values(tmp_path: Path, cells: str, expected: tuple | None) -> None:
    sheet = _read(tmp_path, xlsx(HEADER + row(2, cell("A2", "a"), cell("B2", "3"), cells), strings=["x"]))
    assert _codes(sheet) == ([expected] if expected else [])


def test_numbers_are_what_excel_shows(tmp_path: Path) -> None:
    """Binary doubles as Excel shows them (15 significant digits): 0.1+0.2 is 0.3."""
    rows = HEADER + row(2, cell("A2", "a"), cell("B2", "3"), '<c r="C2"><v>0.30000000000000004</v></c>') \
        + row(3, cell("A3", "a"), cell("B3", "3"), '<c r="C3"><v>1E-3</v></c>') \
        + row(4, cell("A4", "a"), cell("B4", "3"), '<c r="C4" t="b"><v>1</v></c>')
    sheet = _read(tmp_path, xlsx(rows))
    assert [r[1][2] for r in sheet.rows[1:]] == [Decimal("0.300000000000000"), Decimal("0.001"), True]


def test_rows_out_of_order_or_twice(tmp_path: Path) -> None:
    rows = HEADER + text_row(3, "a", "3", 0.5) + text_row(2, "b", "3", 0.5) + text_row(3, "b", "3", 0.5)
    assert _codes(_read(tmp_path, xlsx(rows))) == [(2, None, "bad-cell"), (3, None, "bad-cell")]


def test_sheets_by_name(tmp_path: Path) -> None:
    data = xlsx(HEADER)
    assert _codes(_read(tmp_path, data, sheet="没有")) == [(None, None, "no-sheet")]
    assert "the workbook has: 评估结果" in _read(tmp_path, data, sheet="没有").problems.lines()[0]
    assert _read(tmp_path, data, sheet="评估结果").name == "评估结果"


def test_merged_cells_are_listed(tmp_path: Path) -> None:
    sheet = _read(tmp_path, xlsx(HEADER, sheet_tail='<mergeCells count="1"><mergeCell ref="E6:E7"/></mergeCells>'))
    assert sheet.merged == ["E6:E7"]


def test_an_issue_log_prints_one_line_per_cause_and_caps_repeats() -> None:
    log = IssueLog(per_code=3)
    for n in range(2, 1002):
        log.add(Issue("s", n, 0, "unknown-unit", f"unknown unit 'u{n % 5}'"))
    for n in range(2, 100_002):
        log.add(Issue("s", n, 2, "not-a-number", f"'x{n}' is not a number"))
    lines = log.lines()
    assert lines[0] == "s!A2: unknown unit 'u2' (also rows 7, 12, 17 and 196 more)"
    assert lines[3:] == ["s!C2: 'x2' is not a number", "s!C3: 'x3' is not a number", "s!C4: 'x4' is not a number",
                         "… and 400 more row(s) with the same problem (unknown unit)",
                         "… and 99,997 more row(s) with the same problem (not a number)"]
    assert log.total == 101_000 and len(log.items()) == 3 * 11 + 3


# --- the real command, under a memory limit ------------------------------------------------

def _adversaries(tmp_path: Path) -> dict[str, bytes]:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["单位", "指标", "数值"])
    book.active["XFD1048576"] = 1
    far = io.BytesIO()
    book.save(far)
    million = "单位,指标,数值\n" + "".join(f"u{i},3,0.5\n" for i in range(1_000_000))
    return {
        "exponent.csv": "单位,指标,数值\na,3,1e999999999\n".encode(),
        "far.xlsx": far.getvalue(),
        "million.csv": million.encode(),
        "bomb.xlsx": xlsx(HEADER, replace={"xl/worksheets/sheet1.xml": bytes(300 * 1024 * 1024)}),
        "laughs.xlsx": xlsx(HEADER.replace("单位", "&lol9;"), prolog=LAUGHS),
        "wide.xlsx": xlsx(HEADER + "<row r=\"2\">" + "<c><v>1</v></c>" * 2_500_000 + "</row>"),
    }


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS is what bounds memory here")
def test_gapctl_import_stays_within_a_gigabyte_and_a_minute(mini_repo: Path, tmp_path: Path) -> None:
    """The audit's inputs through the real executable: a CSV cell 1e999999999 (512 s, 11.8 GB before),
    a 5 KB workbook with a cell at XFD1048576 (past 6 GB before), 1,000,000 rows, a zip bomb, a
    billion laughs, a row of 2.5 million cells — each refused (or read) with problem lines, under a
    1 GiB address-space limit and within a minute."""
    gigabyte = 1024 ** 3

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (gigabyte, gigabyte))

    for name, data in _adversaries(tmp_path).items():
        (mini_repo / name).write_bytes(data)
        started = time.perf_counter()
        proc = subprocess.run([*gapctl_command(), "import", "rounds/r1", name], cwd=mini_repo, capture_output=True,
                              timeout=120, preexec_fn=limited, check=False,
                              env={**os.environ, "GAPCTL_DEBUG": "1", "PYTHONIOENCODING": "utf-8"})
        elapsed = time.perf_counter() - started
        output = (proc.stdout + proc.stderr).decode("utf-8", "replace")
        assert "Traceback" not in output and "MemoryError" not in output, (name, output[-2000:])
        expected = (0, "imported 0 entr") if name == "far.xlsx" else (1, "Nothing imported")
        assert proc.returncode == expected[0] and expected[1] in output, (name, output[-2000:])
        assert len(output.splitlines()) <= 3, (name, output[-2000:])
        assert elapsed < 60, (name, elapsed)
