"""Export → edit → import is one step (issue 17): `gapctl import` finds the matrix of gapctl's own
workbook without `--sheet`, takes the cells edited since the export without `--force`, never reverts
what changed in the files meanwhile, reads 不适用 and 待评 back, previews with `--dry-run` whether or not
`--force` is given, marks a changed value's old 扣分理由, and says one thing once."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from gapctl.cli import app
from tests.conftest import FOUR_KINDS_SCHEME, MINI_UNITS, ROOT, write_repo

runner = CliRunner()
ROUND = "rounds/yanjiang-2021"
BOOK = "out/yanjiang-2021.xlsx"


def _copy(tmp_path: Path, round_id: str = "yanjiang-2021") -> Path:
    repo = tmp_path / "repo"
    for part in ("schemes", "units"):
        shutil.copytree(ROOT / part, repo / part)
    shutil.copytree(ROOT / "rounds" / round_id, repo / "rounds" / round_id)
    return repo


def _totals(round_dir: str = ROUND) -> dict[str, Decimal]:
    result = runner.invoke(app, ["score", round_dir, "--format", "json"])
    assert result.exit_code == 0, result.output
    return {u["unit"]: Decimal(u["total"]) for u in json.loads(result.stdout)["units"]}


def _files(repo: Path) -> dict[str, bytes]:
    return {str(p.relative_to(repo)): p.read_bytes() for p in sorted((repo / "rounds").rglob("*")) if p.is_file()}


def _export(fmt: str = "xlsx") -> None:
    result = runner.invoke(app, ["export", ROUND, "--format", fmt, "--out", "out"])
    assert result.exit_code == 0, result.output


def _edit(path: str, unit: str, indicator: str, value: object) -> object:
    """Set one cell of the matrix sheet as a person would in Excel; the value it had."""
    book = openpyxl.load_workbook(path)
    sheet = book["指标得分矩阵"]
    header = [str(c.value) for c in sheet[1]]
    col = next(i for i, title in enumerate(header) if title.split(" ")[0] == indicator)
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == unit)
    old, row[col].value = row[col].value, value
    book.save(path)
    return old


@pytest.fixture
def yanjiang(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    repo = _copy(tmp_path)
    monkeypatch.chdir(repo)
    return repo


def test_export_edit_one_cell_import_score(yanjiang: Path) -> None:
    """The must-show path: export the workbook, change one cell, import it as it is, score."""
    before = _totals()
    _export()
    assert _edit(BOOK, "baohe", "7", 12) == 9  # 政务公开专区建设: 9 of 15 (0.6) → 12
    result = runner.invoke(app, ["import", ROUND, BOOK])  # no --sheet, no --force
    assert result.exit_code == 0, result.output
    assert "imported 1 entr(ies) into 1 file(s)." in result.output
    after = _totals()
    assert after["baohe"] - before["baohe"] == 3
    assert {u: t for u, t in after.items() if u != "baohe"} == {u: t for u, t in before.items() if u != "baohe"}
    text = (yanjiang / ROUND / "observations/baohe.yaml").read_text(encoding="utf-8")
    assert "    fraction: 0.8\n" in text
    # the 扣分理由 was written for 0.6: kept, marked, and said
    assert "    reason: 【待核实】政务公开专区建设未完成，缺少查阅终端、意见箱和标识标牌。\n" in text
    assert "    fix: 【待核实】按建设标准配齐" in text
    assert "note: 指标得分矩阵!I" in result.output and "marked 【待核实】" in result.output
    assert runner.invoke(app, ["validate", ROUND]).exit_code == 0


def test_the_same_path_through_csv_needs_force(yanjiang: Path) -> None:
    """A CSV matrix carries no copy of what was exported: a changed cell replaces an observation only
    with --force, and a dry run without it previews and names what --force would replace."""
    _export("csv")
    matrix = Path("out/matrix.csv")
    lines = matrix.read_text(encoding="utf-8-sig").splitlines()
    header = [title.split(" ")[0] for title in lines[0].split(",")]
    row = next(i for i, line in enumerate(lines) if line.startswith("baohe,"))
    cells = lines[row].split(",")
    cells[header.index("7")] = "12"
    lines[row] = ",".join(cells)
    matrix.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    files = _files(yanjiang)
    refused = runner.invoke(app, ["import", ROUND, str(matrix)])
    assert refused.exit_code == 1
    assert "matrix.csv!I" in refused.output and "baohe 7: already observed; use --force to replace" in refused.output
    preview = runner.invoke(app, ["import", ROUND, str(matrix), "--dry-run"])
    assert preview.exit_code == 0, preview.output
    assert "包河街道" in preview.output or "baohe" in preview.output
    assert "+3" in preview.output
    assert "needs --force: matrix.csv!I" in preview.output
    assert "(--force would replace 1 observation(s) already recorded; without it the import refuses them)" \
        in preview.output
    forced_preview = runner.invoke(app, ["import", ROUND, str(matrix), "--dry-run", "--force"])
    assert forced_preview.exit_code == 0 and "needs --force" not in forced_preview.output
    assert "+3" in forced_preview.output
    assert _files(yanjiang) == files  # dry runs write nothing
    done = runner.invoke(app, ["import", ROUND, str(matrix), "--force"])
    assert done.exit_code == 0, done.output
    assert "fraction: 0.8" in (yanjiang / ROUND / "observations/baohe.yaml").read_text(encoding="utf-8")


def test_an_old_workbook_never_reverts_newer_observations(yanjiang: Path) -> None:
    """Cells not edited in the sheet stay as the files say now; a cell edited in the sheet and changed
    in the files since needs --force."""
    _export()
    obs = yanjiang / ROUND / "observations/baohe.yaml"
    obs.write_text(obs.read_text(encoding="utf-8").replace("    fraction: 0.6\n", "    fraction: 1\n"),
                   encoding="utf-8")  # 7 is now 15, after the export
    before = _totals()
    _edit(BOOK, "education", "7", 12)  # another unit's cell, edited in the sheet
    result = runner.invoke(app, ["import", ROUND, BOOK])
    assert result.exit_code == 0, result.output
    assert "not edited in the sheet, but the observation changed since the export: kept as it is now" \
        in result.output
    assert "    fraction: 1\n" in obs.read_text(encoding="utf-8")  # not reverted to 0.6
    after = _totals()
    # education loses 3 of its 95 applicable points (item 6 is for towns only), its base out of 100: 3.2
    assert after["baohe"] == before["baohe"] and before["education"] - after["education"] == Decimal("3.2")
    _edit(BOOK, "baohe", "7", 6)  # edited in the sheet; the file changed too
    refused = runner.invoke(app, ["import", ROUND, BOOK])
    assert refused.exit_code == 1
    assert ("baohe 7: edited in the sheet, and changed in the files since the export too; use --force to take "
            "the sheet's value") in refused.output
    forced = runner.invoke(app, ["import", ROUND, BOOK, "--force"])
    assert forced.exit_code == 0, forced.output
    assert "    fraction: 0.4\n" in obs.read_text(encoding="utf-8")


@pytest.mark.parametrize("sheet", ["得分与排名", "问题清单"])
def test_a_wrong_sheet_is_one_problem(yanjiang: Path, sheet: str) -> None:
    """The scores sheet printed one "unknown indicator '排名'" per unit and column; now one line."""
    _export()
    files = _files(yanjiang)
    result = runner.invoke(app, ["import", ROUND, BOOK, "--sheet", sheet])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len(lines) == 2 and lines[1] == "Nothing imported: 1 problem(s).", lines
    assert lines[0].startswith(f"{sheet}") and "指标得分矩阵" in lines[0]
    assert _files(yanjiang) == files


def test_another_workbook_with_several_sheets_is_one_line(yanjiang: Path) -> None:
    book = openpyxl.Workbook()
    book.active.title = "说明"
    book.active.append(["本表为评估结果"])
    results = book.create_sheet("评估结果")
    results.append(["单位", "指标", "数值", "扣分理由"])
    results.append(["baohe", "7", 0.8, "查阅终端未配置"])
    book.save("two.xlsx")
    result = runner.invoke(app, ["import", ROUND, "two.xlsx", "--force"])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "two.xlsx: the workbook has 2 sheets (说明, 评估结果); say which to import with --sheet, e.g. --sheet 说明",
        "Nothing imported: 1 problem(s).",
    ]
    chosen = runner.invoke(app, ["import", ROUND, "two.xlsx", "--force", "--sheet", "评估结果"])
    assert chosen.exit_code == 0, chosen.output
    text = (yanjiang / ROUND / "observations/baohe.yaml").read_text(encoding="utf-8")
    assert "    fraction: 0.8\n" in text and "reason: 查阅终端未配置" in text
    assert "fix: 【待核实】按建设标准" in text  # the sheet gave a new 扣分理由, not a new 整改要求


def test_headers_name_indicators_by_id_name_or_export_header(yanjiang: Path) -> None:
    """A matrix's columns may say "7", "7 政务公开专区建设（15分）" or "政务公开专区建设"; one problem
    names every column that is none."""
    for title in ("7", "7 政务公开专区建设（15分）", "政务公开专区建设", "7\u3000政务公开专区建设"):
        Path("m.csv").write_text(f"单位编号,{title}\nbaohe,12\n", encoding="utf-8")
        result = runner.invoke(app, ["import", ROUND, "m.csv", "--dry-run"])
        assert result.exit_code == 0 and "+3" in result.output, (title, result.output)
    Path("m.csv").write_text("单位编号,7,排名,类别\nbaohe,12,1,a\nlianhua,15,2,b\n", encoding="utf-8")
    result = runner.invoke(app, ["import", ROUND, "m.csv", "--force"])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "m.csv!C1: column(s) C '排名', D '类别' name no indicator of the round; write the indicator's id (or its "
        "name), or remove the column", "Nothing imported: 1 problem(s)."]


# --- 不适用 and 待评 ----------------------------------------------------------------------------

KINDS_OBS = """\
unit: {unit}
results:
  - indicator: "1.1"
    result: {first}
  - indicator: "1.2"
    count: 3
  - indicator: "2"
    items: {{lead: true, plan: true}}
