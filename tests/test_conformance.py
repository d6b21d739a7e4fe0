"""Conformance suite of the scheme language: every case under tests/schemes/<mechanic>/<case>/.

Each case is a small repository (schemes/, units/, rounds/r/) with an `expected.json` of
figures computed by hand from the rules of the language (docs/rules.md), not copied from
gapctl's output:

    {"description": "what the case shows, in one line",
     "units": {"a": {"total": "91.0", "grade": "优秀", "base": "86.0", "bonus": "5", "penalty": "0",
                     "rank": 1, "vetoes": ["leak"], "indicators": {"1.1": "2", "1": "23"},
                     "note": "how the figures were computed (not compared)"}},
     "problems": [["schemes/s.yaml", 10, 24, "E405"]]}

Every key is optional and only what is given is compared. Figures are strings compared as
Decimals ("91" == "91.00"); `"total": null` is a total withheld by a veto (`stop`), `"rank":
null` an unranked unit. `vetoes` are the ids of the vetoes (and pass lines,
`pass-line-<indicator id>`) that held, in any order. `indicators` are what a node of the tree
earned, or what a bonus or penalty item earned. `problems` are (path, line, [col,] code) of
validate, paths relative to the case; the errors validate reports must be exactly those listed
(a listed warning must be among the warnings). A case without `problems` must validate
without errors, and is scored twice: by the library (`gapctl.api.load_round` / `score`) and
file by file as the CLI does (`gapctl score ROUND --format json`); both must give its figures.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gapctl.api import check, load_round, score
from gapctl.cli import app
from tests.conftest import ROOT

SCHEMES = ROOT / "tests" / "schemes"
CASES = sorted(SCHEMES.glob("*/*/expected.json"))
UNIT_KEYS = {"total", "base", "bonus", "penalty", "grade", "rank", "vetoes", "indicators", "note"}


def case_id(path: Path) -> str:
    return f"{path.parent.parent.name}/{path.parent.name}"


def figure(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def same(actual: Decimal | None, expected: str | None) -> bool:
    if expected is None or actual is None:
        return expected is None and actual is None
    return Decimal(str(actual)) == Decimal(expected)


def problem_matches(entry: list, actual: tuple[str, int, int, str]) -> bool:
    path, line, col, code = actual
    if len(entry) == 3:
        return (path, line, code) == tuple(entry)
    return (path, line, col, code) == tuple(entry)


MECHANICS = ("clauses", "bounds", "vetoes", "gates", "pass-lines", "redistribution", "formulas",
             "groups", "subordinates", "samples", "periods", "assessors")


def test_there_are_cases_for_every_mechanic():
    mechanics = {p.parent.parent.name for p in CASES}
    for mechanic in MECHANICS:
        scored = [p for p in CASES if p.parent.parent.name == mechanic
                  and json.loads(p.read_text(encoding="utf-8")).get("units")]  # listed warnings may go with figures
        assert len(scored) >= 2, f"{mechanic}: at least two scored cases"
    assert mechanics <= set(MECHANICS)


def test_the_worked_examples_the_docs_name_exist():
    from gapctl.scheme.constructs import registry

    names = {case_id(p) for p in CASES}
    for construct in registry():
        assert construct.example in names, f"{construct.name}: {construct.example} has no case"
    assert "clauses/basic" in names  # the clauses rule's worked example


@pytest.mark.parametrize("expected_file", CASES, ids=[case_id(p) for p in CASES])
def test_conformance(expected_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    assert expected.get("description"), "every case says in one line what it shows"
    monkeypatch.chdir(expected_file.parent)
    monkeypatch.setenv("GAPCTL_NO_CACHE", "1")  # never write a cache into the source tree

    # --- validate ----------------------------------------------------------------------
    report = check("rounds/r").report
    found = []
    for p in report.sorted():
        where = p.locate()
        found.append((where.path, where.line, where.col, p.code, p.severity, p.message))
    wanted = expected.get("problems", [])
    errors = [f for f in found if f[4] == "error"]
    for entry in wanted:
        assert any(problem_matches(entry, f[:4]) for f in found), f"expected {entry}; validate gave {found}"
    for f in errors:
        assert any(problem_matches(entry, f[:4]) for entry in wanted), f"unexpected error {f}"
    if errors:
        assert not expected.get("units"), "a case with errors is not scored"
        result = CliRunner().invoke(app, ["score", "rounds/r", "--format", "json", "--no-cache"])
        assert result.exit_code == 1, result.output
        return

    # --- the library -------------------------------------------------------------------
    round_ = load_round("rounds/r")
    scores = score(round_).by_unit()
    mismatches = []
    for unit_id, want in expected.get("units", {}).items():
        assert set(want) <= UNIT_KEYS, f"{unit_id}: unknown keys {set(want) - UNIT_KEYS}"
        got = scores[unit_id]
        for key in ("total", "base", "bonus", "penalty"):
            if key in want and not same(getattr(got, key), want[key]):
                mismatches.append(f"{unit_id}.{key}: expected {want[key]}, gapctl {figure(getattr(got, key))}")
        if "grade" in want and got.grade != want["grade"]:
            mismatches.append(f"{unit_id}.grade: expected {want['grade']}, gapctl {got.grade}")
        if "rank" in want and got.rank != want["rank"]:
            mismatches.append(f"{unit_id}.rank: expected {want['rank']}, gapctl {got.rank}")
        if "vetoes" in want and sorted(v.id for v in got.vetoed) != sorted(want["vetoes"]):
            mismatches.append(f"{unit_id}.vetoes: expected {sorted(want['vetoes'])}, "
                              f"gapctl {sorted(v.id for v in got.vetoed)}")
        for ident, value in want.get("indicators", {}).items():
            node = got.node(ident)
            earned = node.earned if node is not None else got.leaves[ident].earned
            if not same(earned, value):
                mismatches.append(f"{unit_id}.indicators[{ident}]: expected {value}, gapctl {figure(earned)}")
    assert not mismatches, "\n".join(mismatches)

    # --- file by file, as `gapctl score` does (--rank: the library's ranks, published or not) ------
    result = CliRunner().invoke(app, ["score", "rounds/r", "--format", "json", "--no-cache", "--rank"])
    assert result.exit_code == 0, result.output or repr(result.exception)
    rows = {row["unit"]: row for row in json.loads(result.stdout)["units"]}
    assert set(rows) == set(scores)
    for unit_id, got in scores.items():
        row = rows[unit_id]
        assert same(got.total, row["total"]), f"{unit_id}: library {got.total}, CLI {row['total']}"
        assert row["grade"] == got.grade and row["rank"] == got.rank, unit_id
        for key in ("base", "bonus", "penalty"):
            assert same(getattr(got, key), row[key]), f"{unit_id}.{key}: library {getattr(got, key)}, CLI {row[key]}"
        if "vetoes" in row:
            assert sorted(row["vetoes"]) == sorted(v.id for v in got.vetoed), unit_id
        want = expected.get("units", {}).get(unit_id, {})
        if "total" in want:
            assert same(None if row["total"] is None else Decimal(row["total"]), want["total"]), unit_id
