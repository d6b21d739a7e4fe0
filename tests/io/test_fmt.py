"""gapctl fmt: canonical layout, lossless (data and comments), idempotent, safe writes."""

from __future__ import annotations

import os
import stat
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gapctl.data import schema as S
from gapctl.data.sources import read_file
from gapctl.data.writes import DiskFull
from gapctl.data.yaml_edit import comment_texts
from gapctl.io.fmt import format_paths, format_text, kind_of
from tests.conftest import write_repo

ROOT = Path(__file__).parents[2]
CASES = ROOT / "tests" / "fmt"
SHIPPED = sorted(p for d in ("schemes", "units", "rounds") for p in (ROOT / d).rglob("*.y*ml") if kind_of(p))


def typed(value: Any) -> Any:
    """Data as gapctl reads it, with types visible: `1` ≠ `true`, `0.1` ≠ `0.10`."""
    if isinstance(value, dict):
        return {k: typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [typed(v) for v in value]
    return type(value).__name__, str(value) if isinstance(value, Decimal) else value


def data(text: str, name: str = "x.yaml") -> Any:
    parsed = read_file(Path(name), text)
    assert not parsed.problems, [p.message for p in parsed.problems]
    return typed(parsed.data)


def lost_comments(before: str, after: str) -> list[str]:
    return list((Counter(comment_texts(before)) - Counter(comment_texts(after))).elements())


def scalar_styles(text: str) -> set[str | None]:
    return {t.style for t in yaml.scan(text, Loader=yaml.CSafeLoader) if isinstance(t, yaml.ScalarToken)}


def line_after(text: str, line: str) -> str:
    """The line that follows `line` (stripped) in `text`."""
    lines = [x.strip() for x in text.splitlines()]
    return lines[lines.index(line) + 1]


# --- every shipped file -----------------------------------------------------------------

def test_shipped_files_cover_every_kind():
    assert {kind_of(p) for p in SHIPPED} == {"scheme", "units", "observations", "external"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_shipped_file_is_formatted_losslessly_and_idempotently(path: Path):
    text = path.read_text(encoding="utf-8")
    kind = kind_of(path)
    once = format_text(text, kind)
    if once == text:  # shipped files are kept formatted: a file that is its own output lost nothing
        return
    assert format_text(once, kind) == once, "a second run changes the output"
    assert data(once, path.name) == typed(read_file(path).data), "the data gapctl reads changed"
    assert lost_comments(text, once) == [], "comments were lost"
    assert Counter(comment_texts(once)) == Counter(comment_texts(text)), "comments were duplicated"


# --- golden cases: tests/fmt/<case>.in.yaml → <case>.out.yaml ---------------------------

GOLDEN = sorted(CASES.glob("*.in.yaml"))  # named <kind>-<what>.in.yaml


@pytest.mark.parametrize("source", GOLDEN, ids=lambda p: p.name.removesuffix(".in.yaml"))
def test_golden_case(source: Path, request: pytest.FixtureRequest):
    kind = source.name.split("-")[0]
    text = source.read_text(encoding="utf-8")
    out = format_text(text, kind)
    expected = source.with_name(source.name.replace(".in.yaml", ".out.yaml"))
    if request.config.getoption("--update-golden"):
        expected.write_text(out, encoding="utf-8")
    assert out == expected.read_text(encoding="utf-8")
    assert format_text(out, kind) == out
    assert data(out) == data(text)
    assert sorted(comment_texts(out)) == sorted(comment_texts(text))


def test_comments_stay_with_the_lines_they_stand_above():
    out = format_text((CASES / "scheme-comments.in.yaml").read_text(encoding="utf-8"), "scheme")
    lines = out.splitlines()
    assert lines[:2] == ["# 示例方案：注释放在各种位置", "# header line 2"]  # the header stays first
    assert line_after(out, "# above id, which moves up to the top") == "id: demo"
    assert "title: 测试方案   # eol: title" in lines
    assert line_after(out, "# above source, which stays after title once language moves") == "source: 某某通知"
    assert line_after(out, "# top of scoring") == "normalise: applicable"
    assert line_after(out, "scale: 100   # eol: scale") == "# inside scoring, after its last key"
    # an item whose first key changes: the comment goes above its `- `
    assert line_after(out, "# above an item's id, which becomes its first key") == '- id: "1"'
    assert line_after(out, "# between indicators") == '- id: "2"'
    assert line_after(out, "# above bonus, which moves up before grades") == "bonus:"
    assert line_after(out, "# above grades, which come after bonus once bonus moves up") == "grades:"
    assert line_after(out, "# top of a rule: stays at the top when its keys move") == "kind: items"
    assert line_after(out, "- kind: expert-grade   # second variant") == "step: 0.50"
    assert "x_custom: 未知键保留   # an unknown key: kept, after the known ones" in lines
    assert lines[-1] == "# the end of the file"


# --- key order ----------------------------------------------------------------------------

def keys_at(text: str, *path: Any) -> list[str]:
    node = read_file(Path("x.yaml"), text).data
    for step in path:
        node = node[step]
    return list(node)


def test_keys_come_back_in_declared_order_with_unknown_keys_kept_before_assumed():
    text = """\
zz_unknown: 1
assumed_note: 为什么
note: 备注
assumed: true
indicators:
  - rule: {when: {units: [a], tags: [t]}, tiers: [{points: 2, at_least: 1}], kind: count-tiers, assumed: true}
    points: 2
    another_unknown: x
    name: 甲
    id: "1"
a_unknown: 2
title: 标题
id: demo
"""
    out = format_text(text, "scheme")
    assert keys_at(out) == ["id", "title", "indicators", "note", "zz_unknown", "a_unknown", "assumed", "assumed_note"]
    assert keys_at(out, "indicators", 0) == ["id", "name", "points", "rule", "another_unknown"]
    assert keys_at(out, "indicators", 0, "rule") == ["kind", "tiers", "when", "assumed"]
    assert keys_at(out, "indicators", 0, "rule", "when") == ["tags", "units"]
    assert keys_at(out, "indicators", 0, "rule", "tiers", 0) == ["at_least", "points"]
    assert data(out) == data(text)


@pytest.mark.parametrize("kind, text, path, expected", [
    ("observations",
     "results:\n  - evidence: [{title: t, captured: 2022-01-01, url: u}]\n    note: n\n    indicator: '1'\nunit: a\n",
     ("results", 0, "evidence", 0), ["url", "captured", "title"]),
    ("observations",
     "unit: a\nresults:\n  - {indicator: '1', items: {z: true, a: false}}\n",
     ("results", 0, "items"), ["z", "a"]),  # item ids keep the author's order
    ("external", "deductions:\n  - {reason: r, points: 1, unit: a}\nname: 外部\n",
     ("deductions", 0), ["unit", "points", "reason"]),
    ("external", "deductions: []\nname: 外部\n", (), ["name", "deductions"]),
    ("units", "units: []\nid: u\nname: n\n", (), ["id", "name", "units"]),
    ("scheme",
     "id: s\ntitle: t\nindicators:\n  - id: '1'\n    name: n\n    points: 1\n"
     "    rule: {items: [{points: 1, name: 甲, id: a}], kind: items}\n",
     ("indicators", 0, "rule", "items", 0), ["id", "name", "points"]),
    ("scheme",
     "id: s\ntitle: t\nindicators: []\nranking: {categories: [{units: [a], name: n, id: c}], of: total}\n",
     ("ranking", "categories", 0), ["id", "name", "units"]),
])
def test_key_order_by_kind(kind: str, text: str, path: tuple[Any, ...], expected: list[str]):
    assert keys_at(format_text(text, kind), *path) == expected


# --- scalars --------------------------------------------------------------------------------

def test_ids_that_yaml_would_read_as_numbers_are_double_quoted():
    out = format_text("unit: a\nresults:\n  - indicator: '2.1'\n    result: done\n", "observations")
    assert '  - indicator: "2.1"' in out.splitlines()
    assert "'" not in scalar_styles(out)


def test_quoting_is_double_and_only_where_needed():
    text = ("unit: a\nresults:\n  - indicator: '1'\n    note: 'yes'\n    reason: 'plain text'\n"
            "    fix: 'a: b'\n    observer: 'it''s'\n    source: \"evaluator\"\n")
    out = format_text(text, "observations")
    assert 'indicator: "1"' in out          # would be a number
    assert 'note: "yes"' in out             # would be a bool
    assert "reason: plain text" in out      # plain is possible
    assert 'fix: "a: b"' in out             # plain is not
    assert "observer: it's" in out          # never single-quoted
    assert "source: evaluator" in out
    assert data(out) == data(text)


def test_numbers_dates_bools_and_nulls_keep_their_spelling():
    text = ("unit: a\nobserver:\nobserved_at: 2022-01-18\nmeasures: {x: 0.10, y: .5, z: 1_000, w: 0x0A}\n"
            "results:\n  - {indicator: '1', items: {a: yes, b: True, c: ~}, grade: 7.50, count: +3}\n")
    out = format_text(text, "observations")
    for spelling in ("observer:\n", "2022-01-18", "x: 0.10", "y: .5", "z: 1_000", "w: 0x0A",
                     "a: yes", "b: True", "c: ~", "grade: 7.50", "count: +3"):
        assert spelling in out
    assert data(out) == data(text)


def test_anchors_and_aliases_are_kept():
    text = "id: u\nname: &n 名称\nunits: []\nnote: [&p 0.50, *p, &y yes, *y, *n]\n"
    out = format_text(text, "units")
    assert "note: [&p 0.50, *p, &y yes, *y, *n]" in out and "name: &n 名称" in out
    assert data(out) == data(text)


def test_text_libyaml_would_misread_in_flow_style_is_quoted():
    text = "unit: a\nresults: [{indicator: '1', note: ':a', reason: 'x:y', fix: '?q'}]\n"
    out = format_text(text, "observations")
    assert 'note: ":a"' in out and 'reason: "x:y"' in out and 'fix: "?q"' in out
    assert data(out) == data(text)


def test_block_scalars_and_flow_collections_keep_their_style():
    text = "unit: a\nresults:\n  - indicator: '1'\n    note: |\n      一\n      二\n    reason: >-\n      折\n" \
           "      叠\n    fix: |-\n      改\n    evidence: [{url: u, title: t}]\n"
    out = format_text(text, "observations")
    assert "    note: |\n      一\n      二\n" in out
    assert "    reason: >-\n      折\n      叠\n" in out
    assert "    fix: |-\n      改\n" in out
    assert "    evidence: [{url: u, title: t}]\n" in out


def test_layout_bom_crlf_indentation_and_one_trailing_newline():
    """format_text works on text: LF, no BOM. Files keep theirs (format_paths; tests/data/test_lossless_writes.py)."""
    text = "\ufeffid: u\r\nname: n\r\nunits:\r\n    -   id: a\r\n        name: 甲\r\n        type: t\r\n\r\n\r\n"
    out = format_text(text, "units")
    assert out == "id: u\nname: n\nunits:\n  - id: a\n    name: 甲\n    type: t\n"


def test_comments_above_a_document_start_are_kept():
    out = format_text("# 头注释\n---\nname: n\nid: u\nunits: []\n", "units")
    assert out == "# 头注释\nid: u\nname: n\nunits: []\n"


def test_comment_texts_finds_comments_not_hashes_inside_values():
    text = "# head\na: x # eol\nb: 'q # not'\nc: http://x/#frag\nd: |\n  # inside a block\ne: 1  #tight\n"
    assert comment_texts(text) == ["# head", "# eol", "#tight"]


_TRICKY = st.sampled_from(["2.1", "1", "yes", "no", "null", "~", "2022-01-01", "a: b", "#x", "x #y",
                           "- z", "'q'", '"d"', "it's", "0.10", "true", " lead", "trail ", "多行\n文本",
                           "@at", "*star", "&amp", "!bang", "%p", "{b}", "[s]", "?", ":", "="])
_TEXT = st.one_of(_TRICKY, st.text(alphabet="ab 甲乙:#'\"-.,", min_size=1, max_size=6))
_ENTRY_KEYS = ["indicator", "result", "note", "reason", "fix", "observer", "source", "zz"]


@settings(max_examples=40, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.dictionaries(st.sampled_from(_ENTRY_KEYS), _TEXT, min_size=1), min_size=1, max_size=4),
       st.booleans())
def test_any_observation_file_is_formatted_losslessly_and_idempotently(entries: list[dict[str, str]], flow: bool):
    text = yaml.safe_dump({"results": entries, "unit": "a"}, allow_unicode=True, sort_keys=False,
                          default_flow_style=flow)
    out = format_text(text, "observations")
    assert data(out) == data(text)
    assert format_text(out, "observations") == out
    assert "'" not in scalar_styles(out)  # never single-quoted


# --- files: check, write, problems, atomicity ---------------------------------------------

UNCANONICAL_OBS = "results:\n  - result: done\n    indicator: '1.1'\nunit: a   # 单位\n"


@pytest.fixture
def repo(mini_repo: Path) -> Path:
    """The mini repository without its scheme, and with b's observations out of canonical order."""
    (mini_repo / "schemes/mini.yaml").unlink()
    return write_repo(mini_repo, {"rounds/r1/observations/b.yaml": UNCANONICAL_OBS})


def test_check_reports_the_changed_file_and_writes_nothing(repo: Path):
    target = repo / "rounds/r1/observations/b.yaml"
    before = target.read_bytes()
    result = format_paths([repo], check=True)
    assert result.changed == [target]
    assert result.problems == [] and result.written == []
    assert result.exit_code == 1
    assert target.read_bytes() == before


def test_write_rewrites_changed_files_keeping_permissions_and_a_second_run_finds_nothing(repo: Path):
    target = repo / "rounds/r1/observations/b.yaml"
    target.chmod(0o640)
    result = format_paths([repo], check=False)
    assert result.changed == result.written == [target]
    assert result.problems == [] and result.exit_code == 0
    assert target.read_text(encoding="utf-8") == 'unit: a   # 单位\nresults:\n  - indicator: "1.1"\n    result: done\n'
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    again = format_paths([repo], check=True)
    assert again.changed == [] and again.problems == [] and again.exit_code == 0
    assert sorted(p.name for p in target.parent.iterdir()) == ["a.yaml", "b.yaml"]  # no temporary files


def test_directories_hold_only_data_files_and_named_non_data_files_are_skipped(repo: Path):
    write_repo(repo, {"tests/schemes/x.yaml": "id: [unclosed\n", "schemes/.hidden.yaml": "x: [\n",
                      "rounds/r1/notes.yaml": "a: [\n"})
    result = format_paths([repo], check=True)
    assert [p.relative_to(repo).as_posix() for p in result.files] == [
        "rounds/r1/observations/a.yaml", "rounds/r1/observations/b.yaml", "units/mini.yaml"]
    assert result.problems == []
    named = format_paths([repo / "rounds/r1/round.toml", repo / "rounds/r1/observations"], check=True)
    assert named.skipped == [repo / "rounds/r1/round.toml"]
    assert [p.name for p in named.files] == ["a.yaml", "b.yaml"]


def test_kind_of():
    assert kind_of(Path("schemes/a.yaml")) == "scheme"
    assert kind_of(Path("repo/units/a.yml")) == "units"
    assert kind_of(Path("rounds/r/observations/a.yaml")) == "observations"
    assert kind_of(Path("rounds/r/external/city.yaml")) == "external"
    for other in ("rounds/r/round.toml", "rounds/r/round.yaml", "schemes/a.toml", "tests/a.yaml",
                  "other/r/observations/a.yaml"):
        assert kind_of(Path(other)) is None, other


def test_a_malformed_file_is_reported_and_left_alone(repo: Path):
    bad = repo / "rounds/r1/observations/c.yaml"
    bad.write_text("unit: c\nresults: [\n", encoding="utf-8")
    before = bad.read_bytes()
    result = format_paths([repo], check=False)
    assert len(result.problems) == 1 and "c.yaml:" in result.problems[0] and "syntax" in result.problems[0]
    assert bad.read_bytes() == before
    assert result.written == [repo / "rounds/r1/observations/b.yaml"]  # the other files are still done


def test_a_symlinked_file_is_refused(repo: Path):
    target = repo / "rounds/r1/observations/b.yaml"
    outside = repo / "outside.yaml"
    outside.write_text(UNCANONICAL_OBS, encoding="utf-8")
    target.unlink()
    target.symlink_to(outside)
    result = format_paths([repo], check=False)
    assert len(result.problems) == 1 and "symbolic link" in result.problems[0]
    assert target.is_symlink() and outside.read_text(encoding="utf-8") == UNCANONICAL_OBS
    assert result.written == []


@pytest.mark.parametrize("failing", ["os.replace", "os.fsync"])
def test_a_failed_write_leaves_the_file_intact_and_no_temporary_file(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     failing: str):
    target = repo / "rounds/r1/observations/b.yaml"
    before = target.read_bytes()

    def fail(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(failing, fail)
    with pytest.raises(DiskFull, match="b.yaml: cannot write: No space left on device; nothing was changed"):
        format_paths([target], check=False)  # a full disk stops the command (exit 3), not one file
    monkeypatch.undo()
    monkeypatch.setenv("GAPCTL_LANG", "en")  # undo() also dropped the English the tests read
    assert target.read_bytes() == before
    assert sorted(os.listdir(target.parent)) == ["a.yaml", "b.yaml"]
    assert not list(repo.glob(".gapctl-journal.*"))


def test_a_file_whose_data_would_change_is_not_written(repo: Path, monkeypatch: pytest.MonkeyPatch):
    target = repo / "rounds/r1/observations/b.yaml"
    before = target.read_bytes()
    monkeypatch.setattr("gapctl.io.fmt.format_text", lambda text, kind: text.replace("done", "not-done"))
    result = format_paths([target], check=False)
    assert len(result.problems) == 1 and "change the data" in result.problems[0]
    assert target.read_bytes() == before


def test_a_missing_path_is_a_problem(tmp_path: Path):
    result = format_paths([tmp_path / "nope"], check=True)
    assert len(result.problems) == 1 and "no such file" in result.problems[0]


# --- the words evaluators write: the English word is the canonical form ----------------------

def test_chinese_words_are_written_as_the_english_words_and_score_the_same(tmp_path: Path):
    from tests.data.test_schema import OBS_EN, OBS_ZH, scores, zh_repo

    repo = zh_repo(tmp_path, OBS_ZH)
    before = scores(repo)
    result = format_paths([repo], check=False)
    assert result.problems == []
    for unit, leak in (("a", "false"), ("b", "true")):
        text = (repo / f"rounds/r1/observations/{unit}.yaml").read_text(encoding="utf-8")
        assert text == OBS_EN.format(unit=unit, leak=leak)  # the comment keeps its distance
    assert scores(repo) == before
    assert format_paths([repo], check=True).changed == []  # and it stays so


def test_every_word_and_where_it_is_rewritten():
    text = ("unit: a\nfacts: {泄密: 是, 说明: 否认}\nresults:\n"
            + "".join(f"  - {{indicator: \"{i}\", result: {w}}}\n"
                      for i, w in enumerate(S.RESULT_ALIASES))
            + "  - indicator: x\n    result: 是\n    items: {a: 是, b: 否, c: 对}\n    note: 是\n"
            "    findings: {f: 否, k: {错别字: 1}}\n")
    out = format_text(text, "observations")
    assert [line.split("result: ")[1].rstrip("}") for line in out.splitlines() if "{indicator:" in line] == \
        list(S.RESULT_ALIASES.values())
    assert "facts: {泄密: true, 说明: 否认}" in out
    assert "result: 是\n" in out and "note: 是\n" in out  # text stays text; 是 is no result word
    assert "items: {a: true, b: false, c: 对}" in out and "findings: {f: false, k: {错别字: 1}}" in out
    assert format_text(out, "observations") == out


def test_a_scheme_says_true_and_false():
    text = ("id: s\ntitle: t\nmeasures:\n  - {id: m, name: M, higher_is_better: 否}\nindicators:\n"
            "  - id: \"1\"\n    name: 是\n    rule: {kind: all-or-nothing, assumed: 是}\n    bounded: 否\n")
    out = format_text(text, "scheme")
    assert "higher_is_better: false" in out and "assumed: true}" in out and "bounded: false" in out
    assert "name: 是" in out


def test_a_word_written_twice_through_an_anchor_is_left_as_written(repo: Path):
    text = 'unit: b\nresults:\n  - indicator: "1.1"\n    result: &r 完成\n  - indicator: "2"\n    result: *r\n'
    assert format_text(text, "observations") == text
    (repo / "rounds/r1/observations/b.yaml").write_text(text, encoding="utf-8")
    assert format_paths([repo], check=False).problems == []  # read as done either way: nothing to refuse
