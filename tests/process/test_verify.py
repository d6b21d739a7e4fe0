"""`gapctl verify`: a published results table against the round (gapctl.process.verify).

The table under test is built from the shipped round's own `gapctl score --format json`, as an
office would paste it into its 通报; then one figure at a time is changed.
"""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gapctl.api import load_round, score
from gapctl.cli import app
from gapctl.process import verify as V
from tests.conftest import ROOT

runner = CliRunner()
ROUND = "rounds/shanwei-2020"
HEAD_ZH = ["排名", "单位名称", "总分", "等次"]
HEAD_EN = ["Rank", "Unit", "Total", "Grade"]


@pytest.fixture(scope="module")
def published() -> list[dict]:
    """The round's units as `score --format json` gives them, in rank order."""
    result = runner.invoke(app, ["score", str(ROOT / ROUND), "--format", "json"])
    assert result.exit_code == 0, result.output
    return sorted(json.loads(result.stdout)["units"], key=lambda u: (u["rank"], u["unit"]))


@pytest.fixture(scope="module")
def scored():
    return score(load_round(ROOT / ROUND))


def verify(*args: str):
    """`gapctl --lang en verify ARGS`."""
    return runner.invoke(app, ["--lang", "en", "verify", *args])


def rows_of(units: list[dict], head: list[str] = HEAD_ZH, key: str = "name") -> list[list]:
    return [head] + [[u["rank"], u[key], u["total"], u["grade"]] for u in units]


def write_csv(path: Path, rows: list[list]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list]) -> Path:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "排名"
    for row in rows:  # totals as numbers, as Excel holds them
        sheet.append([float(v) if isinstance(v, str) and v.replace(".", "").isdigit() and "." in v else v
                      for v in row])
    book.save(path)
    return path


def changed(units: list[dict], unit: str, **values) -> list[dict]:
    return [{**u, **values} if u["unit"] == unit else u for u in units]


def differences(result: V.Verified) -> list[tuple[str, str, int | None]]:
    return [(m.what, m.unit, m.row) for m in result.mismatches]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_table_built_from_the_rounds_own_scores_passes(kind, published, tmp_path):
    write = write_csv if kind == "csv" else write_xlsx
    table = write(tmp_path / f"通报.{kind}", rows_of(published))
    result = verify(str(ROOT / ROUND), str(table))
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith(f"{len(published)} of {len(published)} row(s) matched a unit; "
                                          "0 difference(s).")
    data = json.loads(verify(str(ROOT / ROUND), str(table), "-f", "json").stdout)
    assert data["ok"] and data["matched"] == len(published) and data["mismatches"] == []
    assert data["columns"] == {"unit": "单位名称", "rank": "排名", "total": "总分", "grade": "等次"}
    import hashlib
    assert data["sha256"] == hashlib.sha256(table.read_bytes()).hexdigest() and data["provenance"]["files"]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_one_total_changed_fails_naming_the_unit_the_row_and_the_explain_line(kind, published, scored, tmp_path):
    victim = published[11]  # row 13 of the table (the header is row 1)
    write = write_csv if kind == "csv" else write_xlsx
    higher = str(Decimal(victim["total"]) + 1)
    table = write(tmp_path / f"通报.{kind}", rows_of(changed(published, victim["unit"], total=higher)))
    result = verify(str(ROOT / ROUND), str(table))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    head = f"通报.{kind} row 13: {victim['name']} ({victim['unit']}): total published {higher}, " \
           f"computed {victim['total']}"
    assert head in lines
    from gapctl.scoring.explain import explain_lines
    explained = [x.strip() for x in explain_lines(scored.by_unit()[victim["unit"]], "en")]
    total_line = next(x for x in explained if x.startswith("Total = "))
    shown = [x.strip() for x in lines[lines.index(head) + 1:] if x.startswith("    ")]
    assert total_line in shown  # the line of the total …
    lost = [x for x in shown if " lost " in x and not x.startswith("…")]
    assert lost and all(x in explained for x in lost)  # … and the leaves that lost points, as explain shows them
    assert shown[-1] == "… and 1 more indicator(s) that lost points"
    assert lines[-1] == f"Failed: {len(published)} of {len(published)} row(s) matched a unit; 1 difference(s)."
    data = json.loads(verify(str(ROOT / ROUND), str(table), "-f", "json").stdout)
    assert [(m["what"], m["unit"], m["row"]) for m in data["mismatches"]] == [("total", victim["unit"], 13)]
    assert total_line in data["mismatches"][0]["explain"]


