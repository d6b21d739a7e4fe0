"""gapctl.data.schema: the Chinese words evaluators write are read as the English values, wherever they are
read from (YAML, TOML, a spreadsheet), and an advice gives the whole fix at once, in Chinese by default."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from gapctl import i18n
from gapctl.api import score
from gapctl.cli import app
from gapctl.data import schema as S
from gapctl.data.assumptions import label
from gapctl.problems import BAD_VALUE, UNKNOWN_KEY, WRONG_TYPE
from gapctl.scoring.load import load
from tests.conftest import MINI_ROUND, MINI_SCHEME, MINI_UNITS, write_repo

# four indicators and a veto: a result, items, findings and a fact each read a Chinese word
ZH_SCHEME = """\
id: zh
title: 中文取值
indicators:
  - id: "1"
    name: 公开渠道
    points: 2
    rule: {kind: all-or-nothing}
  - id: "2"
    name: 组织领导
    points: 6
    rule:
      kind: items
      items:
        - {id: lead, name: 明确分管领导, points: 2}
        - {id: plan, name: 研究部署, points: 4}
  - id: "3"
    name: 信息准确
    points: 4
    rule:
      kind: clauses
      clauses:
        - {id: wrong, name: 发现错误信息扣2分, deduct: 2}
        - {id: stale, name: 未及时更新扣1分, deduct: 1}
  - id: "4"
    name: 依申请公开
    points: 2
    rule: {kind: all-or-nothing}
vetoes:
  - {id: leak, name: 发生泄密事件, when: fact(泄密), total: 0}
"""

# as an evaluator writes it, in Chinese
OBS_ZH = """\
unit: {unit}
facts: {{泄密: {leak}}}
results:
  - indicator: "1"
    result: 完成  # 已核实
  - indicator: "2"
    items: {{lead: 是, plan: 否}}
    reason: 未研究部署
  - indicator: "3"
    reason: 发现错误信息
    findings: {{wrong: 是, stale: 否}}
  - indicator: "4"
    result: 不适用
"""

# the same, with the English words (and what `gapctl fmt` writes for OBS_ZH)
OBS_EN = """\
unit: {unit}
facts: {{泄密: {leak}}}
results:
  - indicator: "1"
    result: done  # 已核实
  - indicator: "2"
    items: {{lead: true, plan: false}}
    reason: 未研究部署
  - indicator: "3"
    reason: 发现错误信息
    findings: {{wrong: true, stale: false}}
  - indicator: "4"
    result: n/a
"""


def zh_repo(base: Path, template: str) -> Path:
    """Units a (no leak: 否 / false) and b (a leak: 是 / true), observed as `template` writes them."""
    words = {"a": ("否", "false"), "b": ("是", "true")}
    chinese = template is OBS_ZH
    return write_repo(base, {
        "schemes/zh.yaml": ZH_SCHEME,
        "units/mini.yaml": MINI_UNITS,
        "rounds/r1/round.toml": MINI_ROUND.replace('scheme = "mini"', 'scheme = "zh"'),
        **{f"rounds/r1/observations/{u}.yaml": template.format(unit=u, leak=words[u][0 if chinese else 1])
           for u in words},
    })


def scores(repo: Path) -> dict[str, tuple]:
    """Each unit's figures, leaf by leaf, and whether the veto struck."""
    round_ = load(repo / "rounds" / "r1").round
    out = {}
    for unit in score(round_).units:
        leaves = tuple(sorted((i, s.state, s.points, s.earned) for i, s in unit.leaves.items()))
        out[unit.unit.id] = (unit.total, unit.base, leaves, tuple(v.id for v in unit.vetoed))
    return out


def model(repo: Path) -> dict[str, tuple]:
    round_ = load(repo / "rounds" / "r1").round
    return {u: (obs.facts, [(r.indicator, r.state, r.items, r.findings) for r in obs.results])
            for u, obs in round_.observations.items()}


# --- the words are read as the English values -------------------------------------------

