"""`gapctl init` and `gapctl new round`, in real subprocesses: a new repository validates."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gapctl.api import check
from gapctl.cli import app
from gapctl.data import shipped
from gapctl.io.fmt import format_paths
from gapctl.io.scaffold import init, list_schemes, new_round
from tests.conftest import ROOT

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


SHIPPED_SCHEMES = sorted(p.stem for p in (ROOT / "schemes").glob("*.yaml"))


@pytest.mark.parametrize("scheme_id", SHIPPED_SCHEMES)
def test_every_shipped_scheme_starts_a_repository_whose_first_round_validates(scheme_id, tmp_path):
    """The template unit set holds the units a scheme names by id (suizhou-2021's finance, econ
    and xihe; yanjiang-2021's approval), so the first round has no unknown reference."""
    repo = tmp_path / "office"
    init(repo, scheme_id)
    new_round(repo, "2024", scheme_id, "units", year=2024)
    errors = check(repo).report.errors
    assert [(p.locate().path, p.locate().line, p.code) for p in errors] == []
    assert format_paths([repo], check=True).changed == []


def test_init_list_shows_every_shipped_scheme_in_text_and_json():
    listed = runner.invoke(app, ["init", "--list", "--format", "json"])
    assert listed.exit_code == 0
    rows = json.loads(listed.output)["schemes"]
    assert rows == list_schemes() and [row["id"] for row in rows] == SHIPPED_SCHEMES
    suizhou = next(row for row in rows if row["id"] == "suizhou-2021")
    assert (suizhou["year"], suizhou["indicators"], suizhou["units"]) == (2021, 38, ["suizhou-gxq"])
    table = runner.invoke(app, ["init", "--list"])
    assert table.exit_code == 0 and table.output.splitlines()[0].split() == ["id", "title", "year", "indicators",
                                                                             "units"]
    assert len(table.output.splitlines()) == 2 + len(SHIPPED_SCHEMES)
    assert runner.invoke(app, ["init"]).exit_code == 2  # neither a directory nor --list


def test_init_with_units_copies_the_example_unit_set_of_the_scheme(tmp_path):
    made = gapctl("init", "demo", "--from", "yanjiang-2021", "--with-units", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "--units yanjiang" in made.stdout
    repo = tmp_path / "demo"
    assert sorted(p.name for p in (repo / "units").iterdir()) == ["yanjiang.yaml"]
    assert (repo / "units/yanjiang.yaml").read_bytes() == (ROOT / "units/yanjiang.yaml").read_bytes()
    assert "--units yanjiang" in (repo / "README.md").read_text(encoding="utf-8")
    assert gapctl("new", "round", "2024", "--scheme", "yanjiang-2021", "--units", "yanjiang", cwd=repo).returncode == 0
    assert gapctl("validate", ".", cwd=repo).returncode == 0


def test_init_with_units_needs_an_example_round_for_the_scheme(tmp_path, monkeypatch):
    monkeypatch.setattr(shipped, "example_unit_sets", lambda: {})
    refused = runner.invoke(app, ["init", str(tmp_path / "demo"), "--from", "suizhou-2021", "--with-units"])
    assert refused.exit_code == 1 and "no shipped example round uses scheme 'suizhou-2021'" in refused.output
    assert not (tmp_path / "demo").exists()


def test_a_gapctl_without_its_shipped_files_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(shipped, "origin", lambda: tmp_path / "_shipped")
    refused = runner.invoke(app, ["init", str(tmp_path / "new")])
    assert refused.exit_code == 1 and "carries no shipped schemes" in refused.output
    assert json.loads(runner.invoke(app, ["init", "--list", "--format", "json"]).output)["schemes"] == []


def test_a_new_round_is_of_the_schemes_year_unless_told(mini_repo):
    """A 2024 scheme makes a 2024 round (title and period) whenever it is run; --year wins; a scheme
    without `year:` gives this year."""
    import datetime as dt

    scheme = mini_repo / "schemes/mini.yaml"
    scheme.write_text(scheme.read_text(encoding="utf-8").replace("title: 测试指标体系\n",
                                                                 "title: 测试指标体系\nyear: 2024\n"), encoding="utf-8")
    made = runner.invoke(app, ["new", "round", "r2", "--scheme", "mini", "--units", "mini", "--repo", str(mini_repo)])
    assert made.exit_code == 0, made.output
    toml = (mini_repo / "rounds/r2/round.toml").read_text(encoding="utf-8")
    assert 'title = "2024年政务公开考核评估"' in toml and "period = { start = 2024-01-01, end = 2024-12-31 }" in toml
    new_round(mini_repo, "r3", "mini", "mini", year=2025)
    assert "start = 2025-01-01" in (mini_repo / "rounds/r3/round.toml").read_text(encoding="utf-8")
    scheme.write_text(scheme.read_text(encoding="utf-8").replace("year: 2024\n", ""), encoding="utf-8")
    new_round(mini_repo, "r4", "mini", "mini")
    assert f"start = {dt.date.today().year}-01-01" in (mini_repo / "rounds/r4/round.toml").read_text(encoding="utf-8")
    assert check(mini_repo).report.errors == []
