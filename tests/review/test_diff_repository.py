"""`gapctl diff REPOSITORY`: every round under rounds/ at a base revision against the working tree."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from gapctl.cli import app
from gapctl.review.diff import diff_repository, diff_revisions
from gapctl.review.diff_view import fit_markdown, markdown
from tests.conftest import MINI_OBS_A, MINI_OBS_B, MINI_ROUND, MINI_SCHEME, MINI_UNITS, write_repo
from tests.review.test_diff import commit

runner = CliRunner()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch) -> Path:
    """A repository with round r1 committed; the tests change the working tree."""
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    write_repo(repo, {"schemes/mini.yaml": MINI_SCHEME, "units/mini.yaml": MINI_UNITS,
                      "rounds/r1/round.toml": MINI_ROUND, "rounds/r1/observations/a.yaml": MINI_OBS_A,
                      "rounds/r1/observations/b.yaml": MINI_OBS_B})
    commit(repo, "张三", "r1", 10)
    monkeypatch.chdir(repo)
    return repo


def add_round(repo: Path, name: str) -> None:
    write_repo(repo, {f"rounds/{name}/round.toml": MINI_ROUND.replace('id = "r1"', f'id = "{name}"'),
                      f"rounds/{name}/observations/a.yaml": MINI_OBS_A,
                      f"rounds/{name}/observations/b.yaml": MINI_OBS_B.replace("plan: true", "plan: false")})


def test_a_new_round_lists_its_units_totals_and_ranks(repo):
    add_round(repo, "r2")
    result = runner.invoke(app, ["diff", ".", "--rev", "HEAD", "--format", "md"])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "**2 个评估轮次，有变化 0，新增 1，移除 0，无变化 1**" in text
    assert "### gapctl diff `rounds/r2`\n\n**新增评估轮次：2 个单位，得分 4.0–8.0**" in text
    assert "| 区财政局 | 8.0 |  |\n| 区档案馆 | 4.0 |  |" in text  # mini publishes no ranking: no rank columns
    assert text.rstrip().endswith("没有分数变化的评估轮次：rounds/r1")
    data = json.loads(runner.invoke(app, ["diff", ".", "--rev", "HEAD", "--format", "json"]).output)
    assert [(r["path"], r["status"]) for r in data["rounds"]] == [("rounds/r1", "same"), ("rounds/r2", "added")]
    assert [(u["unit"], u["total"], u["rank"]) for u in data["rounds"][1]["units"]] == [("a", "8.0", None),
                                                                                        ("b", "4.0", None)]


def test_a_changed_round_is_shown_as_gapctl_diff_round_shows_it(repo):
    """The repository diff reuses the round's diff: the same Markdown, the same gates."""
    text = (repo / "rounds/r1/observations/a.yaml").read_text(encoding="utf-8")
    (repo / "rounds/r1/observations/a.yaml").write_text(text.replace("result: done", "result: not-done", 1),
                                                        encoding="utf-8")
    single = markdown(diff_revisions(Path("rounds/r1"), "HEAD"))
    whole = diff_repository(Path("."), "HEAD")
    assert [e.status for e in whole.rounds] == ["changed"]
    assert markdown(whole.rounds[0].diff) == single
    gated = runner.invoke(app, ["diff", ".", "--rev", "HEAD", "--format", "md", "--fail-if-total-drops-more-than", "1"])
    assert gated.exit_code == 1
    plain = runner.invoke(app, ["diff", ".", "--rev", "HEAD", "--format", "md"])
    assert plain.exit_code == 0 and plain.output.endswith("\n\n" + single)
    assert "- 区财政局 (a): total dropped 2 (more than 1)" in gated.output
    as_json = json.loads(runner.invoke(app, ["diff", ".", "--rev", "HEAD", "--format", "json",
                                             "--fail-if-total-drops-more-than", "1"]).output)
    assert as_json["gates"] == ["rounds/r1: 区财政局 (a): total dropped 2 (more than 1)"]


def test_a_removed_round_is_one_line(repo):
    subprocess.run(["git", "rm", "-rq", "rounds/r1"], check=True)
    add_round(repo, "r2")
    result = runner.invoke(app, ["diff", ".", "--rev", "HEAD"])
    assert result.exit_code == 0
    assert "gapctl diff rounds/r1\n评估轮次已移除：2 个单位，得分 8.0\n" in result.output
    assert runner.invoke(app, ["diff", ".", "--rev", "HEAD", "--fail-on-any-change"]).exit_code == 1


