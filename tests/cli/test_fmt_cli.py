"""`gapctl fmt` through typer's runner: --check lists and exits 1, a real run makes it canonical."""

from __future__ import annotations

from typer.testing import CliRunner

from gapctl.cli import app
from tests.conftest import write_repo

runner = CliRunner()


def test_check_then_format(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    original = ("# 测试单位\nname: 测试单位  # 名称\nunits:\n  - {name: 甲, id: a, type: 区属部门}\n"
                "id: mini\n")
    write_repo(tmp_path, {"units/mini.yaml": original})
    check = runner.invoke(app, ["fmt", "--check", "."])
    assert check.exit_code == 1
    assert "would reformat units/mini.yaml" in check.output
    assert (tmp_path / "units/mini.yaml").read_text(encoding="utf-8") == original  # untouched
    run = runner.invoke(app, ["fmt", "."])
    assert run.exit_code == 0 and "reformatted units/mini.yaml" in run.output
    text = (tmp_path / "units/mini.yaml").read_text(encoding="utf-8")
    assert text.splitlines()[:2] == ["# 测试单位", "id: mini"]
    assert "# 名称" in text and "{id: a, name: 甲, type: 区属部门}" in text
    again = runner.invoke(app, ["fmt", "--check", "."])
    assert again.exit_code == 0 and "0 file(s) would be reformatted" in again.output


def test_unparseable_file_is_reported_not_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_repo(tmp_path, {"units/bad.yaml": "id: [unclosed\n"})
    result = runner.invoke(app, ["fmt", "."])
    assert result.exit_code == 1
    assert "units/bad.yaml" in result.output
    assert (tmp_path / "units/bad.yaml").read_text(encoding="utf-8") == "id: [unclosed\n"
