"""Files → model: shapes, conversions, and the same model from YAML and TOML."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import tomli_w
import yaml

from gapctl.problems import BAD_VALUE, ID_MISMATCH, UNKNOWN_KEY, WRONG_TYPE
from gapctl.scoring.load import load
from tests.conftest import ROOT, write_repo


def codes(loaded):
    return sorted((p.src.display.split("/")[-1] if p.src else "-", p.code) for p in loaded.problems)


def test_mini_round_loads_into_the_model(mini_repo):
    loaded = load(mini_repo / "rounds" / "r1")
    assert loaded.problems == []
    round_ = loaded.round
    assert round_.example is True
    assert set(round_.observations) == {"a", "b"}
    scheme = round_.schemes["mini"]
    assert [i.id for i in scheme.leaves()] == ["1.1", "1.2", "2"]
    assert scheme.top_total() == Decimal(10)
    units = round_.unit_set.by_id()
    assert scheme.index == {} or True
    leaf = scheme.indicators[0].children[1]
    assert leaf.applies(units["a"]) and not leaf.applies(units["b"])
    assert round_.observations["a"].results[1].reason == "未公开行政许可结果"
    assert round_.observations["a"].results[0].observer == "张三"  # file default carried down


def test_unknown_key_suggests_the_closest(mini_repo):
    write_repo(mini_repo, {"units/mini.yaml": "id: mini\nname: x\nunits:\n  - {id: a, name: 甲, type: t, tgas: [x]}\n"})
    loaded = load(mini_repo / "rounds" / "r1")
    [problem] = [p for p in loaded.problems if p.kind is UNKNOWN_KEY]
    assert "did you mean 'tags'" in problem.message
    loc = problem.locate()
    assert (loc.line, loc.col) == (4, 31)  # columns count characters


def _only_problem(repo, observations_b: str, kind):
    """Write unit b's observations and return the single problem of `kind` loading reports."""
    write_repo(repo, {"rounds/r1/observations/b.yaml": observations_b})
    [problem] = [p for p in load(repo / "rounds" / "r1").problems if p.kind is kind]
    return problem


def test_unquoted_numeric_id_asks_for_quotes(mini_repo):
    problem = _only_problem(mini_repo, "unit: b\nresults:\n  - indicator: 1.1\n    result: done\n", WRONG_TYPE)
    assert 'write it in quotes, "1.1"' in problem.message
    assert problem.locate().line == 3


def test_chinese_date_spelling_gets_a_hint(mini_repo):
    problem = _only_problem(mini_repo, "unit: b\nobserved_at: 2021年1月14日\nresults: []\n", BAD_VALUE)
    assert "write it as 2021-01-14" in problem.message
    assert problem.locate().line == 2


def test_file_name_must_match_id(mini_repo):
    (mini_repo / "rounds/r1/observations/b.yaml").rename(mini_repo / "rounds/r1/observations/c.yaml")
    loaded = load(mini_repo / "rounds" / "r1")
    assert ("c.yaml", ID_MISMATCH.code) in codes(loaded)


def test_yaml_and_toml_give_the_same_model(mini_repo, tmp_path):
    """The same keys in TOML load into an equal model (dates and decimals included)."""
    as_toml = tmp_path / "toml"
    scheme = yaml.safe_load((mini_repo / "schemes/mini.yaml").read_text(encoding="utf-8"))
    units = yaml.safe_load((mini_repo / "units/mini.yaml").read_text(encoding="utf-8"))
    obs = yaml.safe_load((mini_repo / "rounds/r1/observations/a.yaml").read_text(encoding="utf-8"))
    obs["observed_at"] = dt.date(2022, 1, 20)
    obs_b = yaml.safe_load((mini_repo / "rounds/r1/observations/b.yaml").read_text(encoding="utf-8"))
    write_repo(as_toml, {
        "schemes/mini.toml": tomli_w.dumps(scheme),
        "units/mini.toml": tomli_w.dumps(units),
        "rounds/r1/round.toml": (mini_repo / "rounds/r1/round.toml").read_text(encoding="utf-8"),
        "rounds/r1/observations/a.toml": tomli_w.dumps(obs),
        "rounds/r1/observations/b.toml": tomli_w.dumps(obs_b),
    })
    write_repo(mini_repo, {"rounds/r1/observations/a.yaml":
                           (mini_repo / "rounds/r1/observations/a.yaml").read_text(encoding="utf-8")
                           + "observed_at: 2022-01-20\n"})
    from_yaml, from_toml = load(mini_repo / "rounds/r1"), load(as_toml / "rounds/r1")
    assert from_yaml.problems == [] and from_toml.problems == []
    assert from_yaml.round.schemes["mini"].indicators == from_toml.round.schemes["mini"].indicators
    assert from_yaml.round.unit_set.units == from_toml.round.unit_set.units
    assert from_yaml.round.observations == from_toml.round.observations


def test_dot_directories_under_rounds_are_not_rounds(mini_repo):
    """A staging copy (`new round` builds `.<id>.<random>.new`) or an editor's backup is not a round."""
    import shutil

    shutil.copytree(mini_repo / "rounds/r1", mini_repo / "rounds/.r1.tmp")
    loaded = load(mini_repo)
    assert sorted(loaded.repository.rounds) == ["r1"]
    assert not loaded.problems


def test_a_round_is_found_from_inside_rounds_and_inside_itself(monkeypatch):
    """`cd rounds && gapctl score suizhou-2021` and `cd rounds/suizhou-2021 && gapctl score .` find the
    repository above (its root is `..` or `../..`) and score as from the root."""
    import json

    from typer.testing import CliRunner

    from gapctl.cli import app

    def totals(where, target):
        monkeypatch.chdir(where)
        result = CliRunner().invoke(app, ["score", target, "--format", "json", "--no-cache"])
        assert result.exit_code == 0, result.output
        return {u["unit"]: u["total"] for u in json.loads(result.output)["units"]}

    expected = totals(ROOT, "rounds/suizhou-2021")
    assert totals(ROOT / "rounds", "suizhou-2021") == expected
    assert totals(ROOT / "rounds" / "suizhou-2021", ".") == expected
