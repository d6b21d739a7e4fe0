"""`gapctl validate --list-codes` prints the catalogue in the chosen language: Chinese by default,
English with --lang en; codes and names the same in both."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from gapctl import i18n
from gapctl.cli import app
from gapctl.problems import CATALOGUE

runner = CliRunner()


@pytest.fixture
def default_language(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a user gets when nothing says otherwise: no GAPCTL_LANG, no English locale."""
    for name in ("GAPCTL_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    i18n.use(None)
    yield
    i18n.use(None)


def _rows(output: str) -> dict[str, list[str]]:
    """code → the row's cells (the table is aligned with two spaces between columns)."""
    lines = output.splitlines()
    return {line.split()[0]: [cell.strip() for cell in line.split("  ") if cell.strip()]
            for line in lines[2:] if line.strip()}


@pytest.mark.parametrize("args, lang", [(["validate", "--list-codes"], "zh"),
                                        (["--lang", "en", "validate", "--list-codes"], "en"),
                                        (["--lang", "zh", "validate", "--list-codes"], "zh")])
def test_titles_in_the_chosen_language(default_language: None, args: list[str], lang: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    header = result.output.splitlines()[0].split()
    assert header == (["代码", "名称", "级别", "标题"] if lang == "zh" else ["code", "name", "severity", "title"])
    rows = _rows(result.output)
    assert sorted(rows) == sorted(CATALOGUE)
    severity = {"error": "错误", "warning": "警告"} if lang == "zh" else {"error": "error", "warning": "warning"}
    for code, kind in CATALOGUE.items():
        assert rows[code][1] == kind.name  # names and codes never change
        assert rows[code][2] == severity[kind.severity]
        assert rows[code][3] == kind.title_in(lang), code
    assert rows["E103"][3] == ("空文件" if lang == "zh" else "Empty file")


@pytest.mark.parametrize("args, lang", [(["validate", "--list-codes", "--format", "json"], "zh"),
                                        (["--lang", "en", "validate", "--list-codes", "--format", "json"], "en")])
def test_json_titles_in_the_chosen_language(default_language: None, args: list[str], lang: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    codes = {c["code"]: c for c in json.loads(result.output)["codes"]}
    for code, kind in CATALOGUE.items():
        assert codes[code]["title"] == kind.title_in(lang)
        assert codes[code]["description"] == kind.description_in(lang)
        assert codes[code]["severity"] == kind.severity  # a machine word in JSON
