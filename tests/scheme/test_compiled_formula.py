"""The compiled formula path (`gapctl.scheme.formula.compiled`, what scoring uses for the base and
total) gives exactly what the general evaluator gives: the same value (same Decimal, same type)
or the same error, on every formula of every shipped scheme and on random inputs."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path

import pytest

from gapctl.api import load_round
from gapctl.scheme.formula import FormulaError, compiled, evaluate, parse
from gapctl.scoring.score import later_formulas

ROOT = Path(__file__).resolve().parents[2]

# every kind of node, chained comparisons, errors (division by zero, text in arithmetic)
HANDWRITTEN = [
    "earned / applicable * 100",
    "base + bonus + penalty - external",
    "-(base - 3) * 2",
    "min(base, 100, total) + max(bonus, 0)",
    "base > 60 and not (penalty < -5 or external >= 2)",
    "0 < base <= 100 != 50",
    "base / (bonus - bonus)",
    "score(1) + points(1) * rate(1)",
]


class RandomEnv:
    """Answers every name and call from a seeded choice of numbers, truth values, nothing and text."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.answers: dict[tuple, object] = {}

    def _pick(self, key: tuple) -> object:
        if key not in self.answers:
            r = self.rng.random()
            self.answers[key] = (None if r < 0.05 else self.rng.choice([True, False]) if r < 0.15
                                 else "x" if r < 0.18 else dt.date(2021, 1, 1) if r < 0.2
                                 else Decimal(0) if r < 0.3
                                 else Decimal(self.rng.randint(-5000, 20000)) / Decimal(100))
        return self.answers[key]

    def name(self, name: str) -> object:
        return self._pick(("name", name))

    def call(self, function: str, args: tuple) -> object:
        return self._pick(("call", function, args))


def _outcome(run, *args) -> tuple:
    try:
        value = run(*args)
    except FormulaError as err:
        return ("error", err.message, err.offset)
    return ("value", type(value), value)


def _shipped_formulas() -> list:
    formulas = []
    for round_dir in sorted((ROOT / "rounds").iterdir()):
        if (round_dir / "round.toml").exists():
            for scheme in load_round(round_dir).schemes.values():
                formulas += later_formulas(scheme)
    return formulas


def test_every_shipped_formula_compiles_to_the_same_values():
    formulas = _shipped_formulas()
    assert len(formulas) >= 10  # the shipped rounds' base, total, gate and veto formulas
    kinds = {node for f in formulas for node in _kinds(f.tree)}
    assert {"num", "name", "bin"} <= kinds
    for n, formula in enumerate(formulas):
        for seed in range(40):
            env = RandomEnv(seed * 1000 + n)
            assert _outcome(compiled(formula), env) == _outcome(evaluate, formula, env), formula.text


@pytest.mark.parametrize("text", HANDWRITTEN)
def test_handwritten_formulas_compile_to_the_same_values_and_errors(text):
    formula = parse(text)
    outcomes = set()
    for seed in range(300):
        env = RandomEnv(seed)
        got = _outcome(compiled(formula), env)
        assert got == _outcome(evaluate, formula, env), (text, seed)
        outcomes.add(got[0])
    if "bonus - bonus" in text:
        assert outcomes == {"error"}


def test_a_formula_is_compiled_once():
    formula = parse("base + 1")
    assert compiled(formula) is compiled(formula)


def _kinds(node):
    if isinstance(node, tuple) and node and isinstance(node[0], str):
        yield node[0]
    if isinstance(node, tuple):
        for part in node[1:]:
            if isinstance(part, tuple):
                yield from _kinds(part)
