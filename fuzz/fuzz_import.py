"""Coverage-guided fuzzing of `gapctl import` with atheris (libFuzzer): spreadsheets, CSV and mappings.

The first byte of an input chooses what the rest becomes:

    0  a CSV file                           (r.csv)
    1  a whole xlsx file                    (r.xlsx: zip, parts, all of it)
    2  the sheet's XML of a valid workbook  (xl/worksheets/sheet1.xml)
    3  the shared strings of one            (xl/sharedStrings.xml, the sheet using strings 0–5)
    4  the styles of one                    (xl/styles.xml, the sheet using styles 0–2)
    5  a --mapping file beside a good CSV   (map.yaml)
    6  a CSV built from the bytes as cells  (fields split at 0x1F, rows at 0x1E: structure survives
                                             mutation, so values and dates get tried, not just syntax)

Each is imported into a copy of a small round (four rule kinds, two units). A crash is any exception
that escapes `importer.read`; a problem that names no sheet; a plan that changes a file on disk; or
an accepted sheet that, once written, `gapctl validate` refuses (the files are then put back).
How to run it: fuzz/README.md.
"""

from __future__ import annotations

import io
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["gapctl"]):
    import gapctl.data.writes  # noqa: F401
    import gapctl.io.fmt  # noqa: F401  (imported on first use by the importer; instrumented here)
    import gapctl.io.import_check  # noqa: F401
    import gapctl.io.import_wide  # noqa: F401
    import gapctl.io.xlsx  # noqa: F401
    from gapctl.api import check
    from gapctl.io import importer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.conftest import kinds_round, write_repo  # noqa: E402
from tests.workbooks import cell, row, text_row, xlsx  # noqa: E402

HEADER = text_row(1, "单位", "指标", "结果", "数值", "日期", "扣分理由")
GOOD_CSV = "单位,指标,结果,数值,日期,扣分理由\na,3,,0.5,2024/12/15,目录缺项\nb,1.1,未完成,,,入口失效\n"
STRING_ROWS = HEADER + row(2, *(cell(f"{c}2", i, kind="s") for c, i in zip("ABCDEF", range(6), strict=True)))
STYLE_ROWS = HEADER + row(2, cell("A2", "a"), cell("B2", "3"), cell("D2", 0.5, style=2), cell("E2", 45641, style=1))


class Repo:
    """A small round in a temporary directory, its observation files' bytes to put back."""

    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="gapctl-fuzz-import-"))
        write_repo(self.base, kinds_round("导入模糊测试"))
        self.round_dir = self.base / "rounds/r1"
        self.observations = self.round_dir / "observations"
        self.saved = self.files()
        self.round = check(self.round_dir).loaded.round

    def files(self) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted(self.observations.iterdir())}

    def restore(self) -> None:
        for path in self.observations.iterdir():
            if path.name not in self.saved:
                path.unlink()
        for name, data in self.saved.items():
            (self.observations / name).write_bytes(data)


REPO: Repo | None = None


def _cells_csv(body: bytes) -> bytes:
    """Bytes as rows (0x1E) of fields (0x1F) under the usual header, quoted as CSV."""
    import csv

    text = body.decode("utf-8", "replace")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["单位", "指标", "结果", "数值", "日期", "扣分理由"])
    for line in text.split("\x1e")[:50]:
        writer.writerow(line.split("\x1f")[:8])
    return buffer.getvalue().encode("utf-8")


def _input(kind: int, body: bytes) -> tuple[str, bytes, bytes | None]:
    """(file name, its bytes, a mapping file's bytes or None)."""
    if kind == 0:
        return "r.csv", body, None
    if kind == 1:
        return "r.xlsx", body, None
    if kind == 2:
        return "r.xlsx", xlsx("", replace={"xl/worksheets/sheet1.xml": body}), None
    if kind == 3:
        return "r.xlsx", xlsx(STRING_ROWS, strings=[], replace={"xl/sharedStrings.xml": body}), None
    if kind == 4:
        return "r.xlsx", xlsx(STYLE_ROWS, replace={"xl/styles.xml": body}), None
    if kind == 5:
        return "r.csv", GOOD_CSV.encode("utf-8"), body
    return "r.csv", _cells_csv(body), None


