"""Every command that writes does so atomically, keeps what it does not change byte for byte
(comments, key order, unknown keys, quoting, blank lines, CRLF, BOM), refuses symbolic links and
files it cannot parse, and leaves the old file whole when it is killed mid-write."""

from __future__ import annotations

import hashlib
import os
import signal
import stat
import subprocess
import sys
import time
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from ruamel.yaml.comments import CommentedMap
from typer.testing import CliRunner

from gapctl.api import check, score
from gapctl.cli import app
from gapctl.data import schema as S
from gapctl.data.writes import DiskFull, Write, WriteError, read_original, recover, write_atomically, write_files
from gapctl.data.yaml_edit import Edit, splice
from gapctl.io import importer
from gapctl.io.export import export
from gapctl.io.fmt import format_paths
from gapctl.process.evidence import EvidenceError, add
from tests.conftest import ROOT

runner = CliRunner()
BOM = b"\xef\xbb\xbf"

# An observation file as people write it by hand: comments everywhere, keys out of the documented
# order, single and double quotes, a folded block, a flow mapping, blank lines. Valid, so that the
# commands that validate first (import) accept it.
OBS_B = """\
# 区档案馆 观测记录（人工录入）
# yaml-language-server: $schema=../../../schema/observations.schema.json

results:   # 结果列表
  # 第一条
  - result: done        # 已核实
    indicator: '1.1'
    note: "双引号 说明"
    reason: >-
      折叠的
      说明
    observer: 王五

  # 第二条：组织领导
  - items: {lead: true, plan: true}   # 流式
    indicator: "2"
# 文件末尾注释
unit: b  # 单位放在最后
"""

# the same with keys gapctl does not know, for the commands that do not validate first
UNKNOWN = OBS_B.replace("    observer: 王五\n", "    observer: 王五\n    x-reviewed: yes  # 未知键\n") \
    .replace("unit: b  # 单位放在最后\n", "unit: b  # 单位放在最后\nx-batch: 7\n")


def variant(text: str, crlf: bool, bom: bool = False) -> bytes:
    data = text.replace("\n", "\r\n").encode("utf-8") if crlf else text.encode("utf-8")
    return BOM + data if bom else data


VARIANTS = [pytest.param(False, False, id="lf"), pytest.param(True, True, id="crlf-bom")]


def changes(before: bytes, after: bytes) -> tuple[list[str], list[str]]:
    """(lines removed, lines added) between two versions of a file, line endings kept."""
    a = before.decode("utf-8").splitlines(keepends=True)
    b = after.decode("utf-8").splitlines(keepends=True)
    removed: list[str] = []
    added: list[str] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            removed += a[i1:i2]
            added += b[j1:j2]
    return removed, added


def lines(crlf: bool, *items: str) -> list[str]:
    return [line + ("\r\n" if crlf else "\n") for line in items]


