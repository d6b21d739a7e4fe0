"""The cache's format (gapctl.codec): everything gapctl caches round-trips, new dataclass fields
are carried without a change to the codec, a value it cannot carry fails here (naming the
field), and bytes can name no class but gapctl's own dataclasses."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import msgpack
import pytest

from gapctl import codec
from gapctl.data import cache as C
from gapctl.scoring import outcomes
from gapctl.scoring import score as S
from tests.conftest import ROOT

CASES = sorted([*(ROOT / "rounds").iterdir(), *(ROOT / "tests/schemes").glob("*/*/rounds/*"),
                *(ROOT / "tests/bad").iterdir()])


def roundtrip_outcomes(path: Path) -> int:
    checked = outcomes.check(path, use_cache=False)
    count = 0
    for plan in checked.plans:
        for outcome in plan.outcomes:
            own = id(outcome.src)
            data = codec.dumps(outcome, lambda obj, own=own, plan=plan: outcomes.OWN if id(obj) == own
                               else plan.references.get(id(obj)))  # raises CodecError, naming the field
            back = codec.loads(data, lambda name, o=outcome, plan=plan: o.src if name == outcomes.OWN
                               else plan.objects[name])
            assert repr(back) == repr(outcome)
            if outcome.score is not None:  # a channel's unit is made for its file, so it travels by value
                assert back.score.scheme is outcome.score.scheme
                assert back.score.unit is outcome.score.unit if outcome.channel is None \
                    else back.score.unit == outcome.score.unit
            count += 1
    repository = checked.loaded.repository
    for definition in [*repository.schemes.values(), *repository.unit_sets.values()]:
        back, _ = C.loads(C.dumps((definition, [])))
        assert repr(back) == repr(definition)
        if hasattr(back, "index"):  # the index points into the tree, as it did
            tree = {id(i) for i in back.all_indicators()}
            assert all(id(i) in tree for i in back.index.values())
        if getattr(back, "units", None):
            assert len({id(u.src) for u in back.units}) == 1
    return count


def test_every_outcome_and_definition_round_trips(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every field of every outcome of every shipped round, conformance case and bad input:
    a field added to UnitScore (or anything it holds) with a type the codec cannot carry fails here."""
    total = 0
    for case in CASES:
        monkeypatch.chdir(case.parents[1] if case.parent.name == "rounds" else case)
        total += roundtrip_outcomes(case)
    assert total > 300


def test_a_new_dataclass_field_is_carried_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """What another engineer adding fields to UnitScore gets: nothing to change here."""
    extended = dataclasses.make_dataclass(
        "Extended", [("known", dict, dataclasses.field(default_factory=dict)), ("vetoed", list, None),
                     ("when", dt.date, None), ("share", Decimal, None)])
    extended.__module__ = "gapctl.scoring.score"
    monkeypatch.setattr(S, "Extended", extended, raising=False)
    value = extended({("total", ("a", "b")): Decimal("89.45"), "flag": True}, [frozenset({"x"}), {1, 2}, None],
                     dt.date(2021, 9, 27), Decimal("-0.0"))
    back = codec.loads(codec.dumps(value))
    assert back == value and type(back.share) is Decimal and str(back.share) == "-0.0"


def test_a_value_it_cannot_carry_names_its_field() -> None:
    from gapctl.data.model import Unit
    score = S.UnitScore(Unit(id="a", name="甲", type="t"), None, [], {})  # type: ignore[arg-type]
    score.known[("x", ())] = object()
    with pytest.raises(codec.CodecError, match=r"UnitScore\.known: cannot encode a builtins\.object"):
        codec.dumps(score)
    assert C.dumps(score) == b""  # the cache skips it instead of failing the command
    score.known = {}
    score.decisions = [score]  # type: ignore[list-item]
    with pytest.raises(codec.CodecError, match="a cycle"):
        codec.dumps(score)


@pytest.mark.parametrize("name", ["os:system", "subprocess:Popen", "builtins:eval", "gapctl.cli:main",
                                  "gapctl.__main__:main",
                                  "gapctl.data.writes:WriteError", "gapctlx.evil:Thing"])
def test_bytes_name_no_class_but_gapctl_dataclasses(name: str, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    data = msgpack.packb([msgpack.ExtType(codec.OBJECT, msgpack.packb([name, f"touch {marker}"]))])
    with pytest.raises(codec.CodecError):
        codec.loads(data)
    assert not marker.exists() and not os.path.exists("ran")


def test_garbage_is_an_error_not_a_crash() -> None:
    for data in (b"", b"\xc1", msgpack.packb([msgpack.ExtType(99, b"")]), b"\x92\x01",
                 msgpack.packb(msgpack.ExtType(codec.SEEN, msgpack.packb(7))),
                 msgpack.packb(msgpack.ExtType(codec.DECIMAL, b"not a number")),
                 msgpack.packb(msgpack.ExtType(codec.OBJECT, msgpack.packb(["gapctl.data.model:Unit", "too few"])))):
        with pytest.raises(codec.CodecError):
            codec.loads(data)