"""


@pytest.fixture
def kinds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Unit a: 1.1 observed n/a, 3 not yet observed (pending); unit b: 1.1 done, 3 fraction 0.5 with a reason."""
    repo = write_repo(tmp_path / "repo", {
        "schemes/k.yaml": FOUR_KINDS_SCHEME.format(id="k", title="导出导入"),
        "units/mini.yaml": MINI_UNITS,
        "rounds/r1/round.toml": 'id = "r1"\ntitle = "导入"\nexample = true\nunits = "mini"\n'
                                '[[schemes]]\nscheme = "k"\n',
        "rounds/r1/observations/a.yaml": KINDS_OBS.format(unit="a", first="n/a"),
        "rounds/r1/observations/b.yaml": KINDS_OBS.format(unit="b", first="done")
        + '  - indicator: "3"\n    fraction: 0.5\n    reason: 目录缺两项\n',
    })
    monkeypatch.chdir(repo)
    assert runner.invoke(app, ["validate", "rounds/r1"]).exit_code == 0
    return repo


def _matrix(path: str) -> dict[str, dict[str, object]]:
    sheet = openpyxl.load_workbook(path)["指标得分矩阵"]
    header = [str(c.value).split(" ")[0] for c in sheet[1]]
    return {str(r[0]): dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)}


