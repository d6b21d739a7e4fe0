"""Start-up: `gapctl --help` and `validate` on a small round import only what they need.

Measured with `python -X importtime` in a real subprocess: modules are listed, not timed,
so the test is stable on a busy machine; the wall time is in the benchmark table.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

HEAVY = {"ruamel", "openpyxl", "tabulate", "chinese_calendar", "multiprocessing", "gapctl.report",
         "gapctl.diff", "gapctl.fmt", "gapctl.export", "gapctl.importer", "pyarrow", "dask", "distributed",
         "gapctl.columnar", "gapctl.shards"}


def imported(*args: str) -> set[str]:
    run = subprocess.run([sys.executable, "-X", "importtime", "-m", "gapctl", *args], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert "Traceback" not in run.stderr
    return {line.split("|")[-1].strip() for line in run.stderr.splitlines() if line.startswith("import time:")}


@pytest.mark.parametrize("args", [("--help",), ("validate", "rounds/suizhou-2021", "--no-cache")])
def test_imports_only_what_the_command_needs(args: tuple[str, ...]) -> None:
    modules = imported(*args)
    assert "gapctl.cli" in modules                       # the measurement saw the program
    heavy = sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))
    assert not heavy, f"gapctl {' '.join(args)} imports {heavy}"


def test_help_does_not_load_the_library() -> None:
    modules = imported("--help")
    assert not {"yaml", "gapctl.load", "gapctl.score", "gapctl.validate"} & modules
