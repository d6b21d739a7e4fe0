"""`gapctl.io.export`: the scores, matrix and problems tables as CSV, xlsx and a Frictionless Data Package."""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest

from gapctl.api import check, score
from gapctl.io.export import export, package_name
from gapctl.scheme.rules import num
from gapctl.scoring.scoreboard import unit_row
from tests.conftest import ROOT

ROUNDS = ["shanwei-2020", "chongqing-2020"]  # chongqing-2020 has two schemes


@cache
def scored(round_id: str):
    loaded = check(ROOT / "rounds" / round_id).loaded
    assert loaded.round is not None
    return score(loaded.round)


def read_csv(path: Path, encoding: str = "utf-8-sig") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode(encoding), newline="")))


@pytest.mark.parametrize("round_id", ROUNDS)
def test_csv_tables(round_id: str, tmp_path: Path) -> None:
    result = scored(round_id)
    files = export(result, "csv", tmp_path)
    assert [f.name for f in files] == ["scores.csv", "matrix.csv", "problems.csv"]
    for path in files:
        data = path.read_bytes()
        assert data.startswith(b"\xef\xbb\xbf")
        assert b"\r" not in data
    scores = read_csv(tmp_path / "scores.csv")
    assert len(scores) == len(result.units)
    assert [r["单位编号"] for r in scores] == [s.unit.id for s in result.units]
    assert {r["单位编号"]: r["总得分"] for r in scores} == {s.unit.id: unit_row(s)["total"] for s in result.units}
    matrix = read_csv(tmp_path / "matrix.csv")
    assert len(matrix) == len(result.units)
    problems = read_csv(tmp_path / "problems.csv")
    assert len(problems) == sum(len(s.lost_leaves()) for s in result.units)
    assert [(r["单位编号"], r["指标编号"]) for r in problems] == \
        [(s.unit.id, leaf.indicator.id) for s in result.units for leaf in s.lost_leaves()]
    states = {r["评估状态"] for r in problems}  # Chinese words (issue 17: not the machine word `scored`)
    assert states and states <= {"已评分", "待评", "无佐证"}, states
    assert list(problems[0]) == ["单位编号", "单位名称", "指标编号", "指标名称", "扣分", "评估状态",
                                 "扣分理由", "整改要求", "佐证链接"]


def test_matrix_two_schemes(tmp_path: Path) -> None:
    result = scored("chongqing-2020")
    export(result, "csv", tmp_path)
    matrix = read_csv(tmp_path / "matrix.csv")
    header = list(matrix[0])
    assert header[:3] == ["单位编号", "单位名称", "指标体系"]
    schemes = list({id(u.scheme): u.scheme for u in result.units}.values())
    leaf_ids = {leaf.id for s in schemes for leaf in s.leaves()}
    ids = {title.split(" ")[0]: title for title in header[3:]}
    assert set(ids) == leaf_ids and len(header[3:]) == len(leaf_ids)
    for scheme in schemes:  # the header carries the name and the points (each scheme's, when they differ)
        for leaf in scheme.leaves():
            assert ids[leaf.id].startswith(f"{leaf.id} ") and "分）" in ids[leaf.id]
            assert num(leaf.points) in ids[leaf.id].rsplit("（", 1)[1].removesuffix("分）").split("/")
    assert ids["1.1"] == "1.1 法定主动公开内容（10/8分）"
    assert {r["指标体系"] for r in matrix} == {s.scheme.id for s in result.units}
    by_unit = result.by_unit()
    written = set()
    for row in matrix:
        unit = by_unit[row["单位编号"]]
        for leaf_id, title in ids.items():
            leaf = unit.leaves.get(leaf_id)
            if leaf is None:
                expected = ""  # not in the unit's scheme
            elif leaf.state in ("not-applicable", "n/a"):
                expected = "不适用"
            elif leaf.state == "pending":
                expected = "待评"
            else:
                assert Decimal(row[title]) == leaf.earned.quantize(Decimal("0.01"))
                continue
            assert row[title] == expected
            written.add(expected)
    assert written >= {"", "不适用"}


