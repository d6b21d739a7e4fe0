"""Every assumption visible: `assumed` on any mapping of schemes, rounds, unit sets and external files,
listed by `gapctl show` (text in both languages, JSON) and by the reports' method section; and the
audit of the shipped seeds (issue 19, section 3), one test or `show` line per item."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from gapctl.api import check, score
from gapctl.cli import app
from gapctl.data import assumptions as A
from gapctl.report.markdown import overview
from gapctl.scoring.load import load
from tests.conftest import ROOT, write_repo

runner = CliRunner()

SCHEME = """\
id: s
title: 指标体系
total_points: 10
scoring:
  normalise: applicable
  assumed: {normalise: 折算方法未公布}
indicators:
  - id: "1"
    name: 甲
    points: 10
    applies_to: {unit_types: [部门]}
    assumed: {applies_to: 适用范围未公布, name: 名称据方案概括}
    rule:
      kind: items
      items:
        - {id: a, name: 子项一, points: 6}
        - {id: b, name: 子项二, points: 4, assumed: {points: 分值未公布}}
grades:
  - {label: 优秀, min: 90, assumed: true, assumed_note: 分数线未公布}
conversion: {points: 4, assumed: true, assumed_note: 折算方法未公布}
ranking: none
assumed: [total_points, late_evidence]
assumed_note: 附件未公布
"""
UNITS = """\
id: u
name: 单位
units:
  - {id: x, name: 甲局, type: 部门, tags: [t], assumed: {tags: 属性为示意}}
assumed: {units: 示例名单}
"""
ROUND = """\
id = "r"
title = "轮次"
units = "u"
period = { start = 2021-01-01, end = 2021-12-31, assumed = true, assumed_note = "期间为示意" }

[[schemes]]
scheme = "s"

[stages]
preliminary = 2021-10-15
final = 2021-10-27

[stages.assumed]
final = "具体日期为示意"

