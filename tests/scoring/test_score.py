"""Scoring: the seeds' published figures, rounding, ranks, and every mechanic by hand."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from gapctl.api import check, score
from gapctl.scoring.score import competition_ranks, half_up
from tests.conftest import ROOT, write_repo


def scored(path):
    result = check(path)
    assert result.report.errors == [], [(p.code, p.message) for p in result.report.errors]
    return score(result.loaded.round)


def by_unit(path):
    return scored(path).by_unit()


# --- rounding and ranks ---------------------------------------------------------------

@pytest.mark.parametrize("value, places, expected", [
    ("89.45", 1, "89.5"), ("89.44", 1, "89.4"), ("0.125", 2, "0.13"), ("2.5", 0, "3"), ("-1.25", 1, "-1.3"),
])
def test_half_up_never_bankers(value, places, expected):
    assert half_up(D(value), places) == D(expected)


def test_ties_share_a_rank():
    ranks = competition_ranks([("a", D(90)), ("b", D("85.5")), ("c", D("85.5")), ("d", D(80))])
    assert ranks == {"a": 1, "b": 2, "c": 2, "d": 4}
    assert competition_ranks([("x", D(1)), ("y", D(2))], higher_is_better=False) == {"x": 1, "y": 2}


# --- Chongqing: 76 of 85 applicable → 89.4 ---------------------------------------------

CHONGQING_LIKE = """\
id: cq
title: 按应得分折算
scoring: {normalise: applicable, scale: 100, places: 1}
tags: {licensing: 有行政许可职能}
indicators:
  - {id: "1", name: 甲, points: 40, rule: {kind: all-or-nothing}}
  - {id: "2", name: 乙, points: 36, rule: {kind: all-or-nothing}}
  - {id: "3", name: 丙, points: 9, rule: {kind: all-or-nothing}}
  - {id: "4", name: 丁, points: 15, applies_to: {tags: [licensing]}, rule: {kind: all-or-nothing}}
