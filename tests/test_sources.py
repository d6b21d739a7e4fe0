"""Reading bytes into data: numbers, encodings, duplicate keys, syntax errors, positions."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from gapctl.problems import DUPLICATE_KEY, EMPTY_FILE, ENCODING, FILE_TOO_LARGE, SYNTAX
from gapctl.sources import read_file, toml_positions


def _read(tmp_path: Path, name: str, content: str | bytes):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return read_file(path)


def test_yaml_numbers_are_exact_decimals_and_keys_are_text(tmp_path):
    parsed = _read(tmp_path, "a.yaml", "points: 0.1\ncount: 3\n1: one\nid: \"2.1\"\n")
    assert parsed.problems == []
    assert parsed.data == {"points": Decimal("0.1"), "count": 3, "1": "one", "id": "2.1"}
    assert isinstance(parsed.data["points"], Decimal)


def test_toml_floats_are_decimals(tmp_path):
    parsed = _read(tmp_path, "a.toml", "points = 0.1\n")
    assert parsed.data == {"points": Decimal("0.1")}


def test_bom_is_accepted(tmp_path):
    parsed = _read(tmp_path, "a.yaml", b"\xef\xbb\xbfname: \xe6\xb5\x8b\n")
    assert parsed.problems == []
    assert parsed.data == {"name": "测"}


def test_gbk_file_is_named_with_a_conversion_command(tmp_path):
    parsed = _read(tmp_path, "a.yaml", "name: 区财政金融局\n".encode("gbk"))
    assert parsed.data is None
    [problem] = parsed.problems
    assert problem.kind is ENCODING
    assert "GBK" in problem.message and "iconv -f GB18030 -t UTF-8" in problem.message


def test_utf16_file_is_recognised(tmp_path):
    parsed = _read(tmp_path, "a.yaml", "name: 测试\n".encode("utf-16"))
    assert parsed.problems[0].kind is ENCODING
    assert "UTF-16" in parsed.problems[0].message


def test_duplicate_yaml_key_is_reported_at_the_second_key(tmp_path):
    parsed = _read(tmp_path, "a.yaml", "a: 1\nb:\n  c: 1\n  c: 2\n")
    [problem] = parsed.problems
    assert problem.kind is DUPLICATE_KEY
    loc = problem.locate()
    assert (loc.line, loc.col) == (4, 3)


def test_duplicate_toml_key(tmp_path):
    parsed = _read(tmp_path, "a.toml", "a = 1\na = 2\n")
    assert parsed.problems[0].kind is DUPLICATE_KEY
    assert parsed.problems[0].locate().line == 2


def test_yaml_syntax_error_has_position_and_tab_hint(tmp_path):
    parsed = _read(tmp_path, "a.yaml", "a:\n\t- b\n")
    [problem] = parsed.problems
    assert problem.kind is SYNTAX
    assert problem.locate().line == 2
    assert "tabs" in problem.message


def test_toml_syntax_error_position(tmp_path):
    parsed = _read(tmp_path, "a.toml", 'a = 1\nb = "unterminated\n')
    [problem] = parsed.problems
    assert problem.kind is SYNTAX
    assert problem.locate().line == 2


def test_empty_file(tmp_path):
    assert _read(tmp_path, "a.yaml", "  \n").problems[0].kind is EMPTY_FILE
    assert _read(tmp_path, "b.yaml", "# only a comment\n").problems[0].kind is EMPTY_FILE


def test_alias_bomb_is_refused(tmp_path):
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    prev = "a"
    for n in "bcdefg":
        lines.append(f"{n}: &{n} [" + ", ".join([f"*{prev}"] * 10) + "]")
        prev = n
    parsed = _read(tmp_path, "bomb.yaml", "\n".join(lines) + "\n")
    assert parsed.data is None
    assert parsed.problems[0].kind is FILE_TOO_LARGE


def test_yaml_locate_key_and_value(tmp_path):
    parsed = _read(tmp_path, "a.yaml", "results:\n  - indicator: \"1\"\n    note: 好\n  - indicator: \"2\"\n")
    loc = parsed.src.locate(("results", 1, "indicator"))
    assert (loc.line, loc.col) == (4, 16)
    loc = parsed.src.locate(("results", 0, "note"), on="key")
    assert (loc.line, loc.col) == (3, 5)
    # an absent key falls back to its nearest ancestor: the list item
    loc = parsed.src.locate(("results", 1, "reason"))
    assert (loc.line, loc.col) == (4, 5)


def test_toml_positions_for_arrays_of_tables():
    text = ('id = "r"\n[[schemes]]\nscheme = "a"\n[[schemes]]\nscheme = "b"\n'
            '[[results]]\nindicator = "1"\n[[results.evidence]]\nurl = "x"\n'
            '[[results]]\nindicator = "2"\n[[results.evidence]]\nurl = "y"\n[stages]\nfinal = 2022-01-01\n')
    pos = toml_positions(text)
    assert pos[("schemes", 1, "scheme")][:2] == (5, 1)
    assert pos[("results", 1, "evidence", 0, "url")][:2] == (13, 1)
    assert pos[("results", 0, "evidence", 0, "url")][:2] == (9, 1)
    assert pos[("stages", "final")][2:] == (15, 9)
