"""The fast YAML path (gapctl.data.fast_yaml, yaml-rs) reads exactly what the libyaml path reads.

Both paths run over every shipped file, every YAML file of the bad-input corpus and the other
test data, files fuzzed the way tests/test_fuzz.py fuzzes them, and hand-picked plain values
where YAML 1.1 and 1.2 type differently; data (with its types) and problems (code, message and
position) must be identical. The fast path must also really be taken for the shipped files,
and gapctl must read, validate and score the same without yaml-rs installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gapctl.data import fast_yaml
from gapctl.data.sources import read_file
from tests.conftest import ROOT
from tests.test_fuzz import FUZZ, TOKENS, mutations, scaled

pytest.importorskip("yaml_rs")


def _yaml_files(*tops: str) -> list[Path]:
    out = []
    for top in tops:
        for folder, _dirs, names in os.walk(ROOT / top):  # not through links (the corpus has loops)
            for name in names:
                path = Path(folder) / name
                if path.suffix in (".yaml", ".yml") and path.is_file() and not path.is_symlink():
                    out.append(path)
    return sorted(out)


SHIPPED = _yaml_files("schemes", "units", "rounds")
TEST_DATA = _yaml_files("tests")


class Spy:
    """Counts the files the fast path read and those it refused."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.read = self.refused = 0
        original = fast_yaml.read

        def spy(raw: bytes, text: str) -> Any:
            data = original(raw, text)
            if data is None:
                self.refused += 1
            else:
                self.read += 1
            return data
        monkeypatch.setattr(fast_yaml, "read", spy)


def _reading(path: Path, data: bytes) -> tuple[str, list[tuple[str, str, str]]]:
    parsed = read_file(path, data, keep_text=True)
    return repr(parsed.data), [(p.code, p.message, repr(p.locate())) for p in parsed.problems]


