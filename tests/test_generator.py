"""The benchmark generator: deterministic, and its rounds validate clean in YAML and TOML."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gapctl.api import check
from tests.conftest import ROOT


def generate(out: Path, fmt: str, units: int = 12) -> Path:
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks/generate.py"), "--units", str(units),
                           "--indicators", "24", "--seed", "7", "--out", str(out), "--format", fmt],
                          capture_output=True, text=True, check=True, timeout=120)
    return Path(proc.stdout.strip().splitlines()[-1])


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("fmt", ["yaml", "toml"])
def test_generated_round_is_valid_and_deterministic(tmp_path, fmt):
    round_dir = generate(tmp_path / "a", fmt)
    assert round_dir == tmp_path / "a" / "rounds" / "bench"
    result = check(round_dir)
    assert [(p.code, p.message) for p in result.report.problems] == []
    assert len(result.loaded.round.observations) == 12
    generate(tmp_path / "b", fmt)
    assert tree_bytes(tmp_path / "a") == tree_bytes(tmp_path / "b")
