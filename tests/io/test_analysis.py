"""docs/analysis.md's DuckDB recipe, run as written over a Parquet export of shipped rounds: every
figure it gives equals what gapctl itself computes for those rounds."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from gapctl.api import check, score
from gapctl.cli import app
from gapctl.figures import figure
from tests.conftest import ROOT

ROUNDS = ["suizhou-2021", "suizhou-2022", "shanwei-2020"]  # two years of one place; shanwei: two unit types
runner = CliRunner()


def recipe() -> dict[str, list[str]]:
    """The doc's SQL blocks by their `-- name:` line, each split into statements."""
    text = (ROOT / "docs" / "analysis.md").read_text(encoding="utf-8")
    blocks = {}
    for block in re.findall(r"```sql\n(.*?)```", text, re.S):
        name = re.match(r"-- name: (\w+)\n", block)
        assert name, f"a SQL block of docs/analysis.md without `-- name:`: {block[:60]}"
        blocks[name.group(1)] = [s.strip() for s in block[name.end():].split(";") if s.strip()]
    return blocks


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("analysis") / "out" / "parquet"
    result = runner.invoke(app, ["export", *(str(ROOT / "rounds" / r) for r in ROUNDS), "--format", "parquet",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def db(exported: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for statement in recipe()["setup"]:
        con.execute(statement.replace("'out/parquet/", f"'{exported.as_posix()}/"))
    return con


@pytest.fixture(scope="module")
def scored() -> dict[str, object]:
    """Every round scored whole, the way `gapctl score` and `explain` see it."""
    return {r: score(check(ROOT / "rounds" / r).loaded.round) for r in ROUNDS}


def run(db: duckdb.DuckDBPyConnection, name: str, **variables: str) -> list[tuple]:
    for key, value in variables.items():
        db.execute(f"SET VARIABLE {key} = ?", [value])
    (statement,) = recipe()[name]
    return db.execute(statement).fetchall()


def main_leaves(unit_score):
    return [leaf for leaf in unit_score.leaves.values() if leaf.indicator.is_leaf and leaf.indicator.section == "main"]


def test_setup_names_the_doc_variables(db: duckdb.DuckDBPyConnection) -> None:
    assert db.execute("SELECT getvariable('unit'), getvariable('indicator')").fetchone() == ("finance", "2.1.10")


@pytest.mark.parametrize("unit", ["finance", "market", "xihe", "office"])
def test_a_units_history(db: duckdb.DuckDBPyConnection, scored: dict, unit: str) -> None:
    expected = []
    for round_id in ROUNDS:
        result = scored[round_id]
        found = result.by_unit().get(unit)
        if found is not None:
            expected.append((result.round.period[0].year, round_id, found.total, found.rank, found.grade,
                             sum((leaf.lost for leaf in main_leaves(found)), Decimal(0))))
    assert len(expected) == 2
    assert run(db, "history", unit=unit) == expected
    # and the totals are what `gapctl score` prints
    for _year, round_id, total, *_rest in expected:
        printed = runner.invoke(app, ["score", str(ROOT / "rounds" / round_id), "--unit", unit, "--format", "json"])
        assert Decimal(json.loads(printed.stdout)["units"][0]["total"]) == total


@pytest.mark.parametrize("indicator", ["2.1.10", "4.3", "1.1", "2.2"])  # 1.1 and 2.2: shanwei's two unit types too
def test_an_indicators_pass_rate_by_year_and_unit_type(db: duckdb.DuckDBPyConnection, scored: dict,
                                                       indicator: str) -> None:
    counts: dict[tuple[int, str], list[int]] = {}
    for result in scored.values():
        for s in result.units:
            for leaf in main_leaves(s):
                if leaf.indicator.id == indicator and leaf.state == "scored":
                    row = counts.setdefault((result.round.period[0].year, s.unit.type), [0, 0])
                    row[0] += 1
                    row[1] += leaf.lost == 0
    expected = [(year, kind, n, passed, float(figure(Decimal(100 * passed) / n, 1)))
                for (year, kind), (n, passed) in sorted(counts.items())]
    assert expected
    assert run(db, "pass_rate", indicator=indicator) == expected
    if indicator in ("1.1", "2.2"):
        assert len({kind for _year, kind, *_rest in expected}) >= 2


def test_the_weakest_indicators(db: duckdb.DuckDBPyConnection, scored: dict) -> None:
    sums: dict[tuple[str, str], list] = {}
    for result in scored.values():
        for s in result.units:
            for leaf in main_leaves(s):
                if leaf.state == "scored" and leaf.points > 0:
                    row = sums.setdefault((s.scheme.id, leaf.indicator.id), [leaf.indicator.name, 0, Decimal(0),
                                                                             Decimal(0), Decimal(0)])
                    row[1] += 1
                    row[2] += leaf.points
                    row[3] += leaf.lost
                    row[4] += leaf.earned
    order = sorted(sums.items(), key=lambda kv: (Fraction(kv[1][4]) / Fraction(kv[1][2]), -kv[1][3], kv[0]))
    expected = [(scheme, ind, name, n, points, lost, float(figure(100 * earned / points, 1)))
                for (scheme, ind), (name, n, points, lost, earned) in order[:10]]
    assert run(db, "weakest") == expected


def test_the_sql_ranking_agrees_with_gapctl_rank(db: duckdb.DuckDBPyConnection, exported: Path) -> None:
    rows = run(db, "ranking")
    printed = runner.invoke(app, ["rank", "--from", str(exported), "--format", "json"])
    assert printed.exit_code == 0, printed.output
    ranked = [(u["scheme"], u["rank"], u["round"], u["unit"], u["name"], Decimal(u["total"]))
              for u in json.loads(printed.stdout)["units"]]
    assert [(scheme, rank, round_id, unit, name, total) for scheme, rank, round_id, unit, name, total in rows] == ranked
