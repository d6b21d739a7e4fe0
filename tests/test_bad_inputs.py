"""The corpus of broken inputs: each case under tests/bad/ must produce exactly its expected problems.

A case is a directory holding a small repository and `expected.txt`:

    # run: rounds/r1          (what to validate, relative to the case; default ".")
    # exit: 1                 (expected exit code; default 1)
    # env: GAPCTL_MAX_FILE_MB=0.01   (environment for the run; may repeat)
    # xfail: why                (a known crash outside the corpus owner's code: expected to fail
                                 until fixed; the process test leaves it out)
    rounds/r1/observations/a.yaml:7:5: E501

One line per expected problem (path:line:col: CODE); messages are not compared.

What git cannot store, or should not, is made at test time: a case may hold `generate.py`
with `generate(case: Path) -> None`, which is run on a copy of the case before it is
validated (a 50 MB file, an empty directory, 100,000 nested brackets). Every case is
validated from that copy twice: through the library (`gapctl.api.check`) and through gapctl in a
process of its own (forked from a driver, tests/forked_runs.py), which must exit with the same code,
print the same positions and never a traceback.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from gapctl.api import check
from tests.conftest import crashed_or_exit, gapctl_command, run_generate_script
from tests.forked_runs import Run, run_all

BAD = Path(__file__).parent / "bad"
ALL_CASES = sorted(p for p in BAD.iterdir() if (p / "expected.txt").is_file())
MAX_FILE_ENV = "GAPCTL_MAX_FILE_MB"


def _xfail(case: Path) -> str | None:
    for line in (case / "expected.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("# xfail:"):
            return line.split(":", 1)[1].strip()
    return None


PARAMS = [pytest.param(c, id=c.name, marks=[pytest.mark.xfail(strict=True, reason=_xfail(c))] if _xfail(c) else [])
          for c in ALL_CASES]
CASES = [case for case in ALL_CASES if not _xfail(case)]  # the cases that must pass (other tests reuse them)


def _expectation(case: Path) -> tuple[str, int, list[str], dict[str, str]]:
    run, code, lines, env = ".", 1, [], {}
    for line in (case / "expected.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("# run:"):
            run = line.split(":", 1)[1].strip()
        elif line.startswith("# exit:"):
            code = int(line.split(":", 1)[1])
        elif line.startswith("# env:"):
            name, _, value = line.split(":", 1)[1].strip().partition("=")
            env[name] = value
        elif line and not line.startswith("#"):
            lines.append(line)
    return run, code, sorted(lines), env


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A copy of the corpus (symbolic links kept) with every case's generate.py run on it."""
    root = tmp_path_factory.mktemp("bad")
    for case in ALL_CASES:
        shutil.copytree(case, root / case.name, symlinks=True)
        run_generate_script(root / case.name, root / case.name)
    yield root
    shutil.rmtree(root, ignore_errors=True)  # the generated files are large


@pytest.mark.parametrize("case", PARAMS)
def test_bad_input_case(case: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run, code, expected, env = _expectation(case)
    monkeypatch.delenv(MAX_FILE_ENV, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(corpus / case.name)
    result = check(run)
    found = sorted(f"{loc.path}:{loc.line}:{loc.col}: {p.code}"
                   for p in result.report.sorted() for loc in [p.locate()])
    assert found == expected
    assert result.report.exit_code() == code


_PROBLEM_LINE = re.compile(r"^(\S.*?:\d+:\d+: [EW]\d{3}) ", re.M)


def _executable_run(case: Path, corpus: Path, home: Path) -> Run:
    """`gapctl validate` of one case, as a process of its own runs it."""
    run, _code, _expected, case_env = _expectation(case)
    env = {**case_env, "GAPCTL_DEBUG": "1",  # an unexpected exception shows its traceback instead of one line
           "XDG_CACHE_HOME": str(home), "PYTHONIOENCODING": "utf-8"}
    return Run(case.name, ["validate", run], corpus / case.name, env)


def _what_is_wrong(case: Path, proc: subprocess.CompletedProcess[bytes]) -> str | None:
    """What is wrong with a case's run of gapctl in a process of its own (None when nothing is)."""
    _run, code, expected, _env = _expectation(case)
    failure = crashed_or_exit(case.name, proc, code)
    if failure:
        return failure
    found = sorted(_PROBLEM_LINE.findall(proc.stdout.decode("utf-8", "replace")))
    if found != expected:
        return f"{case.name}: printed {found}, expected {expected}"
    return None


def test_no_case_crashes_a_process_of_its_own(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every case through `gapctl validate` in a process of its own: the expected exit code and positions, no
    traceback.

    A process of its own also catches what no in-process test can: a segmentation fault (libyaml's
    recursive composer on 100,000 nested brackets did that) or output that cannot be encoded. Each case
    runs in a child forked from a driver that imported gapctl once (tests/forked_runs.py).
    """
    monkeypatch.delenv(MAX_FILE_ENV, raising=False)
    results = run_all([_executable_run(case, corpus, tmp_path) for case in CASES], tmp_path / "runs")
    failures = [f for case in CASES if (f := _what_is_wrong(case, results[case.name]))]
    assert not failures, "\n\n".join(failures)


def test_a_forked_run_equals_the_executables(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A forked run prints what the real `gapctl` executable prints, byte for byte, exit code and all: a case,
    a case with an environment of its own, and the first case in Chinese."""
    monkeypatch.delenv(MAX_FILE_ENV, raising=False)
    chosen = [CASES[0], next(c for c in CASES if _expectation(c)[3])]
    runs = [_executable_run(case, corpus, tmp_path) for case in chosen]
    runs.append(Run("zh", runs[0].args, runs[0].cwd, {**runs[0].env, "GAPCTL_LANG": "zh"}))
    forked = run_all(runs, tmp_path / "forked")
    for run in runs:
        env = {k: v for k, v in os.environ.items() if k != MAX_FILE_ENV} | run.env
        real = subprocess.run([*gapctl_command(), *run.args], cwd=run.cwd, env=env, capture_output=True,
                              timeout=120, check=False)
        assert (forked[run.name].returncode, forked[run.name].stdout, forked[run.name].stderr) == \
            (real.returncode, real.stdout, real.stderr), run.name
    assert forked["zh"].stdout != forked[CASES[0].name].stdout  # the language came from the run's environment


def test_corpus_covers_every_problem_code() -> None:
    from gapctl.problems import CATALOGUE

    seen = set()
    for case in CASES:
        for line in _expectation(case)[2]:
            seen.add(line.rsplit(" ", 1)[-1])
    missing = sorted({code for code, kind in CATALOGUE.items() if kind.stage == "validate"} - seen)
    assert not missing, f"no bad-input case produces: {missing}"


def test_corpus_is_large_enough() -> None:
    """Issue #9 asks for at least 85 cases."""
    assert len(CASES) >= 85  # not counting known failures
