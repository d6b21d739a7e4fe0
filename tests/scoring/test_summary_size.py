"""What a unit's summary keeps is small, for it is what every command's parent holds for each unit of a round:
its leaves as LeafSummary (read as a LeafScore is, its other fields their defaults), and its figures as one shared
Decimal a text (85.5 and 85.50 kept apart)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import pytest

from gapctl.scoring import outcomes
from gapctl.scoring import score as S

ROOT = Path(__file__).resolve().parents[2]


def test_a_summarys_leaves_read_as_the_full_leaves_do(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every shipped round's kept leaves (bonus and penalty items, rank leaves)."""
    monkeypatch.chdir(ROOT)
    kept = []
    for round_dir in sorted(Path("rounds").iterdir()):
        checked = outcomes.check(round_dir, use_cache=False)
        kept += [leaf for s in outcomes.score(checked).units for leaf in s.leaves.values()]
    assert len(kept) > 10 and all(type(leaf) is S.LeafSummary for leaf in kept)
    defaults = S.LeafScore(kept[0].indicator, "scored", Decimal(1), Decimal(1))
    for name in {f.name for f in dataclasses.fields(S.LeafScore)} - {f.name for f in dataclasses.fields(S.LeafSummary)}:
        assert getattr(kept[0], name) == getattr(defaults, name) or (getattr(kept[0], name) == () and
                                                                    getattr(defaults, name) == []), name
    for leaf in kept:
        assert leaf.lost == S.points_lost(leaf.indicator.section, leaf.points, leaf.earned)
    with pytest.raises(AttributeError):  # never written: a summary's leaf has no result to set
        kept[0].result = None


def test_a_figure_is_shared_by_its_text_not_by_its_value() -> None:
    a, b = S.shared_figure(Decimal("85.50")), S.shared_figure(Decimal("85.50"))
    assert a is b
    c = S.shared_figure(Decimal("85.5"))
    assert c == a and c is not a and str(c) == "85.5" and str(a) == "85.50"
    assert str(S.shared_figure(Decimal("-0"))) == "-0" and str(S.shared_figure(Decimal("0"))) == "0"
    long = Decimal("89.47368421052631578947368421")
    assert S.shared_figure(long) is long and str(long) not in S.SHARED_FIGURES  # a long figure is not kept


def test_the_totals_of_a_round_are_shared_among_its_units(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    checked = outcomes.check(Path("rounds") / "suizhou-2022", use_cache=False)
    totals = [s.total for s in outcomes.score(checked).units if s.total is not None]
    by_text: dict[str, set[int]] = {}
    for total in totals:
        by_text.setdefault(str(total), set()).add(id(total))
    assert len(totals) > len(by_text)  # some units share a total: the test has something to show
    assert all(len(ids) == 1 for text, ids in by_text.items() if len(text) <= 8)


def test_a_rule_that_earns_nothing_gives_one_shared_zero() -> None:
    """Every leaf a rule scores 0 (not done, no tier, a rank before ranking) holds the same Decimal: kept leaves do
    not each carry their own (at 30,000 units ~5 MB of zeros)."""
    from types import SimpleNamespace

    from gapctl.scheme.rules import REGISTRY, ZERO

    indicator = SimpleNamespace(points=Decimal(2), id="a")
    not_done = SimpleNamespace(state="not-done", count=0, fraction=None, grade=None, items={}, value=None,
                               notices=None)
    rule = SimpleNamespace(kind="", params={"tiers": [], "items": []})
    zeros = []
    for name in ("all-or-nothing", "proportional", "expert-grade", "rank", "count-tiers", "deduction-tiers"):
        rule.kind = name
        earned = REGISTRY[name].earned(not_done, rule, indicator, None)
        assert earned == 0, name
        zeros.append(earned)
    assert all(z is ZERO for z in zeros)


def test_the_measure_names_of_outcomes_read_back_are_shared(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every unit's measures are named alike: read back from payloads (a worker's, or the cache's), the names are one
    string each, not a new one a unit."""
    monkeypatch.chdir(ROOT)
    checked = outcomes.check(Path("rounds") / "shanghai-2020", use_cache=False)
    plan = checked.plans[0]
    read = [outcomes.load_outcome(plan, o.src.path, outcomes.dump_outcome(plan, o)) for o in plan.outcomes]
    names: dict[str, set[int]] = {}
    for outcome in read:
        for name in outcome.measures:
            names.setdefault(name, set()).add(id(name))
    assert len(read) > 2 and sum(len(o.measures) for o in read) > len(names) > 0  # repeated names: something to show
    assert all(len(ids) == 1 for ids in names.values())
