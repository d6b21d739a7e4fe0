"""The corpus of broken inputs: each case under tests/bad/ must produce exactly its expected problems.

A case is a directory holding a small repository and `expected.txt`:

    # run: rounds/r1          (what to validate, relative to the case; default ".")
    # exit: 1                 (expected exit code; default 1)
    rounds/r1/observations/a.yaml:7:5: E501

One line per expected problem (path:line:col: CODE); messages are not compared.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gapctl.api import check

CASES = sorted(p for p in (Path(__file__).parent / "bad").iterdir() if (p / "expected.txt").is_file())


def _expectation(case: Path) -> tuple[str, int, list[str]]:
    run, code, lines = ".", 1, []
    for line in (case / "expected.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("# run:"):
            run = line.split(":", 1)[1].strip()
        elif line.startswith("# exit:"):
            code = int(line.split(":", 1)[1])
        elif line and not line.startswith("#"):
            lines.append(line)
    return run, code, sorted(lines)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_case(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run, code, expected = _expectation(case)
    monkeypatch.chdir(case)
    result = check(run)
    found = sorted(f"{loc.path}:{loc.line}:{loc.col}: {p.code}"
                   for p in result.report.sorted() for loc in [p.locate()])
    assert found == expected
    assert result.report.exit_code() == code


def test_corpus_covers_every_problem_code() -> None:
    from gapctl.problems import CATALOGUE

    seen = set()
    for case in CASES:
        for line in _expectation(case)[2]:
            seen.add(line.rsplit(" ", 1)[-1])
    missing = sorted({code for code, kind in CATALOGUE.items() if kind.stage == "validate"} - seen)
    assert not missing, f"no bad-input case produces: {missing}"
