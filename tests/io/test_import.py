"""`gapctl import`: spreadsheets into observation files, all-or-nothing, comments kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from gapctl.api import check
from gapctl.cli import app
from gapctl.io import importer
from tests.conftest import kinds_round, write_repo
from tests.workbooks import cell, row, text_row, xlsx

runner = CliRunner()


def _obs(repo: Path, unit: str) -> Path:
    return repo / "rounds/r1/observations" / f"{unit}.yaml"


def test_messy_workbook_gives_messages_and_changes_nothing(mini_repo, monkeypatch):
    monkeypatch.chdir(mini_repo)
    before = {p: p.read_bytes() for p in (mini_repo / "rounds/r1/observations").iterdir()}
    book = Workbook()
    ws = book.active
    ws.title = "评估结果"
    ws.append(["单位", "指标", "结果", "数值", "扣分理由"])
    ws.append(["区财政局", "1.1", "完成", None, None])
    ws.append(["区财政局 ", "2", None, "明确分管领导", "未研究部署"])   # a stray space
    ws.append(["区档案馆", "1.1", "未完成", None, "入口失效"])
    ws.append(["区统计局", "1.1", "完成", None, None])                 # unknown unit
    ws.append(["区档案馆", "9", "完成", None, None])                   # unknown indicator
    ws.append(["区档案馆", "2", None, "plan", None])
    ws.merge_cells("E6:E7")
    book.save(mini_repo / "messy.xlsx")
    result = runner.invoke(app, ["import", "rounds/r1", "messy.xlsx"])
    assert result.exit_code == 1
    out = result.output
    assert "评估结果!E6:E7: merged cells" in out
    assert "评估结果!A5: unknown unit '区统计局'" in out
    assert "评估结果!B6: unknown indicator '9'" in out
    assert "评估结果!A3: stray spaces removed" in out
    assert "Nothing imported" in out
    assert {p: p.read_bytes() for p in (mini_repo / "rounds/r1/observations").iterdir()} == before


def test_csv_import_full_width_digits_force_and_comments(mini_repo, monkeypatch):
    monkeypatch.chdir(mini_repo)
    write_repo(mini_repo, {"rounds/r1/observations/b.yaml": "# 区档案馆：人工录入\nunit: b\nresults:\n"
                                                            '  - indicator: "1.1"\n    result: done\n'})
    (mini_repo / "r.csv").write_text("单位,指标,结果,数值,扣分理由\nb,2,,\"lead，plan\",\nb,1.1,未完成,,入口失效\n",
                                     encoding="utf-8-sig")
    refused = runner.invoke(app, ["import", "rounds/r1", "r.csv"])
    assert refused.exit_code == 1 and "b 1.1: already observed; use --force" in refused.output
    preview = runner.invoke(app, ["import", "rounds/r1", "r.csv", "--force", "--dry-run"])
    assert preview.exit_code == 0 and "区档案馆" in preview.output and "dry run" in preview.output
    assert "入口失效" not in _obs(mini_repo, "b").read_text(encoding="utf-8")        # nothing written
    done = runner.invoke(app, ["import", "rounds/r1", "r.csv", "--force"])
    assert done.exit_code == 0, done.output
    text = _obs(mini_repo, "b").read_text(encoding="utf-8")
    assert text.startswith("# 区档案馆：人工录入\n")                                 # the comment survived
    assert "reason: 入口失效" in text and "plan: true" in text
    assert runner.invoke(app, ["validate", "rounds/r1"]).exit_code == 0


def test_counts_from_text_and_full_width(mini_repo, monkeypatch):
    monkeypatch.chdir(mini_repo)
    scheme = (mini_repo / "schemes/mini.yaml").read_text(encoding="utf-8").replace(
        "        rule: {kind: all-or-nothing}\n      - id: \"1.2\"",
        "        rule: {kind: count-tiers, tiers: [{at_least: 1, points: 1}, {at_least: 2, points: 2}]}\n"
        "      - id: \"1.2\"", 1)
    write_repo(mini_repo, {"schemes/mini.yaml": scheme})
    for unit in ("a", "b"):
        path = _obs(mini_repo, unit)
        counted = 'indicator: "1.1"\n    count: 1\n    reason: 次数不足'
        path.write_text(path.read_text(encoding="utf-8").replace('indicator: "1.1"\n    result: done', counted),
                        encoding="utf-8")
    book = Workbook()
    book.active.append(["单位", "指标", "数值"])
    book.active.append(["a", "1.1", "２"])
    book.save(mini_repo / "c.xlsx")
    result = runner.invoke(app, ["import", "rounds/r1", "c.xlsx", "--force"])
    assert result.exit_code == 0, result.output
    assert "full-width characters '２' read as '2'" in result.output
    assert "number stored as text '2'" in result.output
    assert "count: 2" in _obs(mini_repo, "a").read_text(encoding="utf-8")


# --- issue #16: what import accepts, validate accepts; bad spreadsheets are problem lines -----

@pytest.fixture
def kinds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A valid round over four rule kinds (1.1 all-or-nothing, 1.2 count-tiers, 2 items, 3 proportional),
    units a and b fully observed; the working directory."""
    repo = write_repo(tmp_path / "repo", kinds_round("导入测试"))
    monkeypatch.chdir(repo)
    assert runner.invoke(app, ["validate", "rounds/r1"]).exit_code == 0
    return repo


