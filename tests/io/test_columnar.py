"""`gapctl export --format parquet` (gapctl.io.columnar): every unit × leaf × round, exact decimals,
partitioned by round, written chunk by chunk and rewritten only where files changed."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from gapctl.api import check, score
from gapctl.cli import app
from gapctl.scoring.scoreboard import unit_row
from tests.conftest import ROOT

runner = CliRunner()
SHIPPED = ["suizhou-2021", "suizhou-2022", "yanjiang-2021", "shanwei-2020"]  # yanjiang: a rank bonus


def export(out: Path, *rounds: Path, extra: tuple[str, ...] = ()) -> list[str]:
    result = runner.invoke(app, ["export", *map(str, rounds), "--format", "parquet", "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()


def table(out: Path, name: str, round_id: str) -> pa.Table:
    parts = sorted((out / name / f"round={round_id}").glob("part-*.parquet"))
    assert parts, f"no {name} part for {round_id}"
    return pa.concat_tables([pq.read_table(p) for p in parts])


def parts(out: Path) -> dict[str, tuple[int, int]]:
    """Every part file → (inode, mtime): what a rewrite would change."""
    return {str(p.relative_to(out)): (p.stat().st_ino, p.stat().st_mtime_ns) for p in sorted(out.rglob("*.parquet"))}


def generate(out: Path, units: int = 60) -> Path:
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks/generate.py"), "--units", str(units),
                           "--indicators", "24", "--seed", "7", "--out", str(out)],
                          capture_output=True, text=True, check=True, timeout=120)
    return Path(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("parquet") / "ds"
    export(out, *(ROOT / "rounds" / r for r in SHIPPED))
    return out


def test_figures_are_exact_decimals_equal_to_gapctls_own(shipped: Path) -> None:
    for round_id in SHIPPED:
        scored = score(check(ROOT / "rounds" / round_id).loaded.round)
        leaves = table(shipped, "leaves", round_id)
        units = table(shipped, "units", round_id)
        for name in ("points", "earned", "lost"):
            assert leaves.schema.field(name).type == pa.decimal128(28, 6)
        assert not [f.name for t in (leaves, units) for f in t.schema if pa.types.is_floating(f.type)]
        rows = {(r["unit"], r["indicator"]): r for r in leaves.to_pylist()}
        expected = {(s.unit.id, key): leaf for s in scored.units for key, leaf in s.leaves.items()
                    if leaf.indicator.is_leaf}
        assert set(rows) == set(expected), round_id
        for key, leaf in expected.items():
            row = rows[key]
            assert (row["points"], row["earned"], row["lost"], row["state"], row["section"]) == \
                (leaf.points, leaf.earned, leaf.lost, leaf.state, leaf.indicator.section), (round_id, key)
        by_unit = {r["unit"]: r for r in units.to_pylist()}
        assert list(by_unit) == [s.unit.id for s in scored.units]  # the order `score` prints
        for s in scored.units:
            row, published = by_unit[s.unit.id], unit_row(s)
            assert (row["rank"], row["category_rank"], row["grade"], row["type"]) == \
                (s.rank, s.category_rank, s.grade, s.unit.type)
            assert row["total"] == s.total and row["base"] == s.base and row["earned"] == s.earned
            assert Decimal(published["total"]) == row["total"]


def test_rank_bonus_leaves_carry_the_points_decided_across_units(shipped: Path) -> None:
    scored = score(check(ROOT / "rounds" / "yanjiang-2021").loaded.round)
    ranked = {(s.unit.id, leaf.indicator.id): leaf.earned for s in scored.units for leaf in s.leaves.values()
              if leaf.rule is not None and leaf.rule.kind == "rank"}
    assert ranked and any(ranked.values()) and not all(ranked.values())  # some earn it, some do not
    rows = {(r["unit"], r["indicator"]): r["earned"] for r in table(shipped, "leaves", "yanjiang-2021").to_pylist()}
    assert {key: rows[key] for key in ranked} == ranked


def test_the_round_table_and_partitions(shipped: Path) -> None:
    assert sorted(p.name for p in (shipped / "leaves").iterdir()) == sorted(f"round={r}" for r in SHIPPED)
    row = table(shipped, "rounds", "suizhou-2022").to_pylist()[0]
    assert (row["year"], row["units"], row["schemes"], row["example"]) == (2022, 8, ["suizhou-2021"], True)


def test_same_files_same_bytes(tmp_path: Path) -> None:
    round_dir = ROOT / "rounds" / "shanwei-2020"
    export(tmp_path / "a", round_dir)
    export(tmp_path / "b", round_dir, extra=("--no-cache",))
    a = {p.relative_to(tmp_path / "a"): p.read_bytes() for p in (tmp_path / "a").rglob("*.parquet")}
    b = {p.relative_to(tmp_path / "b"): p.read_bytes() for p in (tmp_path / "b").rglob("*.parquet")}
    assert a and a == b


def test_only_the_changed_chunk_is_rewritten(tmp_path: Path) -> None:
    round_dir = generate(tmp_path / "repo")
    out = tmp_path / "ds"
    first = export(out, round_dir)
    before = parts(out)
    leaf_parts = [p for p in before if p.startswith("leaves/")]
    assert len(leaf_parts) >= 3, "a round of several chunks"
    assert sorted(first) == sorted(str(out / p) for p in before)
    assert export(out, round_dir) == []            # nothing changed: nothing written
    assert parts(out) == before
    edited = round_dir / "observations" / "dept-03.yaml"
    edited.write_text(edited.read_text(encoding="utf-8") + "note: 复核后补充说明\n", encoding="utf-8")
    second = export(out, round_dir)
    after = parts(out)
    new_leaves = [p for p in after if p.startswith("leaves/") and p not in before]
    gone = [p for p in before if p.startswith("leaves/") and p not in after]
    assert len(new_leaves) == 1 and len(gone) == 1   # the edited file's chunk, and only it
    assert [str(out / p) for p in new_leaves] == second  # the units and round tables did not change
    assert {p: after[p] for p in leaf_parts if p in after} == {p: before[p] for p in leaf_parts if p in after}


def test_a_second_round_adds_a_partition_and_keeps_the_first(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    export(out, ROOT / "rounds" / "suizhou-2021")
    before = parts(out)
    export(out, ROOT / "rounds" / "suizhou-2022")
    after = parts(out)
    assert {p: v for p, v in after.items() if "suizhou-2021" in p} == before
    assert any("round=suizhou-2022" in p for p in after)


def test_invalid_round_is_not_exported(tmp_path: Path) -> None:
    bad = tmp_path / "repo"
    from tests.conftest import MINI_OBS_A, MINI_OBS_B, MINI_ROUND, MINI_SCHEME, MINI_UNITS, write_repo
    write_repo(bad, {"schemes/mini.yaml": MINI_SCHEME, "units/mini.yaml": MINI_UNITS,
                     "rounds/r1/round.toml": MINI_ROUND, "rounds/r1/observations/a.yaml": MINI_OBS_A,
                     "rounds/r1/observations/b.yaml": MINI_OBS_B.replace('"1.1"', '"9.9"')})
    result = runner.invoke(app, ["export", str(bad / "rounds/r1"), "--format", "parquet", "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert not (tmp_path / "o").exists()


def test_several_rounds_only_for_parquet(tmp_path: Path) -> None:
    result = runner.invoke(app, ["export", str(ROOT / "rounds/suizhou-2021"), str(ROOT / "rounds/suizhou-2022"),
                                 "--format", "csv", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2


def test_without_pyarrow_one_line_and_exit_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # `import pyarrow` raises ImportError
    result = runner.invoke(app, ["export", str(ROOT / "rounds/suizhou-2021"), "--format", "parquet",
                                 "--out", str(tmp_path / "o")])
    assert result.exit_code == 3
    assert result.stderr.strip().splitlines() == [
        "gapctl: could not run: Parquet needs pyarrow, which is not installed: pip install 'gapctl[analysis]'"]
    assert not (tmp_path / "o").exists()