def test_chinese_words_read_and_score_as_the_english_ones(tmp_path):
    chinese, english = zh_repo(tmp_path / "zh", OBS_ZH), zh_repo(tmp_path / "en", OBS_EN)
    assert load(chinese / "rounds" / "r1").problems == []
    assert model(chinese) == model(english)
    facts, entries = model(chinese)["a"]
    assert facts == {"泄密": False}
    assert entries[0][1] == "done" and entries[3][1] == "n/a"
    assert entries[1][2] == {"lead": True, "plan": False} and entries[2][3] == {"wrong": True, "stale": False}
    assert scores(chinese) == scores(english)
    assert scores(chinese)["b"][3] == ("leak",) and scores(chinese)["a"][3] == ()  # 是 vetoes, 否 does not


@pytest.mark.parametrize("word, value", sorted(S.RESULT_ALIASES.items()))
def test_every_result_word(mini_repo, word, value):
    write_repo(mini_repo, {"rounds/r1/observations/b.yaml": f'unit: b\nresults:\n  - indicator: "1.1"\n'
                                                            f"    result: {word}\n"})
    loaded = load(mini_repo / "rounds" / "r1")
    assert [p.message for p in loaded.problems] == []
    assert loaded.round.observations["b"].results[0].state == value


def test_toml_reads_the_same_words(mini_repo):
    (mini_repo / "rounds/r1/observations/b.yaml").unlink()
    write_repo(mini_repo, {
        "rounds/r1/round.toml": MINI_ROUND.replace("example = true", 'example = "是"'),
        "rounds/r1/observations/b.toml": 'unit = "b"\n[[results]]\nindicator = "1.1"\nresult = "待评"\n'
                                         '[[results]]\nindicator = "2"\nitems = {lead = "是", plan = "否"}\n',
    })
    loaded = load(mini_repo / "rounds" / "r1")
    assert [p.message for p in loaded.problems] == []
    assert loaded.round.example is True
    first, second = loaded.round.observations["b"].results
    assert first.state == "pending" and second.items == {"lead": True, "plan": False}


def test_yes_and_no_wherever_true_or_false_is_wanted(mini_repo):
    write_repo(mini_repo, {"schemes/mini.yaml": MINI_SCHEME.replace(
        "        name: 渠道覆盖\n", "        name: 渠道覆盖\n        bounded: 否\n        assumed: 是\n")})
    scheme = load(mini_repo / "rounds" / "r1").round.schemes["mini"]
    leaf = scheme.indicators[0].children[0]
    assert leaf.bounded is False and leaf.assumed is True
    assert [label(a, "en") for a in scheme.assumptions] == ["indicator 1.1 渠道覆盖"]


def test_an_appeal_decision_reads_the_words_too(mini_repo):
    write_repo(mini_repo, {"rounds/r1/appeals/a.yaml": """\
        unit: a
        appeals:
          - indicator: "1.2"
            filed: 2024-01-10
            decision: {outcome: upheld, reviewer: 李四, result: {result: 完成}}
          - indicator: "2"
            filed: 2024-01-10
            decision: {outcome: upheld, reviewer: 李四, result: {items: {lead: 是, plan: 否}}}
        """})
    loaded = load(mini_repo / "rounds" / "r1")
    first, second = loaded.round.appeals["a"]
    assert first.result.state == "done" and second.result.items == {"lead": True, "plan": False}


def test_other_words_are_not_guessed(mini_repo):
    """是 is true where true or false is wanted, not a result; 对 is not a boolean."""
    write_repo(mini_repo, {"rounds/r1/observations/b.yaml": 'unit: b\nresults:\n  - indicator: "1.1"\n'
                                                            "    result: 是\n  - indicator: '2'\n"
                                                            "    items: {lead: 对, plan: true}\n"})
    loaded = load(mini_repo / "rounds" / "r1")
    [bad] = [p for p in loaded.problems if p.kind is BAD_VALUE]
    assert "not '是'" in bad.message
    assert loaded.round.observations["b"].results[1].items == {"lead": "对", "plan": True}  # validate reports it