def _files(repo: Path) -> dict[str, bytes]:
    return {str(p.relative_to(repo)): p.read_bytes() for p in sorted(repo.rglob("*")) if p.is_file()}


def _refused(repo: Path, name: str, data: bytes | str, *args: str) -> str:
    """Import a sheet that must be refused: exit 1, problem lines, no traceback, every file as it was."""
    before = _files(repo)
    (repo / name).write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    before[name] = (repo / name).read_bytes()
    result = runner.invoke(app, ["import", "rounds/r1", name, "--force", *args])
    assert result.exit_code == 1, result.output
    assert "internal error" not in result.output and "Traceback" not in result.output
    assert "Nothing imported" in result.output
    assert _files(repo) == before
    return result.output


def _issues(repo: Path, name: str, data: bytes | str, **kwargs) -> list[tuple[int | None, int | None, str]]:
    (repo / name).write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    plan = importer.read(check(repo / "rounds/r1").loaded.round, repo / name, force=True, **kwargs)
    return [(i.row, i.col, i.code) for i in plan.issues]


@pytest.mark.parametrize(("value", "code"), [
    ("NaN", "not-a-number"), ("Infinity", "not-a-number"), ("-Infinity", "not-a-number"), ("sNaN", "not-a-number"),
    ("nan", "not-a-number"), ("1e999999999", "number-bounds"), ("-1e999999999", "number-bounds"),
    ("1e-999999999", "number-bounds"), ("1" * 5000, "number-bounds"), ("1e15", "number-bounds"),
    ("-5", "E501"), ("1.5", "E501"), ("150%", "E501"), ('"1,000"', "not-a-number"), ("0x10", "not-a-number"),
])
def test_numbers_validate_would_refuse_are_refused(kinds: Path, value: str, code: str) -> None:
    """NaN, Infinity and a fraction of -5 were written (validate then failed); sNaN was an internal
    error; 1e999999999 ran for minutes and wrote a gigabyte. Each is now one problem at its cell."""
    sheet = f"单位,指标,数值\na,3,{value}\n"
    assert _issues(kinds, "r.csv", sheet) == [(2, 2, code)]
    output = _refused(kinds, "r.csv", sheet)
    assert output.startswith("r.csv!C2: ")


def test_a_huge_exponent_costs_nothing(kinds: Path) -> None:
    import time

    started = time.perf_counter()
    _refused(kinds, "r.csv", "单位,指标,数值\na,3,1e999999999\nb,3,9e99999\n")
    assert time.perf_counter() - started < 10


@pytest.mark.parametrize(("typed", "written"), [
    ("2024/12/15", "2024-12-15"), ("2024年12月15日", "2024-12-15"), ("2024.12.15", "2024-12-15"),
    ("2024-1-5", "2024-01-05"), ("2024年1月5号", "2024-01-05"), ("２０２４／１２／１５", "2024-12-15"),
    ("2024-12-15 10:30", "2024-12-15"), ("45641", "2024-12-15"), (" 2024-12-15 ", "2024-12-15"),
])
def test_dates_as_people_type_them_are_written_as_iso(kinds: Path, typed: str, written: str) -> None:
    """A CSV date 2024/12/15 was written as is (validate refused it); now every accepted spelling
    is written YYYY-MM-DD and validate accepts the file."""
    (kinds / "r.csv").write_text(f"单位,指标,数值,日期\na,3,0.5,{typed}\n", encoding="utf-8")
    result = runner.invoke(app, ["import", "rounds/r1", "r.csv", "--force"])
    assert result.exit_code == 0, result.output
    assert f"observed_at: {written}\n" in (kinds / "rounds/r1/observations/a.yaml").read_text(encoding="utf-8")
    assert runner.invoke(app, ["validate", "rounds/r1"]).exit_code == 0