[external.e]
file = "external/e.yaml"
assumed = true
assumed_note = "外部扣分来源为示意"
"""


@pytest.fixture
def repo(tmp_path):
    write_repo(tmp_path, {
        "schemes/s.yaml": SCHEME + "external: [{id: e, name: 外部, mode: subtract}]\n",
        "units/u.yaml": UNITS, "rounds/r/round.toml": ROUND,
        "rounds/r/external/e.yaml": "name: 外部\ndeductions: []\nassumed: true\nassumed_note: 示例\n",
        "rounds/r/observations/x.yaml": 'unit: x\nresults:\n  - {indicator: "1", items: {a: true, b: true}}\n',
    })
    return tmp_path


def _labels(found, lang="en"):
    return [(A.label(a, lang), a.note) for a in found]


def test_assumed_on_every_kind_of_mapping_in_three_forms(repo):
    loaded = load(repo / "rounds/r")
    assert loaded.problems == []
    scheme = loaded.round.schemes["s"]
    assert _labels(scheme.assumptions) == [  # in the file's order; an absent key where its mapping starts
        ("scheme · late_evidence", "附件未公布"),  # absent: its default (warn) is what was assumed
        ("scheme · total_points", "附件未公布"),
        ("scoring method · normalise", "折算方法未公布"),
        ("indicator 1 甲 · name", "名称据方案概括"),
        ("indicator 1 甲 · applies_to", "适用范围未公布"),
        ("indicator 1 甲 · scoring rule items · rule item b 子项二 · points", "分值未公布"),
        ("grade band 优秀", "分数线未公布"),
        ("conversion", "折算方法未公布"),
    ]
    assert _labels(loaded.round.assumptions) == [
        ("period", "期间为示意"), ("stages · final", "具体日期为示意"), ("external source · e", "外部扣分来源为示意")]
    assert _labels(loaded.round.unit_set.assumptions) == [("unit set · units", "示例名单"),
                                                          ("unit x 甲局 · tags", "属性为示意")]
    assert _labels(loaded.round.external["e"].assumptions) == [("external deductions", "示例")]
    # in Chinese through the catalogue
    assert A.label(scheme.assumptions[5], "zh") == "指标 1 甲 · 评分规则 items · 单项 b 子项二 · points"
    assert A.label(loaded.round.assumptions[1], "zh") == "阶段 · final"
    # the marks change nothing else: the stages are only dates, the whole-mapping flags are as before
    assert set(loaded.round.stages) == {"preliminary", "final"}
    assert scheme.grades[0].assumed and not scheme.indicators[0].assumed


def test_show_lists_them_in_both_languages_and_json(repo, monkeypatch):
    monkeypatch.chdir(repo)
    zh = runner.invoke(app, ["show", "schemes/s.yaml", "--lang", "zh"] if False else ["--lang", "zh", "show",
                                                                                      "schemes/s.yaml"]).output
    assert "假定（非公布数据）：8 项" in zh and "  - 指标 1 甲 · applies_to：适用范围未公布" in zh
    assert "规定总分：10*" in zh and "逾期佐证材料：warn*" in zh and "排名：不公布" in zh
    en = runner.invoke(app, ["--lang", "en", "show", "schemes/s.yaml"]).output
    assert "  - indicator 1 甲 · applies_to: 适用范围未公布" in en and "declared total points: 10*" in en
    assert "\n1   甲*" in en  # the indicator carries an assumption of its own
    data = json.loads(runner.invoke(app, ["show", "schemes/s.yaml", "-f", "json"]).output)
    first = data["assumptions"][4]
    assert first == {"what": "指标 1 甲 · applies_to", "what_en": "indicator 1 甲 · applies_to",
                     "where": "schemes/s.yaml:11", "path": "indicators.0.applies_to", "key": "applies_to",
                     "note": "适用范围未公布"}
    round_text = runner.invoke(app, ["--lang", "en", "show", "rounds/r"]).output
    for line in ("  this round (round.toml)", "    - stages · final: 具体日期为示意", "  unit set u",
                 "    - unit x 甲局 · tags: 属性为示意", "  external deductions e", "  scheme s"):
        assert line in round_text, line
    rows = {line.split("  ")[0]: line.split()[-1] for line in round_text.splitlines() if "  " in line}
    assert (rows["stage final"], rows["stage preliminary"], rows["period"]) == ("2021-10-27*", "2021-10-15",
                                                                                 "2021-12-31*")
    round_json = json.loads(runner.invoke(app, ["show", "rounds/r", "-f", "json"]).output)
    assert [(f["file"], f["id"], len(f["assumptions"])) for f in round_json["assumptions"]] == [
        ("round", "r", 3), ("external", "e", 1), ("units", "u", 2), ("scheme", "s", 8)]
    units = runner.invoke(app, ["--lang", "en", "show", "units/u.yaml"]).output
    assert "  - unit set · units: 示例名单" in units


def test_the_report_method_section_lists_every_assumption(repo):
    result = check(repo / "rounds/r")
    scored = score(result.loaded.round)
    for lang, heading, line in (
            ("zh", "## 计分方法和假定", "- 阶段 · final：具体日期为示意"),
            ("en", "## Method and assumptions", "- indicator 1 甲 · scoring rule items · rule item b 子项二 · "
                                                "points: 分值未公布")):
        text = overview(scored, lang, ".md").markdown
        assert heading in text and line in text, lang
        method = text[text.index(heading):]
        assert method.count("\n- ") >= 14 + 4  # 14 assumptions, and the scheme's facts


def test_a_scheme_without_assumptions_says_so(tmp_path):
    write_repo(tmp_path, {
        "schemes/s.yaml": "id: s\ntitle: t\nindicators:\n  - {id: '1', name: 甲, points: 10, "
                          "rule: {kind: all-or-nothing}}\nranking: published\n",
        "units/u.yaml": "id: u\nname: n\nunits:\n  - {id: x, name: 甲, type: 部门}\n",
        "rounds/r/round.toml": 'id = "r"\ntitle = "t"\nunits = "u"\n[[schemes]]\nscheme = "s"\n',
        "rounds/r/observations/x.yaml": "unit: x\nresults:\n  - {indicator: '1', result: done}\n"})
    scored = score(check(tmp_path / "rounds/r").loaded.round)
    text = overview(scored, "en", ".md").markdown
    assert "None: every figure is as published." in text and "Ranking: published" in text
    assert "| Rank |" in text  # `ranking: published`: ranked


# --- the audit of the shipped seeds (issue 19, section 3) --------------------------------------------

def _show(*args: str) -> str:
    result = runner.invoke(app, ["--lang", "en", "show", *args])
    assert result.exit_code == 0, result.output
    return result.output


def _assumed(path: str) -> dict[str, str]:
    data = json.loads(runner.invoke(app, ["show", path, "-f", "json"]).output)
    found = data["assumptions"] if "schemes/" in path or "units/" in path else \
        [a for f in data["assumptions"] for a in f["assumptions"]]
    return {a["what_en"]: a["note"] for a in found}


@pytest.fixture
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def test_yanjiang_passdown_applies(at_root):
    text = _show("schemes/yanjiang-2021.yaml")
    assert "passed-down deductions: deductions passed down × 5, from city-performance" in text
    assert "external deductions: city-performance (passdown)" in text
    scored = score(check(ROOT / "rounds/yanjiang-2021").loaded.round).by_unit()
    assert scored["health"].passdown == 1 and scored["health"].total == scored["health"].base + 5  # 5: bonus


def test_yanjiang_item_3_split_by_unit_type_with_applies_to(at_root):
    notes = _assumed("schemes/yanjiang-2021.yaml")
    note = notes["indicator 3 制定制度清单 · scoring rule items"]
    assert "本格式不能" not in note and "记为 true" not in note and "applies_to" in note
    assert "indicator 3 制定制度清单 · scoring rule items · rule item sector-catalogue 26个领域基层政务公开基本目录" \
           "（相关部门） · applies_to" in notes
    for unit in ("approval", "education", "finance", "health", "baohe", "fengyu", "lianhua", "sanxianci"):
        items = load(ROOT / "rounds/yanjiang-2021").round.observations[unit].results[2].items
        assert ("sector-catalogue" in items) == (unit in ("approval", "education", "finance", "health"))
        assert ("town-catalogue" in items) != (unit in ("approval", "education", "finance", "health"))


def test_yanjiang_items_5_and_6_scoped(at_root):
    text = _show("schemes/yanjiang-2021.yaml")
    row = next(line for line in text.splitlines() if line.startswith("6 "))
    assert row.split() == ["6", "“政务协商”活动*", "5", "count-tiers", "镇、街道"]
    notes = _assumed("schemes/yanjiang-2021.yaml")
    assert "indicator 6 “政务协商”活动 · applies_to" in notes and "indicator 5 “政务开放日”活动 · applies_to" in notes
    scheme = load(ROOT / "rounds/yanjiang-2021").round.schemes["yanjiang-2021"]
    five = next(i for i in scheme.all_indicators() if i.id == "5")
    assert five.rules[1].when.tags == ("service-hall",) and five.applies_to.tags == ("service-hall",)


def test_yanjiang_says_why_chengdong_is_missing(at_root):
    assert "城东新区管委会未列入" in _assumed("units/yanjiang.yaml")["unit set · units"]
    assert "城东新区管委会未列入" in _show("rounds/yanjiang-2021")


def test_shanwei_total_late_evidence_and_appeal_window(at_root):
    text = _show("schemes/shanwei-2020.yaml")
    assert "declared total points: 100*" in text and "late evidence: warn*" in text
    notes = _assumed("schemes/shanwei-2020.yaml")
    assert "逾期未报将影响评估得分" in notes["scheme · late_evidence"] and "scheme · total_points" in notes
    round_text = _show("rounds/shanwei-2020")
    rows = {line.rsplit("  ", 1)[0].strip(): line.split()[-1] for line in round_text.splitlines() if "  " in line}
    assert rows["stage preliminary_end"] == "2021-10-19*" and rows["appeal window closes"] == "2021-10-22"


def test_shanwei_appeal_on_the_last_day_of_the_window(tmp_path):
    import shutil

    for part in ("schemes/shanwei-2020.yaml", "units/shanwei.yaml"):
        (tmp_path / part).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / part, tmp_path / part)
    shutil.copytree(ROOT / "rounds/shanwei-2020", tmp_path / "rounds/shanwei-2020")
    appeal = tmp_path / "rounds/shanwei-2020/appeals/luhe.yaml"
    for filed, codes in (("2021-10-22", []), ("2021-10-25", ["E601"])):
        appeal.write_text(appeal.read_text(encoding="utf-8").replace("filed: 2021-10-19", f"filed: {filed}")
                          .replace("filed: 2021-10-22", f"filed: {filed}"), encoding="utf-8")
        found = [p.code for p in check(tmp_path / "rounds/shanwei-2020").report.problems]
        assert [c for c in found if c == "E601"] == codes, filed


def test_shanghai_conversion_renames_and_narrowed_applicability(at_root):
    text = _show("schemes/shanghai-2020-districts.yaml")
    assert "conversion: total ÷ 100 × 4 points of a larger assessment*" in text
    notes = _assumed("schemes/shanghai-2020-departments.yaml")
    for what in ("conversion", "scheme · total_points", "indicator 3.2 重大行政决策公众参与及相关会议公开 · name",
                 "indicator 7.1 编制发布本部门（领域）政务公开标准目录 · name",
                 "indicator 2.2 政务公开服务专区 · applies_to", "indicator 3.5 重点公开领域信息公开 · applies_to",
                 "indicator 7.2 归集发布试点领域政府信息 · applies_to", "indicator 1.4 公文备案 · scope"):
        assert what in notes, what
    districts = _assumed("schemes/shanghai-2020-districts.yaml")
    assert "indicator 3.2 基层行政决策公众参与及政府相关会议公开 · name" in districts


def test_chongqing_total_is_base_and_self_assessment_is_the_end_of_self_checking(at_root):
    text = _show("schemes/chongqing-2020-districts.yaml")
    assert "total score = base*" in text
    assert "scoring method · total" in _assumed("schemes/chongqing-2020-departments.yaml")
    notes = _assumed("rounds/chongqing-2020")
    assert "自查整改" in notes["stages · self_assessment_due"]


@pytest.mark.parametrize("round_id, stages", [
    ("chongqing-2020", {"self_assessment_due"}), ("shanghai-2020", {"collection_start", "collection_end", "final"}),
    ("shanwei-2020", {"preliminary_end", "final"}),
    ("suizhou-2021", {"collection_start", "collection_end", "preliminary", "final"}),
    ("suizhou-2022", {"collection_start", "collection_end", "preliminary", "final", "evidence_due"}),
    ("yanjiang-2021", set())])  # 雁江's one date (2022年1月5日起检查) is published
def test_every_seed_round_marks_the_dates_it_assumed(at_root, round_id, stages):
    found = load(ROOT / "rounds" / round_id).round.assumptions
    assert {a.key for a in found if a.steps[0][0] == "stages"} == stages


@pytest.mark.parametrize("scheme_id, published", [
    ("chongqing-2020-districts", False), ("chongqing-2020-departments", False),
    ("shanghai-2020-districts", False), ("shanghai-2020-departments", False), ("suizhou-2021", False),
    ("yanjiang-2021", False), ("shanwei-2020", True)])
def test_each_seed_declares_whether_it_publishes_a_ranking(at_root, scheme_id, published):
    text = (ROOT / "schemes" / f"{scheme_id}.yaml").read_text(encoding="utf-8")
    assert "\nranking:" in text  # declared, not left to the default
    line = next(line for line in _show(f"schemes/{scheme_id}.yaml").splitlines() if line.startswith("  ranking:"))
    assert ("none published" not in line) == published


def test_a_calendar_may_carry_assumptions_and_the_round_lists_them(repo, monkeypatch):
    """A calendar file (calendars/*.yaml) for a year whose State Council notice is not out yet."""
    write_repo(repo, {"calendars/2021-extra.yaml": "name: 补充\nyears: []\nholidays: [2021-10-20]\n"
                                                   "assumed: {holidays: 通知未发布，按惯例推定}\n"})
    text = (repo / "rounds/r/round.toml").read_text(encoding="utf-8")
    (repo / "rounds/r/round.toml").write_text(text.replace("final = 2021-10-27", "final = 2021-10-27\n"
                                                           "appeal_working_days = 3"), encoding="utf-8")
    monkeypatch.chdir(repo)
    assert check(repo / "rounds/r").report.errors == []
    out = runner.invoke(app, ["--lang", "en", "show", "rounds/r"]).output
    assert "  calendar 2021-extra\n    - calendar · holidays: 通知未发布，按惯例推定" in out
    rows = {line.split("  ")[0]: line.split()[-1] for line in out.splitlines() if "  " in line}
    assert rows["appeal window closes"] == "2021-10-21"  # 10-18, 19, 21: the assumed holiday is skipped
    bad = runner.invoke(app, ["--lang", "en", "validate", "."])
    assert bad.exit_code == 0, bad.output
    write_repo(repo, {"calendars/2021-extra.yaml": "holidays: [2021-10-20]\nassumed: {holiday: x}\n"})
    bad = runner.invoke(app, ["--lang", "en", "validate", "rounds/r"])
    assert bad.exit_code == 1 and "E109" in bad.output and "'holiday'" in bad.output