def test_matrix_one_scheme_has_no_scheme_column(tmp_path: Path) -> None:
    export(scored("shanwei-2020"), "csv", tmp_path)
    header = next(csv.reader(io.StringIO((tmp_path / "matrix.csv").read_text(encoding="utf-8-sig"))))
    assert header[:2] == ["单位编号", "单位名称"] and "指标体系" not in header


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "datapackage"])
def test_deterministic(fmt: str, tmp_path: Path) -> None:
    result = scored("chongqing-2020")
    first = export(result, fmt, tmp_path / "one")
    second = export(result, fmt, tmp_path / "two")
    assert [p.name for p in first] == [p.name for p in second]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


@pytest.mark.parametrize("round_id", ROUNDS)
def test_xlsx(round_id: str, tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    result = scored(round_id)
    [path] = export(result, "xlsx", tmp_path)
    assert path.name == f"{round_id}.xlsx"
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["得分与排名", "指标得分矩阵", "问题清单", "gapctl"]
    base = wb["gapctl"]  # the matrix as exported, hidden, under a row that marks the workbook as gapctl's
    assert base.sheet_state == "hidden"
    assert [c.value for c in base[1]][:3] == ["gapctl export", 1, round_id]
    matrix = [[c.value for c in r] for r in wb["指标得分矩阵"].iter_rows(min_row=2)]
    assert [[c.value for c in r] for r in base.iter_rows(min_row=3)] == matrix
    assert [c.value for c in base[2]][:2] == ["unit", "name"]
    for ws in wb.worksheets[:3]:
        assert ws.freeze_panes == "A2"
        assert all(cell.font.bold for cell in ws[1])
    scores = wb["得分与排名"]
    header = [c.value for c in scores[1]]
    assert header[:4] == ["排名", "类别排名", "单位编号", "单位名称"] and "总得分" in header
    assert scores.max_row == len(result.units) + 1
    assert wb["指标得分矩阵"].max_row == len(result.units) + 1
    assert wb["问题清单"].max_row == sum(len(s.lost_leaves()) for s in result.units) + 1
    total_col = header.index("总得分")
    unit_col = header.index("单位编号")
    totals = {row[unit_col]: row[total_col] for row in scores.iter_rows(min_row=2, values_only=True)}
    for s in result.units:
        assert isinstance(totals[s.unit.id], int | float)
        assert Decimal(str(totals[s.unit.id])) == Decimal(unit_row(s)["total"])
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f"
    name_width = scores.column_dimensions["D"].width
    assert name_width >= 2 * max(len(s.unit.name) for s in result.units)  # Chinese characters count as 2


@pytest.mark.parametrize("round_id", ROUNDS)
def test_datapackage(round_id: str, tmp_path: Path) -> None:
    result = scored(round_id)
    files = export(result, "datapackage", tmp_path)
    assert [f.name for f in files] == ["datapackage.json", "scores.csv", "matrix.csv", "problems.csv"]
    for path in files[1:]:
        assert not path.read_bytes().startswith(b"\xef\xbb\xbf")
    package = json.loads((tmp_path / "datapackage.json").read_text(encoding="utf-8"))
    assert package["name"] == package_name(round_id) == round_id
    assert package["title"] == result.round.title
    assert [r["name"] for r in package["resources"]] == ["scores", "matrix", "problems"]
    for resource in package["resources"]:
        assert resource["format"] == "csv" and resource["encoding"] == "utf-8"
        assert resource["path"] == f"{resource['name']}.csv"
        fields = resource["schema"]["fields"]
        assert all({"name", "type", "title"} <= set(f) for f in fields)
        assert {f["type"] for f in fields} <= {"string", "number", "integer"}
        header = next(csv.reader(io.StringIO((tmp_path / resource["path"]).read_text(encoding="utf-8"))))
        assert header == [f["name"] for f in fields]
    scores = package["resources"][0]["schema"]
    assert scores["primaryKey"] == ["unit"]
    assert next(f for f in scores["fields"] if f["name"] == "total")["title"] == "总得分"
    assert len(read_csv(tmp_path / "scores.csv", "utf-8")) == len(result.units)


@pytest.mark.parametrize("round_id", ROUNDS)
def test_datapackage_validates(round_id: str, tmp_path: Path) -> None:
    frictionless = pytest.importorskip("frictionless")
    export(scored(round_id), "datapackage", tmp_path)
    report = frictionless.validate(str(tmp_path / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])


def test_package_name() -> None:
    assert package_name("Shanwei 2020/草稿") == "shanwei-2020"
    assert package_name("草稿") == "round"


def test_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown export format"):
        export(scored("shanwei-2020"), "ods", tmp_path)


def test_cli_export_writes_each_format(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from gapctl.cli import app

    monkeypatch.chdir(ROOT)
    runner = CliRunner()
    for fmt, name in (("csv", "scores.csv"), ("xlsx", "yanjiang-2021.xlsx"), ("datapackage", "datapackage.json")):
        result = runner.invoke(app, ["export", "rounds/yanjiang-2021", "--format", fmt, "--out", str(tmp_path / fmt)])
        assert result.exit_code == 0, result.output
        assert (tmp_path / fmt / name).is_file() and str(tmp_path / fmt / name) in result.output


# --- formula injection (issue #16) ---------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://x","点我")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1",
            " =1+1", "＝1+1"]


def _hostile_round(tmp_path: Path, name: str, reason: str):
    """The mini round with a unit name and a 扣分理由 that a spreadsheet would run as formulas."""
    import yaml

    from tests.conftest import MINI_OBS_A, MINI_OBS_B, MINI_ROUND, MINI_SCHEME, MINI_UNITS, write_repo

    units = MINI_UNITS.replace("name: 区财政局", f"name: {json.dumps(name, ensure_ascii=False)}")
    obs = MINI_OBS_A.replace("reason: 未公开行政许可结果", f"reason: {json.dumps(reason, ensure_ascii=False)}")
    assert yaml.safe_load(units)["units"][0]["name"] == name
    repo = write_repo(tmp_path / "repo", {"schemes/mini.yaml": MINI_SCHEME, "units/mini.yaml": units,
                                          "rounds/r1/round.toml": MINI_ROUND, "rounds/r1/observations/a.yaml": obs,
                                          "rounds/r1/observations/b.yaml": MINI_OBS_B})
    result = check(repo / "rounds/r1")
    assert not result.report.errors, result.report.errors
    return score(result.loaded.round)


def _dangerous(text: str) -> bool:
    stripped = text.lstrip(" \u3000\t\r\n")
    return text[:1] in ("\t", "\r", "\n") or bool(stripped) and stripped[0] in "=+-@＝＋－＠"


@pytest.mark.parametrize("payload", FORMULAS)
def test_no_exported_text_cell_starts_a_formula(payload: str, tmp_path: Path) -> None:
    """A unit name or 扣分理由 that starts with =, +, -, @, a tab or CR is written with a leading
    apostrophe in every format; numbers in numeric columns stay numbers (a penalty of -5 is no formula)."""
    openpyxl = pytest.importorskip("openpyxl")
    result = _hostile_round(tmp_path, payload, payload + " 理由")
    for fmt in ("csv", "datapackage"):
        export(result, fmt, tmp_path / fmt)
        for path in sorted((tmp_path / fmt).glob("*.csv")):
            encoding = "utf-8-sig" if fmt == "csv" else "utf-8"
            rows = list(csv.reader(io.StringIO(path.read_bytes().decode(encoding), newline="")))
            cells = [c for row in rows[1:] for c in row]
            assert not [c for c in cells if _dangerous(c)], (fmt, path.name)
            assert "'" + payload in cells, (fmt, path.name)
    [book] = export(result, "xlsx", tmp_path / "xlsx")
    wb = openpyxl.load_workbook(book)
    texts = []
    for ws in wb.worksheets:
        for row in ws.iter_rows(min_row=2):
            for c in row:
                assert c.data_type != "f"
                if isinstance(c.value, str):
                    texts.append(c.value)
    assert not [t for t in texts if _dangerous(t)]
    # expat reads a carriage return in text as a line feed; lxml (openpyxl's parser when installed) keeps it
    assert any(shown in texts and shown + " 理由" in texts
               for shown in ("'" + payload, "'" + payload.replace("\r", "\n")))


def test_negative_numbers_stay_numbers(tmp_path: Path) -> None:
    """Yanjiang's penalties are negative: in numeric columns they are numbers, never quoted text."""
    openpyxl = pytest.importorskip("openpyxl")
    result = scored("shanwei-2020")
    from gapctl.io.export import Field, Table, csv_text, neutralised

    table = Table("t", "t", [Field("lost", "扣分", "number"), Field("rank", "排名", "integer"),
                             Field("name", "名称")], [[Decimal("-5"), -1, "-5"]])
    assert csv_text(table).splitlines()[1] == "-5,-1,'-5"
    assert neutralised(Decimal("-5"), "number") == Decimal("-5")
    assert neutralised("-5", "number") == "'-5"  # text in a numeric column is still text
    assert neutralised(None, "string") is None
    [book] = export(result, "xlsx", tmp_path)
    ws = openpyxl.load_workbook(book)["得分与排名"]
    header = [c.value for c in ws[1]]
    numeric = [header.index(t) for t in ("应得分", "实得分", "总得分")]
    for row in ws.iter_rows(min_row=2, values_only=True):
        assert all(isinstance(row[i], int | float) for i in numeric)


def test_control_characters_do_not_break_the_workbook(tmp_path: Path) -> None:
    """XML cannot hold most C0 controls: openpyxl refused the whole workbook (IllegalCharacterError,
    an "internal error"); they are written as visible \\u001b escapes instead."""
    openpyxl = pytest.importorskip("openpyxl")
    result = _hostile_round(tmp_path, "区财政局\x01", "=1+1\x1b[31m")
    [book] = export(result, "xlsx", tmp_path / "out")
    texts = {c.value for ws in openpyxl.load_workbook(book).worksheets for row in ws.iter_rows() for c in row}
    assert "区财政局\\u0001" in texts and "'=1+1\\u001b[31m" in texts
    export(result, "csv", tmp_path / "csv")  # CSV can hold them: kept as they are
    assert "'=1+1\x1b[31m" in (tmp_path / "csv/problems.csv").read_text(encoding="utf-8-sig")


def test_a_carriage_return_inside_text_cannot_start_a_row(tmp_path: Path) -> None:
    """Python's csv writer (lineterminator "\\n") left a bare CR unquoted; a spreadsheet starts a new
    row there, so "理由\\r=1+1" put a formula at the start of a row. Such fields are quoted now."""
    result = _hostile_round(tmp_path, "区财政局\r@SUM(1)", "理由\r=1+1")
    for fmt in ("csv", "datapackage"):
        export(result, fmt, tmp_path / fmt)
        for path in sorted((tmp_path / fmt).glob("*.csv")):
            text = path.read_bytes().decode("utf-8-sig")
            rows = list(csv.reader(io.StringIO(text, newline="")))
            assert all(len(row) == len(rows[0]) for row in rows), (fmt, path.name)
            assert not [c for row in rows for c in row if _dangerous(c)]
            assert not re.search(r"\r[=@]", text.replace('"理由\r=1+1"', "").replace('"区财政局\r@SUM(1)"', ""))
