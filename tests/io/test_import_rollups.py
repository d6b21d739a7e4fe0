"""Channels and periods through export and import (issue 15): the matrix has a row for each channel
(渠道) and each period (期次) of a unit, and `gapctl import` writes an edited row back to the channel's
file (rounds/<r>/channels/<unit>/<channel>.yaml) or to the period's round (rounds/<period>/…)."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from gapctl.api import check, score
from gapctl.cli import app
from gapctl.io import importer
from gapctl.io.export import export
from gapctl.scoring.scoreboard import unit_row
from tests.conftest import ROOT

runner = CliRunner()
COUNTY = "rounds/example-county-2024"
PERIODS = ROOT / "tests/schemes/periods/last-weighted"


@pytest.fixture
def county(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped example round with channels and subordinate units; the working directory."""
    repo = tmp_path / "repo"
    for part in ("schemes", "units"):
        shutil.copytree(ROOT / part, repo / part)
    shutil.copytree(ROOT / COUNTY, repo / COUNTY)
    monkeypatch.chdir(repo)
    return repo


@pytest.fixture
def quarters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Four quarterly rounds q1–q4 and the year round r that combines them (last quarter, or weighted)."""
    repo = tmp_path / "repo"
    shutil.copytree(PERIODS, repo, ignore=shutil.ignore_patterns("expected.json"))
    monkeypatch.chdir(repo)
    return repo


def _totals(round_dir: str) -> dict[str, Decimal]:
    result = runner.invoke(app, ["score", round_dir, "--format", "json"])
    assert result.exit_code == 0, result.output
    return {u["unit"]: Decimal(u["total"]) for u in json.loads(result.stdout)["units"]}


def _rows(path: str) -> tuple[list[str], dict[tuple[str, str | None, str | None], list]]:
    """The matrix sheet's header (ids) and its rows by (unit, channel, period)."""
    sheet = openpyxl.load_workbook(path)["指标得分矩阵"]
    header = [str(c.value).split(" ")[0] for c in sheet[1]]
    at = {name: header.index(name) for name in ("单位编号", "渠道", "期次") if name in header}
    rows = {}
    for row in sheet.iter_rows(min_row=2):
        key = (row[at["单位编号"]].value, row[at["渠道"]].value if "渠道" in at else None,
               row[at["期次"]].value if "期次" in at else None)
        rows[key] = row
    return header, rows


def _edit(path: str, key: tuple[str, str | None, str | None], indicator: str, value: object) -> object:
    header, rows = _rows(path)
    cell = rows[key][header.index(indicator)]
    old, cell.value = cell.value, value
    cell.parent.parent.save(path)
    return old


def test_export_writes_a_row_per_channel(county: Path) -> None:
    assert runner.invoke(app, ["export", COUNTY, "--format", "xlsx", "--out", "out"]).exit_code == 0
    header, rows = _rows("out/example-county-2024.xlsx")
    assert header[:5] == ["单位编号", "单位名称", "指标体系", "渠道", "渠道名称"]
    assert [k for k in rows if k[0] == "county"] == [("county", None, None), ("county", "portal", None),
                                                   ("county", "wechat", None), ("county", "weibo", None)]
    wechat = rows[("county", "wechat", None)]
    assert wechat[header.index("渠道名称")].value == "微信公众号“示例县发布”"
    assert wechat[header.index("指标体系")].value == "example-media-2024"
    assert wechat[header.index("M3")].value == 20 and wechat[header.index("1.1")].value is None


def test_the_problem_list_names_the_channel(county: Path) -> None:
    assert runner.invoke(app, ["export", COUNTY, "--out", "out"]).exit_code == 0
    lines = Path("out/problems.csv").read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "单位编号,单位名称,渠道,渠道名称,指标编号,指标名称,扣分,评估状态,扣分理由,整改要求,佐证链接"
    assert "county,示例县人民政府,wechat,微信公众号“示例县发布”,M2,内容准确,3,已评分,3处错别字。,发布前校对。," in lines


def test_an_edited_channel_cell_goes_to_the_channel_file(county: Path) -> None:
    """Export → edit the WeChat account's 互动回应 → import as it is: the channel's file changes, the
    county's rolled-up score follows, and a second export shows the new figure."""
    before = _totals(COUNTY)
    assert runner.invoke(app, ["export", COUNTY, "--format", "xlsx", "--out", "out"]).exit_code == 0
    assert _edit("out/example-county-2024.xlsx", ("county", "wechat", None), "M3", 14) == 20
    result = runner.invoke(app, ["import", COUNTY, "out/example-county-2024.xlsx"])
    assert result.exit_code == 0, result.output
    assert "imported 1 entr(ies) into 1 file(s)." in result.output
    text = (county / COUNTY / "channels/county/wechat.yaml").read_text(encoding="utf-8")
    assert "  - indicator: M3\n    grade: 14\n" in text
    assert text.startswith("# yaml-language-server: $schema=../../../../schema/observations.schema.json\n")
    after = _totals(COUNTY)
    assert after["county"] != before["county"]
    assert {u: t for u, t in after.items() if u != "county"} == {u: t for u, t in before.items() if u != "county"}
    assert runner.invoke(app, ["validate", COUNTY]).exit_code == 0
    assert runner.invoke(app, ["export", COUNTY, "--format", "xlsx", "--out", "out2"]).exit_code == 0
    _, rows = _rows("out2/example-county-2024.xlsx")
    header, _ = _rows("out2/example-county-2024.xlsx")
    assert rows[("county", "wechat", None)][header.index("M3")].value == 14


