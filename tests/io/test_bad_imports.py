"""The corpus of broken spreadsheets: each `tests/bad/NNN-import-*` case gives exactly its problems.

A case holds the sheet to import (or `generate.py`, which makes it at test time: a 1,000,000-row
CSV, a zip bomb, a workbook cut in half), any files to lay over the base round, and `import.txt`:

    # import: r.csv --mapping map.yaml   (the file to import, relative to the case, then options)
    # exit: 1                             (expected exit code; default 1)
    r.csv!C2: not-a-number                (one line per expected problem: where, and its code)

The base round (`BASE`: four rule kinds, units a and b fully observed) is written first; the case's
files go over it; `generate.py` may change it further (remove a file). The round must validate
cleanly before the import: the sheet is the only thing wrong. Each case is imported twice: through
the library (`importer.read`, compared as `[(where, code)]`, and nothing on disk changes) and
through the real `gapctl import --force` in a subprocess, which must exit with the expected code,
never print a traceback, and print only lines that start with an expected place.

These cases have no `expected.txt`, so `tests/test_bad_inputs.py` (which validates) leaves them out.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from gapctl.api import check
from gapctl.io import importer
from tests.conftest import crashed_or_exit, gapctl_command, kinds_round, run_generate_script, write_repo

BAD = Path(__file__).parents[1] / "bad"
CASES = sorted(p for p in BAD.iterdir() if (p / "import.txt").is_file())
BASE = kinds_round("导入语料")


def _expectation(case: Path) -> tuple[list[str], int, list[str]]:
    """(the import's arguments, exit code, sorted expected `where: code` lines)."""
    args, code, lines = [], 1, []
    for line in (case / "import.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("# import:"):
            args = shlex.split(line.split(":", 1)[1])
        elif line.startswith("# exit:"):
            code = int(line.split(":", 1)[1])
        elif line and not line.startswith("#"):
            lines.append(line)
    return args, code, sorted(lines)


def _build(case: Path, into: Path) -> Path:
    repo = write_repo(into / case.name, BASE)
    for path in sorted(case.rglob("*")):
        if path.is_file() and path.name not in ("import.txt", "generate.py"):
            target = repo / path.relative_to(case)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    run_generate_script(case, repo)
    return repo


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bad-imports")
    return {case.name: _build(case, root) for case in CASES}


def _files(repo: Path) -> dict[str, bytes]:
    return {str(p.relative_to(repo)): p.read_bytes() for p in sorted((repo / "rounds").rglob("*")) if p.is_file()}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_import_case(case: Path, built: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    repo = built[case.name]
    monkeypatch.chdir(repo)
    args, code, expected = _expectation(case)
    before = check("rounds/r1")
    assert not before.report.errors, [p.message for p in before.report.errors]
    mapping = Path(args[args.index("--mapping") + 1]) if "--mapping" in args else None
    sheet = args[args.index("--sheet") + 1] if "--sheet" in args else None
    files = _files(repo)
    plan = importer.read(before.loaded.round, Path(args[0]), mapping, sheet, force=True)
    assert sorted(f"{i.ref}: {i.code}" for i in plan.issues) == expected
    assert bool(plan.problems) == (code == 1)
    assert _files(repo) == files


def _run_executable(case: Path, repo: Path) -> str | None:
    """What is wrong with `gapctl import` on one case (None when nothing is)."""
    args, code, expected = _expectation(case)
    places = {line.rsplit(": ", 1)[0] for line in expected}
    files = _files(repo)
    env = {**os.environ, "GAPCTL_DEBUG": "1", "PYTHONIOENCODING": "utf-8", "XDG_CACHE_HOME": str(repo / ".cache")}
    proc = subprocess.run([*gapctl_command(), "import", "rounds/r1", *args, "--force", "--dry-run"], cwd=repo, env=env,
                          capture_output=True, timeout=120, check=False)
    failure = crashed_or_exit(case.name, proc, code)
    if failure:
        return failure
    if _files(repo) != files:
        return f"{case.name}: a dry run changed files"
    if code == 1:
        lines = proc.stderr.decode("utf-8", "replace").splitlines()
        problems = [line for line in lines if not line.startswith(("note: ", "Nothing imported", "…"))]
        unplaced = [line for line in problems if not any(line.startswith(place + ": ") for place in places)]
        if unplaced or not problems:
            return f"{case.name}: printed {problems}, expected places {sorted(places)}"
    return None


def test_no_case_crashes_the_executable(built: dict[str, Path]) -> None:
    """Every case through the real `gapctl import` (a dry run, so the cases can share the copies)."""
    with ThreadPoolExecutor(max_workers=2 * (os.cpu_count() or 1)) as pool:
        failures = [f for f in pool.map(lambda case: _run_executable(case, built[case.name]), CASES) if f]
    assert not failures, "\n\n".join(failures)


def test_corpus_covers_every_reading_problem() -> None:
    """Each code the reader and the cell checks give has a case."""
    seen = {line.rsplit(": ", 1)[1] for case in CASES for line in _expectation(case)[2]}
    wanted = {"not-a-number", "number-bounds", "bad-date", "encoding", "cell-too-long", "short-row", "long-row",
              "bad-csv", "not-a-workbook", "too-large", "too-many-rows", "unsafe-xml", "formula", "cell-error",
              "mapping", "file", "unknown-unit", "not-whole", "E501", "bad-cell", "merged"}
    assert not wanted - seen, sorted(wanted - seen)
