"""Names that cannot deceive, numbers that are not rounded behind one's back.

- Ids refuse zero-width and other invisible characters, and the problem names the code point.
- Names keep them as written (a name pasted from a web page often holds one), and every output
  shows them escaped (`\\u200b`), so 区财政\\u200b局 cannot pass for 区财政局: terminal tables,
  CSV, JSON, explain, the report in Markdown and HTML and its SVG charts, problem messages.
- A number with more than six decimal places is refused with a problem, not rounded to 28 digits.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gapctl.api import check, score
from gapctl.cli import app
from gapctl.escape import _INVISIBLE, json_text, plain
from gapctl.report.build import render
from tests.conftest import MINI_SCHEME, MINI_UNITS

runner = CliRunner()
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\u2061", "\u2062", "\u2063", "\u2064", "\ufeff", "\u00ad"]


def problems(repo: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int, int, str, str]]:
    monkeypatch.chdir(repo)
    return [(loc.path, loc.line, loc.col, p.code, p.message)
            for p in check("rounds/r1").report.sorted() for loc in [p.locate()]]


@pytest.mark.parametrize("char", INVISIBLE)
def test_an_id_with_an_invisible_character_is_refused_naming_it(char, mini_repo, monkeypatch):
    (mini_repo / "units/mini.yaml").write_text(MINI_UNITS.replace("{id: b,", f'{{id: "b{char}",'), encoding="utf-8")
    found = [p for p in problems(mini_repo, monkeypatch) if p[0] == "units/mini.yaml"]
    assert [(line, code) for _, line, _, code, _ in found] == [(5, "E204")]
    message = found[0][4]
    assert f"character 2 is the invisible U+{ord(char):04X} " in message and f"'b\\u{ord(char):04x}'" in message
    assert char not in message


def test_every_invisible_character_is_escaped():
    """The class in gapctl.escape covers every format character (Cf) this Python knows."""
    import sys
    import unicodedata

    missing = [f"U+{c:04X}" for c in range(sys.maxunicode + 1)
               if unicodedata.category(chr(c)) == "Cf" and not _INVISIBLE.match(chr(c))]
    assert not missing
    assert plain("区财政\u200b局") == "区财政\\u200b局" and json_text('"a\u200bb"') == '"a\\u200bb"'
    assert json.loads(json_text(json.dumps("x\U000e0041y", ensure_ascii=False))) == "x\U000e0041y"


@pytest.fixture
def look_alike(mini_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Unit a is 区财政\\u200b局 and top-level indicator 2 组织\\ufeff领导: valid data, shown escaped everywhere."""
    (mini_repo / "units/mini.yaml").write_text(MINI_UNITS.replace("name: 区财政局", 'name: "区财政\\u200b局"'),
                                               encoding="utf-8")
    (mini_repo / "schemes/mini.yaml").write_text(
        MINI_SCHEME.replace("name: 组织领导", 'name: "组织\\ufeff领导"'), encoding="utf-8")
    monkeypatch.chdir(mini_repo)
    assert check("rounds/r1").report.exit_code() == 0
    return mini_repo


def _outputs() -> dict[str, str]:
    out = {f"score {fmt}": runner.invoke(app, ["score", "rounds/r1", "--format", fmt]).output
           for fmt in ("table", "csv", "json")}
    out["explain"] = runner.invoke(app, ["explain", "rounds/r1", "a"]).output
    out["explain json"] = runner.invoke(app, ["explain", "rounds/r1", "a", "--format", "json"]).output
    scored = score(check("rounds/r1").loaded.round)
    for fmt in ("md", "html"):
        for path, text in render(scored, fmt, "zh").items():
            out[f"report {path}"] = text
    return out


def test_a_name_with_an_invisible_character_is_shown_escaped_in_every_output(look_alike):
    outputs = _outputs()
    for what, text in outputs.items():  # md() puts its own word joiner after @ and #: that one is meant
        assert not any(char in text.replace("@\u2060", "@").replace("#\u2060", "#") for char in INVISIBLE), what
    shown = {  # how each output shows the unit's name: \u200b as text (a Markdown backslash is escaped)
        "score table": "区财政\\u200b局", "score csv": "区财政\\u200b局", "score json": "区财政\\u200b局",
        "explain": "区财政\\u200b局", "explain json": "区财政\\u200b局", "report index.md": "区财政\\\\u200b局",
        "report units/a.md": "区财政\\\\u200b局", "report index.html": "区财政\\u200b局",
        "report units/a.html": "区财政\\u200b局", "report report.html": "区财政\\u200b局",
    }
    for what, text in shown.items():
        assert text in outputs[what], what
    assert "组织\\ufeff领导" in outputs["report charts/attainment.svg"]   # the chart's label
    assert "组织\\\\ufeff领导" in outputs["report index.md"]             # the attainment table
    rows = json.loads(outputs["score json"])
    assert "区财政\u200b局" in json.dumps(rows, ensure_ascii=False)  # JSON keeps the value; only its text is escaped


# --- numbers -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("points", "refused"), [
    ("2.000000000000000000000000000001", True),   # 30 decimals: was rounded to 28 digits in sums
    ("1.9999999", True),                          # 7 decimals
    ("1.999999", False),                          # 6: the most gapctl reads
    ("2.0000000000", False),                      # trailing zeros are exact: 2
    ("2.0e-7", True),                             # YAML 1.1 floats need the point
])
def test_points_with_more_than_six_decimal_places_are_refused(points, refused, mini_repo, monkeypatch):
    scheme = MINI_SCHEME.replace("name: 渠道覆盖\n        points: 2", f"name: 渠道覆盖\n        points: {points}")
    (mini_repo / "schemes/mini.yaml").write_text(scheme, encoding="utf-8")
    found = [p for p in problems(mini_repo, monkeypatch) if p[3] == "E204"]
    if refused:
        assert [(path, line, col) for path, line, col, _, _ in found] == [("schemes/mini.yaml", 12, 17)]
        assert "decimal places: gapctl reads at most 6" in found[0][4]
    else:
        assert found == []


def test_a_fraction_with_many_decimals_in_an_observation_is_refused_too(mini_repo, monkeypatch):
    from gapctl.data.sources import read_file
    from gapctl.scoring.load import build_observations

    path = mini_repo / "elsewhere/a.yaml"
    path.parent.mkdir()
    path.write_text("unit: a\nresults:\n  - indicator: '1.1'\n    fraction: 0.33333333333333333333333333333333\n",
                    encoding="utf-8")
    parsed = read_file(path)
    found: list = []
    build_observations(parsed.src, parsed.data, found)
    assert [(p.code, p.locate().line) for p in found] == [("E204", 4)] and "32 decimal places" in found[0].message
    assert Decimal("0.33333333333333333333333333333333") != Decimal("0.3333333333333333333333333333")
