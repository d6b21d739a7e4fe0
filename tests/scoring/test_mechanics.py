"""Mechanics that compose: caps and floors, moved points, per-item applicability, once-only
deductions, thresholds on a subtotal, ranks within a category, external deductions from a
file or from another round, pass-down multipliers and conversion."""

from __future__ import annotations

from decimal import Decimal as D

from gapctl.api import check, score
from gapctl.scoring.score import half_up
from tests.conftest import write_repo

SCHEME = """\
id: mech
title: 组合机制
scoring: {normalise: none, scale: 100, places: 1}
measures: [{id: m, name: 满意度, higher_is_better: true}]
external:
  - {id: city, name: 市级评估扣分, mode: subtract}
  - {id: perf, name: 区绩效扣分, mode: passdown}
conversion: {points: 4, passdown_multiplier: 5}
ranking:
  categories:
    - {id: gov, name: 政府, unit_types: [gov]}
    - {id: dept, name: 部门, unit_types: [dept]}
indicators:
  - id: "1"
    name: 组一
    points: 60
    cap: 50
    children:
      - {id: "1.1", name: 甲, points: 30, rule: {kind: all-or-nothing}}
      - {id: "1.2", name: 乙, points: 20, rule: {kind: all-or-nothing}}
      - {id: "1.3", name: 丙, points: 10, applies_to: {unit_types: [gov]}, moves_to: "1.2",
         rule: {kind: all-or-nothing}}
  - id: "2"
    name: 制度清单
    points: 40
    rule:
      kind: items
      items:
        - {id: x, name: 通用, points: 20}
        - {id: y, name: 仅政府, points: 10, applies_to: {unit_types: [gov]}}
        - {id: z, name: 仅部门, points: 10, applies_to: {unit_types: [dept]}}
bonus:
  cap: 5
  indicators:
    - {id: b1, name: 组一达到45分, points: 2, rule: {kind: threshold, of: "1", at_least: 45}}
    - {id: b2, name: 满意度类别第一, points: 3, rule: {kind: rank, measure: m, top: 1, among: category}}
penalty:
  indicators:
    - {id: p1, name: 发生即扣, rule: {kind: per-occurrence, deduct: 3, once: true}}
"""

UNITS = """\
id: u
name: 单位
units:
  - {id: g1, name: 政府一, type: gov}
  - {id: g2, name: 政府二, type: gov}
  - {id: d1, name: 部门一, type: dept}
  - {id: d2, name: 部门二, type: dept}
"""


def obs(unit: str, *, done: bool = True, items: str = "{x: true, y: true, z: true}", m: str = "0.5",
        notices: int = 0) -> str:
    state = "done" if done else "not-done"
    return f"""\
unit: {unit}
measures: {{m: {m}}}
results:
  - {{indicator: "1.1", result: done}}
  - {{indicator: "1.2", result: {state}, reason: 未完成}}
  - {{indicator: "1.3", result: done}}
  - {{indicator: "2", items: {items}, reason: 缺项}}
  - {{indicator: p1, notices: {notices}, reason: 被通报}}
"""


def build(tmp_path, scheme: str = SCHEME, **observations: str):
    files = {"schemes/mech.yaml": scheme, "units/u.yaml": UNITS,
             "rounds/r/round.toml": 'id = "r"\ntitle = "t"\nunits = "u"\n[[schemes]]\nscheme = "mech"\n'
                                    '[external.city]\nfile = "external/city.yaml"\n'
                                    '[external.perf]\nfile = "external/perf.yaml"\n',
             "rounds/r/external/city.yaml":
                 "name: 市级评估\ndeductions:\n  - {unit: d1, points: 2, reason: 市级抽查}\n",
             "rounds/r/external/perf.yaml": "name: 区绩效\ndeductions:\n  - {unit: d2, points: 0.4}\n"}
    for unit, text in observations.items():
        files[f"rounds/r/observations/{unit}.yaml"] = text
    write_repo(tmp_path, files)
    result = check(tmp_path / "rounds/r")
    errors = [(p.code, p.message) for p in result.report.errors]
    assert errors == []
    return score(result.loaded.round).by_unit()


