"""gapctl.names: the exact id, then the exact name, then a unique start of a name; a miss names the closest."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from gapctl import i18n, names


@dataclass
class Thing:
    id: str
    name: str
    name_en: str | None = None


UNITS = [Thing("finance", "区财政金融局", "Finance Bureau"), Thing("econ", "区经济发展局"),
         Thing("office", "区党政办"), Thing("xihe", "淅河工作局"), Thing("区党政办", "区委办公室")]


@pytest.mark.parametrize("text, expected", [
    ("finance", "finance"),             # the id
    ("区财政金融局", "finance"),         # the name
    ("区财政", "finance"),               # the only name starting so
    ("  淅河工作局 ", "xihe"),            # surrounding white space does not count
    ("finance bureau", "finance"),      # name_en, whatever its case
    ("区党政办", "区党政办"),             # an id wins over another unit's name
    ("区委", "区党政办"),
])
def test_a_unit_by_id_name_or_the_start_of_its_name(text, expected):
    assert names.unit(text, UNITS, "round r1") == expected


def test_a_start_shared_by_several_names_is_ambiguous():
    with pytest.raises(names.Unknown) as caught:
        names.unit("区", UNITS, "round r1")
    assert caught.value.ambiguous
    assert [c[0] for c in caught.value.candidates] == ["finance", "econ", "office", "区党政办"]
    assert caught.value.line == ("'区' names more than one unit in round r1: finance (区财政金融局), "
                                 "econ (区经济发展局), office (区党政办), 区党政办 (区委办公室); give the id")


def test_a_misspelt_name_suggests_the_closest_ids_and_names():
    with pytest.raises(names.Unknown) as caught:
        names.unit("区财政局", UNITS, "round r1")
    assert not caught.value.ambiguous and caught.value.candidates[0][0] == "finance"
    assert caught.value.line.startswith("no unit '区财政局' in round r1; did you mean finance (区财政金融局)")
    with pytest.raises(names.Unknown) as caught:
        names.unit("finace", UNITS, "round r1")
    assert caught.value.candidates[0][0] == "finance"


def test_nothing_close_is_said_plainly():
    with pytest.raises(names.Unknown) as caught:
        names.unit("zz", UNITS, "round r1")
    assert caught.value.line == "no unit 'zz' in round r1" and caught.value.candidates == []


def test_at_most_five_candidates_in_one_line():
    many = [Thing(f"u{n}", f"街道办事处{n}") for n in range(8)]
    with pytest.raises(names.Unknown) as caught:
        names.unit("街道", many, "round r1")
    assert "\n" not in caught.value.line and caught.value.line.count("街道办事处") == 5 and " …;" in caught.value.line


def test_indicators_by_id_name_or_start():
    indicators = [Thing("2.1.13", "政府债务"), Thing("5.2", "政府信息主动公开基本目录"), Thing("1", "公开渠道")]
    assert names.indicator("政府债务", indicators, "scheme s") == "2.1.13"
    assert names.indicator("公开", indicators, "scheme s") == "1"
    assert names.indicator("1", indicators, "scheme s") == "1"
    with pytest.raises(names.Unknown, match="names more than one indicator"):
        names.indicator("政府", indicators, "scheme s")


def test_the_line_is_in_the_language_of_messages():
    i18n.use("zh")
    try:
        with pytest.raises(names.Unknown) as caught:
            names.unit("区财政局", UNITS, "轮次 r1")
        assert caught.value.line.startswith("轮次 r1 中没有单位“区财政局”；您要找的是否是 finance（区财政金融局）")
    finally:
        i18n.use(None)