flags: [{id: below-60, label: 低于60分, of: total, below: 60}]
"""


def test_chongqing_worked_example_76_of_85_is_89_4(tmp_path):
    write_repo(tmp_path, {
        "schemes/cq.yaml": CHONGQING_LIKE,
        "units/u.yaml": "id: u\nname: 部门\nunits:\n  - {id: a, name: A部门, type: 市政府部门}\n",
        "rounds/r/round.toml": 'id = "r"\ntitle = "t"\nunits = "u"\n[[schemes]]\nscheme = "cq"\n',
        "rounds/r/observations/a.yaml": """\
            unit: a
            results:
              - {indicator: "1", result: done}
              - {indicator: "2", result: done}
              - {indicator: "3", result: not-done, reason: 未公开}
            """,
    })
    a = by_unit(tmp_path / "rounds/r")["a"]
    assert (a.applicable, a.earned) == (D(85), D(76))  # 应得总分 85 (indicator 4 does not apply)
    assert a.base == D("89.4") and a.total == D("89.4")
    assert a.flags == []


def test_half_up_applies_to_normalised_base(tmp_path):
    write_repo(tmp_path, {
        "schemes/s.yaml": """\
            id: s
            title: t
            scoring: {normalise: applicable, places: 1}
            indicators:
              - {id: "1", name: 甲, points: 200, rule: {kind: expert-grade}}
            """,
        "units/u.yaml": "id: u\nname: n\nunits:\n  - {id: a, name: A, type: t}\n",
        "rounds/r/round.toml": 'id = "r"\ntitle = "t"\nunits = "u"\n[[schemes]]\nscheme = "s"\n',
        "rounds/r/observations/a.yaml": 'unit: a\nresults:\n  - {indicator: "1", grade: 178.9, reason: x}\n',
    })
    assert by_unit(tmp_path / "rounds/r")["a"].base == D("89.5")  # 178.9 ÷ 200 × 100 = 89.45


# --- Suizhou ---------------------------------------------------------------------------

def test_suizhou_subtotals_and_normalised_departments():
    units = by_unit(ROOT / "rounds/suizhou-2021")
    office = units["office"]  # 区党政办: neither licensing nor penalty powers
    assert {n.indicator.name: n.indicator.points for n in office.tree} == {
        "公开渠道": 4, "主动公开": 60, "依申请公开": 6, "解读回应": 15, "能力保障": 15}
    active = office.node("2")
    assert [c.indicator.points for c in active.children] == [40, 20]
    assert office.leaves["2.1.3"].state == "not-applicable"   # 行政许可: licensing only
    assert office.leaves["2.1.4"].state == "not-applicable"   # 行政处罚: penalty powers only
    assert office.leaves["2.1.13"].state == "not-applicable"  # 政府债务: 区财政金融局 only (named unit)
    assert units["finance"].leaves["2.1.13"].state == "scored"
    assert office.applicable == D(71) and office.earned == D(60)
    assert office.base == D("84.5")                            # 60 ÷ 71 × 100 = 84.507 → 84.5
    finance = units["finance"]                                 # city evaluation took 1.5
    assert (finance.applicable, finance.earned, finance.base) == (D(79), D(73), D("92.4"))
    assert finance.external == D("1.5") and finance.total == D("90.9")


# --- Yanjiang, by hand -----------------------------------------------------------------

def test_yanjiang_units_by_hand():
    units = by_unit(ROOT / "rounds/yanjiang-2021")
    lianhua, baohe, sanxianci, finance = units["lianhua"], units["baohe"], units["sanxianci"], units["finance"]
    # count tiers: 2 open days → 10, 1 → 7 (towns); the department is graded instead
    assert lianhua.leaves["5"].earned == 10 and sanxianci.leaves["5"].earned == 7
    assert finance.leaves["5"].rule.kind == "expert-grade"
    # notice deductions 1 → −1, 2 → −2, 3 → −5
    assert sanxianci.leaves["8"].earned == 4 and baohe.leaves["8"].earned == 3 and finance.leaves["8"].earned == 0
    # bonus: base 99 ≥ 90 → +3, reported experience +5, mailbox rank top 3 → +2, capped at 10
    assert [lianhua.leaves[i].earned for i in ("11.1", "11.2", "11.3")] == [3, 5, 2]
    assert lianhua.base == 99 and lianhua.bonus == 10 and lianhua.total == 109
    # uncapped penalty: two criticism notices → −10 (base 70: item 3 lost its 1.5-point 协商事项清单)
    assert baohe.penalty == -10 and baohe.base == 70 and baohe.total == D("60.0")
    # the threshold bonus needs 90: 83.5 gets nothing
    assert sanxianci.leaves["11.1"].earned == 0


def test_yanjiang_scoped_items_and_indicators():
    """制度清单's lists by unit type (items' applies_to, 11 points for each type), 政务协商 for 镇、街道 only,
    进大厅 for 区级相关部门 only; a department's base out of its applicable 95, normalised."""
    units = by_unit(ROOT / "rounds/yanjiang-2021")
    baohe, health, finance = units["baohe"], units["health"], units["finance"]
    assert baohe.leaves["3"].earned == D("9.5")      # 2+2+2+2+1.5, 协商事项清单 (1.5) missing
    assert health.leaves["3"].earned == 8             # 2+2+2+2, 26个领域目录 (3) missing
    assert finance.leaves["3"].earned == 9            # 公众代表清单 (2) missing
    for department in ("approval", "finance", "education", "health"):
        assert units[department].leaves["6"].state == "not-applicable"
        assert units[department].applicable == 95
    assert baohe.leaves["6"].state == "scored" and baohe.applicable == 100
    assert units["approval"].leaves["5"].rule.kind == "count-tiers"
    assert health.leaves["5"].rule.kind == "expert-grade"
    assert (health.earned, health.base) == (73, D("76.8"))   # 73 ÷ 95 × 100 = 76.84
    # 被市政府扣除区政府目标绩效分 0.2 → 区上按5倍扣除相关单位: 1, apart from this assessment's total
    assert health.passdown == 1 and health.external == 0 and health.total == D("81.8")
    assert units["lianhua"].passdown == 0


