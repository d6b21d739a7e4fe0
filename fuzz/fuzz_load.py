"""Coverage-guided fuzzing of gapctl's reader, loader and validator with atheris (libFuzzer).

The first byte of an input chooses what the rest is fed to:

    0  a scheme (YAML)              read, built, checked (check_scheme)
    1  a unit set (YAML)            read, built, checked (check_unit_set)
    2  a round file (TOML)          read, built
    3  an observation file (YAML)   read, built
    4  an observation file (TOML)   read, built
    5  an observation file (YAML) in a copy of the smallest shipped round, which is then validated
    6  that round's scheme, 7 its unit set, 8 its round.toml: replaced, then the round validated

Any exception that escapes, and any problem without a file, line and column, is a crash.
How to run it: fuzz/README.md.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["gapctl", "tomllib"]):
    import gapctl.scoring.score  # noqa: F401  (imported by api.score on first use; instrumented here)
    from gapctl.api import check, load_round, score
    from gapctl.data.sources import read_file
    from gapctl.scoring.load import build_observations, build_round, build_scheme, build_unit_set
    from gapctl.scoring.validate import check_scheme, check_unit_set

ROOT = Path(__file__).resolve().parent.parent
ROUND = "yanjiang-2021"
KINDS = [("scheme.yaml", "scheme"), ("units.yaml", "units"), ("round.toml", "round"),
         ("unit.yaml", "observations"), ("unit.toml", "observations"),
         ("observations/baohe.yaml", "in-round"), ("../../schemes/yanjiang-2021.yaml", "in-round"),
         ("../../units/yanjiang.yaml", "in-round"), ("round.toml", "in-round")]


def _small_round() -> Path:
    base = Path(tempfile.mkdtemp(prefix="gapctl-fuzz-"))
    shutil.copytree(ROOT / "rounds" / ROUND, base / "rounds" / ROUND)
    (base / "schemes").mkdir()
    (base / "units").mkdir()
    shutil.copy(ROOT / "schemes" / "yanjiang-2021.yaml", base / "schemes")
    shutil.copy(ROOT / "units" / "yanjiang.yaml", base / "units")
    return base / "rounds" / ROUND


ROUND_DIR: Path | None = None


def _located(problems: list) -> None:
    for problem in problems:
        loc = problem.locate()
        if not (loc.path and loc.line >= 1 and loc.col >= 1):
            raise AssertionError(f"{problem.code} without a position: {loc} {problem.message}")


def test_one_input(data: bytes) -> None:
    global ROUND_DIR
    if not data:
        return
    name, kind = KINDS[data[0] % len(KINDS)]
    body = data[1:]
    if kind == "in-round":
        if ROUND_DIR is None:
            ROUND_DIR = _small_round()
        target = ROUND_DIR / name
        original = target.read_bytes()
        target.write_bytes(body)
        try:
            result = check(ROUND_DIR)
            _located(result.report.problems)
            if not result.report.errors:  # what validates must score
                score(load_round(ROUND_DIR))
        finally:
            target.write_bytes(original)
        return
    parsed = read_file(Path(name), body, keep_text=True)
    problems = list(parsed.problems)
    if parsed.data is not None:
        if kind == "scheme":
            scheme = build_scheme(parsed.src, parsed.data, problems)
            if scheme is not None:
                problems += check_scheme(scheme)
        elif kind == "units":
            unit_set = build_unit_set(parsed.src, parsed.data, problems)
            if unit_set is not None:
                problems += check_unit_set(unit_set)
        elif kind == "round":
            build_round(parsed.src, parsed.data, Path("rounds/r"), problems)
        else:
            build_observations(parsed.src, parsed.data, problems)
    _located(problems)


def make_seeds(directory: Path) -> int:
    """The shipped files as seeds, each behind the byte that sends it to the right reader."""
    directory.mkdir(parents=True, exist_ok=True)
    groups = [(0, ROOT.glob("schemes/*.yaml")), (1, ROOT.glob("units/*.yaml")),
              (2, ROOT.glob("rounds/*/round.toml")), (3, ROOT.glob("rounds/*/observations/*.yaml")),
              (5, ROOT.glob(f"rounds/{ROUND}/observations/*.yaml")),
              (6, [ROOT / "schemes/yanjiang-2021.yaml"]), (7, [ROOT / "units/yanjiang.yaml"]),
              (8, [ROOT / "rounds" / ROUND / "round.toml"]),
              (3, ROOT.glob("tests/bad/*/rounds/r/observations/*.yaml")),
              (4, ROOT.glob("tests/bad/*/rounds/r/observations/*.toml"))]
    count = 0
    for kind, paths in groups:
        for path in sorted(paths):
            if path.is_file() and not path.is_symlink() and path.stat().st_size < 200_000:
                (directory / f"{kind}-{count:04d}-{path.name}").write_bytes(bytes([kind]) + path.read_bytes())
                count += 1
    return count


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--make-seeds":
        print(f"wrote {make_seeds(Path(sys.argv[2]))} seeds to {sys.argv[2]}")
        return
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
