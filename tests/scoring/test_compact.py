"""Outcomes in their compact form (gapctl.scoring.compact): what the cache stores and workers send
back reads back as the very outcome that was written, field by field, whether a field took the fast
form or the general codec's `rest`; bytes of another shape are an error, not a crash."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import msgpack
import pytest

from gapctl import codec
from gapctl.data.model import Unit
from gapctl.scoring import compact, outcomes
from gapctl.scoring import score as S
from tests.data.test_codec import CASES


def _lists(outcome: outcomes.FileOutcome) -> None:
    """A loaded leaf holds the empty tuple where a scored one has empty lists (compact._unit_score); a summary's
    leaf (S.LeafSummary) has no lists of its own."""
    for leaf in outcome.score.leaves.values() if outcome.score is not None else []:
        if type(leaf) is S.LeafSummary:
            continue
        for name in ("moved_from", "chain", "panel"):
            if getattr(leaf, name) == ():
                setattr(leaf, name, [])


def _roundtrips(path: Path) -> tuple[int, int]:
    checked = outcomes.check(path, use_cache=False)
    count = fast = 0
    for plan in checked.plans:
        for outcome in plan.outcomes:
            data = outcomes.dump_outcome(plan, outcome)
            assert data is not None
            back = outcomes.load_outcome(plan, outcome.src.path, data)
            back.src.display = outcome.src.display  # _load names the file as the run shows it
            assert outcomes.dump_outcome(plan, back) == data  # a loaded outcome (its shared empties) packs the same
            _lists(back)
            assert repr(back) == repr(outcome)
            assert back.src is not outcome.src
            if outcome.score is not None:
                assert back.score.scheme is outcome.score.scheme
                assert (back.score.source is back.src) == (outcome.score.source is outcome.src)
                if outcome.channel is None:
                    assert back.score.unit is outcome.score.unit
                for key, leaf in outcome.score.leaves.items():
                    assert back.score.leaves[key].indicator is leaf.indicator
                    assert back.score.leaves[key].rule is leaf.rule
                for name in compact._DECIMALS:  # the same text, not only an equal number
                    assert str(getattr(back.score, name)) == str(getattr(outcome.score, name))
            for problem, again in zip(outcome.load_problems + outcome.check_problems,
                                      back.load_problems + back.check_problems, strict=True):
                assert again.kind is problem.kind
            fast += msgpack.unpackb(data, raw=False)[6:] == [None, None]
            count += 1
    return count, fast


def test_every_outcome_round_trips(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every outcome of every shipped round, conformance case and bad input (problems, evidence,
    channels, vetoes, panels) reads back the same; most take the fast form entirely."""
    total = fast = 0
    for case in CASES:
        monkeypatch.chdir(case.parents[1] if case.parent.name == "rounds" else case)
        count, quick = _roundtrips(case)
        total, fast = total + count, fast + quick
    assert total > 300
    assert fast > total // 2


def test_a_field_outside_the_common_shape_travels_in_rest() -> None:
    """A value the fast form does not know (here a problem on the score, a leaf with a chain, a
    Decimal written as 0.0) is carried by the general codec, exactly."""
    unit = Unit(id="a", name="甲", type="t")
    score = S.UnitScore(unit, None, [], {})  # type: ignore[arg-type]
    score.total = Decimal("0.0")
    score.known[("x", ())] = Decimal("1.50")
    score.pending = ["1.1", "2"]
    names = {id(unit): "U"}
    outcome = outcomes.FileOutcome(None, "a", measures={"m": Decimal("-0")}, score=score,  # type: ignore[arg-type]
                                   progress=(1, 2, 3))
    data = compact.dumps(outcome, lambda obj: names.get(id(obj)))
    back = compact.loads(data, outcomes.FileOutcome, None, {"U": unit}.__getitem__)
    assert repr(back) == repr(outcome)
    assert str(back.score.total) == "0.0" and str(back.measures["m"]) == "-0"
    assert back.score.unit is unit


@pytest.mark.parametrize("data", [b"", b"\x91", msgpack.packb(["o0", None, None, None, None, None, None, None]),
                                  msgpack.packb(["o1", 1]), b"\xc1garbage"])
def test_garbage_is_a_codec_error(data: bytes) -> None:
    with pytest.raises(codec.CodecError):
        compact.loads(data, outcomes.FileOutcome, None, lambda name: None)


def test_fields_fast_or_rest_cover_unit_score() -> None:
    """Every UnitScore field is either written in the fast form or compared with its default (and
    carried in `rest` when it differs): a new field needs nothing here."""
    names = {f.name for f in dataclasses.fields(S.UnitScore)}
    assert names == compact._FAST | {name for name, _d in compact._UNIT_REST}
