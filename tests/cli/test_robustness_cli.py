"""`gapctl robustness`: a thin layer over gapctl.scoring.robustness (figures, exit codes, progress)."""

from __future__ import annotations

import json
from decimal import Decimal

from typer.testing import CliRunner

from gapctl.api import load_round, score
from gapctl.cli import app
from gapctl.scoring import robustness as R
from tests.conftest import ROOT

runner = CliRunner()
ROUND = str(ROOT / "rounds/suizhou-2021")


def run(*args: str):
    return runner.invoke(app, ["--lang", "en", "robustness", ROUND, *args])


def test_json_is_the_library_result_for_the_same_settings():
    result = run("--draws", "60", "--seed", "5", "--weights", "10", "--format", "json")
    assert result.exit_code == 0, result.output
    scored = score(load_round(ROOT / "rounds/suizhou-2021"))
    expected = R.round_data(scored, [R.analyse(scored, R.Settings(draws=60, seed=5, weights=Decimal("0.1"),
                                                                  grades=True))])
    data = json.loads(result.stdout)
    assert data.pop("version") and data.pop("provenance")["files"] and data == json.loads(json.dumps(expected))
    assert json.loads(result.stdout)["schemes"][0]["settings"]["weights"] == "0.1"


def test_the_same_seed_gives_the_same_bytes_and_another_seed_others():
    first, again, other = run("--draws", "80"), run("--draws", "80"), run("--draws", "80", "--seed", "2")
    assert first.exit_code == again.exit_code == other.exit_code == 0
    assert first.stdout == again.stdout != other.stdout
    assert "80 draws, seed 1: weights ±20%, expert grades ±1 step" in first.stdout


def test_with_nothing_moved_every_interval_is_the_computed_rank():
    data = json.loads(run("--draws", "20", "--weights", "0", "--no-grades", "--format", "json").stdout)
    units = data["schemes"][0]["units"]
    assert units and all(u["interval"] == [u["rank"], u["rank"]] and u["robust"] for u in units)
    assert data["schemes"][0]["sensitivity"] == []


def test_every_scheme_of_a_round_is_drawn_on_its_own():
    result = runner.invoke(app, ["--lang", "en", "robustness", str(ROOT / "rounds/shanghai-2020"), "--draws", "20",
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    assert [s["scheme"] for s in json.loads(result.stdout)["schemes"]] == ["shanghai-2020-districts",
                                                                           "shanghai-2020-departments"]


def test_exit_codes(tmp_path):
    assert runner.invoke(app, ["robustness", str(tmp_path)]).exit_code == 1  # not a round
    for bad in (["--draws", "0"], ["--weights", "101"], ["--format", "xml"]):
        assert run(*bad).exit_code == 2, bad


def test_a_long_run_on_a_terminal_shows_its_progress_on_stderr(monkeypatch):
    import gapctl.cli.common as cli

    monkeypatch.setattr(cli, "_stderr_is_terminal", lambda: True)
    monkeypatch.setattr(cli, "LONG_RUN", 100)
    result = run("--draws", "40")
    assert result.exit_code == 0
    assert "drawing (suizhou-2021) 40/40 draws" in result.stderr and "draws" not in result.stdout.split("\n")[0]
    monkeypatch.setattr(cli, "LONG_RUN", 10_000)
    assert run("--draws", "40").stderr == ""  # a short run says nothing


def test_a_scheme_without_a_published_ranking_says_its_ranks_are_computed():
    """Suizhou publishes no ranking (issue 19 §3): the analysis ranks anyway, and says so; Shanwei ranks."""
    note = "This scheme publishes no ranking: the ranks here are computed by gapctl only to show how far they " \
           "would move."
    assert note in run("--draws", "10").stdout
    assert json.loads(run("--draws", "10", "-f", "json").stdout)["schemes"][0]["rank_published"] is False
    shanwei = ["--lang", "en", "robustness", str(ROOT / "rounds/shanwei-2020"), "--draws", "10"]
    assert note not in runner.invoke(app, shanwei).stdout
    assert json.loads(runner.invoke(app, [*shanwei, "-f", "json"]).stdout)["schemes"][0]["rank_published"] is True
