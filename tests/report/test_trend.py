"""`gapctl trend`, `report --history` and the recurring problems of `followup`: history across rounds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gapctl.api import check, score
from gapctl.cli import app
from gapctl.report.trend import families, order, trend
from tests.conftest import MINI_OBS_A, MINI_OBS_B, MINI_SCHEME, MINI_UNITS, ROOT, without_version, write_repo

runner = CliRunner()
GOLDEN = ROOT / "tests" / "golden"

CASES = {
    "trend-suizhou.txt": ["trend", "rounds/suizhou-2022", "rounds/suizhou-2021"],
    "trend-rounds-finance-en.txt": ["trend", "rounds/", "--unit", "区财政", "--lang", "en"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_trend(name, request, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, CASES[name])
    assert result.exit_code == 0, result.output
    path = GOLDEN / name
    if request.config.getoption("--update-golden"):
        path.write_text(result.stdout, encoding="utf-8")
    assert result.stdout == path.read_text(encoding="utf-8"), f"run pytest --update-golden and review {path}"


def test_trend_json_is_the_library_result(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, ["trend", "rounds/", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["alone"] == ["chongqing-2020", "shanghai-2020", "shanwei-2020", "yanjiang-2021", "example-county-2024"]
    [family] = data["families"]
    assert family["family"] == "suizhou-gxq" and [r["id"] for r in family["rounds"]] == ["suizhou-2021",
                                                                                      "suizhou-2022"]
    old, new = (score(check(ROOT / "rounds" / r).loaded.round) for r in ("suizhou-2021", "suizhou-2022"))
    for entry in family["units"]:
        before, after = old.by_unit()[entry["unit"]], new.by_unit()[entry["unit"]]
        assert [(h["total"], h["rank"]) for h in entry["history"]] == [  # 随州 publishes no ranking: no rank
            (str(before.total), None), (str(after.total), None)]
    finance = next(u for u in family["units"] if u["unit"] == "finance")
    assert finance["change"] == "+5.3"
    assert [r["indicator"] for r in finance["recurring"]] == ["2.1.14", "4.1", "5.1.2"]
    assert finance["recurring"][0]["fix_round"] == "suizhou-2021"
    assert finance["recurring"][0]["fix"] == old.by_unit()["finance"].leaves["2.1.14"].result.fix
    assert "indicators" not in finance  # only with --unit
    one = json.loads(runner.invoke(app, ["trend", "rounds/", "--unit", "finance", "-f", "json"]).stdout)
    [unit] = one["families"][0]["units"]
    assert len(unit["indicators"]) == len(new.by_unit()["finance"].leaves)
    assert unit["indicators"][0]["rounds"][0] == {"indicator": "1.1", "state": "scored", "points": "2",
                                                  "earned": "2", "lost": "0"}


# --- renamed indicators, order, families ------------------------------------------------

RENAMED_SCHEME = MINI_SCHEME.replace("id: mini\n", "id: mini-2022\n").replace(
    '      - id: "1.2"\n        name: 行政许可信息\n',
    '      - id: "1.2n"\n        name: 许可和服务信息\n        replaces: ["1.2"]\n')


def _round(round_id: str, scheme: str, year: int) -> str:
    return (f'id = "{round_id}"\ntitle = "测试{year}"\nunits = "mini"\n'
            f"period = {{ start = {year}-01-01, end = {year}-12-31 }}\n[[schemes]]\nscheme = \"{scheme}\"\n")


@pytest.fixture
def years(tmp_path: Path) -> Path:
    """Three rounds of one unit set; the 2022 scheme renames 1.2 to 1.2n (`replaces:`); unit a loses
    points on it every year, and on 组织领导 in 2021 only."""
    a_2022 = MINI_OBS_A.replace('indicator: "1.2"', 'indicator: "1.2n"').replace("及时公开", "按时限公开许可结果")
    return write_repo(tmp_path, {
        "schemes/mini.yaml": MINI_SCHEME, "schemes/mini-2022.yaml": RENAMED_SCHEME, "units/mini.yaml": MINI_UNITS,
        "rounds/y2020/round.toml": _round("y2020", "mini", 2020),
        "rounds/y2020/observations/a.yaml": MINI_OBS_A, "rounds/y2020/observations/b.yaml": MINI_OBS_B,
        "rounds/y2021/round.toml": _round("y2021", "mini", 2021),
        "rounds/y2021/observations/a.yaml": MINI_OBS_A.replace("plan: true", "plan: false"),
        "rounds/y2021/observations/b.yaml": MINI_OBS_B,
        "rounds/y2022/round.toml": _round("y2022", "mini-2022", 2022),
        "rounds/y2022/observations/a.yaml": a_2022,
        "rounds/y2022/observations/b.yaml": MINI_OBS_B,
        # another unit set: a family of its own
        "units/other.yaml": MINI_UNITS.replace("id: mini", "id: other"),
        "rounds/z2021/round.toml": _round("z2021", "mini", 2021).replace('units = "mini"', 'units = "other"'),
        "rounds/z2021/observations/a.yaml": MINI_OBS_A, "rounds/z2021/observations/b.yaml": MINI_OBS_B,
    })


def _scored(repo: Path, *names: str):
    return [score(check(repo / "rounds" / n).loaded.round) for n in names]


def test_a_renamed_indicator_keeps_its_history_and_its_problem_recurs(years):
    result = trend(_scored(years, "y2020", "y2021", "y2022"))
    a = result.unit("a")
    assert a is not None
    chain = next(c for c in a.chains if c.latest.id == "1.2n")
    assert [leaf.indicator.id for leaf in chain.leaves] == ["1.2", "1.2", "1.2n"]
    assert [r.indicator.id for r in a.recurring] == ["1.2n"]  # 组织领导 lost in 2021 only: not recurring
    [recurring] = a.recurring
    assert recurring.rounds == [0, 1, 2]  # lost three years running
    assert recurring.fix == "及时公开"  # what 2021 asked, not 2022's own 整改要求
    assert result.unit("b").recurring == []
    totals = [s.total for s in a.scores]
    assert totals[1] < totals[0] == totals[2] and a.change == 0  # 组织领导 lost in 2021, back in 2022


def test_rounds_are_ordered_by_period_and_grouped_by_unit_set(years, monkeypatch):
    from gapctl.scoring.load import load

    rounds = [load(years / "rounds" / n, observations=False).round for n in ("y2022", "z2021", "y2020", "y2021")]
    assert [r.id for r in order(rounds)] == ["y2020", "y2021", "z2021", "y2022"]
    assert {k: [r.id for r in v] for k, v in families(rounds).items()} == {"mini": ["y2020", "y2021", "y2022"],
                                                                        "other": ["z2021"]}
    monkeypatch.chdir(years)
    result = runner.invoke(app, ["trend", "rounds/y2022", "rounds/y2020", "rounds/y2021", "--lang", "en"])
    assert result.exit_code == 0, result.output
    head = [line for line in result.stdout.splitlines() if line.startswith("Unit")][0]
    assert head.index("y2020") < head.index("y2021") < head.index("y2022")
    whole = runner.invoke(app, ["trend", ".", "--lang", "en"])
    assert "Rounds with no other round of their unit set: z2021" in whole.stdout
    detail = runner.invoke(app, ["trend", "rounds", "--unit", "a", "--lang", "en"]).stdout
    assert "1.2n 许可和服务信息 (1.2)" in detail  # the id it had before
    assert "及时公开" in detail and "y2020 2, y2021 2, y2022 2" in detail


def test_trend_of_a_path_that_is_no_round_is_refused(years, monkeypatch):
    monkeypatch.chdir(years)
    result = runner.invoke(app, ["trend", "rounds/nothing"])
    assert result.exit_code == 1 and "not a round directory" in result.output


# --- report --history -------------------------------------------------------------------

def test_report_history_draws_each_units_totals_and_links_recurring_problems(years, monkeypatch):
    monkeypatch.chdir(years)
    result = runner.invoke(app, ["report", "rounds/y2022", "--history", "rounds", "--format", "md", "--out", "md",
                                 "--lang", "en"])
    assert result.exit_code == 0, result.output
    page = (years / "md/units/a.md").read_text(encoding="utf-8")
    history = page[page.index("## History"):]
    assert history.index("测试2020") < history.index("测试2021") < history.index("测试2022")
    assert "![History](../charts/history-a.svg)" in page
    chart = (years / "md/charts/history-a.svg").read_text(encoding="utf-8")
    assert chart.startswith("<svg") and chart.count("<circle") == 3 and "y2021" in chart
    recurring = page[page.index("## Recurring problems"):]
    assert "What y2021 asked to fix" in recurring and "及时公开" in recurring and "1.2n" in recurring
    assert "z2021" not in page  # another unit set's round is not this unit's history
    html = runner.invoke(app, ["report", "rounds/y2022", "--history", "rounds/y2020", "--history", "rounds/y2021",
                               "--out", "html"])
    assert html.exit_code == 0, html.output
    unit_html = (years / "html/units/a.html").read_text(encoding="utf-8")
    assert unit_html.count("<svg") == 1 and "<img" not in unit_html  # inlined, nothing to fetch
    assert (years / "html/report.html").read_text(encoding="utf-8").count("<polyline") == 2  # a and b
    earlier = runner.invoke(app, ["report", "rounds/y2021", "--history", "rounds", "--format", "md", "--out", "e"])
    assert earlier.exit_code == 0
    assert "y2022" not in (years / "e/charts/history-a.svg").read_text(encoding="utf-8")  # later rounds left out


def test_report_without_history_is_unchanged(years, monkeypatch):
    monkeypatch.chdir(years)
    runner.invoke(app, ["report", "rounds/y2022", "--format", "md", "--out", "plain"])
    assert "## History" not in (years / "plain/units/a.md").read_text(encoding="utf-8")
    assert not list((years / "plain/charts").glob("history-*"))


# --- followup ----------------------------------------------------------------------------

def test_followup_lists_still_failing_problems_with_the_earlier_fix(years, monkeypatch):
    monkeypatch.chdir(years)
    result = runner.invoke(app, ["followup", "rounds/y2021", "rounds/y2022", "--lang", "en"])
    assert result.exit_code == 0, result.output
    tail = result.stdout[result.stdout.index("Still failing: what the earlier round asked to fix:"):]
    assert "1.2" in tail and "未公开行政许可结果" in tail and "及时公开" in tail
    assert "研究部署" not in tail  # fixed in 2022
    data = json.loads(runner.invoke(app, ["followup", "rounds/y2021", "rounds/y2022", "-f", "json"]).stdout)
    failing = [p for p in data["problems"] if p["status"] == "still-failing"]
    assert [(p["indicator"], p["fix"], p["new_reason"]) for p in failing] == [("1.2", "及时公开", "未公开行政许可结果")]


# --- the chart -----------------------------------------------------------------------------

def test_line_chart_breaks_where_a_round_did_not_score_the_unit():
    from decimal import Decimal

    from gapctl.report.svg import line_chart

    points = [("2020", Decimal("80.5"), "80.5"), ("2021", None, ""), ("2022", Decimal("90"), "90.0"),
              ("2023", Decimal("95.25"), "95.3")]
    chart = line_chart("<总得分>", points, Decimal(100))
    assert chart == line_chart("<总得分>", points, Decimal(100))  # same data, same bytes
    assert chart.count("<polyline") == 1 and chart.count("<circle") == 3  # 2020 stands alone
    assert "&lt;总得分&gt;" in chart and "<总得分>" not in chart
    assert "95.3" in chart and "—" in chart


def test_without_version_keeps_trend_output(monkeypatch):
    """Text output carries no version or provenance: nothing to blank."""
    monkeypatch.chdir(ROOT)
    out = runner.invoke(app, ["trend", "rounds/suizhou-2021", "rounds/suizhou-2022"]).stdout
    assert without_version(out) == out
