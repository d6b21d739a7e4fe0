"""Reading bytes into data: numbers, encodings, duplicate keys, syntax errors, positions."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from gapctl.data.sources import read_file, toml_positions
from gapctl.problems import DUPLICATE_KEY, EMPTY_FILE, ENCODING, FILE_TOO_LARGE, SYNTAX


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


def test_size_limit_is_read_from_the_environment_at_each_call(tmp_path, monkeypatch):
    path = tmp_path / "a.yaml"
    path.write_text("name: " + "x" * 3000 + "\n", encoding="utf-8")
    monkeypatch.delenv("GAPCTL_MAX_FILE_MB", raising=False)
    assert read_file(path).problems == []
    monkeypatch.setenv("GAPCTL_MAX_FILE_MB", "0.002")
    [problem] = read_file(path).problems
    assert problem.kind is FILE_TOO_LARGE and "GAPCTL_MAX_FILE_MB" in problem.message
    monkeypatch.setenv("GAPCTL_MAX_FILE_MB", "1")
    assert read_file(path).problems == []


def test_an_unusable_size_limit_falls_back_to_the_default_and_says_so(tmp_path, monkeypatch):
    from gapctl.data.sources import MAX_FILE_BYTES, max_file_bytes

    for bad in ("abc", "0", "-3", "nan", "inf"):
        monkeypatch.setenv("GAPCTL_MAX_FILE_MB", bad)
        limit, note = max_file_bytes()
        assert limit == MAX_FILE_BYTES and repr(bad) in note
    path = tmp_path / "a.yaml"
    path.write_text("name: x\n", encoding="utf-8")
    monkeypatch.setenv("GAPCTL_MAX_FILE_MB", "abc")
    assert read_file(path).problems == []  # the default applies
    [problem] = read_file(path, max_bytes=4).problems  # a caller's own limit wins
    assert problem.kind is FILE_TOO_LARGE


def test_a_large_file_is_refused_before_it_is_read(tmp_path, monkeypatch):
    path = tmp_path / "big.yaml"
    with path.open("wb") as handle:  # sparse: 30 MB on paper, nothing on disk
        handle.truncate(30 * 1024 * 1024)
    monkeypatch.delenv("GAPCTL_MAX_FILE_MB", raising=False)
    [problem] = read_file(path).problems
    assert problem.kind is FILE_TOO_LARGE and "30 MB" in problem.message


def test_encoding_problems_point_at_the_first_bad_byte(tmp_path):
    parsed = _read(tmp_path, "a.yaml", "a: 1\nname: 测试".encode() + "区财政局\n".encode("gbk"))
    loc = parsed.problems[0].locate()
    assert parsed.problems[0].kind is ENCODING and (loc.line, loc.col) == (2, 9)
    parsed = _read(tmp_path, "b.yaml", b"a: 1\nb: x\x00y\n")
    assert "NUL" in parsed.problems[0].message and "iconv" not in parsed.problems[0].message
    assert (parsed.problems[0].locate().line, parsed.problems[0].locate().col) == (2, 5)


def test_utf16_and_utf32_are_told_apart(tmp_path):
    assert "UTF-16LE" in _read(tmp_path, "a.yaml", "a: 1\n".encode("utf-16-le")).problems[0].message
    assert "UTF-16BE" in _read(tmp_path, "b.yaml", "a: 1\n".encode("utf-16-be")).problems[0].message
    assert "UTF-32" in _read(tmp_path, "c.yaml", "a: 1\n".encode("utf-32")).problems[0].message


def test_crlf_keeps_line_and_column(tmp_path):
    parsed = _read(tmp_path, "a.yaml", b"a: 1\r\nb:\r\n  c: 1\r\n  c: 2\r\n")
    loc = parsed.problems[0].locate()
    assert (loc.line, loc.col) == (4, 3)
    parsed = _read(tmp_path, "a.toml", b'a = 1\r\n[t]\r\nb = 2\r\n')
    assert parsed.src.locate(("t", "b")).line == 3


def test_toml_positions_break_lines_at_newline_only():
    # U+2028 and form feeds inside TOML strings are not line breaks (str.splitlines thinks they are)
    pos = toml_positions('a = "x\u2028y"\nb = "p\x0cq"\nc = 1\n')
    assert pos[("c",)][:2] == (3, 1)


def test_deep_nesting_is_refused_with_a_position(tmp_path):
    from gapctl.problems import TOO_DEEP

    for name, text, where in (
        ("flow.yaml", "a: " + "[" * 100_000 + "]" * 100_000 + "\n", (1, 67)),  # the composer would segfault
        ("block.yaml", "a:\n" + "- " * 100 + "x\n", (2, 127)),
        ("arrays.toml", "a = " + "[" * 5000 + "]" * 5000 + "\n", (1, 68)),  # tomllib would recurse
        ("tables.toml", "[" + ".".join(["t"] * 70) + "]\nx = 1\n", (1, 1)),
    ):
        [problem] = _read(tmp_path, name, text).problems
        assert problem.kind is TOO_DEEP, name
        assert (problem.locate().line, problem.locate().col) == where, name
    assert _read(tmp_path, "ok.yaml", "a: " + "[" * 60 + "]" * 60 + "\n").problems == []


def test_an_alias_inside_itself_is_refused(tmp_path):
    from gapctl.problems import TOO_DEEP

    [problem] = _read(tmp_path, "a.yaml", "a: &x [1, *x]\n").problems
    assert problem.kind is TOO_DEEP and "alias" in problem.message


def test_merge_keys_tags_and_complex_keys_are_refused_where_they_are(tmp_path):
    from gapctl.problems import UNSUPPORTED_YAML

    text = ("base: &b {x: 1}\nm:\n  <<: *b\n  y: 2\nt: !!python/object:os.system {}\ns: !secret abc\n"
            "? [1, 2]\n: c\nq: {\"<<\": quoted is text}\n")
    parsed = _read(tmp_path, "a.yaml", text)
    found = sorted((p.locate().line, p.locate().col) for p in parsed.problems if p.kind is UNSUPPORTED_YAML)
    assert found == [(3, 3), (5, 4), (6, 4), (7, 3)]
    assert parsed.data["m"] == {"y": 2} and parsed.data["t"] is None and parsed.data["s"] == "abc"
    assert parsed.data["q"] == {"<<": "quoted is text"}


def test_locating_in_a_merge_key_bomb_stays_small(tmp_path):
    # positions used to be collected by a second walk without the node budget, which followed
    # every alias under the skipped merge keys: 10^8 entries
    lines = ["l0: &l0 {" + ", ".join(f"k{i}: x" for i in range(10)) + "}"]
    lines += [f"l{n}: &l{n} {{<<: [" + ", ".join([f"*l{n - 1}"] * 10) + "]}" for n in range(1, 9)]
    parsed = _read(tmp_path, "a.yaml", "\n".join(lines) + "\nlast: [1]\n")
    assert parsed.src.locate(("last", 0)).line == 10


def test_yaml_control_character_is_pointed_at(tmp_path):
    [problem] = _read(tmp_path, "a.yaml", "a: 1\nb: 检查\x07组\n").problems
    assert problem.kind is SYNTAX and (problem.locate().line, problem.locate().col) == (2, 6)


def test_truncated_files_point_at_their_end(tmp_path):
    [problem] = _read(tmp_path, "a.toml", 'a = 1\n[[sche').problems
    assert (problem.locate().line, problem.locate().col) == (2, 7)
    [problem] = _read(tmp_path, "a.yaml", 'a: 1\nb: {c: d').problems
    assert problem.locate().line == 2


def test_toml_integer_too_long_is_a_syntax_problem(tmp_path):
    [problem] = _read(tmp_path, "a.toml", "a = 1\nb = 1" + "0" * 5000 + "\n").problems
    assert problem.kind is SYNTAX and (problem.locate().line, problem.locate().col) == (2, 5)


# --- how many values a file may hold -------------------------------------------------------------

def test_a_file_of_hundreds_of_thousands_of_values_is_refused_before_it_is_composed(tmp_path, monkeypatch):
    """The audit's 4.56 M-value file (size limit raised) took 12 GB and 3 minutes, then blamed aliases.

    Here 300,000 values against a limit lowered to 100,000: refused from libyaml's events, with the
    limit named, fast and without building the nodes (tracemalloc sees no more than a few MB)."""
    import time
    import tracemalloc

    monkeypatch.setenv("GAPCTL_MAX_VALUES", "100000")
    text = "id: s\nx: [" + ", ".join(["1"] * 300_000) + "]\n"
    tracemalloc.start()
    started = time.process_time()  # CPU: the bound holds on a machine other work loads too
    parsed = _read(tmp_path, "many.yaml", text)
    elapsed = time.process_time() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert parsed.data is None and [p.kind for p in parsed.problems] == [FILE_TOO_LARGE]
    message = parsed.problems[0].message
    assert "holds more than 100,000 values (the limit)" in message and "GAPCTL_MAX_VALUES" in message
    assert "alias" not in message
    assert elapsed < 10 and peak < 50 * 1024 * 1024  # composing 300,000 nodes takes ~90 MB


def test_many_values_in_block_style_and_in_toml_are_refused_too(tmp_path, monkeypatch):
    monkeypatch.setenv("GAPCTL_MAX_VALUES", "100000")
    block = "results:\n" + "".join(f"  - {{indicator: '{i}', count: 1}}\n" for i in range(60_000))
    assert _read(tmp_path, "block.yaml", block).problems[0].kind is FILE_TOO_LARGE  # 180,000 values
    toml = "x = [" + ", ".join(["1.5"] * 150_000) + "]\n"
    parsed = _read(tmp_path, "many.toml", toml)
    assert parsed.data is None and "holds more than 100,000 values" in parsed.problems[0].message


def test_a_file_within_the_value_limit_is_read(tmp_path, monkeypatch):
    monkeypatch.setenv("GAPCTL_MAX_VALUES", "100000")
    parsed = _read(tmp_path, "fine.yaml", "x: [" + ", ".join(["1"] * 99_000) + "]\n")
    assert parsed.problems == [] and len(parsed.data["x"]) == 99_000
    parsed = _read(tmp_path, "fine.toml", "x = [" + ", ".join(['"a,b=c"'] * 60_000) + "]\n")
    assert parsed.problems == [] and len(parsed.data["x"]) == 60_000  # commas and '=' in strings do not count


def test_an_alias_bomb_is_still_called_one_and_names_the_limit(tmp_path):
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for prev, n in zip("abcdef", "bcdefg", strict=True):
        lines.append(f"{n}: &{n} [" + ", ".join([f"*{prev}"] * 10) + "]")
    message = _read(tmp_path, "bomb.yaml", "\n".join(lines) + "\n").problems[0].message
    assert "expands to more than 2,000,000 values through its YAML aliases (the limit)" in message


def test_a_bad_value_limit_falls_back_to_the_default_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("GAPCTL_MAX_VALUES", "lots")
    from gapctl.data.sources import max_values
    assert max_values() == (2_000_000, " (GAPCTL_MAX_VALUES='lots' is not a number of values, so the default applies)")


def test_a_document_holding_nothing_is_an_empty_file_on_either_parser(monkeypatch):
    """`---` alone (or `~`) composes to null: no data, and so a problem, never silence (found by fuzzing)."""
    for parser in ("libyaml", ""):
        monkeypatch.setenv("GAPCTL_YAML", parser)
        for text in (b"---", b"---\n", b"~\n", b"--- # nothing\n"):
            parsed = read_file(Path("a.yaml"), text)
            assert parsed.data is None and [p.kind for p in parsed.problems] == [EMPTY_FILE], text