def test_department_outside_service_hall_is_not_assessed_on_open_day(tmp_path):
    """区级相关部门 only: a department without the service-hall tag has no item 5 (nor 6): out of 85."""
    round_dir = _yanjiang_variant(tmp_path, 10)
    units = (tmp_path / "units/yanjiang.yaml").read_text(encoding="utf-8")
    (tmp_path / "units/yanjiang.yaml").write_text(units.replace(
        "    tags: [service-hall]\n    assumed:\n      tags: &hall", "    assumed:\n      tags: &hall", 1),
        encoding="utf-8")
    obs = round_dir / "observations/finance.yaml"
    text = obs.read_text(encoding="utf-8")
    head, tail = text.split('  - indicator: "5"', 1)
    obs.write_text(head + tail[tail.index("  - indicator:"):], encoding="utf-8")
    finance = by_unit(round_dir)["finance"]
    assert finance.leaves["5"].state == "not-applicable" and finance.applicable == 85
    assert finance.earned == 69 and finance.base == D("81.2")   # 77 − 8 (item 5) = 69; 69 ÷ 85 × 100


def _yanjiang_variant(tmp_path, cap: int):
    scheme = (ROOT / "schemes/yanjiang-2021.yaml").read_text(encoding="utf-8")
    assert "cap: 10" in scheme
    write_repo(tmp_path, {"schemes/yanjiang-2021.yaml": scheme.replace("cap: 10", f"cap: {cap}"),
                          "units/yanjiang.yaml": (ROOT / "units/yanjiang.yaml").read_text(encoding="utf-8")})
    round_dir = tmp_path / "rounds/yanjiang-2021"
    for path in (ROOT / "rounds/yanjiang-2021").rglob("*"):
        if path.is_file():
            target = round_dir / path.relative_to(ROOT / "rounds/yanjiang-2021")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    return round_dir


def test_bonus_cap_binds(tmp_path):
    lianhua = by_unit(_yanjiang_variant(tmp_path, 6))["lianhua"]
    assert lianhua.bonus_raw == 10 and lianhua.bonus == 6 and lianhua.total == 105


def test_items_count_tiers_and_progress_by_hand(tmp_path):
    round_dir = _yanjiang_variant(tmp_path, 10)
    write_repo(round_dir, {"observations/fengyu.yaml": """\
        unit: fengyu
        measures: {mailbox-satisfaction: 0.5}
        results:
          - indicator: "1"
            items: {lead-in-charge: true, lead-deploy: false, lead-coordinate: true}
            reason: 缺研究部署
          - {indicator: "2", items: {office: true, staff: true, funding: true}}
          - {indicator: "4", result: done}
          - {indicator: "5", count: 0, reason: 未开展}
          - {indicator: "6", count: 3}
          - {indicator: "7", fraction: 0.6, reason: 专区建设未完成}
          - {indicator: "8", notices: 3, reason: 通报3次}
          - {indicator: "9.1", grade: 20}
          - {indicator: "9.2", grade: 5}
          - {indicator: "9.3", grade: 5}
          - {indicator: "10", grade: 14}
          - {indicator: "12.1", notices: 3, reason: 被通报3次}
        """})
    result = check(round_dir)
    fengyu_codes = {p.code for p in result.report.problems if "fengyu" in str(p.src.display)}
    assert "E501" not in fengyu_codes
    fengyu = score(result.loaded.round).by_unit()["fengyu"]
    assert fengyu.leaves["1"].earned == 2        # 1 + 1; 研究部署 (2) missing
    assert fengyu.leaves["5"].earned == 0        # no open day
    assert fengyu.leaves["6"].earned == 5        # 3 consultations
    assert fengyu.leaves["7"].earned == 9        # 0.6 × 15
    assert fengyu.leaves["8"].earned == 0        # 3 notices → −5 of 5
    assert fengyu.leaves["3"].state == "pending"  # 制度清单 not observed: 0 for now
    # 2 + 3 + 0(pending 11) + 3 + 0 + 5 + 9 + 0 + 30 + 14 = 66
    assert fengyu.base == 66 and fengyu.bonus == 0
    assert fengyu.penalty == -15 and fengyu.total == 51   # −5 × 3, no limit


def test_rank_bonus_goes_to_the_top_three_with_ties():
    units = by_unit(ROOT / "rounds/yanjiang-2021")
    satisfaction = sorted(((u.leaves["11.3"].earned, uid) for uid, u in units.items()), reverse=True)
    winners = {uid for earned, uid in satisfaction if earned == 2}
    assert len(winners) == 3


# --- Chongqing and Shanwei, shipped rounds ----------------------------------------------

