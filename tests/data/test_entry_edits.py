"""Edits in windows of an entry's lines (gapctl.data.entry_edits) give the bytes a whole-file Edit gives."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from ruamel.yaml.comments import CommentedMap

from gapctl.data.entry_edits import EntryEdits
from gapctl.data.writes import read_original
from gapctl.data.yaml_edit import Edit
from tests.conftest import ROOT

SHIPPED = sorted(p for p in (ROOT / "rounds").glob("*/observations/*.yaml"))
ORDER = ["indicator", "result", "items", "count", "fraction", "grade", "notices", "note", "reason", "fix"]


def _changes(count: int, seed: int) -> list[tuple[str, int, str, object]]:
    """Random edits as (what, entry index, key, value): set, remove, append."""
    rng = random.Random(seed)
    out = []
    for _ in range(rng.randint(1, 3)):
        what = rng.choice(["set", "set", "remove", "append"])
        index = rng.randrange(count)
        if what == "set":
            out.append(("set", index, rng.choice(["result", "note", "reason"]), rng.choice(["done", "新的说明 x"])))
        elif what == "remove":
            out.append(("remove", index, rng.choice(["note", "reason", "fix", "evidence"]), None))
        else:
            out.append(("append", index, "indicator", f"Z{rng.randrange(100)}"))
    return out


def _apply_windowed(file: EntryEdits, changes: list) -> None:
    for what, index, key, value in changes:
        if what == "append":
            file.append(CommentedMap([("indicator", value), ("result", "done")]))
            continue
        edit, entry = file.item(index)
        if what == "set":
            edit.set(entry, key, value, ORDER)
        else:
            edit.remove(entry, key)


def _apply_whole(edit: Edit, changes: list) -> None:
    results = edit.data["results"]
    for what, index, key, value in changes:
        if what == "append":
            edit.append(results, CommentedMap([("indicator", value), ("result", "done")]))
        elif what == "set":
            edit.set(results[index], key, value, ORDER)
        else:
            edit.remove(results[index], key)


def _both(path: Path, changes: list) -> tuple[EntryEdits, bytes, bytes]:
    original = read_original(path)
    file = EntryEdits(original)
    _apply_windowed(file, changes)
    whole = Edit(original)
    _apply_whole(whole, changes)
    return file, file.new_bytes(), whole.new_bytes()


# One seed a file, taken in turn, so the three kinds of change mixes each meet a third of the shipped files
# (every file with all three took a sixth of the suite's time).
@pytest.mark.parametrize(
    ("seed", "path"), list(enumerate(SHIPPED)), ids=[f"{p.parent.parent.name}/{p.name}" for p in SHIPPED]
)
def test_windows_give_the_whole_file_edit_s_bytes_on_every_shipped_file(seed: int, path: Path) -> None:
    count = len(EntryEdits(read_original(path)).data["results"])
    file, windowed, whole = _both(path, _changes(count, seed % 3))
    assert windowed == whole, seed
    assert file.whole is None  # the windows were used, not the fallback


def _write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "rounds/r/observations/a.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


ENTRIES = """unit: a
results:
# 第一组
- indicator: "1"   # 已核实
  result: done
  note: 说明
    续行

- indicator: "2"
  result: not-done
  reason: >-
    折叠的
    理由
# 组外的注释
- indicator: "3"
  count: 2