def test_a_repository_without_rounds_says_so_and_exits_zero(tmp_path, monkeypatch):
    repo = tmp_path / "empty"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    write_repo(repo, {"schemes/mini.yaml": MINI_SCHEME, "units/mini.yaml": MINI_UNITS})
    commit(repo, "张三", "no rounds yet", 10)
    monkeypatch.chdir(repo)
    for fmt in ("table", "md", "json"):
        result = runner.invoke(app, ["diff", ".", "--rev", "HEAD", "--format", fmt, "--fail-on-any-change"])
        assert result.exit_code == 0, (fmt, result.output)
    text = runner.invoke(app, ["diff", ".", "--rev", "HEAD", "--lang", "en"]).output
    assert re.fullmatch(r"gapctl diff \.: HEAD \([0-9a-f]{7}\) → working tree\n"
                        r"No rounds under rounds/ at either revision\.\n", text)


def test_an_unreadable_round_is_named_and_exits_one(repo):
    write_repo(repo, {"rounds/r1/round.toml": "id = [\n"})
    result = runner.invoke(app, ["diff", ".", "--rev", "HEAD"])
    assert result.exit_code == 1
    assert "gapctl diff rounds/r1\n无法读取：" in result.output


def test_could_not_run_is_exit_three_with_one_line(repo):
    result = runner.invoke(app, ["diff", ".", "--rev", "origin/main", "--format", "md", "--fail-on-any-change"])
    assert result.exit_code == 3
    assert result.output.splitlines() == ["gapctl diff: could not run: unknown revision 'origin/main' "
                                          "(not in this clone; a CI checkout needs fetch-depth: 0)"]
    assert "gate" not in result.output.lower()


def test_max_chars_cuts_rows_and_out_keeps_everything(repo, tmp_path):
    for n in range(3, 40):
        add_round(repo, f"r{n:02d}")
    out = tmp_path / "artifact"
    args = ["diff", ".", "--rev", "HEAD", "--format", "md", "--out", str(out)]
    full = runner.invoke(app, args)
    cut = runner.invoke(app, args + ["--max-chars", "3000"])
    assert full.exit_code == cut.exit_code == 0
    assert len(full.output) > 3000 >= len(cut.output)
    left_out = re.search(r"_为使评论不超过 3000 个字符，省略了 (\d+) 行", cut.output)
    assert left_out and int(left_out.group(1)) > 0
    kept_rows = [line for line in cut.output.splitlines() if line.startswith("| ") and "| 单位 |" not in line]
    all_rows = [line for line in full.output.splitlines() if line.startswith("| ") and "| 单位 |" not in line]
    assert kept_rows == all_rows[:len(kept_rows)] and len(all_rows) - len(kept_rows) == int(left_out.group(1))
    assert (out / "diff.md").read_text(encoding="utf-8") == full.output
    assert len(json.loads((out / "diff.json").read_text(encoding="utf-8"))["rounds"]) == 38


def test_max_chars_is_for_markdown_only(repo):
    result = runner.invoke(app, ["diff", ".", "--rev", "HEAD", "--max-chars", "60000"])
    assert result.exit_code == 2 and "--max-chars is for --format md" in result.output


def test_out_directory_that_cannot_be_written_is_exit_three(repo):
    (repo / "taken").write_text("a file", encoding="utf-8")
    result = runner.invoke(app, ["diff", ".", "--rev", "HEAD", "--out", "taken/sub"])
    assert result.exit_code == 3
    assert result.output.startswith("gapctl diff: could not run: taken/sub/diff.md: cannot write")


TABLE = "| 单位 | 总得分 |\n|---|---:|\n" + "".join(f"| 单位{n} | {n}.0 |\n" for n in range(40))


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(limit=st.integers(min_value=300, max_value=4000), extra=st.integers(min_value=0, max_value=3))
def test_fitted_markdown_never_exceeds_the_limit_and_keeps_its_shape(limit, extra):
    text = "### t\n\n" + ("<details><summary>x</summary>\n\n" + TABLE + "\n</details>\n\n") * (extra + 1)
    fitted = fit_markdown(text, limit, "en")
    assert len(fitted) <= limit
    if len(text) <= limit:
        assert fitted == text
        return
    assert fitted.count("<details>") == fitted.count("</details>")
    assert re.search(r"_\d+ row\(s\) left out to keep this under \d+ characters", fitted)
    for line in fitted.splitlines():    # a header row is never left without its separator
        if line == "| 单位 | 总得分 |":
            assert "|---|---:|" in fitted
