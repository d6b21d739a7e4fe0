"""Output too long to hold, made a part at a time: a table's lines from its rows kept in a temporary file
(textwidth.SpooledTable) and a JSON document an item of its last list at a time (escape.json_document_parts) are
the same text as the table and the document made whole (a follow-up of 30,000 units prints 840,000 problems)."""

from __future__ import annotations

import pytest

from gapctl.escape import json_document, json_document_parts
from gapctl.textwidth import SpooledTable, table

ROWS = [["单位", "Indicator", "扣分"], ["区财政局", "1.10", "2.50"], ["short"], ["a\u202eb", "x\ny", "—"],
        ["全角ＡＢ", "e\u0301", "10.00"]]


@pytest.mark.parametrize("rows", [
    ROWS,                                                             # wide, combining, bidi, a short row
    [["id", "n"]] + [[f"u{n:05d}", "区" * (n % 7)] for n in range(2 * SpooledTable.BATCH + 3)],  # several batches
    [["only a header"]],
])
@pytest.mark.parametrize("aligns", [None, ["left", "right", "right"]])
def test_a_spooled_table_is_the_table_made_whole(rows: list[list[str]], aligns: list[str] | None) -> None:
    spooled = SpooledTable()
    for row in rows:
        spooled.add(row)
    lines = list(spooled.lines(aligns))
    spooled.close()
    assert lines == table(rows, aligns)
    assert lines[1].startswith("--")  # the header underlined: a table, not nothing


def test_an_empty_spooled_table_has_no_lines() -> None:
    assert list(SpooledTable().lines()) == table([]) == []


@pytest.mark.parametrize("items", [
    [],                                                              # "problems": [] as json_document writes it
    [{}],
    [{"unit": "a", "new": [], "nested": [1, {"x": None}], "reason": "第一行\n第二\u202e行", "n": 1.5}],
    [{"n": n, "ids": [str(n)] * (n % 3)} for n in range(600)],      # more than one batch of 256
])
@pytest.mark.parametrize("provenance", [None, {"commit": "abc", "files": ["a.yaml"]}])
def test_a_json_document_in_parts_is_the_document_made_whole(items: list[dict], provenance: dict | None) -> None:
    head = {"old_round": "r1", "counts": {"fixed": 1, "pending": 0}}
    parts = list(json_document_parts(head, "problems", iter(items), provenance))
    assert "".join(parts) == json_document({**head, "problems": items}, provenance)
    assert len(parts) == 1 + (len(items) + 255) // 256  # given a batch at a time, not whole


def test_the_last_field_must_be_the_list_given_in_parts() -> None:
    with pytest.raises(ValueError):
        list(json_document_parts({"problems": [1], "after": 2}, "problems", iter([])))  # in `data`, not last


def test_a_table_made_column_by_column_is_the_spooled_tables_row_by_row() -> None:
    """`table` measures and pads a column at a time (a 3,000-row score table: 36 → 22 ms); SpooledTable a row at a
    time. Random tables of wide, combining, control and bidi characters, short rows and empty columns: the same
    lines."""
    import random

    alphabet = ["a", "1", ".", " ", "区", "财", "Ａ", "\u0301", "\x1b", "\n", "\u202e", "é", "", "—", "\t"]
    chance = random.Random(18)
    for _ in range(2000):
        cols = chance.randint(1, 5)
        rows = [["".join(chance.choice(alphabet) for _ in range(chance.randint(0, 4)))
                 for _ in range(chance.randint(1 if n == 0 else 0, cols))] for n in range(chance.randint(1, 6))]
        width = max(map(len, rows))
        aligns = [chance.choice(["left", "right"]) for _ in range(width)] if chance.random() < 0.8 else None
        spooled = SpooledTable()
        for row in rows:
            spooled.add(row)
        assert list(spooled.lines(aligns, " | ")) == table(rows, aligns, " | "), rows
        spooled.close()


def test_cjk_ideographs_are_measured_as_the_unicode_database_says() -> None:
    """textwidth takes U+4E00–U+9FFF as two columns without asking unicodedata (most of a Chinese name): every one
    of them is wide and none is combining, in this Python's Unicode database."""
    import unicodedata

    from gapctl.textwidth import _wide_width

    for code in range(0x4E00, 0xA000):
        char = chr(code)
        assert not unicodedata.combining(char) and unicodedata.east_asian_width(char) == "W", hex(code)
    assert _wide_width("区财政局Ａé\u0301") == 8 + 2 + 1  # the others still asked for
