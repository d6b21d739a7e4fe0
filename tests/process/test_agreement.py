"""Agreement between evaluator and review entries (gapctl.process.agreement), figures worked by hand."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from gapctl import api
from gapctl.process.agreement import agreement, category, json_data, kappa, text_lines
from tests.conftest import FOUR_KINDS_SCHEME, ROOT, write_repo


def table_of(yy: int, yn: int, ny: int, nn: int) -> dict[tuple[str, str], int]:
    return {("yes", "yes"): yy, ("yes", "no"): yn, ("no", "yes"): ny, ("no", "no"): nn}


@pytest.mark.parametrize(("cells", "expected"), [
    # Wikipedia "Cohen's kappa", worked example: 50 proposals, p_o = 0.7, p_e = 0.5 → κ = 0.4
    ((20, 5, 10, 15), Decimal("0.40")),
    # same page: p_o = 0.6, p_e = 0.54 → 0.06 / 0.46 = 0.1304…
    ((45, 15, 25, 15), Decimal("0.13")),
    # same page: p_o = 0.6, p_e = 0.46 → 0.14 / 0.54 = 0.2592…
    ((25, 35, 5, 35), Decimal("0.26")),
    # n = 7, p_o = 3/7, p_e = 17/49 → 4/32 = 0.125: half-up gives 0.13 (banker's rounding would give 0.12)
    ((1, 0, 4, 2), Decimal("0.13")),
    # perfect disagreement on a balanced table: p_o = 0, p_e = 0.5 → −1
    ((0, 5, 5, 0), Decimal("-1.00")),
])
def test_kappa_textbook_tables(cells: tuple[int, int, int, int], expected: Decimal) -> None:
    assert kappa(table_of(*cells)) == expected


def test_kappa_edge_cases() -> None:
    assert kappa({}) is None                                  # no pairs: undefined
    assert kappa({("full", "full"): 4}) == 1                   # p_e = p_o = 1
    assert kappa({("full", "full"): 3, ("none", "none"): 3}) == 1


def test_category() -> None:
    assert [category(Decimal(e), Decimal(2)) for e in ("2", "0", "1.5")] == ["full", "none", "partial"]
    assert category(Decimal(0), Decimal(0)) == "full"     # a penalty item with nothing deducted
    assert category(Decimal(-1), Decimal(0)) == "partial"


SCHEME = FOUR_KINDS_SCHEME.format(id="k", title="一致性测试指标体系")

UNITS = """\
id: u
name: 测试单位
units:
  - {id: a, name: 区财政局, type: 区属部门}
  - {id: b, name: 区档案馆, type: 区属部门}
  - {id: c, name: 区教育局, type: 区属部门}
  - {id: d, name: 区民政局, type: 区属部门}
