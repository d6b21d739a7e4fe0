"""Validation messages and rule words are Chinese by default and English on request (issue #17).

The checks of gapctl.scoring.validate, gapctl.scoring.check_constructs and gapctl.scoring.check_rollups, the rule kinds'
checks and descriptions, formula errors and the words explain uses for constructs come from the
catalogue; codes and positions never depend on the language.
"""

from __future__ import annotations

import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from gapctl import i18n
from tests.conftest import ROOT

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def chinese(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default a user gets: no GAPCTL_LANG and no English locale."""
    for name in ("GAPCTL_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GAPCTL_NO_CACHE", "1")
    i18n.use(None)
    assert i18n.lang() == "zh"


def _problems(path: Path) -> list[tuple[str, int, int, str, str]]:
    from gapctl.api import check

    return [(str(p.locate().path), p.locate().line, p.locate().col, p.code, p.message)
            for p in check(path).report.sorted()]


def _checked_here(path: Path) -> list[tuple[str, str]]:
    """(code, message) of the problems validate's checks found (not the loader's shape problems)."""
    from gapctl.scoring.load import load
    from gapctl.scoring.validate import validate

    try:
        loaded = load(path)
    except Exception:  # what the loader cannot take at all is api.check's business
        return []
    made_by_loader = {id(p) for p in loaded.problems}
    return [(p.code, p.message) for p in validate(loaded).problems if id(p) not in made_by_loader]


def _bad_cases() -> list[Path]:
    from tests.test_bad_inputs import CASES

    return [case for case in CASES if not (case / "generate.py").exists()]


def test_the_bad_input_corpus_reads_in_chinese_with_the_same_codes_and_positions(chinese, monkeypatch, tmp_path):
    from tests.test_bad_inputs import _expectation

    seen: set[str] = set()
    for case in _bad_cases():
        run, _code, _lines, env = _expectation(case)
        if env:
            continue
        copy = tmp_path / case.name
        shutil.copytree(case, copy, symlinks=True)
        target = copy / run
        monkeypatch.chdir(copy)
        i18n.use("zh")
        in_chinese, checked_zh = _problems(target), _checked_here(target)
        i18n.use("en")
        in_english, checked_en = _problems(target), _checked_here(target)
        i18n.use(None)
        assert [p[:4] for p in in_chinese] == [p[:4] for p in in_english], case.name
        for (code, zh), (_, en) in zip(checked_zh, checked_en, strict=True):
            seen.add(code)
            assert CJK.search(zh) and zh != en, f"{case.name}: {code} {zh}"
    assert {"E302", "E401", "E402", "E406", "E501"} <= seen  # the corpus exercised the checks


def test_validate_words_a_broken_scheme_in_chinese(chinese, mini_repo):
    scheme = mini_repo / "schemes" / "mini.yaml"
    scheme.write_text(scheme.read_text(encoding="utf-8").replace("points: 6", "points: 7"), encoding="utf-8")
    messages = {code: message for *_, code, message in _problems(mini_repo)}
    assert messages["E402"] == "“2” items：各分项合计 6 分，但指标分值为 7 分"


def test_formula_errors_read_in_chinese(chinese):
    from gapctl.scheme.formula import FormulaError, parse

    cases = {"bse > 85": "未知的名称“bse”；是否应为“base”？", "base >": "公式不完整（缺少运算数或“)”）",
             "score(2.1, 2) > 1": "score(…) 需要 1 个参数，而不是 2 个", "base # 85": "此处不能出现“#”"}
    for text, expected in cases.items():
        with pytest.raises(FormulaError) as err:
            parse(text + " ")  # a text parse() has not cached
        assert err.value.message == expected
    i18n.use("en")
    with pytest.raises(FormulaError) as err:
        parse("bse > 86")
    assert err.value.message == "unknown name 'bse'; did you mean 'base'?"
    i18n.use(None)


def _rule(kind: str, **params):
    from gapctl.data.model import Indicator, Rule

    rule = Rule(kind=kind, params=params)
    return rule, Indicator(id="1", name="测试", points=Decimal(10))


@pytest.mark.parametrize("kind, params, zh, en", [
    ("all-or-nothing", {}, "完成得10分，未完成不得分", "10 if done, otherwise 0"),
    ("count-tiers", {"tiers": [{"at_least": 1, "points": 7}, {"at_least": 2, "points": 10}]},
     "1次及以上得7分，2次及以上得10分，不足不得分", "1+ times: 7; 2+ times: 10; fewer: 0"),
    ("deduction-tiers", {"tiers": [{"at_least": 1, "deduct": 1}, {"at_least": 3, "deduct": 5}]},
     "满分10分；通报1次扣1分，通报3次扣5分；扣完为止", "10 less: 1+ notices: -1; 3+ notices: -5; never below 0"),
    ("expert-grade", {"step": Decimal("0.5")}, "专家评分，0至10分，以0.5分为单位",
     "expert grade, 0 to 10 in steps of 0.5"),
    ("items", {"items": [{"id": "a", "name": "明确分管领导", "name_en": "A lead", "points": 4},
                         {"id": "b", "name": "研究部署", "points": 6}]},
     "分项计分：明确分管领导4分、研究部署6分；每缺一项扣除相应分值",
     "items: A lead 4, 研究部署 6; each missing item loses its points"),
    ("per-occurrence", {"deduct": 5}, "每次扣5分，累计叠加，不计上限", "-5 per occurrence, cumulative, no limit"),
    ("per-occurrence", {"deduct": 1, "cap": 3}, "每次扣1分，最多扣3分", "-1 per occurrence, at most -3"),
    ("per-occurrence", {"deduct": 2, "once": True}, "发生即扣2分（只扣一次）", "-2 once if it happens"),
    ("proportional", {}, "按完成程度计分：完成比例 × 10分", "fraction done × 10"),
    ("rank", {"measure": "satisfaction", "top": 3, "among": "category"},
     "satisfaction类别内排名前3名得10分（并列同名次）",
     "10 for ranking in the top 3 on satisfaction within the category (ties share)"),
    ("threshold", {"at_least": 90}, "基础得分达到90分（含）得10分", "10 when the base score reaches 90"),
    ("clauses", {"clauses": [{"id": "col", "name": "未设置专栏", "deduct": 3},
                             {"id": "err", "deduct": {"错别字": Decimal("0.2")}, "per": "kind", "max": 2},
                             {"id": "miss", "earn": 1, "per": "each"}]},
     "从10分起计，未设置专栏（扣3分）；错别字每处扣0.2分（最多2分）；每处得1分",
     "from 10: 未设置专栏 (-3); 错别字 -0.2 each (at most 2); +1 each"),
])
def test_every_rule_kind_is_described_in_both_languages(kind, params, zh, en, chinese):
    from gapctl.scheme.rules import REGISTRY

    rule, indicator = _rule(kind, **params)
    assert REGISTRY[kind].describe(rule, indicator, "zh") == zh
    assert REGISTRY[kind].describe(rule, indicator, "en") == en


def test_rule_checks_speak_the_current_language(chinese):
    from gapctl.scheme.rules import REGISTRY

    rule, indicator = _rule("count-tiers", tiers=[{"at_least": 2, "points": 3}, {"at_least": 1, "points": 12}])
    messages = [m for m, _at in REGISTRY["count-tiers"].check_params(rule, indicator)]
    assert messages == ["第 2 档：at_least 必须逐档递增", "第 2 档：points 12 超过了指标的分值 10 分"]
    i18n.use("en")
    messages = [m for m, _at in REGISTRY["count-tiers"].check_params(rule, indicator)]
    assert messages == ["tier 2: 'at_least' must increase from tier to tier",
                        "tier 2: points 12 is above the indicator's 10 points"]
    i18n.use(None)


def test_construct_words_for_explain_in_both_languages(chinese):
    from gapctl.scheme.constructs.bounds import Cut, cut_text
    from gapctl.scheme.formula import NAMES, STAGES, TOTAL, show_value

    cut = Cut(Decimal("-1.5"), Decimal(0), "points")
    assert cut_text(cut, "zh") == "界限：−1.5 → 0（扣完为止，本项在0至满分之间）"
    assert cut_text(cut, "en") == "Bound: −1.5 → 0 (held within [0, points])"
    assert (NAMES["bonus_raw"].zh, NAMES["bonus_raw"].en) == ("加分（封顶前）", "bonus before cap")
    assert (i18n.in_lang(STAGES[TOTAL], "zh"), STAGES[TOTAL]) == ("总得分", "total")
    assert [show_value(v, "zh") for v in (True, False, None)] == ["成立", "不成立", "无"]
    assert [show_value(v, "en") for v in (True, False, None)] == ["true", "false", "none"]


def test_problem_docs_give_each_code_in_both_languages():
    from gapctl.problems import CATALOGUE

    text = (ROOT / "docs" / "problems.md").read_text(encoding="utf-8")
    for kind in CATALOGUE.values():
        assert f"| {kind.code} | `{kind.name}` |" in text
        assert f"## {kind.code} `{kind.name}` · {kind.title_in('zh')}" in text
        assert kind.description in text and kind.description_in("zh") in text
