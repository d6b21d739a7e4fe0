"""Units and indicators by name on the command line: explain, score --unit, evidence add (gapctl.names)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from gapctl.cli import app
from tests.conftest import ROOT

runner = CliRunner()


@pytest.fixture
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def test_explain_a_unit_by_its_chinese_name(at_root):
    by_name = runner.invoke(app, ["explain", "rounds/suizhou-2021", "区财政金融局"])
    by_id = runner.invoke(app, ["explain", "rounds/suizhou-2021", "finance"])
    assert by_name.exit_code == 0 and by_name.output == by_id.output
    assert by_name.output.startswith("区财政金融局 (finance)")


def test_explain_a_unit_by_the_start_of_its_name_and_an_indicator_by_name(at_root):
    by_name = runner.invoke(app, ["explain", "rounds/suizhou-2021", "区财政", "政府债务"])
    by_id = runner.invoke(app, ["explain", "rounds/suizhou-2021", "finance", "2.1.13"])
    assert by_name.exit_code == 0 and by_name.output == by_id.output and "2.1.13 政府债务" in by_name.output


def test_a_misspelt_name_suggests_the_unit_in_one_line(at_root):
    result = runner.invoke(app, ["explain", "rounds/suizhou-2021", "区财政局"])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "no unit '区财政局' in round suizhou-2021; did you mean finance (区财政金融局)?"]


def test_a_misspelt_unit_in_chinese_by_default(at_root, monkeypatch):
    monkeypatch.setenv("GAPCTL_LANG", "zh")
    result = runner.invoke(app, ["explain", "rounds/suizhou-2021", "区财政局"])
    assert result.exit_code == 1
    assert result.stderr.startswith("轮次 suizhou-2021 中没有单位“区财政局”；您要找的是否是 finance（区财政金融局）")


def test_an_ambiguous_start_or_an_unknown_indicator_is_refused(at_root):
    ambiguous = runner.invoke(app, ["explain", "rounds/suizhou-2021", "区"])
    assert ambiguous.exit_code == 1 and "'区' names more than one unit in round suizhou-2021" in ambiguous.stderr
    unknown = runner.invoke(app, ["explain", "rounds/suizhou-2021", "finance", "政府债券"])
    assert unknown.exit_code == 1 and len(unknown.stderr.splitlines()) == 1
    assert unknown.stderr.startswith("no indicator '政府债券' in scheme suizhou-2021; did you mean 2.1.13 (政府债务)")


def test_score_one_unit_by_name(at_root):
    result = runner.invoke(app, ["score", "rounds/suizhou-2021", "--unit", "区经济", "--format", "json",
                                 "--no-cache"])
    assert result.exit_code == 0, result.output
    assert [row["unit"] for row in json.loads(result.stdout)["units"]] == ["econ"]


def test_evidence_add_by_names(mini_repo, monkeypatch):
    monkeypatch.chdir(mini_repo)
    (mini_repo / "shot.png").write_bytes(b"\x89PNG")
    added = runner.invoke(app, ["evidence", "add", "rounds/r1", "区档案馆", "渠道覆盖", "shot.png"])
    assert added.exit_code == 0, added.output
    assert "file: evidence/b/shot.png" in (mini_repo / "rounds/r1/observations/b.yaml").read_text(encoding="utf-8")
    misspelt = runner.invoke(app, ["evidence", "add", "rounds/r1", "区档案局", "1.1", "shot.png"])
    assert misspelt.exit_code == 1 and misspelt.stderr.splitlines() == [
        "gapctl evidence add: no unit '区档案局' in round r1; did you mean b (区档案馆)?"]
