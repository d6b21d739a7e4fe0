"""The report's robustness section (`gapctl report --robustness`): golden chart and text, off by default."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from gapctl.api import load_round, score
from gapctl.cli import app
from gapctl.report import svg
from gapctl.report.build import render
from gapctl.scoring import robustness as R
from tests.conftest import ROOT

GOLDEN = ROOT / "tests" / "golden" / "report" / "robustness"
runner = CliRunner()
SETTINGS = R.Settings(draws=100, seed=3, grades=True)


@pytest.fixture(scope="module")
def scored():
    return score(load_round(ROOT / "rounds/suizhou-2021"))


@pytest.fixture(scope="module")
def results(scored):
    return [R.analyse(scored, SETTINGS)]


def section_of(markdown: str, lang: str) -> str:
    heading = "## 名次和等次的稳健性" if lang == "zh" else "## Robustness of ranks and grades"
    start = markdown.index(heading)
    return markdown[start:markdown.index("\n## ", start + 1) + 1]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_golden_section_and_chart(lang, scored, results, request):
    files = render(scored, "md", lang, robustness=results)
    got = {f"section-{lang}.md": section_of(files["index.md"], lang),
           f"robustness-1-{lang}.svg": files["charts/robustness-1.svg"]}
    for name, text in got.items():
        path = GOLDEN / name
        if request.config.getoption("--update-golden"):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        assert text == path.read_text(encoding="utf-8"), f"run pytest --update-golden and review {path}"


def test_one_sentence_per_unit_that_is_not_robust_and_a_bar_for_every_unit(scored, results):
    text = section_of(render(scored, "md", "en", robustness=results)["index.md"], "en")
    unstable = [u for u in results[0].units if not u.robust()]
    assert unstable and len(unstable) < len(results[0].units)
    bullets = [line for line in text.splitlines() if line.startswith("- ")]
    assert [re.split("[:：]", b)[0].removeprefix("- ") for b in bullets] == [u.name for u in sorted(
        unstable, key=lambda u: (u.rank, u.unit))]
    chart = render(scored, "md", "en", robustness=results)["charts/robustness-1.svg"]
    bars = re.findall(r'stroke="(#[0-9a-f]+)" stroke-width="6" stroke-linecap="round"/>', chart)
    assert len(bars) == len(results[0].units) + 1  # and the legend's
    assert bars[:-1].count(svg.BAR) == len(unstable) and bars[:-1].count(svg.MUTED) == len(results[0].units) - len(
        unstable)


def test_the_html_overview_carries_the_chart_inline(scored, results):
    index = render(scored, "html", "zh", robustness=results)["index.html"]
    assert '<figure class="chart"><svg' in index and 'aria-label="抽样中的名次：' in index
    assert "robustness" not in render(scored, "html", "zh")["index.html"]  # off by default


def test_collapsed_intervals_say_so(scored):
    fixed = [R.analyse(scored, R.Settings(draws=20, seed=1, weights=0, grades=False))]
    text = section_of(render(scored, "md", "en", robustness=fixed)["index.md"], "en")
    assert "Every unit's rank and grade held in 90 per cent of the draws." in text
    assert not [line for line in text.splitlines() if line.startswith("- ")]


def test_report_command_options(tmp_path):
    rounds = str(ROOT / "rounds/suizhou-2021")
    assert runner.invoke(app, ["report", rounds, "--draws", "50", "--out", str(tmp_path / "a")]).exit_code == 2
    assert runner.invoke(app, ["report", rounds, "--robustness", "-f", "docx", "--out",
                               str(tmp_path / "a.docx")]).exit_code == 2
    outputs = []
    for name in ("b", "c"):
        result = runner.invoke(app, ["report", rounds, "--robustness", "--draws", "50", "--seed", "4", "--out",
                                     str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        outputs.append((tmp_path / name / "index.html").read_text(encoding="utf-8"))
    assert outputs[0] == outputs[1] and "50" in outputs[0] and "<svg" in outputs[0]