def both(path: Path, data: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """What reading gives with the fast path, and with libyaml only."""
    monkeypatch.delenv(fast_yaml.ENV, raising=False)
    fast = _reading(path, data)
    monkeypatch.setenv(fast_yaml.ENV, "libyaml")
    slow = _reading(path, data)
    monkeypatch.delenv(fast_yaml.ENV)
    return fast, slow


def test_every_shipped_file_reads_alike_and_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    spy = Spy(monkeypatch)
    for path in SHIPPED:
        fast, slow = both(path.relative_to(ROOT), path.read_bytes(), monkeypatch)
        assert fast == slow, path
    assert len(SHIPPED) > 150
    assert spy.read >= 0.9 * len(SHIPPED), (spy.read, spy.refused)  # the fast path is the common path


def test_every_test_data_file_reads_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bad-input corpus (tests/bad) and every other YAML file under tests/."""
    spy = Spy(monkeypatch)
    for path in TEST_DATA:
        fast, slow = both(path.relative_to(ROOT), path.read_bytes(), monkeypatch)
        assert fast == slow, path
    assert sum(1 for p in TEST_DATA if "/bad/" in str(p)) > 150
    assert spy.read > 100 and spy.refused > 10  # both kinds of file are in there


@settings(FUZZ, max_examples=scaled(300))
@given(mutations([p for p in SHIPPED]))
def test_fuzzed_shipped_files_read_alike(case: tuple[Path, bytes]) -> None:
    path, data = case
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, slow = both(Path(path.name), data, monkeypatch)
    assert fast == slow, data


@settings(FUZZ, max_examples=scaled(300))
@given(st.lists(st.sampled_from(TOKENS + [b"a", b"b: ", b"\n", b"  ", b"- ", b"1.10", b"yes", b"x: 1\n",
                                          b"- 2\n", b'"q"', b"'s'", b"_1", b"1_0", b"0o7", b"1e3"]), max_size=30))
def test_token_soup_reads_alike(parts: list[bytes]) -> None:
    data = b"".join(parts)
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, slow = both(Path("a.yaml"), data, monkeypatch)
    assert fast == slow, data


# plain values YAML 1.1 (gapctl) and 1.2 (yaml-rs) type differently, or that look like it
TRICKY = ["yes", "No", "on", "OFF", "y", "n", "true", "False", "null", "Null", "~", "", "1.10", "1.0", "80.7",
          "1e3", "1.0e+3", "3.0e-2", "017", "0o17", "0x1F", "0b101", "1_000", "_1", "1:30", "190:20:30.15",
          ".5", "5.", "-.5", "+2", "-0", ".inf", "-.Inf", ".nan", "inf", "NaN", "99999999999999999999999",
          "2021-01-02", "2021-1-2", "2021-01-02 10:00:00", "1.1.1", "1,000", "12:30", "=", "-x", "--"]


@pytest.mark.parametrize("value", TRICKY)
@pytest.mark.parametrize("shape", ["a: {v}\n", "- {v}\n", "a: [{v}, x]\n", "a: {{b: {v}}}\n", "{v}: a\n",
                                   'a: "{v}"\n', "a: '{v}'\n", "a: x # {v}\n", "a: x {v}\n"])
def test_tricky_plain_values_read_alike(value: str, shape: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = shape.format(v=value).encode()
    fast, slow = both(Path("a.yaml"), data, monkeypatch)
    assert fast == slow, data


@pytest.mark.parametrize(("text", "fast"), [
    ("a: 1\nb: done\nc: 2021-01-02\nd: 0.5\ne: \"1.10\"\nf: [x, y]\ng:\n", True),
    ("a: 1.10\n", False),  # YAML 1.2 would read the float 1.1
    ("a: yes\n", False),  # YAML 1.2 would read text
    ("1: a\n", False),  # a key yaml-rs types
    ("a: 1\na: 2\n", False),  # duplicate key: the libyaml path reports it
    ("a: &x 1\nb: *x\n", False), ("a: !!str 1\n", False), ("a: |\n  x\n", False), ("a:\tb\n", False),
    ("a: 1\r\n", False), ("---\na: 1\n", False), ("<<: {a: 1}\n", False), ("a: \"\\u0041\"\n", False),
])
def test_what_the_fast_path_reads(text: str, fast: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    spy = Spy(monkeypatch)
    read_file(Path("a.yaml"), text.encode())
    assert (spy.read, spy.refused) == ((1, 0) if fast else (0, 1))


def test_a_long_file_within_the_value_limit_is_read_by_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """A text longer than half the value limit (a unit set of 30,000 units, 2.8 MB, against 2,000,000 values) is
    counted from libyaml's events first, then read by the fast path, alike; one over the limit is refused as
    before, and one the fast path refuses (a duplicate key) is read with positions without being counted twice."""
    monkeypatch.setenv("GAPCTL_MAX_VALUES", "1000")
    text = "units:\n" + "".join(f"  - {{id: u{i}, name: 单位{i}, tags: [a, b]}}\n" for i in range(120))  # 600 values
    assert len(text) > 1000 // 2
    spy = Spy(monkeypatch)
    fast, slow = both(Path("units.yaml"), text.encode(), monkeypatch)
    assert fast == slow and (spy.read, spy.refused) == (1, 0)
    over = text + "".join(f"  - {{id: v{i}, name: x}}\n" for i in range(300))  # 1,200 values
    counted: list[int] = []
    from gapctl.data import sources
    original = sources.yaml_values_over
    monkeypatch.setattr(sources, "yaml_values_over", lambda *a: counted.append(1) or original(*a))
    parsed = read_file(Path("units.yaml"), over.encode())
    assert parsed.data is None and "holds more than 1,000 values" in parsed.problems[0].message
    assert spy.read == 1  # not read fast
    counted.clear()
    duplicate = text + "units: []\n"
    parsed = read_file(Path("units.yaml"), duplicate.encode())
    assert spy.refused == 1 and parsed.problems and counted == [1]


def test_rounds_score_byte_identically_with_either_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every shipped round's `score --format json` and `validate --format json`, with the cache off,
    with the fast path and with libyaml only."""
    from typer.testing import CliRunner

    from gapctl.cli import app

    rounds = sorted(p.parent for p in (ROOT / "rounds").glob("*/round.toml"))
    assert len(rounds) >= 5
    monkeypatch.chdir(ROOT)
    outputs: dict[str, list[tuple[int, bytes]]] = {}
    for parser in ("", "libyaml"):
        monkeypatch.setenv(fast_yaml.ENV, parser)
        for round_dir in rounds:
            for command in ("score", "validate"):
                result = CliRunner().invoke(app, [command, str(round_dir.relative_to(ROOT)), "--format", "json",
                                                  "--no-cache"])
                assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
                outputs.setdefault(f"{command} {round_dir.name}", []).append((result.exit_code, result.stdout_bytes))
    for what, (fast, slow) in outputs.items():
        assert fast == slow, what


def test_without_yaml_rs_gapctl_reads_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """yaml-rs is optional: where it is not installed every file takes the libyaml path."""
    expected = {path: _reading(path.relative_to(ROOT), path.read_bytes()) for path in SHIPPED[::7]}
    monkeypatch.setitem(sys.modules, "yaml_rs", None)  # `import yaml_rs` raises ImportError
    monkeypatch.setattr(fast_yaml, "_TRIED", False)
    monkeypatch.setattr(fast_yaml, "_MODULE", None)
    assert not fast_yaml.available()
    spy = Spy(monkeypatch)
    for path, reading in expected.items():
        assert _reading(path.relative_to(ROOT), path.read_bytes()) == reading
    assert spy.read == spy.refused == 0


def test_the_cli_runs_without_yaml_rs() -> None:
    code = ("import sys; sys.modules['yaml_rs'] = None; from gapctl.cli import main; "
            "main(['score', 'rounds/suizhou-2021', '--format', 'json', '--no-cache'])")
    without = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, timeout=120)
    normal = subprocess.run([sys.executable, "-m", "gapctl", "score", "rounds/suizhou-2021", "--format", "json",
                             "--no-cache"], cwd=ROOT, capture_output=True, timeout=120)
    assert without.returncode == normal.returncode == 0, without.stderr
    assert without.stdout == normal.stdout