def test_the_canonical_form_is_the_english_word():
    result = S.RESULT["result"]
    words = ("完成", "未完成", "不适用", "待评", "待评估", "未评估", "无佐证", "无佐证材料")
    assert [S.canonical(result, w) for w in words] == \
        ["done", "not-done", "n/a", "pending", "pending", "pending", "no-evidence", "no-evidence"]
    assert S.canonical(result, "done") == "done" and S.canonical(result, "是") == "是"
    assert S.canonical(S.F("bool"), "是") is True and S.canonical(S.F("bool"), "否") is False
    assert S.canonical(S.F("text"), "是") == "是"
    assert [S.canonical_entry(v) for v in ("是", "否", 3, "对")] == [True, False, 3, "对"]
    assert set(S.RESULT_ALIASES.values()) == set(S.RESULT_STATES)


def test_a_spreadsheet_takes_the_same_words(mini_repo, monkeypatch):
    monkeypatch.chdir(mini_repo)
    (mini_repo / "rounds/r1/observations/b.yaml").unlink()
    (mini_repo / "r.csv").write_text("单位,指标,结果\nb,1.1,待评\nb,2,未评估\n", encoding="utf-8")
    done = CliRunner().invoke(app, ["import", "rounds/r1", "r.csv"])
    assert done.exit_code == 0, done.output
    text = (mini_repo / "rounds/r1/observations/b.yaml").read_text(encoding="utf-8")
    assert text.count("result: pending") == 2


# --- the advice gives the whole fix at once ----------------------------------------------

def _problem(repo: Path, name: str, text: str, kind):
    (repo / "rounds/r1/observations/b.yaml").unlink()
    write_repo(repo, {f"rounds/r1/observations/{name}": text})
    [found] = [p for p in load(repo / "rounds" / "r1").problems if p.kind is kind]
    return found


@pytest.mark.parametrize("name, text, written, at", [
    ("b.yaml", 'unit: b\nresults:\n  - indicator: "1.1"\n    result: yes\n', "yes", (4, 13)),
    ("b.yaml", 'unit: b\nresults:\n  - {indicator: "1.1", result: On}\n', "On", (3, 32)),
    ("b.toml", 'unit = "b"\n[[results]]\nindicator = "1.1"\nresult = true\n', "true", (4, 10)),
])
def test_result_read_as_a_boolean_says_everything_in_one_message(mini_repo, name, text, written, at):
    problem = _problem(mini_repo, name, text, WRONG_TYPE)
    assert problem.message == (f"'result' must be done (完成), not-done (未完成), n/a (不适用), no-evidence (无佐证) "
                               f"or pending (待评), not {written} (YAML reads {written} as the boolean true)")
    assert (problem.locate().line, problem.locate().col) == at


def test_result_advice_in_chinese_by_default(mini_repo, monkeypatch):
    monkeypatch.delenv("GAPCTL_LANG")
    i18n.use(None)
    problem = _problem(mini_repo, "b.yaml", 'unit: b\nresults:\n  - indicator: "1.1"\n    result: yes\n', WRONG_TYPE)
    assert problem.message == ("'result' 应为 done（完成）、not-done（未完成）、n/a（不适用）、no-evidence（无佐证）"
                               "或 pending（待评），而不是 yes（YAML 把 yes 读作布尔值 true）")


def test_quoted_yes_lists_the_values_too(mini_repo):
    problem = _problem(mini_repo, "b.yaml", 'unit: b\nresults:\n  - indicator: "1.1"\n    result: "yes"\n', BAD_VALUE)
    assert "must be done (完成), not-done (未完成)" in problem.message and "not 'yes'" in problem.message


def test_a_boolean_key_names_its_chinese_words(mini_repo):
    write_repo(mini_repo, {"rounds/r1/round.toml": MINI_ROUND.replace("example = true", 'example = "对"')})
    [problem] = load(mini_repo / "rounds" / "r1").problems
    assert problem.message == "'example' must be true or false (是 or 否), not text '对'"


# --- messages in Chinese by default, English on request --------------------------------------

