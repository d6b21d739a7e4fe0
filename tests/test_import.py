"""`gapctl import`: spreadsheets into observation files, all-or-nothing, comments kept."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from typer.testing import CliRunner

from gapctl.cli import app
from tests.conftest import write_repo

runner = CliRunner()


def _obs(repo: Path, unit: str) -> Path:
    return repo / "rounds/r1/observations" / f"{unit}.yaml"


def test_messy_workbook_gives_messages_and_changes_nothing(mini_repo, monkeypatch):
    monkeypatch.chdir(mini_repo)
    before = {p: p.read_bytes() for p in (mini_repo / "rounds/r1/observations").iterdir()}
    book = Workbook()
    ws = book.active
    ws.title = "评估结果"
    ws.append(["单位", "指标", "结果", "数值", "扣分理由"])
    ws.append(["区财政局", "1.1", "完成", None, None])
    ws.append(["区财政局 ", "2", None, "明确分管领导", "未研究部署"])   # a stray space
    ws.append(["区档案馆", "1.1", "未完成", None, "入口失效"])
    ws.append(["区统计局", "1.1", "完成", None, None])                 # unknown unit
    ws.append(["区档案馆", "9", "完成", None, None])                   # unknown indicator
    ws.append(["区档案馆", "2", None, "plan", None])
    ws.merge_cells("E6:E7")
    book.save(mini_repo / "messy.xlsx")
    result = runner.invoke(app, ["import", "rounds/r1", "messy.xlsx"])
    assert result.exit_code == 1
    out = result.output
    assert "评估结果!E6:E7: merged cells" in out
    assert "评估结果!A5: unknown unit '区统计局'" in out
    assert "评估结果!B6: unknown indicator '9'" in out
    assert "评估结果!A3: stray spaces removed" in out
    assert "Nothing imported" in out
    assert {p: p.read_bytes() for p in (mini_repo / "rounds/r1/observations").iterdir()} == before


def test_csv_import_full_width_digits_force_and_comments(mini_repo, monkeypatch):
    monkeypatch.chdir(mini_repo)
    write_repo(mini_repo, {"rounds/r1/observations/b.yaml": "# 区档案馆：人工录入\nunit: b\nresults:\n"
                                                            '  - indicator: "1.1"\n    result: done\n'})
    (mini_repo / "r.csv").write_text("单位,指标,结果,数值,扣分理由\nb,2,,\"lead，plan\",\nb,1.1,未完成,,入口失效\n",
                                     encoding="utf-8-sig")
    refused = runner.invoke(app, ["import", "rounds/r1", "r.csv"])
    assert refused.exit_code == 1 and "b 1.1: already observed; use --force" in refused.output
    preview = runner.invoke(app, ["import", "rounds/r1", "r.csv", "--force", "--dry-run"])
    assert preview.exit_code == 0 and "区档案馆" in preview.output and "dry run" in preview.output
    assert "入口失效" not in _obs(mini_repo, "b").read_text(encoding="utf-8")        # nothing written
    done = runner.invoke(app, ["import", "rounds/r1", "r.csv", "--force"])
    assert done.exit_code == 0, done.output
    text = _obs(mini_repo, "b").read_text(encoding="utf-8")
    assert text.startswith("# 区档案馆：人工录入\n")                                 # the comment survived
    assert "reason: 入口失效" in text and "plan: true" in text
    assert runner.invoke(app, ["validate", "rounds/r1"]).exit_code == 0


def test_counts_from_text_and_full_width(mini_repo, monkeypatch):
    monkeypatch.chdir(mini_repo)
    scheme = (mini_repo / "schemes/mini.yaml").read_text(encoding="utf-8").replace(
        "        rule: {kind: all-or-nothing}\n      - id: \"1.2\"",
        "        rule: {kind: count-tiers, tiers: [{at_least: 1, points: 1}, {at_least: 2, points: 2}]}\n"
        "      - id: \"1.2\"", 1)
    write_repo(mini_repo, {"schemes/mini.yaml": scheme})
    for unit in ("a", "b"):
        path = _obs(mini_repo, unit)
        counted = 'indicator: "1.1"\n    count: 1\n    reason: 次数不足'
        path.write_text(path.read_text(encoding="utf-8").replace('indicator: "1.1"\n    result: done', counted),
                        encoding="utf-8")
    book = Workbook()
    book.active.append(["单位", "指标", "数值"])
    book.active.append(["a", "1.1", "２"])
    book.save(mini_repo / "c.xlsx")
    result = runner.invoke(app, ["import", "rounds/r1", "c.xlsx", "--force"])
    assert result.exit_code == 0, result.output
    assert "full-width characters '２' read as '2'" in result.output
    assert "number stored as text '2'" in result.output
    assert "count: 2" in _obs(mini_repo, "a").read_text(encoding="utf-8")
