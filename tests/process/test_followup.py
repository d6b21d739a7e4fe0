"""Follow-up of the old round's problem list in the new round (gapctl.process.followup)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from gapctl import api
from gapctl.process.followup import followup, json_data, text_lines
from tests.conftest import ROOT, write_repo

OLD_SCHEME = """\
id: f1
title: 2021年指标
tags:
  licensing: 提供行政许可等服务的部门
indicators:
  - {id: "1", name: 公开渠道, points: 2, rule: {kind: all-or-nothing}}
  - id: "2"
    name: 组织领导
    points: 4
    rule:
      kind: items
      items:
        - {id: lead, name: 明确分管领导, points: 2}
        - {id: plan, name: 研究部署, points: 2}
  - {id: "3", name: 目录完整, points: 4, rule: {kind: proportional}}
  - {id: "4", name: 行政许可信息, points: 2, applies_to: {tags: [licensing]}, rule: {kind: all-or-nothing}}
"""

NEW_SCHEME = """\
id: f2
title: 2022年指标
tags:
  licensing: 提供行政许可等服务的部门
indicators:
  - {id: "1", name: 公开渠道, points: 2, rule: {kind: all-or-nothing}}
  - id: "2.1"
    name: 组织领导（新）
    points: 4
    replaces: ["2"]
    rule:
      kind: items
      items:
        - {id: lead, name: 明确分管领导, points: 2}
        - {id: plan, name: 研究部署, points: 2}
  - {id: "4", name: 行政许可信息, points: 2, applies_to: {tags: [licensing]}, rule: {kind: all-or-nothing}}
  - {id: "5", name: 政策解读, points: 4, rule: {kind: proportional}}
"""

OLD_UNITS = """\
id: u1
name: 2021年单位
units:
  - {id: a, name: 区财政局, type: 区属部门, tags: [licensing]}
  - {id: b, name: 区档案馆, type: 区属部门, tags: [licensing]}
  - {id: c, name: 区教育局, type: 区属部门}
"""

NEW_UNITS = """\
id: u2
name: 2022年单位
units:
  - {id: a, name: 区财政局, type: 区属部门, tags: [licensing]}
  - {id: b, name: 区档案馆, type: 区属部门}
