"""Invariants of scoring, over random observations of the shipped schemes (hypothesis)."""

from __future__ import annotations

import copy
import json
import random
from decimal import Decimal as D

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gapctl.api import check
from gapctl.data.model import Indicator, Observations, Result, Round, Unit
from gapctl.scoring.score import score_round
from gapctl.scoring.scoreboard import json_data
from tests.conftest import ROOT

ROUNDS = {name: check(ROOT / "rounds" / name).loaded.round for name in ("yanjiang-2021", "suizhou-2021")}
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _value(draw, ind: Indicator, unit: Unit) -> Result | None:
    rule = ind.rule_for(unit)
    if rule is None:
        return None
    kind = rule.kind
    state = draw(st.sampled_from([None, None, None, "n/a", "no-evidence"]))
    r = Result(ind.id, state)
    if state is not None:
        return r
    if kind == "all-or-nothing":
        r.state = draw(st.sampled_from(["done", "not-done"]))
    elif kind == "items":
        r.items = {str(i["id"]): draw(st.booleans()) for i in rule.params["items"]}
    elif kind == "count-tiers":
        r.count = draw(st.integers(0, 6))
    elif kind == "proportional":
        r.fraction = D(draw(st.integers(0, 20))) / 20
    elif kind in ("deduction-tiers", "per-occurrence"):
        r.notices = draw(st.integers(0, 6))
    elif kind == "expert-grade":
        step = rule.params.get("step") or D("0.5")
        r.grade = step * draw(st.integers(0, int(ind.points / step)))
    else:
        return None  # threshold and rank are computed
    return r


@st.composite
def observed_round(draw, name: str) -> Round:
    """The shipped round with every unit's observations and measures drawn at random."""
    base = ROUNDS[name]
    round_ = copy.copy(base)
    round_.observations = {}
    for unit in base.unit_set.units:
        scheme = base.scheme_for(unit)
        results = [r for ind in scheme.leaves() if ind.applies(unit)
                   for r in [_value(draw, ind, unit)] if r is not None]
        measures = {m.id: D(draw(st.integers(0, 100))) / 100 for m in scheme.measures}
        round_.observations[unit.id] = Observations(unit.id, results, measures=measures)
    return round_


def _check_bounds(round_: Round) -> None:
    for s in score_round(round_).units:
        for leaf in s.leaves.values():
            if leaf.indicator.section == "main":
                assert D(0) <= leaf.earned <= leaf.points
        stack = list(s.tree)
        while stack:
            node = stack.pop()
            assert node.earned <= node.points
            stack.extend(node.children)
        assert D(0) <= s.base <= s.scheme.scoring.scale
        if s.scheme.bonus and s.scheme.bonus.cap is not None:
            assert D(0) <= s.bonus <= s.scheme.bonus.cap
        assert s.penalty <= 0


@SETTINGS
@given(observed_round("yanjiang-2021"))
def test_no_score_above_its_maximum_yanjiang(round_):
    _check_bounds(round_)


@SETTINGS
@given(observed_round("suizhou-2021"))
def test_no_score_above_its_maximum_suizhou(round_):
    _check_bounds(round_)


@SETTINGS
@given(observed_round("yanjiang-2021"), st.data())
def test_na_never_changes_another_units_score(round_, data):
    before = {s.unit.id: (s.base, s.total) for s in score_round(round_).units}
    unit_id = data.draw(st.sampled_from(sorted(round_.observations)))
    obs = round_.observations[unit_id]
    entry = data.draw(st.sampled_from(obs.results))
    changed = copy.copy(round_)
    changed.observations = dict(round_.observations)
    changed.observations[unit_id] = Observations(
        unit_id, [Result(r.indicator, "n/a") if r is entry else r for r in obs.results], measures=obs.measures)
    after = {s.unit.id: (s.base, s.total) for s in score_round(changed).units}
    assert {k: v for k, v in after.items() if k != unit_id} == {k: v for k, v in before.items() if k != unit_id}


@SETTINGS
@given(observed_round("yanjiang-2021"), st.randoms(use_true_random=False))
def test_order_of_units_and_entries_never_changes_output(round_, rnd: random.Random):
    expected = json.dumps(json_data(r := score_round(round_), r.units), ensure_ascii=False, default=str)
    shuffled = copy.copy(round_)
    unit_set = copy.copy(round_.unit_set)
    unit_set.units = rnd.sample(unit_set.units, len(unit_set.units))
    shuffled.unit_set = unit_set
    shuffled.observations = {}
    for key in rnd.sample(sorted(round_.observations), len(round_.observations)):
        obs = round_.observations[key]
        shuffled.observations[key] = Observations(key, rnd.sample(obs.results, len(obs.results)),
                                                  measures=obs.measures)
    result = score_round(shuffled)
    got = json_data(result, result.units)
    # 雁江 publishes no ranking: units are listed in the unit set's order (the order the office lists them);
    # what each unit gets never depends on any order
    assert [row["unit"] for row in got["units"]] == [u.id for u in unit_set.units]
    got["units"] = sorted(got["units"], key=lambda row: row["unit"])
    want = json.loads(expected)
    want["units"] = sorted(want["units"], key=lambda row: row["unit"])
    assert json.dumps(got, ensure_ascii=False, default=str) == json.dumps(want, ensure_ascii=False, default=str)