def test_chongqing_governments_out_of_100_and_departments_normalised():
    units = by_unit(ROOT / "rounds/chongqing-2020")
    wanzhou, wansheng = units["wanzhou"], units["wansheng"]
    assert wanzhou.scheme.id == "chongqing-2020-districts" and wanzhou.scheme.scoring.normalise == "none"
    assert (wanzhou.applicable, wanzhou.earned, wanzhou.total) == (100, 94, D("94.0"))
    assert wansheng.total == 58 and wansheng.flags == ["below-60"]   # below 60: flagged
    assert units["pengshui"].total == 60 and units["pengshui"].flags == []
    finance = units["finance"]
    assert finance.scheme.id == "chongqing-2020-departments"
    assert (finance.applicable, finance.earned, finance.base) == (85, 76, D("89.4"))
    assert units["statistics"].base == D("91.3")                      # 73 ÷ 80 × 100 = 91.25


def test_shanwei_ranks_by_category_with_ties_and_three_grades():
    units = by_unit(ROOT / "rounds/shanwei-2020")
    governments = sorted((u for u in units.values() if u.category.id == "gov"), key=lambda u: u.category_rank)
    assert [(u.unit.name, u.category_rank, str(u.total), u.grade) for u in governments] == [
        ("海丰县", 1, "93.3", "优秀"), ("陆丰市", 2, "87.0", "良好"), ("市城区", 3, "82.1", "良好"),
        ("陆河县", 4, "71.4", "一般")]
    departments = sorted((u for u in units.values() if u.category.id == "dept"),
                         key=lambda u: (u.category_rank, u.unit.id))
    assert [(u.unit.id, u.category_rank) for u in departments[:4]] == [
        (departments[0].unit.id, 1), ("shangwu", 2), ("shuiwu", 2), (departments[3].unit.id, 4)]
    assert units["shangwu"].total == units["shuiwu"].total == D("94.9")
    assert {u.grade for u in departments} == {"优秀", "良好", "一般"}
    assert len(governments) == 4 and len(departments) == 39


def test_shanghai_weighted_components_grades_and_four_points():
    units = by_unit(ROOT / "rounds/shanghai-2020")
    changning = units["changning"]
    scheme = changning.scheme
    assert sum(c.weight for c in scheme.components) == 1
    # the office's own check is the tree's score, taken at one decimal before weighting
    assert changning.components["office-check"] == D("90.8")
    weighted = sum(c.weight * changning.components[c.id] for c in scheme.components)
    assert weighted == D("89.450")                      # exactly .x5: half-up gives 89.5
    assert changning.total == D("89.5") and changning.grade == "良好"
    assert changning.performance_points == D("3.58")   # 89.5 ÷ 100 × 4
    department = units["economy"] if "economy" in units else next(
        u for u in units.values() if u.unit.name == "市经济信息化委")
    assert department.scheme.id == "shanghai-2020-departments"
    assert department.applicable == 88 and department.components["office-check"] == D("71.9")
    assert department.total == D("75.1") and department.grade == "合格"
    assert department.performance_points == D("3.00")
    assert {u.grade for u in units.values()} == {"优秀", "良好", "合格", "不合格"}


def test_suizhou_late_evidence_does_not_count(tmp_path):
    """随州: 佐证材料于2022年1月14日前报送，逾期未报视为无相关工作内容."""
    import shutil

    for part in ("schemes", "units", "rounds/suizhou-2021"):
        shutil.copytree(ROOT / part, tmp_path / part, dirs_exist_ok=True)
    obs = tmp_path / "rounds/suizhou-2021/observations/office.yaml"
    text = obs.read_text(encoding="utf-8")
    before = by_unit(tmp_path / "rounds/suizhou-2021")["office"]
    assert before.leaves["1.1"].earned == 2
    # the office sent its evidence for 1.1 on 2022-01-20, after the deadline of 2022-01-14
    marker = 'indicator: "1.1"'
    head, tail = text.split(marker, 1)
    tail = tail.replace("captured:", "submitted: 2022-01-20\n        captured:", 1)
    obs.write_text(head + marker + tail, encoding="utf-8")
    result = check(tmp_path / "rounds/suizhou-2021")
    assert [p.code for p in result.report.problems] == ["W603"]
    after = score(result.loaded.round).by_unit()["office"]
    assert after.leaves["1.1"].state == "no-evidence" and after.leaves["1.1"].earned == 0
    assert after.earned == before.earned - 2
