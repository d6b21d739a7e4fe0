"""`gapctl validate` through typer's runner and as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from gapctl.api import check
from gapctl.cli import app
from tests.conftest import ROOT, write_repo

runner = CliRunner()


def test_clean_round_exits_zero(mini_repo, monkeypatch):
    monkeypatch.chdir(mini_repo)
    result = runner.invoke(app, ["validate", "rounds/r1"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "OK: 0 error(s), 0 warning(s) in 5 file(s)."


def test_problems_are_listed_with_positions_then_summary(mini_repo, monkeypatch):
    monkeypatch.chdir(mini_repo)
    write_repo(mini_repo, {"rounds/r1/observations/b.yaml":
                           'unit: b\nresults:\n  - indicator: "9"\n    result: done\n  - indicatr: "2"\n'})
    result = runner.invoke(app, ["validate", "rounds/r1"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[:4] == [
        "rounds/r1/observations/b.yaml:2:1: W503 2 applicable indicator(s) not yet observed for 区档案馆: 1.1, 2",
        "rounds/r1/observations/b.yaml:3:16: E302 indicator '9' is not in scheme 'mini'",
        "rounds/r1/observations/b.yaml:5:5: E201 unknown key 'indicatr' in an observation entry; "
        "did you mean 'indicator'?",
        "rounds/r1/observations/b.yaml:5:5: E202 an observation entry has no 'indicator' (id)",
    ]
    assert lines[-1] == "Failed: 3 error(s), 1 warning(s) in 5 file(s)."


def test_json_output_matches_the_library(mini_repo, monkeypatch):
    monkeypatch.chdir(mini_repo)
    (mini_repo / "rounds/r1/observations/b.yaml").unlink()
    result = runner.invoke(app, ["validate", "rounds/r1", "--format", "json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    library = check("rounds/r1").report.sorted()
    assert [(p["code"], p["message"]) for p in data["problems"]] == [(p.code, p.message) for p in library]
    assert data["warnings"] == 1 and data["errors"] == 0 and data["ok"] is True


def test_strict_fails_on_warnings(mini_repo, monkeypatch):
    monkeypatch.chdir(mini_repo)
    (mini_repo / "rounds/r1/observations/b.yaml").unlink()
    assert runner.invoke(app, ["validate", "rounds/r1", "--strict"]).exit_code == 1


def test_usage_error_exits_two():
    result = runner.invoke(app, ["validate", "--no-such-option"])
    assert result.exit_code == 2


def test_not_a_round_or_repository(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["validate", "."])
    assert result.exit_code == 1
    assert "E106" in result.output and "Traceback" not in result.output


def test_list_codes_prints_the_catalogue():
    from gapctl.problems import CATALOGUE

    result = runner.invoke(app, ["validate", "--list-codes", "--format", "json"])
    assert result.exit_code == 0
    assert [c["code"] for c in json.loads(result.output)["codes"]] == sorted(CATALOGUE)


def test_real_subprocess_on_the_shipped_repository():
    """The installed entry point, in a real process, on the shipped example data."""
    proc = subprocess.run([sys.executable, "-m", "gapctl", "validate", "."], cwd=ROOT,
                          capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("OK: 0 error(s), 0 warning(s)")
    assert proc.stderr == ""


def test_output_is_deterministic(mini_repo, monkeypatch):
    monkeypatch.chdir(mini_repo)
    write_repo(mini_repo, {"rounds/r1/observations/b.yaml": "unit: b\nresults:\n  - indicator: \"9\"\n"})
    first = runner.invoke(app, ["validate", "rounds/r1", "--format", "json"]).output
    second = runner.invoke(app, ["validate", "rounds/r1", "--format", "json"]).output
    assert first == second


def test_pre_commit_file_lists_validate_each_round_once(mini_repo, monkeypatch):
    """pre-commit passes changed files: their rounds (or repository) are read once, each problem printed once."""
    monkeypatch.chdir(mini_repo)
    write_repo(mini_repo, {"rounds/r1/observations/b.yaml":
                           'unit: b\nresults:\n  - indicator: "9"\n    result: done\n'})
    whole = runner.invoke(app, ["validate", "."])
    files = ["rounds/r1/observations/a.yaml", "rounds/r1/observations/b.yaml", "rounds/r1/round.toml",
             "schemes/mini.yaml"]
    listed = runner.invoke(app, ["validate", *files])
    assert listed.exit_code == whole.exit_code == 1
    assert listed.output == whole.output
    assert listed.output.count("E302") == 1
    only_round = runner.invoke(app, ["validate", *files[:3]])
    assert only_round.output == runner.invoke(app, ["validate", "rounds/r1"]).output
