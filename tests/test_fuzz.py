"""Fuzzing the reader and the validator: random bytes, mutated shipped files, odd values.

Whatever a file holds, reading and validating it ends in problems that each name a file, a
line and a column, never in an exception. The budget is small and fixed (`derandomize=True`,
no example database) so that the suite stays fast and every run tries the same inputs;
`fuzz/` holds an atheris harness for long, coverage-guided runs; GAPCTL_FUZZ_SCALE=20 runs every property
test here twenty times as long.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gapctl.api import check, load_round, score
from gapctl.data.sources import read_file

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted([*ROOT.glob("schemes/*.*"), *ROOT.glob("units/*.*"), *ROOT.glob("rounds/*/round.toml"),
                *ROOT.glob("rounds/*/observations/*.*")])
SEED_BYTES = {path: path.read_bytes() for path in SEEDS}
ROUND = "yanjiang-2021"  # the smallest shipped round: 8 observation files, ~15 ms to validate
FUZZ = settings(deadline=None, derandomize=True, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])
SCALE = int(os.environ.get("GAPCTL_FUZZ_SCALE", "1") or 1)  # e.g. 20 for a long run outside the suite


def scaled(examples: int) -> int:
    """A property test's examples in the suite, times GAPCTL_FUZZ_SCALE for a longer run by hand."""
    return examples * SCALE


EXAMPLES: dict[str, int] = {}  # examples run per test, printed at the end with `pytest -s`

# fragments that have broken YAML/TOML readers: indentation, encodings, anchors, tags, numbers, dates
TOKENS = [b"\t", b"\r", b"\r\n", b"\x00", b"\xef\xbb\xbf", b"\xff\xfe", b"\x07", b"[", b"{", b"]", b"}",
          b"- ", b": ", b"? ", b"&a ", b"*a", b"<<: *a", b"!!python/object:os.system ", b"!x ", b"---\n",
          b'"', b"'", b"'''", b'"""', b"#", b".nan", b"-.inf", b"nan", b"inf", b"-1", b"1e400",
          b"1.0e+999999", b"9" * 5000, b"0x1F", b"1_000", b"yes", b"no", b"~", b"null", b"2021-02-30",
          b"20210114", b"=", b"[[", b"]]", b".", b"..", b"/", b"\\", b"\xa3\xa1", b"\xe6",
          "年".encode(), "１".encode(), "\u2028".encode(), "\u3000".encode(), b"[" * 200, b"- " * 100]


def _count(name: str) -> None:
    EXAMPLES[name] = EXAMPLES.get(name, 0) + 1


@pytest.fixture(scope="module", autouse=True)
def _report_examples():
    yield
    print("\nhypothesis examples run:", EXAMPLES, "total", sum(EXAMPLES.values()))


@st.composite
def mutations(draw: Any, seeds: list[Path] | None = None) -> tuple[Path, bytes]:
    """A shipped file with up to four edits: byte flips, truncation, lines deleted/duplicated/swapped, tokens."""
    path = draw(st.sampled_from(seeds or SEEDS))
    data = bytearray(SEED_BYTES.get(path) or path.read_bytes())
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "truncate", "delete", "duplicate", "swap", "insert", "replace"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        lines = bytes(data).split(b"\n")
        line = draw(st.integers(0, max(len(lines) - 1, 0)))
        if op == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del data[at:]
        elif op == "delete":
            del lines[line]
            data = bytearray(b"\n".join(lines))
        elif op == "duplicate":
            lines.insert(line, lines[line])
            data = bytearray(b"\n".join(lines))
        elif op == "swap" and len(lines) > 1:
            other = draw(st.integers(0, len(lines) - 1))
            lines[line], lines[other] = lines[other], lines[line]
            data = bytearray(b"\n".join(lines))
        elif op == "insert":
            data[at:at] = draw(st.sampled_from(TOKENS))
        elif op == "replace":  # a token in place of one value
            head, sep, _ = lines[line].partition(b": ")
            lines[line] = head + (sep or b": ") + draw(st.sampled_from(TOKENS))
            data = bytearray(b"\n".join(lines))
    return path, bytes(data)


def _assert_located(problems: list[Any]) -> None:
    for problem in problems:
        loc = problem.locate()
        assert loc.path and loc.line >= 1 and loc.col >= 1, (problem.code, problem.message, loc)
        assert problem.code and problem.message


