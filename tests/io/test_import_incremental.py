"""The check of an edited file's new bytes that leaves out the entries the edit did not touch
(gapctl.io.import_check.known_entries) says exactly what the check of every entry says, in the same order and
words: every time `gapctl import` checks a file that way here, the full check runs beside it and must agree —
over every shipped round (one entry edited in each unit's file, as the benchmark's import does) and over the
bad-import corpus."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gapctl.cli import app
from gapctl.io import import_check
from tests.conftest import copy_repo, write_repo
from tests.io.test_bad_imports import BASE, CASES, _expectation

runner = CliRunner()
ROUNDS = sorted(p.name for p in (Path(__file__).parents[2] / "rounds").iterdir() if p.is_dir())


@pytest.fixture
def compared(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Every check_file given the file before (`old`) compared with the same check without it: the same said,
    the same built file. Counts the checks made, and those that left entries out."""
    real_check, real_known = import_check.check_file, import_check.known_entries
    counts = {"checks": 0, "left_out": 0}

    def known(*args):
        found = real_known(*args)
        counts["left_out"] += bool(found)
        return found

    def check(plan, path, data, existed, parsed=None, now=None, old=None):
        got = real_check(plan, path, data, existed, parsed, now, old)
        if old is not None:
            counts["checks"] += 1
            assert got == real_check(plan, path, data, existed, parsed, now, None), path
        return got

    monkeypatch.setattr(import_check, "known_entries", known)
    monkeypatch.setattr(import_check, "check_file", check)
    monkeypatch.setenv("GAPCTL_JOBS", "1")  # in this process, where the comparison runs
    return counts


def _rows(round_dir: Path) -> list[str]:
    """One row a unit: its file's first entry with a result, flipped (完成 ↔ 未完成), with or without a reason."""
    rows = ["单位,指标,结果,扣分理由"]
    for n, path in enumerate(sorted((round_dir / "observations").glob("*.yaml"))):
        text = path.read_text(encoding="utf-8")
        unit = re.search(r"^unit: *['\"]?([^'\"\n]+)", text, re.M)
        entry = re.search(r"- indicator: *['\"]?([^'\"\n]+)['\"]?\n(?:  .*\n)*? *result: *(done|not-done)", text)
        if unit and entry:
            flipped = "完成" if entry.group(2) == "not-done" else "未完成"
            rows.append(f"{unit.group(1).strip()},{entry.group(1).strip()},{flipped},{'' if n % 3 else '入口失效'}")
    return rows


@pytest.mark.parametrize("name", ROUNDS)
def test_the_shipped_rounds_edited_say_what_the_full_check_says(name, tmp_path, monkeypatch, compared):
    repo = copy_repo(tmp_path)
    round_dir = repo / "rounds" / name
    rows = _rows(round_dir)
    if len(rows) < 2:
        pytest.skip("no entry with a result to flip")
    monkeypatch.chdir(repo)
    Path("r.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    done = runner.invoke(app, ["import", f"rounds/{name}", "r.csv", "--force"])
    assert done.exception is None or isinstance(done.exception, SystemExit), done.output
    if done.exit_code == 0:  # the round validated, the rows were imported: each file was checked, most in part
        assert compared["checks"] > 0 and compared["left_out"] > 0, done.output


@pytest.mark.parametrize("case", [c for c in CASES if not (c / "generate.py").exists()], ids=lambda c: c.name)
def test_the_bad_import_corpus_says_what_the_full_check_says(case, tmp_path, monkeypatch, compared):
    repo = write_repo(tmp_path / case.name, BASE)
    for path in sorted(case.rglob("*")):
        if path.is_file() and path.name != "import.txt":
            target = repo / path.relative_to(case)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    monkeypatch.chdir(repo)
    args, code, _lines = _expectation(case)
    done = runner.invoke(app, ["import", "rounds/r1", *args, "--force"])
    assert done.exit_code == code, done.output