"""

ROUND = 'id = "r"\ntitle = "一致性测试"\nunits = "u"\n[[schemes]]\nscheme = "k"\n'

ALL = '{indicator: "2", items: {lead: true, plan: true}'


def obs(unit: str, entries: list[str]) -> str:
    return f"unit: {unit}\nobserver: 张三\nresults:\n" + "".join(f"  - {e}\n" for e in entries)


# evaluator (张三, the file's default) / review (李四) per unit:
#   1.1  a done/done  b done/not-done  c not-done/not-done  d done/done   → ff 2, fn 1, nn 1
#   1.2  a 1/1 (1 vs 1 pt)  b 3/0 (2 vs 0)  c 0/1 (0 vs 1)  d: review by 张三 himself, not a pair
#   2    all four full/full
#   3    a 0.5/0.75 (2 vs 3)  b 1/1  c: review pending, no pair  d 0/1 (0 vs 4)
FILES = {
    "a": obs("a", [
        '{indicator: "1.1", result: done}', '{indicator: "1.2", count: 1}', ALL + "}",
        '{indicator: "3", fraction: 0.5}',
        '{indicator: "1.1", result: done, source: review, observer: 李四}',
        '{indicator: "1.2", count: 2, source: review, observer: 李四}',
        ALL + ", source: review, observer: 李四}",
        '{indicator: "3", fraction: 0.75, source: review, observer: 李四}',
        '{indicator: "1.1", result: not-done, source: self}',  # self entries never pair
    ]),
    "b": obs("b", [
        '{indicator: "1.1", result: done}', '{indicator: "1.2", count: 3}', ALL + "}",
        '{indicator: "3", fraction: 1}',
        '{indicator: "1.1", result: not-done, source: review, observer: 李四}',
        '{indicator: "1.2", count: 0, source: review, observer: 李四}',
        ALL + ", source: review, observer: 李四}",
        '{indicator: "3", fraction: 1, source: review, observer: 李四}',
    ]),
    "c": obs("c", [
        '{indicator: "1.1", result: not-done}', '{indicator: "1.2", count: 0}', ALL + "}",
        '{indicator: "3", fraction: 0.5}',
        '{indicator: "1.1", result: not-done, source: review, observer: 李四}',
        '{indicator: "1.2", count: 1, source: review, observer: 李四}',
        ALL + ", source: review, observer: 王五}",
        '{indicator: "3", result: pending, source: review, observer: 李四}',
    ]),
    "d": obs("d", [
        '{indicator: "1.1", result: done}', '{indicator: "1.2", count: 1}', ALL + "}",
        '{indicator: "3", fraction: 0}',
        '{indicator: "1.1", result: done, source: review, observer: 李四}',
        '{indicator: "1.2", count: 5, source: review, observer: 张三}',
        ALL + ", source: review}",  # the file's default observer is 张三, the same person: no pair
        ALL + ", source: review, observer: 王五}",  # … this later one by someone else pairs
        '{indicator: "3", fraction: 1, source: review, observer: 李四}',
    ]),
}


@pytest.fixture
def k_round(tmp_path: Path):
    files = {"schemes/k.yaml": SCHEME, "units/u.yaml": UNITS, "rounds/r/round.toml": ROUND}
    files.update({f"rounds/r/observations/{u}.yaml": text for u, text in FILES.items()})
    write_repo(tmp_path, files)
    checked = api.check(tmp_path / "rounds" / "r")
    assert not checked.report.errors, [p.message for p in checked.report.errors]
    return checked.loaded.round


def test_per_indicator_lowest_kappa_first(k_round) -> None:
    result = agreement(k_round)
    got = [(g.indicator.id, g.n, g.same, g.agreement, g.kappa) for g in result.indicators]
    assert got == [
        # 1.2: partial/partial, full/none, none/partial: p_o = 1/3, n·agree − chance = 3 − 3 → κ = 0
        ("1.2", 3, 1, Decimal("33.3"), Decimal("0.00")),
        # 1.1: agree 3 of 4, chance = 3·2 + 1·2 = 8 → κ = (4·3 − 8) / (4² − 8) = 0.5
        ("1.1", 4, 3, Decimal("75.0"), Decimal("0.50")),
        # 3: partial/partial (2 vs 3 points), full/full, none/full: κ = (3·2 − 3) / (9 − 3) = 0.5; tie → scheme order
        ("3", 3, 1, Decimal("33.3"), Decimal("0.50")),
        # 2: everyone full: p_e = p_o = 1 → κ = 1
        ("2", 4, 4, Decimal("100.0"), Decimal("1")),
    ]
    assert [p.unit.id for p in result.indicators[0].pairs] == ["a", "b", "c"]
    assert [p.review_observer for p in result.indicators[3].pairs] == ["李四", "李四", "王五", "王五"]


def test_overall(k_round) -> None:
    overall = agreement(k_round).overall
    # 14 pairs; categories agree in 10; evaluator full 9, none 3, partial 2; review full 8, none 3, partial 3;
    # chance = 9·8 + 3·3 + 2·3 = 87 → κ = (14·10 − 87) / (14² − 87) = 53/109 = 0.486…
    assert (overall.n, overall.same, overall.agreement, overall.kappa) == (14, 9, Decimal("64.3"), Decimal("0.49"))
    assert overall.table() == {("full", "full"): 7, ("full", "none"): 2, ("none", "none"): 1,
                               ("partial", "partial"): 2, ("none", "partial"): 1, ("none", "full"): 1}


def test_text(k_round) -> None:
    lines = text_lines(agreement(k_round))
    assert lines[0] == "评估人员一致性: 一致性测试 (r)"
    rows = [line.split() for line in lines]
    assert ["指标", "名称", "对数", "得分一致", "一致率%", "Kappa"] in rows
    assert ["1.2", "解读次数", "3", "1", "33.3", "0.00"] in rows
    assert ["2", "组织领导", "4", "4", "100.0", "1.00"] in rows
    assert ["总体", "14", "9", "64.3", "0.49"] in rows
    assert "得分不一致" in lines
    assert ["1.1", "区档案馆", "2", "2", "(张三)", "0", "(李四)"] in rows
    en = text_lines(agreement(k_round), "en")
    assert ["1.1", "Channels", "4", "3", "75.0", "0.50"] in [line.split() for line in en]


def test_json(k_round) -> None:
    data = json_data(agreement(k_round))
    assert data["overall"]["kappa"] == "0.49" and data["overall"]["agreement"] == "64.3"
    first = data["indicators"][0]
    assert (first["indicator"], first["pairs"], first["kappa"]) == ("1.2", 3, "0")
    assert first["pairs_detail"][1] == {"unit": "b", "points": "2", "evaluator": "2", "evaluator_observer": "张三",
                                        "review": "0", "review_observer": "李四"}


@pytest.mark.parametrize("round_id", ["suizhou-2021"])
def test_shipped_rounds_have_no_review_pairs(round_id: str) -> None:
    result = agreement(api.check(ROOT / "rounds" / round_id).loaded.round)
    assert result.indicators == [] and result.overall.kappa is None
    assert text_lines(result)[-1] == "没有同一指标的评估与复核记录对。"


def test_shanwei_second_reviews_pair_with_the_evaluator() -> None:
    """The shipped Shanwei round: a second evaluator re-checked six indicators of four departments."""
    result = agreement(api.check(ROOT / "rounds/shanwei-2020").loaded.round)
    assert result.overall.n == 24
    assert 0 < result.overall.same < 24                              # they disagree on some
    kappas = [i.kappa for i in result.indicators if i.kappa is not None]
    assert kappas == sorted(kappas)                                  # the most disputed first