def test_compose(tmp_path):
    units = build(tmp_path,
                  g1=obs("g1", m="0.9"),
                  g2=obs("g2", done=False, items="{x: true, y: false, z: true}", m="0.8"),
                  d1=obs("d1", m="0.7", notices=4),
                  d2=obs("d2", done=False, items="{x: true, y: true, z: false}", m="0.9"))
    g1, g2, d1, d2 = units["g1"], units["g2"], units["d1"], units["d2"]
    # group cap: 30 + 20 + 10 = 60 earned, capped at 50
    assert g1.node("1").earned == 50 and g1.node("1").points == 60
    # moves_to: 1.3 does not apply to departments, its 10 points go to 1.2 (20 → 30)
    assert d1.leaves["1.3"].state == "not-applicable"
    assert (d1.leaves["1.2"].points, d1.leaves["1.2"].earned) == (30, 30)
    assert d1.node("1").earned == 50 and d1.applicable == 100
    # per-item applicability: for g2 the dept-only item drops out; y missing → 20 of 30 → scaled to 40
    assert half_up(g2.leaves["2"].earned, 2) == D("26.67")  # 20 ÷ 30 × 40
    assert half_up(d2.leaves["2"].earned, 2) == D("26.67")  # z (dept) missing, y does not apply
    # threshold on a subtotal: group 1 reaches 45 for g1 (50), not for g2 (30 + 0 + 10 = 40)
    assert g1.leaves["b1"].earned == 2 and g2.leaves["b1"].earned == 0
    # rank within category on the measure: g1 (0.9) tops governments, d2 (0.9) departments
    assert g1.leaves["b2"].earned == 3 and d2.leaves["b2"].earned == 3 and d1.leaves["b2"].earned == 0
    assert g1.bonus_raw == 5 and g1.bonus == 5
    # once-only deduction: 4 notices, −3 once
    assert d1.penalty == -3
    # external subtract and passdown × 5; conversion into 4 points
    assert d1.bonus == 2  # group 1 reached 45; the measure's first place is d2's
    assert d1.external == 2 and d1.total == D(50 + 40 + 2 - 3 - 2)
    assert d2.external == 0 and d2.passdown == 2
    assert d1.performance_points == D("3.48")  # 87 ÷ 100 × 4
    # ranks: overall by total, and within categories
    assert (g1.category.id, g1.category_rank) == ("gov", 1)
    assert d1.category_rank in (1, 2) and {d1.category_rank, d2.category_rank} == {1, 2}


def test_floor_on_a_group(tmp_path):
    scheme = SCHEME.replace("    cap: 50\n", "    floor: 35\n")
    units = build(tmp_path, scheme, g1=obs("g1", done=False), g2=obs("g2"), d1=obs("d1"), d2=obs("d2"))
    assert units["g1"].node("1").earned == 40          # 30 + 0 + 10: above the floor
    assert units["g2"].node("1").earned == 60          # no cap any more
    scheme = SCHEME.replace("    cap: 50\n", "    floor: 45\n")
    units = build(tmp_path, scheme, g1=obs("g1", done=False), g2=obs("g2"), d1=obs("d1"), d2=obs("d2"))
    assert units["g1"].node("1").earned == 45          # 40 raised to the floor


def test_external_deductions_from_another_round(tmp_path):
    """Suizhou: final = own total − the points the unit lost in the city's evaluation."""
    build(tmp_path, g1=obs("g1"), g2=obs("g2"), d1=obs("d1"), d2=obs("d2"))
    write_repo(tmp_path, {
        "rounds/city/round.toml": 'id = "city"\ntitle = "市级"\nunits = "u"\n[[schemes]]\nscheme = "mech"\n',
        "rounds/city/observations/d1.yaml": obs("d1", done=False),  # 1.2 (30 for depts) lost
        "rounds/r/round.toml": 'id = "r"\ntitle = "t"\nunits = "u"\n[[schemes]]\nscheme = "mech"\n'
                               '[external.city]\nround = "city"\n',
    })
    result = check(tmp_path / "rounds/r")
    units = score(result.loaded.round).by_unit()
    # d1 in the city round: 30 + 0 (1.2, worth 30 for departments, lost) + 40 = 70 base, and +3
    # for ranking first on the measure among the departments observed there: lost 100 − 73 = 27
    assert units["d1"].external == 27
    assert units["d1"].externals[0].reason == "city"


def test_rank_on_an_indicator_among_all_units(tmp_path):
    scheme = SCHEME.replace("rule: {kind: rank, measure: m, top: 1, among: category}",
                            'rule: {kind: rank, indicator: "2", top: 2}')
    units = build(tmp_path, scheme,
                  g1=obs("g1", items="{x: true, y: true, z: true}"),      # 40 on indicator 2
                  g2=obs("g2", items="{x: false, y: true, z: true}"),     # 10 of 30 → 13.33
                  d1=obs("d1", items="{x: true, y: true, z: false}"),     # 20 of 30 → 26.67
                  d2=obs("d2", items="{x: true, y: true, z: true}"))      # 40
    assert {uid for uid, u in units.items() if u.leaves["b2"].earned == 3} == {"g1", "d2"}