def test_not_applicable_and_not_assessed_are_written_apart_and_read_back(kinds: Path) -> None:
    assert runner.invoke(app, ["export", "rounds/r1", "--format", "xlsx", "--out", "out"]).exit_code == 0
    matrix = _matrix("out/r1.xlsx")
    assert matrix["a"]["1.1"] == "不适用" and matrix["a"]["3"] == "待评" and matrix["b"]["3"] == 2
    files = _files(kinds)
    unchanged = runner.invoke(app, ["import", "rounds/r1", "out/r1.xlsx"])
    assert unchanged.exit_code == 0 and "imported 0 entr(ies) into 0 file(s)." in unchanged.output
    assert _files(kinds) == files
    book = openpyxl.load_workbook("out/r1.xlsx")
    sheet = book["指标得分矩阵"]
    header = [str(c.value).split(" ")[0] for c in sheet[1]]
    rows = {r[0].value: r for r in sheet.iter_rows(min_row=2)}
    rows["a"][header.index("3")].value = 3       # 待评 → assessed: 3 of 4
    rows["a"][header.index("1.1")].value = 2     # 不适用 → done
    rows["b"][header.index("3")].value = "不适用"  # a number → n/a
    rows["b"][header.index("1.2")].value = "待评"  # a number → not yet assessed
    book.save("out/r1.xlsx")
    result = runner.invoke(app, ["import", "rounds/r1", "out/r1.xlsx"])
    assert result.exit_code == 0, result.output
    a = (kinds / "rounds/r1/observations/a.yaml").read_text(encoding="utf-8")
    b = (kinds / "rounds/r1/observations/b.yaml").read_text(encoding="utf-8")
    assert '  - indicator: "1.1"\n    result: done\n' in a and '  - indicator: "3"\n    fraction: 0.75\n' in a
    assert '  - indicator: "3"\n    reason: 【待核实】目录缺两项\n    result: n/a\n' in b or \
        ('indicator: "3"' in b and "result: n/a" in b and "reason: 【待核实】目录缺两项" in b)
    assert '  - indicator: "1.2"\n    result: pending\n' in b
    again = runner.invoke(app, ["export", "rounds/r1", "--format", "xlsx", "--out", "out2"])
    assert again.exit_code == 0
    matrix = _matrix("out2/r1.xlsx")
    assert matrix["a"]["1.1"] == 2 and matrix["a"]["3"] == 3
    assert matrix["b"]["3"] == "不适用" and matrix["b"]["1.2"] == "待评"


