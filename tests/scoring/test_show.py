"""`show`: the scheme tree (Suizhou sums to 100), unit tables and round summaries align.

Its labels are in the language of messages: these tests read them in Chinese, the default, and
one test in English."""

from __future__ import annotations

import re

import pytest

from gapctl import i18n
from gapctl.api import read_one
from gapctl.scoring.show import round_lines, scheme_data, scheme_lines, unit_set_lines
from gapctl.textwidth import width
from tests.conftest import ROOT


@pytest.fixture(autouse=True)
def _chinese():
    i18n.use("zh")
    yield
    i18n.use(None)


def test_suizhou_tree_top_level_sums_to_100():
    kind, scheme, problems = read_one(ROOT / "schemes/suizhou-2021.yaml")
    assert kind == "scheme" and problems == []
    data = scheme_data(scheme)
    assert [(i["name"], i["points"]) for i in data["indicators"]] == [
        ("公开渠道", "4"), ("主动公开", "60"), ("依申请公开", "6"), ("解读回应", "15"), ("能力保障", "15")]
    assert [(c["name"], c["points"]) for c in data["indicators"][1]["children"]] == [
        ("基础信息公开", "40"), ("重点领域公开", "20")]
    assert data["total"] == "100"
    lines = scheme_lines(scheme)
    assert any("100  = 4 + 60 + 6 + 15 + 15" in line for line in lines)


def test_scheme_tree_points_column_aligns_with_chinese_names():
    _, scheme, _ = read_one(ROOT / "schemes/suizhou-2021.yaml")
    lines = scheme_lines(scheme)
    header = next(i for i, line in enumerate(lines) if line.startswith("id "))
    rows = lines[header + 2:]
    rows = rows[:next(i for i, line in enumerate(rows) if line.startswith("---"))]
    # the points column ends at the same display column on every row
    ends = set()
    for line in rows:
        m = re.search(r"\s{2,}(\d+(?:\.\d+)?)(?=\s{2}|$)", line)
        ends.add(width(line[: m.end(1)]))
    assert len(ends) == 1


def test_scheme_lists_its_assumptions():
    _, scheme, _ = read_one(ROOT / "schemes/suizhou-2021.yaml")
    lines = scheme_lines(scheme)
    assert any(line.startswith("假定（非公布数据）") for line in lines)
    assert scheme.assumptions and all(a.note for a in scheme.assumptions)


def test_yanjiang_shows_bonus_cap_and_uncapped_penalty():
    _, scheme, _ = read_one(ROOT / "schemes/yanjiang-2021.yaml")
    text = "\n".join(scheme_lines(scheme))
    assert "加分项（上限 10 分）" in text
    assert "减分项（不设上限）" in text


def test_unit_table_columns_align():
    _, unit_set, _ = read_one(ROOT / "units/suizhou-gxq.yaml")
    lines = unit_set_lines(unit_set)
    table = lines[2:4 + len(unit_set.units)]  # header, rule, one row per unit (the assumptions follow)
    type_col = [width(line[: line.index("区属部门")]) for line in table[2:]]
    assert len(set(type_col)) == 1


def test_round_summary_says_example():
    kind, round_, problems = read_one(ROOT / "rounds/suizhou-2021")
    assert kind == "round" and problems == []
    text = "\n".join(round_lines(round_))
    assert "示例数据，非真实评估结果" in text
    assert "8/8 个单位" in text


def test_labels_follow_the_language_and_the_json_does_not():
    _, scheme, _ = read_one(ROOT / "schemes/yanjiang-2021.yaml")
    chinese = "\n".join(scheme_lines(scheme))
    i18n.use("en")
    english = "\n".join(scheme_lines(scheme))
    assert "计分规则" in chinese and "计分规则" not in english and "Scoring" in english
    assert "indicator" in english.splitlines()[3] and "加分项 (capped at 10 points)" in english
    _, round_, _ = read_one(ROOT / "rounds/suizhou-2021")
    assert "illustrative data, not a real assessment" in "\n".join(round_lines(round_))
    data = scheme_data(scheme)
    i18n.use("zh")
    assert scheme_data(scheme) == data  # --format json says the same whatever the language
