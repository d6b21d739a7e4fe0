"""Robustness of ranks and grades: Monte Carlo over weights, grades and assessors (gapctl.scoring.robustness)."""

from __future__ import annotations

import json
from decimal import Decimal

from gapctl.api import load_round, score
from gapctl.scoring import robustness as R
from tests.conftest import write_repo

UNITS = "id: u\nname: 单位\nunits:\n" + "".join(f"  - {{id: u{n}, name: 单位{n}, type: 部门}}\n" for n in range(6))
ROUND = 'id = "r"\ntitle = "测试"\nunits = "u"\n[[schemes]]\nscheme = "s"\n'
SCHEME = ("id: s\ntitle: 稳健性\nindicators:\n  - {id: A, name: 甲, points: 50, rule: {kind: expert-grade}}\n"
          "  - {id: B, name: 乙, points: 50, rule: {kind: expert-grade}}\n"
          "grades:\n  - {label: 优秀, min: 90}\n  - {label: 良好, min: 80}\n  - {label: 合格, min: 0}\n")
# u0 far ahead, u5 far behind; u2 and u3 a near tie with opposite strengths; u1 and u4 in between
GRADES = {"u0": (50, 49), "u1": (45, 40), "u2": (44, 36), "u3": (36, 44.5), "u4": (30, 30), "u5": (10, 5)}


def _round(tmp_path):
    files = {"schemes/s.yaml": SCHEME, "units/u.yaml": UNITS, "rounds/r/round.toml": ROUND}
    for unit, (a, b) in GRADES.items():
        files[f"rounds/r/observations/{unit}.yaml"] = (
            f"unit: {unit}\nresults:\n  - {{indicator: A, grade: {a}, reason: 扣分}}\n"
            f"  - {{indicator: B, grade: {b}, reason: 扣分}}\n")
    write_repo(tmp_path, files)
    return score(load_round(tmp_path / "rounds" / "r"))


def test_with_every_weight_fixed_the_interval_is_the_computed_rank(tmp_path):
    result = R.analyse(_round(tmp_path), R.Settings(draws=50, seed=3, weights=Decimal(0)))
    for unit in result.units:
        assert unit.interval == (unit.rank, unit.rank) and unit.median == unit.rank and unit.robust()


def test_units_far_apart_never_swap_and_a_near_tie_swaps_in_a_plausible_share(tmp_path):
    result = {u.unit: u for u in R.analyse(_round(tmp_path), R.Settings(draws=400, seed=3)).units}
    assert "u5" not in result["u0"].swaps and result["u0"].interval == (1, 1)
    share = Decimal(result["u2"].swaps.get("u3", 0)) / 400  # 80 against 80.5: weights decide the order
    assert Decimal("0.2") < share < Decimal("0.8")
    assert not result["u2"].robust() and not result["u3"].robust()


def test_the_same_seed_gives_the_same_figures_and_another_seed_others(tmp_path):
    scored = _round(tmp_path)
    first = json.dumps(R.json_data(R.analyse(scored, R.Settings(draws=300, seed=11))), ensure_ascii=False)
    again = json.dumps(R.json_data(R.analyse(scored, R.Settings(draws=300, seed=11))), ensure_ascii=False)
    other = json.dumps(R.json_data(R.analyse(scored, R.Settings(draws=300, seed=12))), ensure_ascii=False)
    assert first == again and first != other


def test_grades_within_one_step_move_ranks_and_grades(tmp_path):
    scored = _round(tmp_path)
    fixed = R.analyse(scored, R.Settings(draws=200, seed=5, weights=Decimal(0), grades=True))
    assert any(u.other_grade for u in fixed.units)  # u0 at 99 can fall below 90 only by more than a step: no
    assert {u.unit for u in fixed.units if u.other_grade} <= {"u1", "u2", "u3"}


def test_the_weight_that_moves_the_ranking_most_comes_first(tmp_path):
    scored = _round(tmp_path)
    result = R.analyse(scored, R.Settings(draws=10, seed=1))
    assert [s.what for s in result.sensitivity] and all(s.shift >= 0 for s in result.sensitivity)
    order = [i.id for i in scored.units[0].scheme.indicators]  # ties in the scheme's order
    assert result.sensitivity == sorted(result.sensitivity, key=lambda s: (-s.shift, order.index(s.what)))


def test_the_figures_do_not_depend_on_how_the_draws_are_shared(tmp_path, monkeypatch):
    scored = _round(tmp_path)
    shared = {}
    for jobs in ("1", "2"):
        monkeypatch.setenv("GAPCTL_JOBS", jobs)
        done: list[int] = []
        result = R.analyse(scored, R.Settings(draws=R.PARALLEL_FROM, seed=4, grades=True),
                           progress=lambda n, total, done=done: done.append(n))
        assert done and done[-1] == R.PARALLEL_FROM and done == sorted(done)
        shared[jobs] = json.dumps(R.json_data(result), ensure_ascii=False)
    assert shared["1"] == shared["2"]


GATED = SCHEME.replace("grades:", "bonus:\n  name: 加分项\n  cap: 5\n  indicators:\n"
                       "    - {id: P, name: 经验推广, points: 5, rule: {kind: all-or-nothing},\n"
                       "       gate: {when: base >= 80}}\n"
                       "grades:")


def test_a_bonus_gate_is_decided_again_in_every_draw(tmp_path):
    """u2 (base 80: its bonus counts) and u3 (base 80.5) sit on the gate; weights move them across it,
    both ways: a gate that did not hold when scored can hold in a draw."""
    files = {"schemes/s.yaml": GATED, "units/u.yaml": UNITS, "rounds/r/round.toml": ROUND}
    grades = {**GRADES, "u2": (44, 35.5), "u3": (35, 44.5)}  # u2 79.5: gated; u3 79.5 too
    for unit, (a, b) in grades.items():
        files[f"rounds/r/observations/{unit}.yaml"] = (
            f"unit: {unit}\nresults:\n  - {{indicator: A, grade: {a}, reason: 扣分}}\n"
            f"  - {{indicator: B, grade: {b}, reason: 扣分}}\n  - {{indicator: P, result: done}}\n")
    write_repo(tmp_path, files)
    scored = score(load_round(tmp_path / "rounds" / "r"))
    by_id = scored.by_unit()
    assert by_id["u2"].bonus == 0 and by_id["u2"].leaves["P"].gated and by_id["u0"].bonus == 5
    draws = [{s.unit.id: s for s in R.one_draw([by_id[u] for u in ("u0", "u2")], R.Settings(seed=9), n)}
             for n in range(60)]
    assert all(d["u0"].bonus == 5 for d in draws)
    assert {d["u2"].bonus for d in draws} == {0, 5}  # the gate holds in some draws and not in others
    assert all((d["u2"].bonus == 5) == (d["u2"].base >= 80) for d in draws)
    assert by_id["u2"].bonus == 0 and by_id["u2"].leaves["P"].gated  # the computed score is untouched


def test_a_unit_no_draw_ranks_is_shown_without_figures():
    """A veto that withholds the total (stop) in every draw: no ranks, no percentiles, no crash."""
    unit = R.UnitRobustness("u", "单位", None, None)
    result = R.Robustness(R.Settings(draws=0), "s", [unit], [])
    assert unit.interval == (None, None) and unit.median is None and unit.robust()
    assert R.json_data(result)["units"][0]["interval"] == [None, None]
    assert "None" not in "\n".join(R.text_lines(result, "en"))
