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


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_windows_give_the_whole_file_edit_s_bytes_on_every_shipped_file(path: Path) -> None:
    count = len(EntryEdits(read_original(path)).data["results"])
    for seed in range(3):
        file, windowed, whole = _both(path, _changes(count, seed))
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
