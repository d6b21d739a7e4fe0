"""`gapctl show` through typer's runner."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from gapctl.cli import app
from tests.conftest import ROOT

runner = CliRunner()


def test_show_scheme_text_and_json(monkeypatch):
    monkeypatch.chdir(ROOT)
    text = runner.invoke(app, ["show", "schemes/suizhou-2021.yaml"])
    assert text.exit_code == 0
    assert text.output.splitlines()[0] == "随州高新区2021年政务公开第三方评估指标 (suizhou-2021)"
    data = json.loads(runner.invoke(app, ["show", "schemes/suizhou-2021.yaml", "-f", "json"]).output)
    assert sum(int(i["points"]) for i in data["indicators"]) == 100


def test_show_units_and_round(monkeypatch):
    monkeypatch.chdir(ROOT)
    units = runner.invoke(app, ["show", "units/yanjiang.yaml"])
    assert units.exit_code == 0 and "镇街道" in units.output
    round_ = json.loads(runner.invoke(app, ["show", "rounds/yanjiang-2021", "-f", "json"]).output)
    assert round_["example"] is True and round_["units_observed"] == round_["unit_count"]


def test_show_missing_path_is_an_error_not_a_traceback(tmp_path):
    result = runner.invoke(app, ["show", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