def test_export_import_export_is_the_identity_with_channels(county: Path, tmp_path: Path) -> None:
    round_dir = county / COUNTY
    before = score(check(round_dir).loaded.round)
    export(before, "xlsx", tmp_path / "x1")
    plan = importer.read(check(round_dir).loaded.round, tmp_path / "x1/example-county-2024.xlsx")
    assert plan.problems == [] and plan.files == {} and plan.entries == 0
    after = score(check(round_dir).loaded.round)
    export(after, "xlsx", tmp_path / "x2")
    assert (tmp_path / "x1/example-county-2024.xlsx").read_bytes() == (tmp_path / "x2/example-county-2024.xlsx") \
        .read_bytes()
    assert [unit_row(u) for u in before.units] == [unit_row(u) for u in after.units]


def test_a_long_sheet_names_the_channel_by_id_or_name(county: Path) -> None:
    Path("r.csv").write_text("单位,渠道,指标,数值,扣分理由\ncounty,微信公众号“示例县发布”,M3,18,留言回复偏慢\n"
                             "county,weibo,M3,10,\n", encoding="utf-8")
    result = runner.invoke(app, ["import", COUNTY, "r.csv", "--force"])
    assert result.exit_code == 0, result.output
    wechat = (county / COUNTY / "channels/county/wechat.yaml").read_text(encoding="utf-8")
    weibo = (county / COUNTY / "channels/county/weibo.yaml").read_text(encoding="utf-8")
    assert "  - indicator: M3\n    grade: 18\n    reason: 留言回复偏慢\n" in wechat
    assert "  - indicator: M3\n    grade: 10\n" in weibo
    assert runner.invoke(app, ["validate", COUNTY]).exit_code == 0


def test_an_unknown_channel_is_one_problem(county: Path) -> None:
    Path("r.csv").write_text("单位,渠道,指标,数值\ncounty,douyin,M3,18\ncounty,douyin,M2,18\n", encoding="utf-8")
    result = runner.invoke(app, ["import", COUNTY, "r.csv", "--force"])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "r.csv!B2: 示例县人民政府 has no channel 'douyin' (its channels: portal, wechat, weibo); a channel is added "
        "as its own file, channels/county/<id>.yaml (also row 3)", "Nothing imported: 1 problem(s)."]


# --- periods ----------------------------------------------------------------------------------


def test_export_writes_a_row_per_period(quarters: Path) -> None:
    assert runner.invoke(app, ["export", "rounds/r", "--format", "xlsx", "--out", "out"]).exit_code == 0
    header, rows = _rows("out/r.xlsx")
    assert "期次" in header and "渠道" not in header
    assert [k for k in rows if k[0] == "a"] == [("a", None, None), ("a", None, "q1"), ("a", None, "q2"),
                                              ("a", None, "q3"), ("a", None, "q4")]
    assert rows[("a", None, "q4")][header.index("Q1")].value == 57


def test_an_edited_period_cell_goes_to_the_period_round(quarters: Path) -> None:
    """a counts its last quarter: q4's 网站栏目更新 57 → 50 takes 7 from its year; b weighs q4 double."""
    before = _totals("rounds/r")
    assert before["a"] == Decimal("95.0") and before["b"] == Decimal("89.6")
    assert runner.invoke(app, ["export", "rounds/r", "--format", "xlsx", "--out", "out"]).exit_code == 0
    _edit("out/r.xlsx", ("a", None, "q4"), "Q1", 50)
    _edit("out/r.xlsx", ("b", None, "q4"), "Q1", 52)
    preview = runner.invoke(app, ["import", "rounds/r", "out/r.xlsx", "--dry-run"])
    assert preview.exit_code == 0, preview.output
    assert "rounds/q4" in preview.output and "95 → 88" in preview.output.replace(".0", "")
    result = runner.invoke(app, ["import", "rounds/r", "out/r.xlsx"])
    assert result.exit_code == 0, result.output
    assert "imported 2 entr(ies) into 2 file(s)." in result.output
    assert "grade: 50" in (quarters / "rounds/q4/observations/a.yaml").read_text(encoding="utf-8")
    after = _totals("rounds/r")
    assert after["a"] == Decimal("88.0")
    # b: (80 + 85 + 90 + 2 × 90) ÷ 5 = 87; 0.8 × 87 + 0.2 × 92 = 88
    assert after["b"] == Decimal("88.0")
    assert after["c"] == before["c"] and after["d"] == before["d"]
    for period in ("q1", "q2", "q3", "q4", "r"):
        assert runner.invoke(app, ["validate", f"rounds/{period}"]).exit_code == 0


def test_a_long_sheet_with_periods_and_an_unknown_period(quarters: Path) -> None:
    Path("r.csv").write_text("单位,期次,指标,数值\na,q2,Q2,30\nd,q9,Q2,30\n", encoding="utf-8")
    result = runner.invoke(app, ["import", "rounds/r", "r.csv", "--force"])
    assert result.exit_code == 1
    assert "r.csv!B3: 'q9' is not a period of round 'r' (its periods: q1, q2, q3, q4)" in result.output
    Path("r.csv").write_text("单位,期次,指标,数值\na,q2,Q2,30\n", encoding="utf-8")
    result = runner.invoke(app, ["import", "rounds/r", "r.csv", "--force"])
    assert result.exit_code == 0, result.output
    assert "grade: 30" in (quarters / "rounds/q2/observations/a.yaml").read_text(encoding="utf-8")