@pytest.mark.parametrize(("typed", "hint"), [
    ("2021-02-30", "no such day as 2021-02-30"), ("2024-13-01", "no such day"), ("2024/2/30", "no such day"),
    ("15/12/2024", "write it as 2024-12-15"), ("03/04/2024", "could be day/month or month/day"),
    ("20241215", "write it as 2024-12-15"), ("2024", "not a date"), ("明天", "not a date"), ("12:30", "not a date"),
])
def test_dates_that_are_not_days_are_refused_at_their_cell(kinds: Path, typed: str, hint: str) -> None:
    output = _refused(kinds, "r.csv", f"单位,指标,数值,日期\na,3,0.5,{typed}\n")
    assert output.startswith("r.csv!D2: ") and hint in output


def test_workbook_dates_every_way(kinds: Path) -> None:
    """A date cell, a datetime cell, a serial number, text with 日 (it lost its 日 to str(...)[:10]), and
    a 1904-based workbook: all written YYYY-MM-DD."""
    rows = (text_row(1, "单位", "指标", "数值", "日期")
            + row(2, cell("A2", "a"), cell("B2", "3"), cell("C2", 0.5), cell("D2", 45641, style=1))
            + row(3, cell("A3", "b"), cell("B3", "3"), cell("C3", 0.25), cell("D3", "2024年12月15日")))
    (kinds / "r.xlsx").write_bytes(xlsx(rows))
    result = runner.invoke(app, ["import", "rounds/r1", "r.xlsx", "--force"])
    assert result.exit_code == 0, result.output
    for unit in ("a", "b"):
        text = (kinds / f"rounds/r1/observations/{unit}.yaml").read_text(encoding="utf-8")
        assert "observed_at: 2024-12-15\n" in text
    rows = text_row(1, "单位", "指标", "数值", "日期") + row(2, cell("A2", "a"), cell("B2", "3"), cell("C2", 0.75),
                                                          cell("D2", 44179))
    (kinds / "r.xlsx").write_bytes(xlsx(rows, date1904=True))  # 44179 days after 1904-01-01
    result = runner.invoke(app, ["import", "rounds/r1", "r.xlsx", "--force"])
    assert result.exit_code == 0, result.output
    assert "observed_at: 2024-12-15\n" in (kinds / "rounds/r1/observations/a.yaml").read_text(encoding="utf-8")
    assert runner.invoke(app, ["validate", "rounds/r1"]).exit_code == 0


def test_a_time_cell_is_not_a_date(kinds: Path) -> None:
    rows = text_row(1, "单位", "指标", "数值", "日期") + row(2, cell("A2", "a"), cell("B2", "3"), cell("C2", 0.5),
                                                          cell("D2", 0.5, style=2))
    assert _issues(kinds, "r.xlsx", xlsx(rows)) == [(2, 3, "bad-date")]


def test_counts_must_be_whole(kinds: Path) -> None:
    """2.5 notices became 2 (int() cut it); a count is whole or refused."""
    sheet = "单位,指标,数值\na,1.2,2.5\nb,1.2,-1\n"
    assert _issues(kinds, "r.csv", sheet) == [(2, 2, "not-whole"), (3, 2, "not-whole")]