CHINESE = [
    ('unit: b\nresults:\n  - indicator: "1.1"\n    resutl: done\n', UNKNOWN_KEY,
     "观测条目中有未知的键 'resutl'；是否应为“result”？"),
    ('unit: b\nresults:\n  - indicator: 1.1\n', WRONG_TYPE,
     "'indicator' 是编号，应为文本；1.1 被读成了数字：请加引号，写作 \"1.1\""),
    ('unit: b\nobserved_at: 2021年1月14日\nresults: []\n', BAD_VALUE,
     "'observed_at' 应为 YYYY-MM-DD 格式的日期，而不是“2021年1月14日”；请写作 2021-01-14"),
    ('unit: b\nresults:\n  - indicator: "2"\n    fraction: 85%\n', WRONG_TYPE,
     "'fraction' 应为数字，而不是文本“85%”；请去掉 '%'（比例写作 0…1 之间的数，如 85% 写作 0.85）"),
    ('unit: b\nresults:\n  - indicator: "2"\n    note: yes\n', WRONG_TYPE,
     "'note' 应为文本，而不是布尔值 true/false；"
     "YAML 会把 yes、no、on、off、y、n（不区分大小写）读作 true/false：请加引号"),
]


@pytest.mark.parametrize("text, kind, chinese", CHINESE)
def test_schema_messages_are_chinese_by_default_and_english_on_request(mini_repo, monkeypatch, text, kind, chinese):
    monkeypatch.delenv("GAPCTL_LANG")
    i18n.use(None)
    write_repo(mini_repo, {"rounds/r1/observations/b.yaml": text})
    [zh] = [p for p in load(mini_repo / "rounds" / "r1").problems if p.kind is kind]
    assert zh.message == chinese
    i18n.use("en")
    [en] = [p for p in load(mini_repo / "rounds" / "r1").problems if p.kind is kind]
    assert en.code == zh.code and en.locate() == zh.locate()
    assert en.message != zh.message and not any("\u4e00" <= c <= "\u9fff" for c in en.message.split("'")[0])
    i18n.use(None)


def test_a_missing_key_is_named_with_its_meaning_in_chinese(mini_repo, monkeypatch):
    monkeypatch.delenv("GAPCTL_LANG")
    i18n.use(None)
    write_repo(mini_repo, {"units/mini.yaml": "id: mini\nunits:\n  - {id: a, name: 区财政局, type: 区属部门}\n"})
    messages = [p.message for p in load(mini_repo / "rounds" / "r1").problems]
    assert "评估对象名单缺少 'name'（文本）" in messages  # the unit set's name has no doc: its type is named


def test_editors_accept_the_same_words():
    """The JSON Schema for editors (gapctl schema) takes the words gapctl reads, and no others."""
    import json

    import jsonschema

    from gapctl.io.json_schema import render

    validator = jsonschema.Draft202012Validator(json.loads(render()["observations.schema.json"]))
    good = {"unit": "a", "results": [{"indicator": "1", "result": "完成"}, {"indicator": "2", "result": "无佐证材料"},
                                     {"indicator": "3", "items": {"lead": "是", "plan": False}}]}
    assert [e.message for e in validator.iter_errors(good)] == []
    bad = {"unit": "a", "results": [{"indicator": "1", "result": "完了"}, {"indicator": "2", "items": {"lead": "对"}}]}
    assert len(list(validator.iter_errors(bad))) == 2


def test_ids_are_matched_as_the_whole_pattern_matches_them():
    """ID_PATTERN matches an ASCII value by its ASCII part and compiles the CJK ranges only for other values (~2 ms
    of each process): the same verdict as re.compile(ID_REGEX) for values made of the characters each part treats
    differently (a trailing newline, which `$` alone would let through, included), and the JSON Schema states it."""
    import random
    import re

    from gapctl.io.json_schema import schemas

    whole = re.compile(S.ID_REGEX)
    alphabet = "aZ09_.-\n 中文\u4e00\u9fff\u3000é\u9fa5/"
    chosen = random.Random(7)
    values = ["", "1.10", "a-b_c.d", "1\n", "中文", "中文\n", "-a", ".a", "_a", "Ａ1", "a b"]
    values += ["".join(chosen.choice(alphabet) for _ in range(chosen.randint(0, 6))) for _ in range(20_000)]
    for value in values:
        assert bool(S.ID_PATTERN.fullmatch(value)) == bool(whole.fullmatch(value)), repr(value)
    assert S.ID_PATTERN.pattern == S.ID_REGEX
    found, todo = [], [schemas()]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            found += [node["pattern"]] if "pattern" in node else []
            todo += node.values()
        elif isinstance(node, list):
            todo += node
    assert S.ID_REGEX in found
