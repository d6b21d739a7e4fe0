"""`gapctl score` and `gapctl explain` through typer's runner, with golden files."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gapctl.api import check, score
from gapctl.cli import app
from gapctl.scoring.scoreboard import unit_row
from tests.conftest import ROOT, write_repo

runner = CliRunner()
GOLDEN = ROOT / "tests" / "golden"

CASES = {
    "score-yanjiang.txt": ["score", "rounds/yanjiang-2021"],
    "score-suizhou-en.txt": ["score", "rounds/suizhou-2021", "--lang", "en"],
    "explain-yanjiang-baohe.txt": ["explain", "rounds/yanjiang-2021", "baohe"],
    "explain-suizhou-finance-en.txt": ["explain", "rounds/suizhou-2021", "finance", "--lang", "en"],
}


# every shipped round's scores, in every output form: a change of the scheme language (or of
# anything else) that moves a published figure shows up here (tests/golden/scores/)
SHIPPED_ROUNDS = sorted(p.name for p in (ROOT / "rounds").iterdir() if (p / "round.toml").is_file())
for _round in SHIPPED_ROUNDS:
    CASES[f"scores/{_round}.txt"] = ["score", f"rounds/{_round}", "--final", "--no-cache"]
    CASES[f"scores/{_round}.json"] = ["score", f"rounds/{_round}", "--final", "--format", "json", "--no-cache"]
    CASES[f"scores/{_round}.csv"] = ["score", f"rounds/{_round}", "--final", "--format", "csv", "--no-cache"]
    CASES[f"scores/{_round}.by-category.txt"] = ["score", f"rounds/{_round}", "--by-category", "--no-cache"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_output(name, request, monkeypatch):
    from tests.conftest import without_version

    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, CASES[name])
    assert result.exit_code == 0, result.output
    path: Path = GOLDEN / name
    output = without_version(result.stdout)
    if request.config.getoption("--update-golden"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(output, encoding="utf-8")
    assert output == path.read_text(encoding="utf-8"), f"run pytest --update-golden and review {path}"


def test_score_json_matches_the_library(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, ["score", "rounds/yanjiang-2021", "--format", "json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    library = score(check("rounds/yanjiang-2021").loaded.round)
    # 雁江 publishes no ranking: no ranks, units in the unit set's order
    assert data["ranking"] == {"yanjiang-2021": "none"}
    assert data["units"] == [json.loads(json.dumps(unit_row(s, ranked=False), default=str)) for s in library.units]
    assert [u["unit"] for u in data["units"]] == [u.id for u in library.round.unit_set.units]
    assert {u["rank"] for u in data["units"]} == {None}


def test_score_ranks_only_where_the_scheme_publishes_a_ranking(monkeypatch):
    """汕尾 publishes 分类排名: ranks. 重庆, 上海, 随州 and 雁江 publish none: no rank column, unless --rank,
    and then labelled as not published (text and JSON)."""
    monkeypatch.chdir(ROOT)
    shanwei = json.loads(runner.invoke(app, ["score", "rounds/shanwei-2020", "-f", "json"]).output)
    assert shanwei["ranking"] == {"shanwei-2020": "published"}
    assert all(u["rank"] and u["category_rank"] and u["rank_published"] for u in shanwei["units"])
    for name in ("chongqing-2020", "shanghai-2020", "suizhou-2021", "yanjiang-2021"):
        data = json.loads(runner.invoke(app, ["score", f"rounds/{name}", "-f", "json"]).output)
        assert set(data["ranking"].values()) == {"none"}, name
        assert {u["rank"] for u in data["units"]} == {None}, name
        text = runner.invoke(app, ["score", f"rounds/{name}", "--lang", "en"]).output
        assert "Rank" not in text and "not published" not in text.lower(), name
    asked = json.loads(runner.invoke(app, ["score", "rounds/chongqing-2020", "-f", "json", "--rank"]).output)
    assert set(asked["ranking"].values()) == {"asked"}
    assert all(u["rank"] and u["rank_published"] is False for u in asked["units"])
    for scheme in asked["ranking"]:  # by rank within each scheme
        ranks = [u["rank"] for u in asked["units"] if u["scheme"] == scheme]
        assert ranks == sorted(ranks) and ranks[0] == 1
    text = runner.invoke(app, ["score", "rounds/chongqing-2020", "--rank", "--lang", "en"]).output
    assert text.count("Ranks computed by gapctl on request: this scheme publishes no ranking.") == 2
    zh = runner.invoke(app, ["score", "rounds/chongqing-2020", "--rank", "--lang", "zh"]).output
    assert "名次系按要求由 gapctl 计算：本指标体系不公布排名。" in zh and "排名" in zh


def test_score_csv_has_one_row_per_unit(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, ["score", "rounds/suizhou-2021", "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert len(rows) == 8 and rows[0]["unit"] == "office" and rows[0]["rank"] == ""  # unit set's order, no rank
    assert {row["unit"]: row["total"] for row in rows}["market"] == "94.5"


def test_score_one_unit(monkeypatch):
    monkeypatch.chdir(ROOT)
    data = json.loads(runner.invoke(app, ["score", "rounds/suizhou-2021", "--unit", "finance", "-f", "json"]).output)
    assert [(u["unit"], u["total"], u["external"]) for u in data["units"]] == [("finance", "90.9", "1.5")]
    assert runner.invoke(app, ["score", "rounds/suizhou-2021", "--unit", "nobody"]).exit_code == 1


def test_final_refuses_pending(mini_repo, monkeypatch):
    monkeypatch.chdir(mini_repo)
    write_repo(mini_repo, {"rounds/r1/observations/b.yaml":
                           'unit: b\nresults:\n  - {indicator: "1.1", result: done}\n'})
    assert runner.invoke(app, ["score", "rounds/r1"]).exit_code == 0  # provisional: a warning only
    result = runner.invoke(app, ["score", "rounds/r1", "--final"])
    assert result.exit_code == 1
    assert "E508" in result.output and "not yet assessed" in result.output


def test_invalid_data_is_not_scored(mini_repo, monkeypatch):
    monkeypatch.chdir(mini_repo)
    write_repo(mini_repo, {"rounds/r1/observations/b.yaml": 'unit: b\nresults:\n  - {indicator: "9", result: done}\n'})
    result = runner.invoke(app, ["score", "rounds/r1"])
    assert result.exit_code == 1
    assert "E302" in result.output and "Not scored" in result.output


def test_explain_one_indicator_and_json(monkeypatch):
    monkeypatch.chdir(ROOT)
    text = runner.invoke(app, ["explain", "rounds/yanjiang-2021", "baohe", "8"]).output
    assert "8 政务新媒体工作  3/5  扣2分" in text and "扣分理由：政务新媒体被区通报2次。" in text
    data = json.loads(runner.invoke(app, ["explain", "rounds/yanjiang-2021", "baohe", "-f", "json"]).output)
    assert data["score"]["total"] == "60.0"
    assert {p["indicator"] for p in data["problems"]} >= {"8", "12.1"}
    assert runner.invoke(app, ["explain", "rounds/yanjiang-2021", "baohe", "99"]).exit_code == 1