"""

FILES = {
    "schemes/f1.yaml": OLD_SCHEME,
    "schemes/f2.yaml": NEW_SCHEME,
    "units/u1.yaml": OLD_UNITS,
    "units/u2.yaml": NEW_UNITS,
    "rounds/r1/round.toml": 'id = "r1"\ntitle = "2021年考评"\nunits = "u1"\n[[schemes]]\nscheme = "f1"\n',
    "rounds/r2/round.toml": 'id = "r2"\ntitle = "2022年考评"\nunits = "u2"\n[[schemes]]\nscheme = "f2"\n',
    "rounds/r1/observations/a.yaml": """\
        unit: a
        results:
          - {indicator: "1", result: not-done, reason: 未公开渠道}
          - {indicator: "2", items: {lead: true, plan: false}, reason: 未研究部署}
          - {indicator: "3", fraction: 0.5, reason: 目录不全}
          - {indicator: "4", result: done}
        """,
    "rounds/r1/observations/b.yaml": """\
        unit: b
        results:
          - {indicator: "1", result: not-done, reason: 渠道缺失}
          - {indicator: "2", items: {lead: true, plan: true}}
          - {indicator: "3", fraction: 1}
          - {indicator: "4", result: not-done, reason: 许可未公开}
        """,
    "rounds/r1/observations/c.yaml": """\
        unit: c
        results:
          - {indicator: "1", result: not-done, reason: 未公开}
          - {indicator: "2", result: pending}
          - {indicator: "3", fraction: 1}
        """,
    "rounds/r2/observations/a.yaml": """\
        unit: a
        results:
          - {indicator: "1", result: done}
          - {indicator: "2.1", items: {lead: true, plan: false}, reason: 仍未研究部署}
          - {indicator: "4", result: not-done, reason: 新问题}
          - {indicator: "5", fraction: 1}
        """,
    "rounds/r2/observations/b.yaml": """\
        unit: b
        results:
          - {indicator: "1", result: pending}
          - {indicator: "2.1", items: {lead: true, plan: true}}
          - {indicator: "5", fraction: 1}
        """,
}


@pytest.fixture
def two_rounds(tmp_path: Path):
    write_repo(tmp_path, FILES)
    old = api.check(tmp_path / "rounds" / "r1")
    new = api.check(tmp_path / "rounds" / "r2")
    for checked in (old, new):
        assert not checked.report.errors, [p.message for p in checked.report.errors]
    return api.score(old.loaded.round), api.score(new.loaded.round)


def test_statuses_by_unit_then_scheme_order(two_rounds) -> None:
    result = followup(*two_rounds)
    got = [(p.unit.id, p.indicator.id, p.status, p.why, p.old_lost, p.new_lost, [i.id for i in p.successors],
            p.reason) for p in result.problems]
    assert got == [
        ("a", "1", "fixed", None, 2, 0, ["1"], "未公开渠道"),
        ("a", "2", "still-failing", None, 2, 2, ["2.1"], "未研究部署"),    # through replaces:
        ("a", "3", "no-longer-assessed", "indicator", 2, None, [], "目录不全"),
        ("b", "1", "pending", None, 2, None, ["1"], "渠道缺失"),
        ("b", "4", "no-longer-assessed", "not-applicable", 2, None, ["4"], "许可未公开"),  # b lost the tag
        ("c", "1", "no-longer-assessed", "unit", 2, None, [], "未公开"),   # c is gone; c's pending 2 is left out
    ]
    assert result.counts() == {"fixed": 1, "still-failing": 1, "no-longer-assessed": 3, "pending": 1}
    assert all(isinstance(p.old_lost, Decimal) for p in result.problems)


def test_text(two_rounds) -> None:
    lines = text_lines(followup(*two_rounds))
    assert lines[0] == "整改跟踪: 2021年考评 (r1) → 2022年考评 (r2)"
    rows = [line.split() for line in lines]
    assert [["已整改", "1"], ["仍扣分", "1"], ["不再考核", "3"], ["尚未评估", "1"], ["合计", "6"]] == \
        [r for r in rows if len(r) == 2 and r[1].isdigit()]
    assert ["区财政局", "2", "组织领导", "2.1", "2", "2", "仍扣分", "未研究部署"] in rows
    assert ["区财政局", "1", "公开渠道", "2", "0", "已整改", "未公开渠道"] in rows
    assert ["区教育局", "1", "公开渠道", "2", "—", "不再考核", "未公开"] in rows
    en = [line.split() for line in text_lines(followup(*two_rounds), "en")]
    assert ["fixed", "1"] in en and ["Status", "Count"] in en


def test_json(two_rounds) -> None:
    data = json_data(followup(*two_rounds))
    assert (data["old_round"], data["new_round"]) == ("r1", "r2")
    assert data["counts"]["no-longer-assessed"] == 3
    assert data["problems"][1] == {"unit": "a", "name": "区财政局", "indicator": "2", "indicator_name": "组织领导",
                                   "new_indicators": ["2.1"], "status": "still-failing", "why": None, "points": "4",
                                   "old_lost": "2", "new_lost": "2", "reason": "未研究部署", "fix": None,
                                   "new_reason": "仍未研究部署"}


def test_same_round_twice_everything_still_failing(two_rounds) -> None:
    old, _ = two_rounds
    result = followup(old, old)
    assert result.counts() == {"fixed": 0, "still-failing": 6, "no-longer-assessed": 0, "pending": 0}


def test_shipped_suizhou_2021_to_2022() -> None:
    old = api.score(api.check(ROOT / "rounds" / "suizhou-2021").loaded.round)
    new = api.score(api.check(ROOT / "rounds" / "suizhou-2022").loaded.round)
    result = followup(old, new)
    expected = sum(1 for u in old.units for leaf in u.lost_leaves() if leaf.state != "pending")
    assert len(result.problems) == expected == sum(result.counts().values())
    assert [p.unit.id for p in result.problems] == sorted(p.unit.id for p in result.problems)
    new_units = new.by_unit()
    for p in result.problems:  # the same scheme both years: every problem is found again by id
        leaf = new_units[p.unit.id].leaves[p.indicator.id]
        assert p.status == ("fixed" if leaf.lost == 0 else "still-failing")
        assert p.new_lost == leaf.lost