def test_a_lower_total_names_the_leaves_that_earned_points(published, scored, tmp_path):
    victim = published[0]
    lower = str(Decimal(victim["total"]) - 2)
    result = V.verify(scored, write_csv(tmp_path / "t.csv", rows_of(changed(published, victim["unit"], total=lower))),
                      lang="en")
    [mismatch] = result.mismatches
    leaves = [x.split()[2] for x in mismatch.lines if "/" in x and not x.startswith(("Base", "Total", "…"))]
    assert leaves and all(Decimal(x.split("/")[0]) > 0 for x in leaves)  # earned/points: what could be less


def test_the_tolerance_decides_a_difference_in_the_last_place(published, scored, tmp_path):
    victim = published[3]
    near = str(Decimal(victim["total"]) + Decimal("0.05"))
    table = write_csv(tmp_path / "t.csv", rows_of(changed(published, victim["unit"], total=near)))
    assert differences(V.verify(scored, table)) == [("total", victim["unit"], 5)]
    assert V.verify(scored, table, Decimal("0.05")).ok
    assert verify(str(ROOT / ROUND), str(table), "--tolerance", "0.05").exit_code == 0
    assert verify(str(ROOT / ROUND), str(table), "--tolerance", "0.049").exit_code == 1


def test_grade_and_rank_differences_name_their_lines(published, scored, tmp_path):
    first, second = published[0], published[1]
    units = changed(changed(published, first["unit"], grade="良好"), second["unit"], rank=1)
    result = V.verify(scored, write_csv(tmp_path / "t.csv", rows_of(units)), lang="en")
    assert differences(result) == [("grade", first["unit"], 2), ("rank", second["unit"], 3)]
    grade, rank = result.mismatches
    assert grade.published == "良好" and grade.computed == "Excellent" and grade.lines[0] == "Grade Excellent"
    assert rank.lines[0].startswith(f"Rank {second['rank']}")
    assert rank.lines[-1] == f"rank 1 is {first['name']} ({first['unit']}), total {first['total']}"


def test_english_headers_ids_and_grades_in_english(published, scored, tmp_path):
    english = {"优秀": "Excellent", "良好": "Good", "一般": "Fair"}
    units = [{**u, "grade": english.get(u["grade"], u["grade"])} for u in published]
    table = write_csv(tmp_path / "results.csv", rows_of(units, HEAD_EN, key="unit"))
    result = V.verify(scored, table)
    assert result.ok and result.matched == len(published), result.mismatches


def test_units_missing_unknown_or_twice_are_differences(published, scored, tmp_path):
    kept = [u for u in published if u["unit"] != published[5]["unit"]]
    rows = rows_of(kept) + [[99, "市不存在局", "60.0", "一般"],
                            [1, kept[0]["name"], kept[0]["total"], kept[0]["grade"]]]
    result = V.verify(scored, write_csv(tmp_path / "t.csv", rows))
    n = len(rows)
    assert differences(result) == [("unknown", "市不存在局", n - 1), ("twice", kept[0]["unit"], n),
                                   ("missing", published[5]["unit"], None)]
    lines = V.text_lines(result, "en")
    assert f"t.csv: {published[5]['name']} ({published[5]['unit']}) is in the round (total " \
           f"{published[5]['total']}) but not in the table" in lines
    assert f"t.csv row {n - 1}: '市不存在局' is no unit of the round" in lines


def test_a_table_of_one_scheme_leaves_the_other_scheme_alone(tmp_path):
    """Chongqing publishes districts and departments apart: a districts table passes, noting the rest."""
    scored = score(load_round(ROOT / "rounds/chongqing-2020"))
    districts = [s for s in scored.units if s.scheme.id == "chongqing-2020-districts"]
    rows = [["单位", "得分"]] + [[s.unit.name, str(s.total)] for s in districts]
    result = V.verify(scored, write_csv(tmp_path / "区县.csv", rows))
    departments = sum(1 for s in scored.units if s.scheme.id == "chongqing-2020-departments")
    assert result.ok and result.not_covered == [("chongqing-2020-departments", departments)]