@pytest.fixture
def repo(mini_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(mini_repo)
    return mini_repo


def obs(repo: Path, unit: str = "b") -> Path:
    return repo / "rounds/r1/observations" / f"{unit}.yaml"


def no_temporary_files(directory: Path) -> bool:
    return not [p for p in directory.rglob("*") if p.name.endswith((".tmp", ".new"))]


# --- gapctl import ------------------------------------------------------------------------

IMPORT_CSV = "单位,指标,结果,数值,扣分理由\nb,1.1,未完成,,入口失效\nb,2,,lead,\n"


@pytest.mark.parametrize(("crlf", "bom"), VARIANTS)
def test_import_changes_only_the_entries_it_imports(repo: Path, crlf: bool, bom: bool):
    before = variant(OBS_B, crlf, bom)
    obs(repo).write_bytes(before)
    (repo / "r.csv").write_text(IMPORT_CSV, encoding="utf-8-sig")
    result = runner.invoke(app, ["import", "rounds/r1", "r.csv", "--force"])
    assert result.exit_code == 0, result.output
    after = obs(repo).read_bytes()
    assert changes(before, after) == (
        lines(crlf, "  - result: done        # 已核实", "      折叠的", "      说明",
              "  - items: {lead: true, plan: true}   # 流式"),
        lines(crlf, "  - result: not-done    # 已核实", "      入口失效",     # the comment's column and
              "  - items: {lead: true, plan: false}  # 流式"))             # the folded style are kept
    assert after.startswith(BOM) == bom
    assert runner.invoke(app, ["validate", "rounds/r1"]).exit_code == 0


def test_import_appends_new_entries_after_the_last_one_and_creates_missing_files(repo: Path):
    before = OBS_B.replace("""
  # 第二条：组织领导
  - items: {lead: true, plan: true}   # 流式
    indicator: "2"
""", "\n").encode()
    obs(repo).write_bytes(before)
    obs(repo, "a").unlink()
    (repo / "r.csv").write_text("单位,指标,结果,数值\nb,2,,plan\na,1.1,完成,\n", encoding="utf-8")
    result = runner.invoke(app, ["import", "rounds/r1", "r.csv"])
    assert result.exit_code == 0, result.output
    assert changes(before, obs(repo).read_bytes()) == ([], lines(
        False, '  - indicator: "2"', "    items:", "      lead: false", "      plan: true"))
    assert obs(repo).read_text(encoding="utf-8").endswith('plan: true\n\n# 文件末尾注释\nunit: b  # 单位放在最后\n')
    assert obs(repo, "a").read_text(encoding="utf-8") == 'unit: a\nresults:\n  - indicator: "1.1"\n    result: done\n'
    assert no_temporary_files(repo)


def test_import_keeps_unknown_keys_of_entries_it_changes_and_of_the_file(repo: Path):
    round_ = check(repo / "rounds/r1").loaded.round
    obs(repo).write_bytes(variant(UNKNOWN, crlf=True))  # after loading: the library does not validate
    (repo / "r.csv").write_text(IMPORT_CSV, encoding="utf-8")
    plan = importer.read(round_, repo / "r.csv", force=True)
    assert plan.problems == []
    importer.write(plan)
    removed, added = changes(variant(UNKNOWN, crlf=True), obs(repo).read_bytes())
    assert (len(removed), len(added)) == (4, 3) and all(line.endswith("\r\n") for line in added)
    text = obs(repo).read_bytes().decode("utf-8")
    assert "    x-reviewed: yes  # 未知键\r\n" in text and text.endswith("x-batch: 7\r\n")


def test_import_refuses_a_file_that_changed_or_broke_after_it_was_read(repo: Path):
    round_ = check(repo / "rounds/r1").loaded.round
    (repo / "r.csv").write_text(IMPORT_CSV, encoding="utf-8")
    plan = importer.read(round_, repo / "r.csv", force=True)
    obs(repo).write_text(OBS_B + "# 另一人刚刚的修改\n", encoding="utf-8")
    edited = obs(repo).read_bytes()
    with pytest.raises(WriteError, match="changed while gapctl was working on it"):
        importer.write(plan)
    assert obs(repo).read_bytes() == edited and no_temporary_files(repo)
    obs(repo).write_text("unit: b\nresults: [\n", encoding="utf-8")
    broken = importer.read(round_, repo / "r.csv", force=True)
    assert len(broken.problems) == 1 and "b.yaml:3:1:" in broken.problems[0] and "not written" in broken.problems[0]
    assert obs(repo).read_text(encoding="utf-8") == "unit: b\nresults: [\n"


# --- gapctl evidence add -------------------------------------------------------------------

@pytest.mark.parametrize(("crlf", "bom"), VARIANTS)
def test_evidence_add_inserts_the_record_and_nothing_else(repo: Path, crlf: bool, bom: bool):
    before = variant(UNKNOWN, crlf, bom)
    obs(repo).write_bytes(before)
    shot = repo / "截图.png"
    shot.write_bytes(b"\x89PNG screenshot")
    digest = hashlib.sha256(shot.read_bytes()).hexdigest()
    result = runner.invoke(app, ["evidence", "add", "rounds/r1", "b", "1.1", str(shot), "--title", "栏目截图",
                                    "--captured", "2021-09-27"])
    assert result.exit_code == 0, result.output
    after = obs(repo).read_bytes()
    assert changes(before, after) == ([], lines(
        crlf, "    evidence:", "      - file: evidence/b/截图.png", f"        sha256: {digest}",
        "        captured: 2021-09-27", "        title: 栏目截图"))
    assert after.startswith(BOM) == bom
    assert (repo / "rounds/r1/evidence/b/截图.png").read_bytes() == shot.read_bytes()
    again = runner.invoke(app, ["evidence", "add", "rounds/r1", "b", "1.1", str(shot)])
    assert again.exit_code == 0 and obs(repo).read_bytes() == after  # already recorded: not written
    assert no_temporary_files(repo)


def test_evidence_add_refuses_a_file_it_cannot_parse_and_copies_nothing(repo: Path):
    obs(repo).write_text("unit: b\nresults:\n  - indicator: '1.1'\n    result: done\n  - [\n", encoding="utf-8")
    before = obs(repo).read_bytes()
    (repo / "shot.png").write_bytes(b"png")
    result = runner.invoke(app, ["evidence", "add", "rounds/r1", "b", "1.1", "shot.png"])
    assert result.exit_code == 1 and "b.yaml:" in result.output and "not written" in result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    assert obs(repo).read_bytes() == before and not (repo / "rounds/r1/evidence").exists()


# --- gapctl fmt ----------------------------------------------------------------------------

def test_fmt_keeps_crlf_bom_comments_and_unknown_keys(repo: Path):
    units = ("# 单位名单\r\nunits:\r\n  - {type: 区属部门, name: 甲, id: a}  # 第一个\r\nx-note: 保留\r\n"
             "name: n\r\nid: mini\r\n")
    (repo / "units/mini.yaml").write_bytes(BOM + units.encode())
    result = runner.invoke(app, ["fmt", "units"])
    assert result.exit_code == 0, result.output
    assert (repo / "units/mini.yaml").read_bytes() == BOM + (
        "# 单位名单\r\nid: mini\r\nname: n\r\nunits:\r\n  - {id: a, name: 甲, type: 区属部门}  # 第一个\r\n"
        "x-note: 保留\r\n").encode()
    assert runner.invoke(app, ["fmt", "--check", "units"]).exit_code == 0  # CRLF is canonical for a CRLF file


def test_fmt_makes_mixed_line_endings_those_of_the_first_line(repo: Path):
    (repo / "units/mini.yaml").write_bytes(b"id: mini\r\nname: n\nunits: []\r\n")
    assert format_paths([repo / "units"], check=False).exit_code == 0
    assert (repo / "units/mini.yaml").read_bytes() == b"id: mini\r\nname: n\r\nunits: []\r\n"


def test_fmt_refuses_files_under_a_linked_directory_inside_the_repository(repo: Path, tmp_path_factory):
    outside = tmp_path_factory.mktemp("elsewhere")
    (outside / "b.yaml").write_text("results: []\nunit: b\n", encoding="utf-8")
    observations = repo / "rounds/r1/observations"
    for p in observations.iterdir():
        p.unlink()
    observations.rmdir()
    observations.symlink_to(outside, target_is_directory=True)
    result = runner.invoke(app, ["fmt", "rounds/r1"])
    assert result.exit_code == 1 and "the directory rounds/r1/observations is a symbolic link" in result.output
    assert (outside / "b.yaml").read_text(encoding="utf-8") == "results: []\nunit: b\n"


# --- symbolic links: every writer refuses, exit 1, the link's target unchanged -------------

def _link_observation(repo: Path, tmp_path_factory) -> Path:
    # the target is inside the repository, so reading follows the link (gapctl.data.reads refuses one that
    # leaves it before any writer is asked) and what is tested here is the writer's refusal
    outside = repo / "elsewhere" / "b.yaml"
    outside.parent.mkdir()
    outside.write_bytes(obs(repo).read_bytes())
    obs(repo).unlink()
    obs(repo).symlink_to(outside)
    return outside


def test_import_refuses_a_linked_observation_file(repo: Path, tmp_path_factory):
    outside = _link_observation(repo, tmp_path_factory)
    before = outside.read_bytes()
    (repo / "r.csv").write_text(IMPORT_CSV, encoding="utf-8")
    result = runner.invoke(app, ["import", "rounds/r1", "r.csv", "--force"])
    assert result.exit_code == 1 and "b.yaml: is a symbolic link" in result.output
    assert "Nothing imported" in result.output
    assert outside.read_bytes() == before and obs(repo).is_symlink()


def test_evidence_add_refuses_a_linked_observation_file_or_evidence_directory(repo: Path, tmp_path_factory):
    outside = _link_observation(repo, tmp_path_factory)
    before = outside.read_bytes()
    (repo / "shot.png").write_bytes(b"png")
    result = runner.invoke(app, ["evidence", "add", "rounds/r1", "b", "1.1", "shot.png"])
    assert result.exit_code == 1 and "symbolic link" in result.output
    assert outside.read_bytes() == before
    obs(repo).unlink()
    obs(repo).write_bytes(before)
    elsewhere = tmp_path_factory.mktemp("evidence")
    (repo / "rounds/r1/evidence").symlink_to(elsewhere, target_is_directory=True)
    result = runner.invoke(app, ["evidence", "add", "rounds/r1", "b", "1.1", "shot.png"])
    assert result.exit_code == 1 and "rounds/r1/evidence is a symbolic link" in result.output
    assert list(elsewhere.iterdir()) == [] and obs(repo).read_bytes() == before


def test_export_refuses_a_linked_output_directory_or_file(repo: Path, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("published")
    (repo / "out").mkdir()
    (repo / "out/r1").symlink_to(elsewhere, target_is_directory=True)
    result = runner.invoke(app, ["export", "rounds/r1", "--out", "out/r1"])
    assert result.exit_code == 1 and "out/r1 is a symbolic link" in result.output and list(elsewhere.iterdir()) == []
    (repo / "out/r1").unlink()
    (repo / "out/r1").mkdir()
    (elsewhere / "keep.csv").write_text("别改我\n", encoding="utf-8")
    (repo / "out/r1/matrix.csv").symlink_to(elsewhere / "keep.csv")
    result = runner.invoke(app, ["export", "rounds/r1", "--out", "out/r1"])
    assert result.exit_code == 1 and "matrix.csv: is a symbolic link" in result.output
    assert (elsewhere / "keep.csv").read_text(encoding="utf-8") == "别改我\n"
    assert sorted(p.name for p in (repo / "out/r1").iterdir()) == ["matrix.csv"]  # all or none


def test_import_scheme_refuses_a_linked_target(repo: Path, tmp_path_factory):
    book = Workbook()
    book.active.append(["一级指标", "二级指标", "分值"])
    book.active.append(["公开渠道（4分）", "渠道覆盖", 4])
    book.save(repo / "t.xlsx")
    elsewhere = tmp_path_factory.mktemp("schemes") / "x.yaml"
    elsewhere.write_text("id: keep\n", encoding="utf-8")
    (repo / "schemes/new.yaml").symlink_to(elsewhere)
    result = runner.invoke(app, ["import-scheme", "t.xlsx", "--id", "new", "--force"])
    assert result.exit_code == 1 and "new.yaml: is a symbolic link" in result.output
    assert elsewhere.read_text(encoding="utf-8") == "id: keep\n"
    (repo / "schemes/new.yaml").unlink()
    made = runner.invoke(app, ["import-scheme", "t.xlsx", "--id", "new"])
    assert made.exit_code == 0, made.output
    assert (repo / "schemes/new.yaml").read_text(encoding="utf-8").startswith("# yaml-language-server")


def test_init_and_new_round_refuse_links(repo: Path, tmp_path_factory):
    empty = tmp_path_factory.mktemp("empty")
    (repo / "office").symlink_to(empty, target_is_directory=True)
    result = runner.invoke(app, ["init", "office"])
    assert result.exit_code == 1 and "symbolic link" in result.output and list(empty.iterdir()) == []
    rounds = tmp_path_factory.mktemp("rounds")
    (repo / "rounds").rename(repo / "rounds-real")
    (repo / "rounds").symlink_to(rounds, target_is_directory=True)
    result = runner.invoke(app, ["new", "round", "2025", "--scheme", "mini", "--units", "mini"])
    assert result.exit_code == 1 and "symbolic link" in result.output and list(rounds.iterdir()) == []


# --- init and new round: whole or nothing, ordinary modes ------------------------------------

def test_init_and_new_round_appear_whole_with_ordinary_modes(repo: Path):
    old = os.umask(0o022)
    try:
        assert runner.invoke(app, ["init", "office", "--from", "shanwei-2020"]).exit_code == 0
        office = repo / "office"
        made = runner.invoke(app, ["new", "round", "2025", "--scheme", "shanwei-2020", "--units", "units",
                                      "--repo", "office", "--year", "2025"])
        assert made.exit_code == 0, made.output
    finally:
        os.umask(old)
    assert stat.S_IMODE(office.stat().st_mode) == 0o755
    assert stat.S_IMODE((office / "rounds/2025").stat().st_mode) == 0o755
    assert stat.S_IMODE((office / "units/units.yaml").stat().st_mode) == 0o644
    assert stat.S_IMODE((office / "rounds/2025/round.toml").stat().st_mode) == 0o644
    assert ".*.tmp" in (office / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert sorted(p.name for p in office.iterdir() if p.name.startswith(".")) == [".github", ".gitignore",
                                                                                  ".pre-commit-config.yaml"]
    assert no_temporary_files(repo)
    assert runner.invoke(app, ["new", "round", "2025", "--scheme", "shanwei-2020", "--units", "units",
                                  "--repo", "office"]).exit_code == 1  # exists


# --- the shared writer -----------------------------------------------------------------------

def test_write_atomically_keeps_the_mode_and_gives_new_files_the_umask_mode(tmp_path: Path):
    target = tmp_path / "a.yaml"
    target.write_text("old\n", encoding="utf-8")
    target.chmod(0o640)
    write_atomically(target, b"new\n")
    assert target.read_bytes() == b"new\n" and stat.S_IMODE(target.stat().st_mode) == 0o640
    old = os.umask(0o027)
    try:
        write_atomically(tmp_path / "b.yaml", b"b\n", new=True)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "b.yaml").stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.yaml", "b.yaml"]


def test_write_atomically_refuses_what_it_must_not_replace(tmp_path: Path):
    target = tmp_path / "a.yaml"
    target.write_text("old\n", encoding="utf-8")
    seen = os.stat(target)
    with pytest.raises(WriteError, match="already exists"):
        write_atomically(target, b"x", new=True)
    time.sleep(0.01)
    target.write_text("edited\n", encoding="utf-8")
    with pytest.raises(WriteError, match="changed while"):
        write_atomically(target, b"x", seen)
    (tmp_path / "d").mkdir()
    with pytest.raises(WriteError, match="not a regular file"):
        write_atomically(tmp_path / "d", b"x")
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real", target_is_directory=True)
    with pytest.raises(WriteError, match="the directory .*link is a symbolic link"):
        write_atomically(tmp_path / "link/sub/x.yaml", b"x", root=tmp_path)
    write_atomically(tmp_path / "link/x.yaml", b"x", root=tmp_path / "link")  # links above root are fine
    assert target.read_text(encoding="utf-8") == "edited\n"
    assert not list(tmp_path.rglob("*.tmp"))


def test_a_batch_is_written_whole_or_not_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_bytes(b"a\n")
    b.write_bytes(b"b\n")
    with pytest.raises(WriteError, match="already exists"):
        write_files([Write(a, b"A\n"), Write(b, b"B\n", new=True)])

    def chunks() -> Any:
        yield b"half"
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_files([Write(a, b"A\n"), Write(b, chunks())])
    calls = []

    def full_disk(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(DiskFull, match="b.yaml: cannot write: No space left on device; nothing was changed"):
        write_files([Write(a, b"A\n"), Write(b, b"B\n")])
    monkeypatch.undo()
    monkeypatch.setenv("GAPCTL_LANG", "en")  # undo() also dropped the English the tests read
    assert (a.read_bytes(), b.read_bytes()) == (b"a\n", b"b\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.yaml", "b.yaml"]


def test_read_original_refuses_links_and_text_that_is_not_utf8(tmp_path: Path):
    (tmp_path / "gbk.yaml").write_bytes("单位: 甲\n".encode("gb18030"))
    with pytest.raises(WriteError, match="not UTF-8"):
        read_original(tmp_path / "gbk.yaml")
    (tmp_path / "link.yaml").symlink_to(tmp_path / "gbk.yaml")
    with pytest.raises(WriteError, match="symbolic link"):
        read_original(tmp_path / "link.yaml")


# --- the editor behind import and evidence add -------------------------------------------------

def test_edit_set_remove_append_keep_comment_lines_in_place(tmp_path: Path):
    path = tmp_path / "b.yaml"
    path.write_text(UNKNOWN, encoding="utf-8")
    edit = Edit(read_original(path))
    first, second = edit.data["results"]
    edit.remove(first, "reason")
    edit.set(first, "fix", "补充", S.RESULT)                # between note and observer
    edit.set(second, "result", "done", S.RESULT)           # after indicator, the key order is the file's
    edit.set(second, "items", {"lead": True, "plan": False}, S.RESULT)
    edit.append(edit.data["results"], CommentedMap([("indicator", "1.2"), ("result", "n/a")]))
    removed, added = changes(UNKNOWN.encode(), edit.new_bytes())
    assert removed == ["    reason: >-\n", "      折叠的\n", "      说明\n",
                       "  - items: {lead: true, plan: true}   # 流式\n"]
    assert added == ["    fix: 补充\n", "  - items: {lead: true, plan: false}  # 流式\n", "    result: done\n",
                     '  - indicator: "1.2"\n', "    result: n/a\n"]


def test_edit_refuses_what_it_cannot_parse_and_an_empty_flow_list_becomes_a_block(tmp_path: Path):
    path = tmp_path / "b.yaml"
    path.write_text("unit: b\nunit: c\nresults: []\n", encoding="utf-8")
    with pytest.raises(WriteError, match="b.yaml:2:1: .*not written"):
        Edit(read_original(path))
    path.write_text("unit: b   # 单位\nresults: []  # 尚无\n", encoding="utf-8")
    edit = Edit(read_original(path))
    edit.append(edit.data["results"], {"indicator": "1.1", "result": "done"})
    assert edit.new_bytes().decode() == 'unit: b   # 单位\nresults:     # 尚无\n  - indicator: "1.1"\n' \
        '    result: done\n'


@pytest.mark.parametrize("indent", [2, 4])
def test_edit_follows_the_file_indentation(tmp_path: Path, indent: int):
    pad = " " * indent
    text = f"unit: b\nresults:\n- indicator: '1.1'\n  result: done\n  items:\n{pad}lead: true\n"
    path = tmp_path / "b.yaml"
    path.write_text(text, encoding="utf-8")
    edit = Edit(read_original(path))
    edit.set(edit.data["results"][0], "note", "说明", S.RESULT)
    assert changes(text.encode(), edit.new_bytes()) == ([], ["  note: 说明\n"])


def test_splice_keeps_lines_the_dump_writes_differently():
    original = "a:   1   # x\nb: [ 1,2 ]\nc: 3\n"
    base = "a: 1   # x\nb: [1, 2]\nc: 3\n"
    assert splice(original, base, base + "d: 4\n") == original + "d: 4\n"
    assert splice(original, base, base.replace("c: 3", "c: 5")) == "a:   1   # x\nb: [ 1,2 ]\nc: 5\n"
    assert splice(original, base, base.replace("b: [1, 2]\n", "b: [1, 2]\nbb: 0\n")) == \
        "a:   1   # x\nb: [ 1,2 ]\nbb: 0\nc: 3\n"
    # a changed line is written as the dump writes it; lines written differently pair up one by one
    assert splice(original, base, base.replace("b: [1, 2]", "b: [1, 3]")) == "a:   1   # x\nb: [1, 3]\nc: 3\n"
    # unless the runs differ in length: then a change inside one takes the whole run, in the dump's layout
    assert splice("x:   1\n  \ny:  2\nz: 3\n", "x: 1\ny: 2\nz: 3\n", "x: 1\ny: 5\nz: 3\n") == "x: 1\ny: 5\nz: 3\n"
    assert splice("x: 1\n\n\ny: 2\nz: 3\n", "x: 1\ny: 2\nz: 3\n", "x: 1\ny: 5\nz: 3\n") == "x: 1\n\n\ny: 5\nz: 3\n"
    assert splice("a: 1", "a: 1\n", "a: 1\nb: 2\n") == "a: 1\nb: 2\n"  # no newline at the end


SAMPLES = [next(iter(sorted((d / "observations").glob("*.yaml")))) for d in sorted((ROOT / "rounds").iterdir())
           if (d / "observations").is_dir()]


@pytest.mark.parametrize("shipped", SAMPLES, ids=lambda p: p.parent.parent.name)
@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
def test_edits_of_shipped_files_touch_only_the_lines_they_change(tmp_path: Path, shipped: Path, crlf: bool):
    raw = shipped.read_bytes().replace(b"\n", b"\r\n") if crlf else shipped.read_bytes()
    path = tmp_path / "observations.yaml"
    path.write_bytes(raw)
    edit = Edit(read_original(path))
    results = edit.data["results"]
    edit.set(results[0], "x-checked", [{"file": "evidence/x.png", "sha256": "ab"}], S.RESULT)
    edit.set(results[-1], "reason", "新的扣分理由", S.RESULT)
    edit.append(results, CommentedMap([("indicator", "99.9"), ("result", "pending")]))
    removed, added = changes(raw, edit.new_bytes())
    assert len(removed) <= 2  # the last entry's old reason, if it had one (a block scalar: two lines)
    assert [line for line in added if "x-checked" in line or "99.9" in line or "新的扣分理由" in line]
    assert all(line.endswith("\r\n" if crlf else "\n") and not line.endswith("\r\r\n") for line in added)


# --- export --------------------------------------------------------------------------------

def test_export_replaces_outputs_atomically_with_ordinary_modes(tmp_path: Path):
    scored = score(check(ROOT / "rounds/shanwei-2020").loaded.round)
    out = tmp_path / "out"
    out.mkdir()
    (out / "scores.csv").write_text("old\n", encoding="utf-8")
    (out / "scores.csv").chmod(0o600)
    files = export(scored, "csv", out)
    assert [f.name for f in files] == ["scores.csv", "matrix.csv", "problems.csv"]
    assert stat.S_IMODE((out / "scores.csv").stat().st_mode) == 0o600  # the file it replaced
    assert (out / "scores.csv").read_bytes().startswith(BOM)
    assert sorted(p.name for p in out.iterdir()) == ["matrix.csv", "problems.csv", "scores.csv"]


# --- killed mid-write: the old file is intact ------------------------------------------------

KILLED = r"""
import os, sys, time
from pathlib import Path

stage, argv = sys.argv[1], sys.argv[2:]
real_write, real_replace = os.write, os.replace


def stop() -> None:
    print("KILL-ME-NOW", flush=True)
    time.sleep(60)


def journal(fd):
    return os.path.basename(os.readlink(f"/proc/self/fd/{fd}")).startswith(".gapctl-journal.")


def slow_write(fd, data):
    if fd > 2 and stage == "mid-write" and not journal(fd):  # half of the first chunk reaches the temporary file
        real_write(fd, bytes(data[: max(1, len(data) // 2)]))
        stop()
    return real_write(fd, data)


def slow_replace(src, dst):
    if stage == "before-rename":             # complete and fsynced, not yet renamed
        stop()
    return real_replace(src, dst)


os.write, os.replace = slow_write, slow_replace
if argv[0] == "payload":
    from gapctl.data.writes import write_atomically
    write_atomically(Path(argv[1]), os.urandom(int(argv[2])))
else:
    from gapctl.cli import main
    main(argv)
"""


def run_and_kill(args: list[str], cwd: Path, stage: str) -> None:
    proc = subprocess.Popen([sys.executable, "-c", KILLED, stage, *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line == b"KILL-ME-NOW\n", (line, proc.stderr.read() if proc.poll() is not None else b"")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
@pytest.mark.parametrize("stage", ["mid-write", "before-rename"])
def test_fmt_killed_mid_write_leaves_the_old_file_intact(repo: Path, stage: str):
    big = "# 很长的观测记录\nresults:\n" + "".join(
        f"  - result: done   # 第{i}条\n    indicator: \"{i}\"\n    note: {'说明' * 40}\n" for i in range(150)) \
        + "unit: b\n"
    obs(repo).write_text(big, encoding="utf-8")
    before = obs(repo).read_bytes()
    run_and_kill(["fmt", "rounds/r1/observations/b.yaml"], repo, stage)
    assert obs(repo).read_bytes() == before
    strays = [p for p in obs(repo).parent.iterdir() if p.name.startswith(".b.yaml.") and p.name.endswith(".tmp")]
    assert len(strays) == 1                           # left behind, named so that nothing reads it
    assert (strays[0].stat().st_size < len(before)) == (stage == "mid-write")
    looked_at = format_paths([repo], check=True).files
    assert obs(repo) in looked_at and not [p for p in looked_at if p.name.startswith(".")]
    assert check(repo / "rounds/r1").loaded.round is not None
    assert len(list(repo.glob(".gapctl-journal.*.tmp"))) == 1  # the journal names the stray
    result = runner.invoke(app, ["fmt", "rounds/r1"])   # a later run removes the stray, then writes
    assert result.exit_code == 0, result.output
    assert "undid an interrupted write of 1 file(s)" in result.output and "1 temporary file(s) removed" in result.output
    assert obs(repo).read_text(encoding="utf-8").startswith('# 很长的观测记录\nunit: b\nresults:\n  - indicator: "0"\n')
    assert no_temporary_files(repo)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_large_write_killed_mid_write_leaves_the_old_file_intact(tmp_path: Path):
    target = tmp_path / "big.bin"
    target.write_bytes(b"old contents\n" * 1000)
    before = target.read_bytes()
    run_and_kill(["payload", str(target), str(8 << 20)], tmp_path, "mid-write")
    assert target.read_bytes() == before
    stray = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp") and not p.name.startswith(".gapctl-journal.")]
    assert len(stray) == 1 and stray[0].name.startswith(".big.bin.") and stray[0].stat().st_size == 1 << 19
    assert recover(tmp_path) and sorted(p.name for p in tmp_path.iterdir()) == ["big.bin"]  # the next writer cleans up


def test_evidence_add_through_the_library_reports_errors_as_values(repo: Path):
    with pytest.raises(EvidenceError, match="no such file"):
        add(repo / "rounds/r1", "b", "1.1", repo / "missing.png")
    with pytest.raises(EvidenceError, match="no observation file"):
        add(repo / "rounds/r1", "zz", "1.1", repo / "units/mini.yaml")