def test_a_long_sheet_with_a_new_reason_replaces_the_old_one_unmarked(kinds: Path) -> None:
    Path("r.csv").write_text("单位,指标,数值,扣分理由\nb,3,0.8,目录缺一项\n", encoding="utf-8")
    result = runner.invoke(app, ["import", "rounds/r1", "r.csv", "--force"])
    assert result.exit_code == 0, result.output
    b = (kinds / "rounds/r1/observations/b.yaml").read_text(encoding="utf-8")
    assert "reason: 目录缺一项" in b and "【待核实】" not in b and "待核实" not in result.output
    Path("r.csv").write_text("单位,指标,数值\nb,3,0.9\n", encoding="utf-8")
    result = runner.invoke(app, ["import", "rounds/r1", "r.csv", "--force"])
    assert result.exit_code == 0, result.output
    b = (kinds / "rounds/r1/observations/b.yaml").read_text(encoding="utf-8")
    assert "reason: 【待核实】目录缺一项" in b
    assert "note: r.csv!C2: b 3: the value changed, so what was written for the old value (“目录缺一项”) may no " \
           "longer fit; it is kept, marked 【待核实】: rewrite or delete it" in result.output


# --- messages in the chosen language --------------------------------------------------------------


@pytest.fixture
def default_language(monkeypatch: pytest.MonkeyPatch):
    from gapctl import i18n

    for name in ("GAPCTL_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    i18n.use(None)
    yield
    i18n.use(None)


def _places(output: str) -> list[str]:
    """Where each problem or note line points (its sheet!cell, sheet row or file:line), in order."""
    lines = [line.removeprefix("note: ").removeprefix("提示：") for line in output.splitlines()]
    return [line.split(": ", 1)[0] for line in lines if line.startswith("r.csv")]


def test_import_speaks_chinese_by_default_and_english_on_request(yanjiang: Path, default_language: None) -> None:
    Path("r.csv").write_text("单位,指标,数值,日期\nbaohe,7,０.８,2024/13/01\nzz,7,1,\nzz,8,1,\nbaohe,99,1,\n",
                             encoding="utf-8")
    chinese = runner.invoke(app, ["import", ROUND, "r.csv"])
    english = runner.invoke(app, ["--lang", "en", "import", ROUND, "r.csv"])
    assert chinese.exit_code == english.exit_code == 1
    assert chinese.output.splitlines() == [
        "提示：r.csv!C2: 全角字符 '０.８' 按 '0.8' 读取",
        "r.csv!D2: 没有 2024-13-01 这一天（'2024/13/01'）",
        "r.csv!A3: 未知单位 'zz'（另见第 4 行）",
        "r.csv!B5: 保和镇人民政府没有指标 '99'",
        "未导入任何内容：3 个问题。",
    ]
    assert english.output.splitlines()[-1] == "Nothing imported: 3 problem(s)."
    assert "r.csv!A3: unknown unit 'zz' (also row 4)" in english.output
    assert _places(chinese.output) == _places(english.output)  # the same places in both languages


def test_a_dry_run_in_chinese(yanjiang: Path, default_language: None) -> None:
    Path("r.csv").write_text("单位,指标,数值\nbaohe,7,0.8\n", encoding="utf-8")
    result = runner.invoke(app, ["import", ROUND, "r.csv", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "需要 --force：r.csv!B2：baohe 7：已有观测记录；如需替换请加 --force" in result.output
    assert "（--force 将替换 1 条已有的观测记录；不加 --force 时导入会拒绝这些记录）" in result.output
    assert "（试运行：1 个文件中的 1 条记录未写入）" in result.output
    assert "提示：r.csv!C2: baohe 7：数值已改变" in result.output and "已保留并标记【待核实】" in result.output


def test_several_sheets_in_chinese(yanjiang: Path, default_language: None) -> None:
    book = openpyxl.Workbook()
    book.active.title = "说明"
    book.create_sheet("评估 结果").append(["单位", "指标", "数值"])
    book.save("two.xlsx")
    result = runner.invoke(app, ["import", ROUND, "two.xlsx"])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "two.xlsx: 工作簿有 2 个工作表（说明, 评估 结果）；请用 --sheet 指明导入哪一个，例如 --sheet 说明",
        "未导入任何内容：1 个问题。"]


def test_import_as_json(yanjiang: Path) -> None:
    """`import --format json`: the dry run's changes, what was written, and the problems, each with its place."""
    _export()
    _edit(BOOK, "baohe", "7", 12)
    files = _files(yanjiang)
    preview = runner.invoke(app, ["import", ROUND, BOOK, "--dry-run", "--format", "json"])
    assert preview.exit_code == 0, preview.output
    data = json.loads(preview.stdout)
    assert data["dry_run"] and data["ok"] and data["written"] == [] and _files(yanjiang) == files
    assert data["files"] == [f"{ROUND}/observations/baohe.yaml"] and data["entries"] == 1
    [change] = data["changes"]
    [unit] = change["units"]
    assert unit["unit"] == "baohe" and Decimal(unit["new_total"]) - Decimal(unit["old_total"]) == 3
    done = runner.invoke(app, ["import", ROUND, BOOK, "--format", "json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["written"] == [f"{ROUND}/observations/baohe.yaml"]
    broken = Path("out/broken.csv")
    broken.write_text("单位,指标,结果\nnobody,7,完成\n", encoding="utf-8")
    refused = runner.invoke(app, ["import", ROUND, str(broken), "--format", "json"])
    assert refused.exit_code == 1
    data = json.loads(refused.stdout)
    assert not data["ok"] and data["problems"] and any(i["code"] == "unknown-unit" for i in data["issues"])
    assert all(i["place"].startswith("broken.csv") for i in data["issues"])