def test_ranks_within_a_category_are_read_as_such(published, scored, tmp_path):
    """Shanwei ranks by category (分类排名): a table of ranks within category passes, and says so."""
    rows = [["单位", "总分", "名次"]] + [[u["name"], u["total"], u["category_rank"]] for u in published]
    result = V.verify(scored, write_csv(tmp_path / "t.csv", rows), lang="en")
    assert result.ok and result.category_ranks
    assert "note: the rank column was read as ranks within each category (分类排名)" in V.text_lines(result, "en")
    rows = [["单位", "总分", "分类排名"]] + [[u["name"], u["total"], u["rank"]] for u in published]
    assert {m.what for m in V.verify(scored, write_csv(tmp_path / "t.csv", rows)).mismatches} == {"category_rank"}


def test_names_as_published_spaces_brackets_and_full_width_digits(published, scored, tmp_path):
    units = [{**u, "name": f" {u['name']} ", "rank": f"第{u['rank']}名"} for u in published]
    units[0]["total"] = units[0]["total"].translate(str.maketrans("0123456789.", "０１２３４５６７８９．"))
    assert V.verify(scored, write_csv(tmp_path / "t.csv", rows_of(units))).ok


@pytest.mark.parametrize("content, problem", [
    ("", "the table is empty"),
    ("名称,备注\n市财政局,无\n", "row 1: no column of units and of totals, grades or ranks found"),
])
def test_a_table_that_is_no_results_table_fails_in_one_line(content, problem, scored, tmp_path):
    table = tmp_path / "t.csv"
    table.write_text(content, encoding="utf-8")
    result = verify(str(ROOT / ROUND), str(table))
    assert result.exit_code == 1 and f"t.csv: {problem}" in result.output and "Traceback" not in result.output


def test_an_unreadable_table_is_a_problem_not_a_crash(scored, tmp_path):
    table = tmp_path / "gbk.csv"
    table.write_bytes("排名,单位,总分\n1,市财政局,97.3\n".encode("gbk"))
    result = V.verify(scored, table)
    assert not result.ok and result.problems and "UTF-8" in result.problems[0]
    assert verify(str(ROOT / ROUND), str(tmp_path / "none.csv")).exit_code == 2


def test_the_shipped_example_tables(monkeypatch):
    """docs/examples: the table as published passes; the misprint fails on its two rows."""
    monkeypatch.chdir(ROOT)
    assert verify(ROUND, "docs/examples/shanwei-2020-published.csv").exit_code == 0
    data = json.loads(verify(ROUND, "docs/examples/shanwei-2020-misprint.csv", "-f", "json").stdout)
    assert [(m["what"], m["unit"], m["row"]) for m in data["mismatches"]] == [("grade", "sfj", 10),
                                                                              ("total", "sjj", 13)]


def test_a_title_above_the_header_and_a_note_below_the_table_are_passed_over(published, scored, tmp_path):
    rows = [["汕尾市2020年政务公开第三方评估结果"], ["2021年10月27日"], *rows_of(published),
            ["注：总分保留一位小数。"]]
    for write, name in ((write_csv, "t.csv"), (write_xlsx, "t.xlsx")):
        result = V.verify(scored, write(tmp_path / name, [r + [""] * (4 - len(r)) if write is write_csv else r
                                                            for r in rows]))
        assert result.ok and result.rows == len(published), (name, result.mismatches, result.problems)
    victim = published[2]
    rows = [["汕尾市2020年政务公开第三方评估结果"], *rows_of(changed(published, victim["unit"], total="1.0"))]
    result = V.verify(scored, write_csv(tmp_path / "t.csv", [r + [""] * (4 - len(r)) for r in rows]))
    assert differences(result) == [("total", victim["unit"], 5)]  # rows numbered as the sheet numbers them


def test_the_csv_that_score_writes_passes(scored, tmp_path):
    """`gapctl score --format csv` (ids in `unit`, names in `name`, rank and category_rank) verifies."""
    result = runner.invoke(app, ["score", str(ROOT / ROUND), "--format", "csv"])
    table = tmp_path / "scores.csv"
    table.write_text(result.stdout, encoding="utf-8")
    verified = V.verify(scored, table)
    assert verified.ok and set(verified.columns) == {"unit", "rank", "category_rank", "total", "grade"}
