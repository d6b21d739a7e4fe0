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
through `gapctl import --force` in a process of its own (tests/forked_runs.py), which must exit with
the expected code, never print a traceback, and print only lines that start with an expected place.

These cases have no `expected.txt`, so `tests/test_bad_inputs.py` (which validates) leaves them out.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from gapctl.api import check
from gapctl.io import importer
from tests.conftest import crashed_or_exit, gapctl_command, kinds_round, run_generate_script, write_repo
from tests.forked_runs import Run, run_all

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


def _executable_run(case: Path, repo: Path) -> Run:
    """`gapctl import` of one case as a process of its own runs it (a dry run, so the cases can share the copies)."""
    args, _code, _expected = _expectation(case)
    env = {"GAPCTL_DEBUG": "1", "PYTHONIOENCODING": "utf-8", "XDG_CACHE_HOME": str(repo / ".cache")}
    return Run(case.name, ["import", "rounds/r1", *args, "--force", "--dry-run"], repo, env)


def _what_is_wrong(case: Path, proc: subprocess.CompletedProcess[bytes]) -> str | None:
    """What is wrong with `gapctl import` of one case in a process of its own (None when nothing is)."""
    _args, code, expected = _expectation(case)
    places = {line.rsplit(": ", 1)[0] for line in expected}
    failure = crashed_or_exit(case.name, proc, code)
    if failure:
        return failure
    if code == 1:
        lines = proc.stderr.decode("utf-8", "replace").splitlines()
        problems = [line for line in lines if not line.startswith(("note: ", "Nothing imported", "…"))]
        unplaced = [line for line in problems if not any(line.startswith(place + ": ") for place in places)]
        if unplaced or not problems:
            return f"{case.name}: printed {problems}, expected places {sorted(places)}"
    return None


def test_no_case_crashes_a_process_of_its_own(built: dict[str, Path], tmp_path: Path) -> None:
    """Every case through `gapctl import` in a process of its own (forked from a driver that imported gapctl
    once, tests/forked_runs.py): the expected exit code, problems where the case places them, no traceback,
    and no file changed by the dry run."""
    before = {case.name: _files(built[case.name]) for case in CASES}
    results = run_all([_executable_run(case, built[case.name]) for case in CASES], tmp_path / "runs")
    failures = [f for case in CASES if (f := _what_is_wrong(case, results[case.name]))]
    failures += [f"{case.name}: a dry run changed files" for case in CASES
                 if _files(built[case.name]) != before[case.name]]
    assert not failures, "\n\n".join(failures)


def test_a_forked_import_equals_the_executables(built: dict[str, Path], tmp_path: Path) -> None:
    """A forked `gapctl import` prints what the real executable prints, byte for byte, exit code and all."""
    runs = [_executable_run(case, built[case.name]) for case in CASES[:2]]
    forked = run_all(runs, tmp_path / "forked")
    for run in runs:
        real = subprocess.run([*gapctl_command(), *run.args], cwd=run.cwd, env={**os.environ, **run.env},
                              capture_output=True, timeout=120, check=False)
        assert (forked[run.name].returncode, forked[run.name].stdout, forked[run.name].stderr) == \
            (real.returncode, real.stdout, real.stderr), run.name


def test_corpus_covers_every_reading_problem() -> None:
    """Each code the reader and the cell checks give has a case."""
    seen = {line.rsplit(": ", 1)[1] for case in CASES for line in _expectation(case)[2]}
    wanted = {"not-a-number", "number-bounds", "bad-date", "encoding", "cell-too-long", "short-row", "long-row",
              "bad-csv", "not-a-workbook", "too-large", "too-many-rows", "unsafe-xml", "formula", "cell-error",
              "mapping", "file", "unknown-unit", "not-whole", "E501", "bad-cell", "merged"}
    assert not wanted - seen, sorted(wanted - seen)
