"""Self-assessment against the counting result (gapctl.process.selfcheck), figures worked by hand."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from gapctl import api
from gapctl.process.selfcheck import compare_self, json_data, text_lines
from tests.conftest import FOUR_KINDS_SCHEME, ROOT, write_repo

SCHEME = FOUR_KINDS_SCHEME.format(id="s", title="自评测试指标体系")

UNITS = """\
id: u
name: 测试单位
units:
  - {id: a, name: 区财政局, type: 区属部门}
  - {id: b, name: 区档案馆, type: 区属部门}
  - {id: c, name: 区教育局, type: 区属部门}
"""

ROUND = """\
id = "r"
title = "自评测试轮次"
example = true
units = "u"
[[schemes]]
scheme = "s"
"""

# a: evaluator 1.1 0, 1.2 1 (appeal: 2), 2 2, 3 2; self 2, 2, 6, 1 → over 2 (1.1) + 4 (2) = 6
OBS_A = """\
unit: a
observer: 张三
results:
  - {indicator: "1.1", result: not-done, reason: 渠道不全}
  - {indicator: "1.2", count: 1}
  - {indicator: "2", items: {lead: true, plan: false}}
  - {indicator: "3", fraction: 0.5}
  - {indicator: "1.2", count: 3, source: appeal, observer: 复核组}
  - {indicator: "1.1", result: done, source: self, observer: 区财政局}
  - {indicator: "1.2", count: 3, source: self, observer: 区财政局}
  - {indicator: "2", items: {lead: true, plan: false}, source: self}
  - {indicator: "2", items: {lead: true, plan: true}, source: self}
  - {indicator: "3", fraction: 0.25, source: self}
"""

# b: the review (0) counts for 1.1, not the evaluator's done; self n/a and pending are skipped
OBS_B = """\
unit: b
observer: 张三
results:
  - {indicator: "1.1", result: done}
  - {indicator: "1.2", count: 5}
  - {indicator: "2", items: {lead: true, plan: true}}
  - {indicator: "3", fraction: 1}
  - {indicator: "1.1", result: not-done, source: review, observer: 李四}
  - {indicator: "1.1", result: done, source: self}
  - {indicator: "3", result: n/a, source: self}
  - {indicator: "2", result: pending, source: self}
"""

# c: self no-evidence counts 0 (claims less than found); 1.1 not yet assessed by the evaluators
OBS_C = """\
unit: c
results:
  - {indicator: "1.1", result: pending}
  - {indicator: "1.2", count: 0}
  - {indicator: "2", items: {lead: true, plan: true}}
  - {indicator: "3", fraction: 0.75}
  - {indicator: "3", result: no-evidence, source: self}
  - {indicator: "1.1", result: done, source: self}
