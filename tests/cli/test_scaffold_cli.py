"""`gapctl init` and `gapctl new round`, in real subprocesses: a new repository validates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from gapctl.cli import app

runner = CliRunner()


def gapctl(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gapctl", *args], cwd=cwd, capture_output=True, text=True,
                          encoding="utf-8", timeout=120)


def test_init_then_validate_then_a_new_round(tmp_path):
    made = gapctl("init", "office", "--from", "shanwei-2020", "--title", "某市政务公开考核", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    repo = tmp_path / "office"
    assert (repo / "schemes/shanwei-2020.yaml").is_file() and (repo / ".github/workflows/gapctl.yml").is_file()
    assert (repo / "schema/observations.schema.json").is_file() and "某市政务公开考核" in \
        (repo / "README.md").read_text(encoding="utf-8")
    checked = gapctl("validate", ".", cwd=repo)
    assert checked.returncode == 0 and checked.stdout.startswith("OK: 0 error(s), 0 warning(s)")
    new = gapctl("new", "round", "2025", "--scheme", "shanwei-2020", "--units", "units", "--year", "2025", cwd=repo)
    assert new.returncode == 0, new.stderr
    observations = (repo / "rounds/2025/observations/example-department.yaml").read_text(encoding="utf-8")
    assert observations.count("result: pending") > 10
    after = gapctl("validate", ".", cwd=repo)
    assert after.returncode == 0 and "W503" in after.stdout          # everything still to be assessed
    assert gapctl("fmt", "--check", ".", cwd=repo).returncode == 0    # scaffolded files are canonical
    assert gapctl("score", "rounds/2025", "--final", cwd=repo).returncode == 1


def test_init_refuses_a_non_empty_directory_and_unknown_schemes(tmp_path):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("x", encoding="utf-8")
    refused = runner.invoke(app, ["init", str(tmp_path / "busy")])
    assert refused.exit_code == 1 and "not empty" in refused.output
    unknown = runner.invoke(app, ["init", str(tmp_path / "new"), "--from", "nowhere-2020"])
    assert unknown.exit_code == 1 and "suizhou-2021" in unknown.output
    assert runner.invoke(app, ["new", "round", "x", "--scheme", "s", "--units", "u", "--repo",
                               str(tmp_path)]).exit_code == 1