# 文件末尾
"""


def test_only_the_changed_entry_s_lines_change_and_comments_stay(tmp_path: Path) -> None:
    path = _write(tmp_path, ENTRIES)
    file, windowed, whole = _both(path, [("set", 1, "result", "done"), ("append", 0, "indicator", "4")])
    assert file.whole is None and windowed == whole
    assert windowed.decode() == ENTRIES.replace("  result: not-done", "  result: done").replace(
        "  count: 2\n", '  count: 2\n- indicator: "4"\n  result: done\n')


@pytest.mark.parametrize("text", [
    "unit: a\nresults: [{indicator: '1', result: done}, {indicator: '2', result: done}]\n",    # a flow list
    "unit: a\nresults:\n- indicator: '1'\n  result: done\r\n- indicator: '2'\n  result: done\n",  # a CR
    "unit: a\nresults:\n- indicator: '1'\n  note: &n 说明\n- indicator: '2'\n  note: *n\n",   # an alias across entries
])
def test_a_layout_windows_cannot_take_is_edited_whole_with_the_same_result(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path, text)
    file, windowed, whole = _both(path, [("set", 1, "result", "not-done")])
    assert windowed == whole
    assert file.whole is not None


def test_a_crlf_file_keeps_its_line_endings_in_windows(tmp_path: Path) -> None:
    path = _write(tmp_path, ENTRIES.replace("\n", "\r\n").encode("utf-8"))
    file, windowed, whole = _both(path, [("set", 2, "count", 3)])
    assert file.whole is None and windowed == whole
    assert windowed.count(b"\n") == windowed.count(b"\r\n")


# --- entries changed line by line, without ruamel.yaml (item(index, keys)) ----------------------------

KEYS = {"indicator", "result", "items", "count", "fraction", "grade", "notices", "note", "reason", "fix"}
VALUES = ["done", "not-done", "n/a", "新的说明 x", "yes", "1.2.3", "a: b", "#x", "x #y", " 前空格", "多行\n说明",
          "", "NULL", 3, 0, "0.5", "2", "2024-01-02", "【待核实】未按要求公开", "a'b", 'a"b', "-x", "?x", "x:",
          "ok.", "(1)", "x_y", "Ｘ全角", "\u3000全角空格", "tab\tx", "https://a.example/b#c", "a  b", "～"]


def _value(text: object, rng: random.Random) -> object:
    """A fresh value: text, a whole number, a Decimal or a date (a new object each time: one object given
    twice is written as an alias)."""
    import datetime as dt
    from decimal import Decimal

    kind = rng.randrange(5)
    if kind == 0 and isinstance(text, str) and text.replace(".", "", 1).isdigit():
        return Decimal(text)
    if kind == 1:
        return dt.date(2024, 1, rng.randint(1, 28))
    return text


def _line_changes(count: int, seed: int) -> list[tuple[str, int, str, object]]:
    rng = random.Random(seed)
    out: list[tuple[str, int, str, object]] = []
    for _ in range(rng.randint(1, 4)):
        what = rng.choice(["set", "set", "set", "remove", "append"])
        index = rng.choice([rng.randrange(count), count - 1])
        if what == "set":
            out.append(("set", index, rng.choice(["result", "note", "reason", "fix", "count", "grade"]),
                        _value(rng.choice(VALUES), rng)))
        elif what == "remove":
            key = rng.choice(["note", "reason", "fix", "evidence", "result", "indicator"])
            out.append(("remove", index, key, None))
        else:
            extra = [(k, _value(rng.choice(VALUES), rng)) for k in rng.sample(["note", "grade", "reason"], 2)]
            out.append(("append", index, "", [("indicator", f"Z{rng.randrange(100)}"), ("result", "done"), *extra]))
    return out


def _by_lines(path: Path, changes: list) -> tuple[EntryEdits, bytes]:
    from gapctl.data import schema as S
    from gapctl.io.importer import _with_decimals

    file = EntryEdits(read_original(path), "results", _with_decimals)
    for what, index, key, value in changes:
        if what == "append":
            file.append(CommentedMap(value))
            continue
        edit, entry = file.item(index, KEYS | {key})
        if what == "set":
            entry.get(key)
            edit.set(entry, key, value, S.RESULT)
        else:
            edit.remove(entry, key)
    return file, file.new_bytes()


def _by_whole(path: Path, changes: list) -> bytes:
    from gapctl.data import schema as S
    from gapctl.io.importer import _with_decimals

    edit = Edit(read_original(path))
    _with_decimals(edit)
    results = edit.data["results"]
    for what, index, key, value in changes:
        if what == "append":
            edit.append(results, CommentedMap(value))
        elif what == "set":
            edit.set(results[index], key, value, S.RESULT)
        else:
            edit.remove(results[index], key)
    return edit.new_bytes()


LINE_FILES = sorted([*SHIPPED, *(ROOT / "rounds").glob("*/channels/*/*.yaml")])


# One of the two change mixes a file, taken in turn (both on every file took an eighth of the suite's time);
# the other too when the first took no line-by-line path.
@pytest.mark.parametrize(("seed", "path"), list(enumerate(LINE_FILES)),
                         ids=[f"{p.parent.parent.name}/{p.name}" for p in LINE_FILES])
def test_entries_changed_line_by_line_give_the_whole_file_edit_s_bytes(seed: int, path: Path) -> None:
    """The import's common edits (a value set, a key removed, an entry appended), with text that ruamel.yaml
    writes plain, quoted or escaped, numbers, dates: the line-by-line path writes what a whole-file Edit
    writes, and what it says the new bytes read as is what gapctl reads from them."""
    from gapctl.data.sources import read_file
    from gapctl.data.yaml_edit import _strict

    count = len(EntryEdits(read_original(path)).data["results"])
    for mix in (seed % 2, 1 - seed % 2):  # the other mix only when the first took no line-by-line path
        changes = _line_changes(count, mix)
        file, got = _by_lines(path, changes)
        assert got == _by_whole(path, _line_changes(count, mix)), (mix, changes)
        if file.after is not None:
            read = read_file(path, got, keep_text=True)
            assert not read.problems and _strict(read.data) == _strict(file.after.data)
            assert read.src.text == file.after.src.text
        lined = any(w.lines is not None for w in file._windows or [])
        if lined:
            break
    assert lined  # the line-by-line path was taken


def test_a_plain_change_touches_one_line_and_opens_no_ruamel(tmp_path: Path) -> None:
    """`result: done` → `not-done` and a new reason: one line rewritten, one inserted in the schema's order (after
    the note),
    all without a ruamel.yaml window; an entry appended after the last goes in its lines."""
    from gapctl.data import schema as S

    text = 'unit: a\nresults:\n- indicator: "1"\n  result: done\n  note: 说明\n- indicator: "2"\n  count: 2\n'
    path = _write(tmp_path, text)
    file = EntryEdits(read_original(path))
    edit, entry = file.item(0, {"result", "reason", "fix"})
    assert entry.get("result") == "done" and "note" in entry
    edit.set(entry, "result", "not-done", S.RESULT)
    edit.set(entry, "reason", "未公开", S.RESULT)
    file.append(CommentedMap([("indicator", "3"), ("result", "n/a")]))
    assert all(w.edit is None for w in file._windows) and file.whole is None
    assert file.new_bytes().decode() == text.replace("result: done\n  note: 说明\n",
                                                     "result: not-done\n  note: 说明\n  reason: 未公开\n") \
        + '- indicator: "3"\n  result: n/a\n'


@pytest.mark.parametrize("text", [
    'unit: a\nresults:\n- indicator: "1"\n  result: done  # 已核实\n',         # a comment on the line
    'unit: a\nresults:\n- indicator: "1"\n  result: >-\n    done\n',           # a block scalar
    'unit: a\ntags:\n  - x\nresults:\n- indicator: "1"\n  result: done\n',  # a list indented otherwise before
])
def test_lines_that_do_not_allow_it_go_to_ruamel_with_the_same_result(tmp_path: Path, text: str) -> None:
    from gapctl.data import schema as S

    path = _write(tmp_path, text)
    file = EntryEdits(read_original(path))
    edit, entry = file.item(0, {"result"})
    edit.set(entry, "result", "not-done", S.RESULT)
    whole = Edit(read_original(path))
    whole.set(whole.data["results"][0], "result", "not-done", S.RESULT)
    assert file.new_bytes() == whole.new_bytes()
    assert file._windows is None or file._windows[0].lines is None


def test_text_written_plain_is_what_ruamel_writes() -> None:
    """`_rendered` decides without ruamel.yaml that some text is written plain: ruamel.yaml agrees, for every
    value of the shipped observation files and odd text."""
    from gapctl.data.entry_edits import _dumped, _rendered
    from gapctl.data.sources import read_file

    words = {v for v in VALUES if isinstance(v, str)}
    for path in SHIPPED[:40]:
        for entry in read_file(path).data["results"]:
            words.update(v for v in entry.values() if isinstance(v, str))
    owner = EntryEdits(read_original(SHIPPED[0]))
    for word in sorted(words):
        got = _rendered(owner, word)
        assert got == _dumped(owner, word), word
