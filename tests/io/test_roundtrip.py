"""export → import → export is the identity on every shipped round (CSV and xlsx), and an edited
matrix cell imports as the observation that earns it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gapctl.api import check, score
from gapctl.io import importer
from gapctl.io.export import export
from gapctl.scoring.scoreboard import unit_row
from tests.conftest import ROOT

ROUNDS = sorted(p.name for p in (ROOT / "rounds").iterdir() if p.is_dir())


def _copy(tmp_path: Path, round_id: str) -> Path:
    for part in ("schemes", "units"):
        shutil.copytree(ROOT / part, tmp_path / part)
    shutil.copytree(ROOT / "rounds" / round_id, tmp_path / "rounds" / round_id)
    return tmp_path / "rounds" / round_id


def _bytes(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


@pytest.mark.parametrize("round_id", ROUNDS)
def test_export_import_export_is_the_identity(tmp_path, round_id):
    round_dir = _copy(tmp_path, round_id)
    before = score(check(round_dir).loaded.round)
    export(before, "csv", tmp_path / "csv1")
    export(before, "xlsx", tmp_path / "xlsx1")
    workbook = tmp_path / "xlsx1" / f"{round_id}.xlsx"
    for source in (tmp_path / "csv1/matrix.csv", workbook):  # the workbook's matrix is found without --sheet
        plan = importer.read(check(round_dir).loaded.round, source, force=True)
        assert plan.problems == []
        importer.write(plan)
    after = score(check(round_dir).loaded.round)
    export(after, "csv", tmp_path / "csv2")
    export(after, "xlsx", tmp_path / "xlsx2")
    assert _bytes(tmp_path / "csv1") == _bytes(tmp_path / "csv2")
    assert _bytes(tmp_path / "xlsx1") == _bytes(tmp_path / "xlsx2")
    assert [unit_row(u) for u in before.units] == [unit_row(u) for u in after.units]


def test_an_edited_matrix_cell_becomes_the_observation_that_earns_it(tmp_path):
    round_dir = _copy(tmp_path, "yanjiang-2021")
    export(score(check(round_dir).loaded.round), "csv", tmp_path / "csv")
    matrix = tmp_path / "csv/matrix.csv"
    lines = matrix.read_text(encoding="utf-8-sig").splitlines()
    header = [title.split(" ")[0] for title in lines[0].split(",")]  # "8 政务新媒体（5分）"
    row = next(i for i, line in enumerate(lines) if line.startswith("baohe,"))
    cells = lines[row].split(",")
    cells[header.index("8")] = "5"          # 政务新媒体: no notices any more
    cells[header.index("7")] = "12"         # 专区建设: 12 of 15 → fraction 0.8
    lines[row] = ",".join(cells)
    matrix.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    plan = importer.read(check(round_dir).loaded.round, matrix, force=True)
    assert plan.problems == [] and plan.entries == 2
    importer.write(plan)
    baohe = score(check(round_dir).loaded.round).by_unit()["baohe"]
    assert baohe.leaves["8"].earned == 5 and baohe.leaves["8"].result.notices == 0
    assert baohe.leaves["7"].result.fraction * 15 == 12


def test_workbooks_do_not_depend_on_the_clock(tmp_path):
    import time

    scored = score(check(ROOT / "rounds/yanjiang-2021").loaded.round)
    first = export(scored, "xlsx", tmp_path / "a")[0].read_bytes()
    time.sleep(2.1)  # zip times have a resolution of two seconds
    assert export(scored, "xlsx", tmp_path / "b")[0].read_bytes() == first