"""


@pytest.fixture
def self_round(tmp_path: Path):
    write_repo(tmp_path, {"schemes/s.yaml": SCHEME, "units/u.yaml": UNITS, "rounds/r/round.toml": ROUND,
                          "rounds/r/observations/a.yaml": OBS_A, "rounds/r/observations/b.yaml": OBS_B,
                          "rounds/r/observations/c.yaml": OBS_C})
    checked = api.check(tmp_path / "rounds" / "r")
    assert not checked.report.errors, [p.message for p in checked.report.errors]
    return checked.loaded.round


def D(text: str) -> Decimal:
    return Decimal(text)


def test_over_claims_by_unit_then_scheme_order(self_round) -> None:
    result = compare_self(self_round)
    assert [(c.unit, c.indicator.id, c.claimed, c.found, c.over_claim) for c in result.rows()] == [
        ("a", "1.1", D("2"), D("0"), D("2")),
        ("a", "2", D("6"), D("2"), D("4")),   # the later self entry wins
        ("b", "1.1", D("2"), D("0"), D("2")),  # the review counts
    ]


def test_totals(self_round) -> None:
    result = compare_self(self_round)
    units = {u.unit.id: u for u in result.units}
    assert [u.unit.id for u in result.units] == ["a", "b", "c"]
    assert (units["a"].claimed, units["a"].found, units["a"].over_claimed) == (11, 6, 6)
    assert (units["b"].claimed, units["b"].found, units["b"].over_claimed) == (2, 0, 2)
    assert (units["c"].claimed, units["c"].found, units["c"].over_claimed) == (0, 3, 0)
    assert units["c"].unassessed == ["1.1"]
    assert (result.claimed, result.found, result.over_claimed) == (13, 9, 8)


def test_include_all_lists_every_compared_leaf(self_round) -> None:
    result = compare_self(self_round, include_all=True)
    assert [(c.unit, c.indicator.id, c.difference) for c in result.rows()] == [
        ("a", "1.1", 2), ("a", "1.2", 0), ("a", "2", 4), ("a", "3", -1),
        ("b", "1.1", 2),
        ("c", "3", -3),
    ]


def test_text_zh_and_en(self_round) -> None:
    lines = text_lines(compare_self(self_round))
    assert lines[0] == "自评与核查对比: 自评测试轮次 (r)"
    header = next(line for line in lines if line.startswith("单位"))
    assert header.split() == ["单位", "对比指标数", "自评分", "核查分", "多报分", "多报指标数", "自评但未核查"]
    assert [line.split() for line in lines if line.startswith(("区财政局", "合计"))][:2] == [
        ["区财政局", "4", "11", "6", "6", "2", "0"], ["合计", "6", "13", "9", "8", "3", "1"]]
    assert "多报明细" in lines
    assert lines[-1].split() == ["区档案馆", "1.1", "渠道覆盖", "2", "2", "0", "2"]
    en = text_lines(compare_self(self_round, include_all=True), "en")
    assert "Every compared indicator" in en
    assert en[-1].split() == ["区教育局", "3", "目录完整", "4", "0", "3", "0"]


def test_json(self_round) -> None:
    data = json_data(compare_self(self_round))
    assert (data["claimed"], data["found"], data["over_claimed"]) == ("13", "9", "8")
    assert data["units"][0] == {"unit": "a", "name": "区财政局", "compared": 4, "claimed": "11", "found": "6",
                                "over_claimed": "6", "over_claims": 2, "unassessed": []}
    assert data["indicators"][2] == {"unit": "b", "indicator": "1.1", "name": "渠道覆盖", "points": "2",
                                     "claimed": "2", "found": "0", "difference": "2", "over_claim": "2",
                                     "self_observer": "张三", "counted_source": "review"}


def test_moves_to_grows_the_claim_like_the_count(tmp_path: Path) -> None:
    scheme = """\
    id: m
    title: 分值转移
    indicators:
      - {id: "1", name: 许可, points: 2, applies_to: {tags: [licensing]}, moves_to: "2",
         rule: {kind: all-or-nothing}}
      - {id: "2", name: 目录, points: 4, rule: {kind: proportional}}
    """
    write_repo(tmp_path, {
        "schemes/m.yaml": scheme,
        "units/u.yaml": "id: u\nname: 单位\nunits:\n  - {id: a, name: 区财政局, type: 区属部门}\n",
        "rounds/r/round.toml": 'id = "r"\ntitle = "t"\nunits = "u"\n[[schemes]]\nscheme = "m"\n',
        "rounds/r/observations/a.yaml": """\
        unit: a
        results:
          - {indicator: "2", fraction: 0.5}
          - {indicator: "2", fraction: 1, source: self}
        """})
    result = compare_self(api.check(tmp_path / "rounds" / "r").loaded.round)
    # 2 grows to 6 points: found 0.5 × 6 = 3, claimed 1 × 6 = 6
    assert [(c.points, c.claimed, c.found, c.over_claim) for c in result.rows()] == [(6, 6, 3, 3)]


@pytest.mark.parametrize("round_id", ["suizhou-2021", "chongqing-2020"])
def test_shipped_rounds_without_self_entries(round_id: str) -> None:
    result = compare_self(api.check(ROOT / "rounds" / round_id).loaded.round)
    assert result.units == [] and result.over_claimed == 0
    assert text_lines(result)[-1] == "无自评记录。"
    assert json_data(result)["indicators"] == []


def test_shanwei_self_assessments_claim_full_marks() -> None:
    """The shipped Shanwei round: seven units assessed themselves at full marks."""
    round_ = api.check(ROOT / "rounds/shanwei-2020").loaded.round
    result = compare_self(round_, include_all=True)
    assert {u.unit.id for u in result.units} == {"lufeng", "haifeng", "luhe", "chengqu", "shuiwu", "shangwu", "czj"}
    for unit in result.units:
        for claim in unit.claims:
            assert claim.claimed == claim.points                     # every claim is full marks
            assert claim.over_claim == max(claim.claimed - claim.found, 0)
    assert result.over_claimed == sum(c.over_claim for u in result.units for c in u.claims) > 0