@settings(FUZZ, max_examples=scaled(500))
@given(st.binary(max_size=600), st.sampled_from(["a.yaml", "a.toml"]))
def test_random_bytes_never_raise(data: bytes, name: str) -> None:
    _count("random bytes")
    parsed = read_file(Path(name), data, keep_text=True)
    _assert_located(parsed.problems)
    assert parsed.data is not None or parsed.problems


@settings(FUZZ, max_examples=scaled(400))
@given(mutations())
def test_mutated_shipped_files_never_raise(case: tuple[Path, bytes]) -> None:
    _count("mutated files, read")
    path, data = case
    parsed = read_file(Path(path.name), data, keep_text=True)
    _assert_located(parsed.problems)


@pytest.fixture(scope="module")
def small_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the smallest shipped round, with its scheme and unit set."""
    base = tmp_path_factory.mktemp("fuzz-repo")
    shutil.copytree(ROOT / "rounds" / ROUND, base / "rounds" / ROUND)
    for sub in ("schemes", "units"):
        (base / sub).mkdir()
    shutil.copy(ROOT / "schemes" / "yanjiang-2021.yaml", base / "schemes")
    shutil.copy(ROOT / "units" / "yanjiang.yaml", base / "units")
    return base


# Crashes this fuzzing found in code outside the corpus owner's files, each kept as a corpus
# case marked `# xfail:` until fixed; an example that hits one is discarded rather than failed.
# Remove an entry when its case passes (the strict xfail then reports XPASS).
KNOWN_CRASHES: list[tuple[type, str]] = []  # (exception, text): crashes found and not yet fixed


def _check_and_score(repo: Path) -> None:
    from hypothesis import reject

    try:
        result = check(repo / "rounds" / ROUND)
        _assert_located(result.report.problems)
        if not result.report.errors:  # what validates must score
            score(load_round(repo / "rounds" / ROUND))
    except Exception as err:
        if any(isinstance(err, kind) and text in str(err) for kind, text in KNOWN_CRASHES):
            reject()
        raise


def _round_files(repo: Path) -> list[Path]:
    return sorted(p for p in repo.rglob("*") if p.is_file() and p.suffix in (".yaml", ".toml"))


@settings(FUZZ, max_examples=scaled(100))
@given(st.data())
def test_mutated_round_validates_without_raising(small_repo: Path, data: st.DataObject) -> None:
    _count("mutated round, validated")
    files = _round_files(small_repo)
    path, content = data.draw(mutations(files))
    original = path.read_bytes()
    try:
        path.write_bytes(content)
        _check_and_score(small_repo)
    finally:
        path.write_bytes(original)


# values of any type where the shipped files have one: the loader's types, ranges and ids
ODD_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=10**15, max_value=10**40),
    st.decimals(allow_nan=True, allow_infinity=True), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20), st.sampled_from(["", " ", "a/b", "a b", "..", "town\n", "２.１", "done", "n/a",
                                           "2021-02-30", "2021年1月14日", "85%", "1e3", "https://x", "/etc/hosts"]),
    st.dates(min_value=dt.date(1, 1, 1)), st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


def _leaves(data: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(data, dict):
        return [at + (k,) for k in data] + [p for k, v in data.items() for p in _leaves(v, at + (k,))]
    if isinstance(data, list):
        return [at + (i,) for i in range(len(data))] + [p for i, v in enumerate(data) for p in _leaves(v, at + (i,))]
    return []


def _plain(value: Any) -> Any:
    """What PyYAML's safe_dump can write: Decimals as numbers (or .nan/.inf), the rest as is."""
    if isinstance(value, Decimal):
        if value.is_nan():
            return float("nan")  # float() refuses a signalling NaN
        return float(value) if value.is_infinite() or abs(value) < 10**15 else str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@settings(FUZZ, max_examples=scaled(100))
@given(st.data())
def test_odd_values_in_the_round_validate_without_raising(small_repo: Path, data: st.DataObject) -> None:
    import yaml

    _count("odd values in the round, validated")
    files = [p for p in _round_files(small_repo) if p.suffix == ".yaml"]
    path = data.draw(st.sampled_from(files))
    original = path.read_bytes()
    tree = _plain(read_file(path).data)
    at = data.draw(st.sampled_from(_leaves(tree)))
    holder = tree
    for step in at[:-1]:
        holder = holder[step]
    holder[at[-1]] = _plain(data.draw(ODD_VALUES))
    try:
        path.write_text(yaml.safe_dump(tree, allow_unicode=True, sort_keys=False), encoding="utf-8")
        _check_and_score(small_repo)
    finally:
        path.write_bytes(original)
