"""`gapctl.export`: the scores, matrix and problems tables as CSV, xlsx and a Frictionless Data Package."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest

from gapctl.api import check, score
from gapctl.export import export, package_name
from gapctl.scoreboard import unit_row
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
    assert list(problems[0]) == ["单位编号", "单位名称", "指标编号", "指标名称", "扣分", "评估状态",
                                 "扣分理由", "整改要求", "佐证链接"]


def test_matrix_two_schemes(tmp_path: Path) -> None:
    result = scored("chongqing-2020")
    export(result, "csv", tmp_path)
    matrix = read_csv(tmp_path / "matrix.csv")
    header = list(matrix[0])
    assert header[:3] == ["单位编号", "单位名称", "指标体系"]
    leaf_ids = {leaf.id for s in {id(u.scheme): u.scheme for u in result.units}.values() for leaf in s.leaves()}
    assert set(header[3:]) == leaf_ids and len(header[3:]) == len(leaf_ids)
    assert {r["指标体系"] for r in matrix} == {s.scheme.id for s in result.units}
    by_unit = result.by_unit()
    for row in matrix:
        unit = by_unit[row["单位编号"]]
        for leaf_id in header[3:]:
            leaf = unit.leaves.get(leaf_id)
            if leaf is None or leaf.state in ("not-applicable", "n/a", "pending"):
                assert row[leaf_id] == ""
            else:
                assert Decimal(row[leaf_id]) == leaf.earned.quantize(Decimal("0.01"))


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
    assert wb.sheetnames == ["得分与排名", "指标得分矩阵", "问题清单"]
    for ws in wb.worksheets:
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
