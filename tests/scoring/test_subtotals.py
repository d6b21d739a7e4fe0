"""A decision keeps the unit's subtotals as they stood (gapctl.scoring.unit_env.Subtotals): eight slots read by name as
the dict they replaced is read, through explain, the cache's codec and a diff's pickles alike."""

from __future__ import annotations

import pickle
from decimal import Decimal

import pytest

from gapctl import codec
from gapctl.scoring import outcomes
from gapctl.scoring.unit_env import SUBTOTALS, Subtotals
from tests.conftest import ROOT


def _decisions() -> list:
    """Every decision the shipped rounds keep (gates, vetoes, pass lines, thresholds)."""
    found = []
    for round_dir in sorted((ROOT / "rounds").iterdir()):
        checked = outcomes.check(round_dir, use_cache=False)
        found += [d for s in outcomes.score(checked).units for d in s.decisions]
    return found


def test_a_decision_keeps_its_subtotals_as_eight_slots_read_as_a_dict(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    kept = [d.names for d in _decisions() if d.names]
    assert kept and all(type(names) is Subtotals for names in kept)
    names = kept[0]
    assert not hasattr(names, "__dict__")
    as_dict = dict(names.items())
    assert list(as_dict) == list(SUBTOTALS) == list(names) == list(names.keys()) and len(names) == 8
    for name in SUBTOTALS:
        assert name in names and names[name] is as_dict[name] and names.get(name) is as_dict[name]
    assert "grade" not in names and names.get("grade", 1) == 1
    with pytest.raises(KeyError):
        names["grade"]


def test_subtotals_travel_through_the_codec_and_pickle() -> None:
    names = Subtotals(Decimal("76"), Decimal("85"), Decimal("89.4"), Decimal(0), None, Decimal("1.5"), Decimal("1.5"),
                      Decimal("90.9"))
    for back in (codec.loads(codec.dumps(names)), pickle.loads(pickle.dumps(names))):
        assert type(back) is Subtotals and back == names and dict(back.items()) == dict(names.items())


def test_a_formula_reads_a_decisions_subtotals_not_the_scores_figures_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """Explain shows a decision's formula with the figures of its moment (UnitEnv.at), as it did with the dict."""
    from gapctl.scoring.unit_env import UnitEnv

    monkeypatch.chdir(ROOT)
    decided = next(d for d in _decisions() if d.names)
    now = type("Now", (), dict.fromkeys(SUBTOTALS, Decimal(-1)))()  # a score whose figures moved on
    env = UnitEnv(now).at(decided.names)  # type: ignore[arg-type]
    assert [env.name(n) for n in SUBTOTALS] == [decided.names[n] for n in SUBTOTALS]
    assert UnitEnv(now).name("total") == Decimal(-1)