@pytest.mark.parametrize(("name", "data", "words"), [
    ("short.csv", "单位,指标,数值,扣分理由\na,3\n", ["short.csv row 2", "2 field(s), the header 4"]),
    ("long.csv", "单位,指标,数值\na,3,0.5,多余\n", ["long.csv!D2", "comma inside a value"]),
    ("field.csv", "单位,指标,数值,扣分理由\na,3,0.5,\"" + "长" * 140_000 + "\"\n", ["field.csv row 2", "32,767"]),
    ("quote.csv", "单位,指标,数值,扣分理由\na,3,0.5,\"never closed\n" + "x," * 1000 + "\n", ["quote.csv row 2",
                                                                                   "never closed"]),
    ("wide.csv", "单位,指标,数值\na,3,0.5\n" + "," * 20_000 + "\n", ["wide.csv:3", "16,384 fields"]),
    ("quote2.csv", "单位,指标,数值,扣分理由\na,3,0.5,\"a\"b\n", ["quote2.csv row 2", "written twice"]),
    ("notzip.xlsx", b"this is no workbook", ["notzip.xlsx: not an xlsx workbook"]),
    ("old.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), ["Excel 97–2003", "save it as .xlsx"]),
    ("empty.csv", b"", ["empty.csv: the sheet holds no rows"]),
    ("nul.csv", "单位,指标\x00,数值\n".encode(), ["nul.csv:1:6", "NUL"]),
])
def test_broken_files_are_problem_lines(kinds: Path, name: str, data: bytes | str, words: list[str]) -> None:
    """A short row, a 128 KiB field, a non-zip or cut xlsx were "internal error"s; now problem lines."""
    output = _refused(kinds, name, data)
    for word in words:
        assert word in output


def test_a_truncated_workbook(kinds: Path) -> None:
    whole = xlsx(text_row(1, "单位", "指标", "数值") + text_row(2, "a", "3", 0.5))
    for cut in (len(whole) // 2, len(whole) - 10, 30):
        assert "was the file cut short?" in _refused(kinds, "cut.xlsx", whole[:cut])


def test_non_utf8_csv_is_named_with_a_conversion(kinds: Path) -> None:
    text = "单位,指标,数值,扣分理由\na,3,0.5,栏目未更新\n"
    output = _refused(kinds, "gbk.csv", text.encode("gbk"))
    assert "GBK/GB18030" in output and "iconv -f GB18030 -t UTF-8 'gbk.csv'" in output and "CSV UTF-8" in output
    english = "unit,indicator,value,reason\na,3,0.5,stale\n"
    assert "UTF-16LE without a byte-order mark" in _refused(kinds, "u16.csv", english.encode("utf-16-le"))
    assert "UTF-32" in _refused(kinds, "u32.csv", text.encode("utf-32"))


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-8-sig", "utf-8"])
def test_utf16_with_a_bom_and_utf8_are_read(kinds: Path, encoding: str) -> None:
    """Excel's "Unicode text" is UTF-16 with a BOM and tab-separated: read as such."""
    text = "单位\t指标\t数值\t扣分理由\na\t3\t0.5\t栏目未更新\n" if encoding.startswith("utf-16") else \
        "单位,指标,数值,扣分理由\na,3,0.5,栏目未更新\n"
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    (kinds / "r.csv").write_bytes(data)
    result = runner.invoke(app, ["import", "rounds/r1", "r.csv", "--force"])
    assert result.exit_code == 0, result.output
    assert "reason: 栏目未更新" in (kinds / "rounds/r1/observations/a.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize(("mapping", "words"), [
    ("- 单位\n- 指标\n", ["map.yaml:1:1", "this one holds a list"]),
    ("columns:\n  数据: valeu\n", ["map.yaml:2:7", "'valeu', which is not a field"]),
    ("columns: [1, 2]\n", ["map.yaml:1:10", "not a field"]),  # `columns` not a mapping: read as a header
    ("数据: [value]\n", ["map.yaml:1:5", "not a field"]),
    ("a: b\na: c\n", ["map.yaml:2:1", "duplicate"]),
    ("just text\n", ["this one holds a value"]),
    ("{", ["map.yaml:"]),
])
def test_a_mapping_file_of_the_wrong_shape(kinds: Path, mapping: str, words: list[str]) -> None:
    """A mapping file that is a list was an AttributeError ("internal error")."""
    (kinds / "map.yaml").write_text(mapping, encoding="utf-8")
    output = _refused(kinds, "r.csv", "单位,指标,数据\na,3,0.5\n", "--mapping", "map.yaml")
    for word in words:
        assert word in output, output


def test_a_mapping_file_maps_headers(kinds: Path) -> None:
    (kinds / "map.yaml").write_text("columns:\n  机构: unit\n  数据: value\n  原因: reason\n", encoding="utf-8")
    (kinds / "r.csv").write_text("机构,指标,数据,原因\na,3,0.5,目录缺项\n", encoding="utf-8")
    result = runner.invoke(app, ["import", "rounds/r1", "r.csv", "--mapping", "map.yaml", "--force"])
    assert result.exit_code == 0, result.output
    assert "reason: 目录缺项" in (kinds / "rounds/r1/observations/a.yaml").read_text(encoding="utf-8")


def test_one_line_per_root_cause_and_repeats_capped(kinds: Path) -> None:
    """1,000,000 rows of unknown units printed 1,000,001 lines. The same cause is one line with the
    other rows it affects; more than ten causes of one kind end in one "… and N more" line."""
    rows = "".join(f"z{i % 3},3,0.5\n" for i in range(300))
    output = _refused(kinds, "same.csv", "单位,指标,数值\n" + rows)
    assert output.splitlines()[:3] == [f"same.csv!A{2 + i}: unknown unit 'z{i}' (also rows {5 + i}, {8 + i}, "
                                       f"{11 + i} and 96 more)" for i in range(3)]
    rows = "".join(f"u{i},3,0.5\n" for i in range(1000))
    output = _refused(kinds, "many.csv", "单位,指标,数值\n" + rows)
    lines = output.splitlines()
    assert len(lines) == 12
    assert lines[-2] == "… and 990 more row(s) with the same problem (unknown unit)"


def test_a_million_rows_are_refused_in_one_line(kinds: Path) -> None:
    rows = "".join(f"u{i},3,0.5\n" for i in range(1_000_000))
    output = _refused(kinds, "big.csv", "单位,指标,数值\n" + rows)
    assert output.splitlines() == ["big.csv row 200001: more than 200,000 rows with values; split the sheet into "
                                   "several imports", "Nothing imported: 1 problem(s)."]


def test_the_validate_gate_names_the_cell_and_the_code(kinds: Path) -> None:
    """What the cell checks cannot know, validate does: a fraction above 1, a count below 0 —
    refused at the row and column that made it, with validate's code."""
    sheet = "单位,指标,数值,扣分理由\na,3,1.25,x\nb,3,-0.5,y\n"
    assert _issues(kinds, "r.csv", sheet) == [(2, 2, "E501"), (3, 2, "E501")]
    output = _refused(kinds, "r.csv", sheet)
    assert "r.csv!C2: '3' (proportional): fraction 1.25 is outside 0…1" in output
    assert "E501, rounds/r1/observations/a.yaml:" in output


def test_warnings_of_imported_rows_are_notes(kinds: Path) -> None:
    (kinds / "r.csv").write_text("单位,指标,数值\na,3,0.5\n", encoding="utf-8")
    result = runner.invoke(app, ["import", "rounds/r1", "r.csv", "--force"])
    assert result.exit_code == 0, result.output
    assert "note: r.csv!C2: '3' 目录完整: points lost without a 'reason' (扣分理由) (W504)" in result.output


def test_a_unit_with_a_yml_or_toml_file(kinds: Path) -> None:
    """Import wrote a second file, b.yaml, beside b.yml (validate: E301 a second observation file)."""
    obs = kinds / "rounds/r1/observations"
    (obs / "b.yaml").rename(obs / "b.yml")
    (kinds / "r.csv").write_text("单位,指标,数值,扣分理由\nb,3,0.5,缺项\n", encoding="utf-8")
    result = runner.invoke(app, ["import", "rounds/r1", "r.csv", "--force"])
    assert result.exit_code == 0, result.output
    assert not (obs / "b.yaml").exists() and "reason: 缺项" in (obs / "b.yml").read_text(encoding="utf-8")
    (obs / "b.yml").unlink()
    (obs / "b.toml").write_text('unit = "b"\n[[results]]\nindicator = "1.1"\nresult = "done"\n', encoding="utf-8")
    assert runner.invoke(app, ["validate", "rounds/r1"]).exit_code == 0
    output = _refused(kinds, "r.csv", "单位,指标,数值,扣分理由\nb,3,0.5,缺项\n")
    assert "b.toml is TOML; gapctl import edits YAML observation files only" in output


def test_the_same_row_twice(kinds: Path) -> None:
    assert _issues(kinds, "r.csv", "单位,指标,数值\na,3,0.5\na,3,0.6\n") == [(3, 1, "duplicate-row")]


def test_a_text_reason_with_control_characters_round_trips(kinds: Path) -> None:
    """Text is written as typed (escaped in YAML where it must be) and read back the same."""
    reason = "第１项\t缺失\x1b[31m \u202e反转"
    (kinds / "r.csv").write_text(f'单位,指标,数值,扣分理由\na,3,0.5,"{reason}"\n', encoding="utf-8")
    result = runner.invoke(app, ["import", "rounds/r1", "r.csv", "--force"])
    assert result.exit_code == 0, result.output
    obs = check(kinds / "rounds/r1").loaded.round.observations["a"]
    assert next(r for r in obs.results if r.indicator == "3").reason == reason


@pytest.mark.parametrize("force", [False, True])
def test_a_pool_of_workers_edits_the_same_bytes_and_says_the_same(tmp_path, monkeypatch, force):
    """Many units' files are edited by forked workers (GAPCTL_JOBS): the files written, the notes and the
    problems (replayed in the order one process says them) are those of one process."""
    from tests.conftest import copy_repo

    monkeypatch.setattr(importer, "PARALLEL_FROM", 2)
    monkeypatch.setattr(importer, "BATCH", 3)
    outputs = []
    for jobs in ("1", "2"):
        repo = copy_repo(tmp_path / jobs)
        monkeypatch.chdir(repo)
        monkeypatch.setenv("GAPCTL_JOBS", jobs)
        units = sorted(p.stem for p in Path("rounds/suizhou-2021/observations").glob("*.yaml"))
        rows = ["单位,指标,结果"] + [f"{u},1.1,{'未完成' if n % 2 else '完成'}" for n, u in enumerate(units)] \
            + [f"{u},2.1.1,未完成" for u in units[:3]]
        Path("r.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
        done = runner.invoke(app, ["import", "rounds/suizhou-2021", "r.csv", *(["--force"] if force else [])])
        files = {p.name: p.read_bytes() for p in sorted(Path("rounds/suizhou-2021/observations").iterdir())}
        outputs.append((done.exit_code, done.output, files))
    assert outputs[0] == outputs[1]
    assert outputs[0][0] == (0 if force else 1)
    assert len(outputs[0][2]) >= 8


def test_a_pools_spooled_bytes_are_written_exactly_and_a_failed_write_changes_nothing(tmp_path, monkeypatch):
    """Workers put the new bytes in spool files outside the repository (the parent keeps only where they are);
    the files written are those bytes, the spool is gone afterwards, and a write that fails part-way leaves
    every observation file as it was, nothing temporary in the repository and no spool."""
    import gc
    import os
    import tempfile

    from gapctl.data.writes import DiskFull
    from tests.conftest import copy_repo

    monkeypatch.setattr(importer, "PARALLEL_FROM", 2)
    monkeypatch.setattr(importer, "BATCH", 3)
    monkeypatch.setenv("GAPCTL_JOBS", "2")
    spools = tmp_path / "spools"
    spools.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spools))
    repo = copy_repo(tmp_path / "repo")
    monkeypatch.chdir(repo)
    observations = Path("rounds/suizhou-2021/observations")
    units = sorted(p.stem for p in observations.glob("*.yaml"))
    Path("r.csv").write_text("单位,指标,结果\n" + "".join(f"{u},1.1,未完成\n" for u in units), encoding="utf-8")
    before = {p.name: p.read_bytes() for p in sorted(observations.iterdir())}

    round_ = check(Path("rounds/suizhou-2021")).loaded.round
    plan = importer.read(round_, Path("r.csv"), force=True)
    assert plan.problems == [] and len(plan.files) == len(units) >= 8
    assert all(isinstance(data, importer.Spooled) for data in plan.files.values())
    new = {path.name: bytes(data) for path, data in plan.files.items()}
    assert len(os.listdir(spools)) == 1 and new != {name: before[name] for name in new}

    real = os.write

    def full(fd, data):
        if os.path.basename(os.readlink(f"/proc/self/fd/{fd}")).startswith(f".{units[len(units) // 2]}.yaml."):
            raise OSError(28, "No space left on device")
        return real(fd, data)

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(DiskFull):
        importer.write(plan)
    monkeypatch.setattr(os, "write", real)
    assert {p.name: p.read_bytes() for p in sorted(observations.iterdir())} == before
    assert [p for p in repo.rglob("*") if ".tmp" in p.name or "journal" in p.name] == []

    assert importer.write(plan) == sorted(plan.files)
    assert {p.name: p.read_bytes() for p in sorted(observations.iterdir())} == {**before, **new}
    del plan
    gc.collect()
    assert os.listdir(spools) == []