def test_one_input(data: bytes) -> None:
    global REPO
    if not data:
        return
    if REPO is None:
        REPO = Repo()
    repo = REPO
    name, sheet_bytes, mapping = _input(data[0] % 7, data[1:])
    path = repo.base / name
    path.write_bytes(sheet_bytes)
    mapping_path = None
    if mapping is not None:
        mapping_path = repo.base / "map.yaml"
        mapping_path.write_bytes(mapping)
    plan = importer.read(repo.round, path, mapping_path, force=True)
    if repo.files() != repo.saved:
        raise AssertionError("planning an import changed a file")
    if plan.problems:
        for issue in plan.issues:
            if not issue.sheet:
                raise AssertionError(f"a problem without a sheet: {issue}")
        return
    try:
        importer.write(plan)
        result = check(repo.round_dir)
        if result.report.errors:
            raise AssertionError("import accepted what validate refuses: "
                                 + "; ".join(f"{p.locate()}: {p.message}" for p in result.report.errors))
    finally:
        repo.restore()


def _sheet(rows: str) -> bytes:
    return (f'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{rows}'
            "</sheetData></worksheet>").encode()


def make_seeds(directory: Path) -> int:
    """Seeds for each target: good and broken CSV, workbooks, sheet XML, strings, styles, mappings."""
    from openpyxl import Workbook

    directory.mkdir(parents=True, exist_ok=True)
    book = Workbook()
    sheet = book.active
    for values in (["单位", "指标", "结果", "数值", "日期", "扣分理由"],
                   ["a", "3", None, 0.5, "2024年12月15日", "缺项"],
                   ["区档案馆", "1.2", None, "２", 45641, "链接 =HYPERLINK(\"x\")"],
                   ["b", "2", None, "lead，plan", None, None]):
        sheet.append(values)
    buffer = io.BytesIO()
    book.save(buffer)
    workbook = buffer.getvalue()
    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml")
        styles = archive.read("xl/styles.xml")
    seeds: list[tuple[int, bytes]] = [
        (0, GOOD_CSV.encode("utf-8")), (0, GOOD_CSV.encode("utf-8-sig")), (0, GOOD_CSV.encode("utf-16")),
        (0, GOOD_CSV.replace(",", "\t").encode("utf-16")), (0, GOOD_CSV.encode("gbk")),
        (0, "单位,指标,数值\na,3,NaN\nb,3,1e999999999\na,1.2,2.5\n".encode()),
        (0, "单位,指标,数值,日期\na,3,0.5,2021-02-30\nb,3,85%,45641\n".encode()),
        (0, "单位,指标,数值,扣分理由\na,3,0.5,\"未闭合\n".encode()),
        (0, "机构,指标,数据\na,3,0.5\n".encode()),
        (1, workbook), (1, workbook[: len(workbook) // 2]),
        (1, xlsx(HEADER + row(2, cell("A2", "a"), cell("B2", "3"), cell("D2", 0.7, formula="7/10")))),
        (1, xlsx(HEADER + row(2, cell("A2", "a"), cell("B2", "3"), cell("D2", 0.5), cell("E2", 45641, style=1),
                             cell("F2", "缺项\x1b")), date1904=True)),
        (2, sheet_xml), (2, _sheet(HEADER + row(2, cell("A2", "a"), cell("B2", "3"), cell("D2", 0.5)))),
        (2, b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData></worksheet>'),
        (3, ('<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>a</t></si><si><t>3</t>'
             '</si><si><t/></si><si><t>0.5</t></si><si><t>2024年12月15日</t></si><si><r><t>缺</t></r><r><t>项'
             '</t></r><rPh><t>que</t></rPh></si></sst>').encode()),
        (4, styles),
        (5, "columns:\n  机构: unit\n  数据: value\n".encode()), (5, b"- a\n- b\n"), (5, b"{"),
        (6, "a\x1f3\x1f\x1f0.5\x1f2024/12/15\x1f缺项\x1eb\x1f1.2\x1f\x1f２\x1f2024年1月5日\x1f".encode()),
    ]
    for number, (kind, data) in enumerate(seeds):
        (directory / f"{kind}-{number:03d}").write_bytes(bytes([kind]) + data)
    bad = ROOT / "tests" / "bad"
    for case in sorted(bad.glob("*-import-*")):
        for path in sorted(case.glob("*.*")):
            if path.suffix in (".csv", ".xlsx") and path.stat().st_size < 200_000:
                kind = 0 if path.suffix == ".csv" else 1
                (directory / f"{kind}-{case.name}-{path.name}").write_bytes(bytes([kind]) + path.read_bytes())
    return len(list(directory.iterdir()))


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--make-seeds":
        print(f"wrote {make_seeds(Path(sys.argv[2]))} seeds to {sys.argv[2]}")
        return
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
    if REPO is not None:
        shutil.rmtree(REPO.base, ignore_errors=True)


if __name__ == "__main__":
    main()
