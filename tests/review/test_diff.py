"""`gapctl diff`: revisions of one round in a real git repository, and two rounds."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gapctl.cli import app
from gapctl.review.diff import diff_revisions, diff_rounds
from tests.conftest import (
    MINI_OBS_A,
    MINI_OBS_B,
    MINI_ROUND,
    MINI_SCHEME,
    MINI_UNITS,
    ROOT,
    without_version,
    write_repo,
)

runner = CliRunner()
GOLDEN = ROOT / "tests" / "golden"


def commit(repo: Path, author: str, message: str, day: int) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": author, "GIT_AUTHOR_EMAIL": "a@example.org",
           "GIT_COMMITTER_NAME": author, "GIT_COMMITTER_EMAIL": "a@example.org",
           "GIT_AUTHOR_DATE": f"2022-01-{day:02d}T10:00:00+08:00",
           "GIT_COMMITTER_DATE": f"2022-01-{day:02d}T10:00:00+08:00"}
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True, env=env)
    subprocess.run(["git", "commit", "-q", "-m", message], cwd=repo, check=True, env=env)


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """A repository whose round r1 changes over five commits by five evaluators."""
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    without_2 = MINI_OBS_B.replace('  - indicator: "2"\n    items: {lead: true, plan: true}\n', "")
    assert without_2 != MINI_OBS_B
    write_repo(repo, {"schemes/mini.yaml": MINI_SCHEME, "units/mini.yaml": MINI_UNITS,
                      "rounds/r1/round.toml": MINI_ROUND, "rounds/r1/observations/a.yaml": MINI_OBS_A,
                      "rounds/r1/observations/b.yaml": without_2})
    commit(repo, "张三", "初始观测", 10)
    # an observation added: 区档案馆's 组织领导, found lacking
    (repo / "rounds/r1/observations/b.yaml").write_text(
        without_2 + '  - indicator: "2"\n    items: {lead: true, plan: false}\n    reason: 未研究部署\n',
        encoding="utf-8")
    commit(repo, "李四", "区档案馆：补录组织领导观测", 12)
    # a unit added, with its observation file
    write_repo(repo, {"units/mini.yaml": MINI_UNITS + "  - {id: c, name: 区统计局, type: 区属部门}\n",
                      "rounds/r1/observations/c.yaml": MINI_OBS_B.replace("unit: b", "unit: c")})
    commit(repo, "王五", "新增区统计局", 14)
    # scheme points changed: 渠道覆盖 2 → 3 (the group 4 → 5)
    scheme = MINI_SCHEME.replace("    points: 4\n", "    points: 5\n").replace(
        "name: 渠道覆盖\n        points: 2", "name: 渠道覆盖\n        points: 3")
    write_repo(repo, {"schemes/mini.yaml": scheme})
    commit(repo, "赵六", "渠道覆盖调整为3分", 16)
    # an observation changed: 区财政局's channel coverage fails on re-check
    text = (repo / "rounds/r1/observations/a.yaml").read_text(encoding="utf-8")
    (repo / "rounds/r1/observations/a.yaml").write_text(
        text.replace("result: done", "result: not-done\n    reason: 复核发现渠道入口失效", 1), encoding="utf-8")
    commit(repo, "钱七", "区财政局：渠道覆盖复核未通过", 18)
    return repo


def test_revisions_explain_each_change_with_its_author(history, monkeypatch):
    monkeypatch.chdir(history)
    diff = diff_revisions(Path("rounds/r1"), "HEAD~4..HEAD")
    changes = {u.unit: u for u in diff.changed()}
    assert set(changes) == {"a", "b", "c"}
    assert changes["c"].status == "added"
    b = changes["b"]
    by_indicator = {c.indicator: c for c in b.indicators}
    assert by_indicator["2"].old_observation == "未评估"                  # pending before
    assert by_indicator["2"].new_observation == "明确分管领导✓ 研究部署✗"
    assert by_indicator["2"].by.author == "李四" and by_indicator["2"].by.subject == "区档案馆：补录组织领导观测"
    assert by_indicator["1.1"].by.author == "赵六"       # the scheme changed, not the observation
    assert (b.old.total, b.new.total) == (2, 5)           # 2 (2 pending) → 3 + 2
    [a_change] = changes["a"].indicators
    assert (a_change.indicator, a_change.by.author) == ("1.1", "钱七")
    assert (a_change.old_earned, a_change.new_earned) == (2, 0)
    assert any("points 2 → 3" in note for note in diff.scheme_notes)


@pytest.mark.parametrize("fmt, name", [("table", "diff-rev.txt"), ("md", "diff-rev.md"), ("json", "diff-rev.json")])
def test_revision_diff_golden(history, monkeypatch, request, fmt, name):
    monkeypatch.chdir(history)
    result = runner.invoke(app, ["diff", "rounds/r1", "--rev", "HEAD~4..HEAD", "--format", fmt])
    assert result.exit_code == 0, result.output
    path = GOLDEN / name
    output = without_version(result.output)
    if request.config.getoption("--update-golden"):
        path.write_text(output, encoding="utf-8")
    assert output == path.read_text(encoding="utf-8")


def test_working_tree_changes_are_attributed_as_uncommitted_and_nothing_is_touched(history, monkeypatch):
    monkeypatch.chdir(history)
    obs = history / "rounds/r1/observations/a.yaml"
    obs.write_text(obs.read_text(encoding="utf-8").replace("plan: true", "plan: false", 1), encoding="utf-8")
    status_cmd = ["git", "--no-optional-locks", "status", "--porcelain"]
    status = subprocess.run(status_cmd, capture_output=True, text=True).stdout
    index = (history / ".git/index").read_bytes()
    diff = diff_revisions(Path("rounds/r1"), "HEAD")
    [a] = [u for u in diff.changed() if u.unit == "a"]
    [change] = [c for c in a.indicators if c.indicator == "2"]
    assert change.by.commit == "" and change.by.subject == "not committed yet"
    assert subprocess.run(status_cmd, capture_output=True, text=True).stdout == status
    assert (history / ".git/index").read_bytes() == index


def test_gates_exit_one(history, monkeypatch):
    monkeypatch.chdir(history)
    args = ["diff", "rounds/r1", "--rev", "HEAD~1..HEAD"]    # 区财政局 loses its 3 points for 1.1
    assert runner.invoke(app, args).exit_code == 0
    dropped = runner.invoke(app, args + ["--fail-if-total-drops-more-than", "2"])
    assert dropped.exit_code == 1 and "total dropped 3" in dropped.output   # 9 → 6
    monkeypatch.setenv("GAPCTL_LANG", "zh")  # a gate's line is a message: Chinese by default
    assert "区财政局（a）：总得分下降 3（超过 2）" in runner.invoke(app, args + ["--fail-if-total-drops-more-than",
                                                                       "2"]).output
    monkeypatch.setenv("GAPCTL_LANG", "en")
    assert runner.invoke(app, args + ["--fail-if-total-drops-more-than", "3"]).exit_code == 0
    assert runner.invoke(app, args + ["--fail-if-total-rises-more-than", "0"]).exit_code == 0
    assert runner.invoke(app, args + ["--fail-on-rank-change"]).exit_code == 0  # mini publishes no ranking
    missing = runner.invoke(app, ["diff", "rounds/r1", "--rev", "nope..HEAD"])
    assert missing.exit_code == 3       # could not run: never reported as a tripped gate
    assert missing.output == ("gapctl diff: could not run: unknown revision 'nope' (not in this clone; "
                              "a CI checkout needs fetch-depth: 0)\n")


SCHEME_2022 = """\
id: mini-2022
title: 测试指标体系（2022）
tags:
  licensing: 提供行政许可等服务的部门
indicators:
  - id: "1"
    name: 公开渠道
    points: 4
    children:
      - {id: "1.1", name: 渠道覆盖, points: 4, rule: {kind: all-or-nothing}}
  - id: "2n"
    name: 组织领导（新）
    points: 6
    replaces: ["2"]
    rule:
      kind: items
      items:
        - {id: lead, name: 明确分管领导, points: 2}
        - {id: plan, name: 研究部署, points: 4}
  - {id: "3", name: 政策解读, points: 5, rule: {kind: all-or-nothing}}
"""


def test_two_rounds_with_different_schemes_and_replaces(tmp_path, monkeypatch):
    write_repo(tmp_path, {
        "schemes/mini.yaml": MINI_SCHEME, "schemes/mini-2022.yaml": SCHEME_2022, "units/mini.yaml": MINI_UNITS,
        "rounds/r1/round.toml": MINI_ROUND, "rounds/r1/observations/a.yaml": MINI_OBS_A,
        "rounds/r1/observations/b.yaml": MINI_OBS_B,
        "rounds/r2/round.toml": MINI_ROUND.replace('"r1"', '"r2"').replace('scheme = "mini"', 'scheme = "mini-2022"'),
        "rounds/r2/observations/a.yaml": """\
            unit: a
            results:
              - {indicator: "1.1", result: done}
              - {indicator: "2n", items: {lead: true, plan: false}, reason: 未研究部署}
              - {indicator: "3", result: done}
            """,
        "rounds/r2/observations/b.yaml": """\
            unit: b
            results:
              - {indicator: "1.1", result: done}
              - {indicator: "2n", items: {lead: true, plan: true}}
              - {indicator: "3", result: not-done, reason: 未解读}
            """,
    })
    monkeypatch.chdir(tmp_path)
    diff = diff_rounds(Path("rounds/r1"), Path("rounds/r2"))
    notes = diff.scheme_notes
    assert "scheme mini → mini-2022" in notes
    assert any(n.startswith("indicator 2n 组织领导（新） replaces 2 组织领导") for n in notes)
    assert any(n.startswith("indicator 3 政策解读 is new") for n in notes)
    assert any(n.startswith("indicator 1.2 行政许可信息 was removed") for n in notes)
    a = {c.indicator: c for c in next(u for u in diff.units if u.unit == "a").indicators}
    assert a["2n"].note == "replaces 2" and (a["2n"].old_earned, a["2n"].new_earned) == (6, 2)
    assert a["3"].note == "new indicator" and a["1.2"].note == "removed indicator"
    data = json.loads(runner.invoke(app, ["diff", "rounds/r1", "rounds/r2", "-f", "json"]).output)
    assert {u["unit"]: (u["old_total"], u["new_total"]) for u in data["units"]} == {
        "a": ("8.0", "11.0"), "b": ("8.0", "10.0")}


def test_markdown_escapes_user_text():
    from gapctl.review.diff_view import md
    assert md("a|b @admin <script>alert(1)</script> *x*") == \
        "a\\|b @\u2060admin &lt;script&gt;alert(1)&lt;/script&gt; \\*x\\*"


def test_ranks_are_diffed_only_where_a_scheme_publishes_a_ranking(monkeypatch):
    """Suizhou publishes no ranking: its diff has no rank columns and --fail-on-rank-change has nothing
    to trip on, although the computed ranks moved (7 → 6); Shanwei publishes its 分类排名."""
    from gapctl.api import check, score
    from gapctl.review.diff import category_rank, rank

    monkeypatch.chdir(ROOT)
    runner = CliRunner()
    result = runner.invoke(app, ["diff", "rounds/suizhou-2021", "rounds/suizhou-2022", "--fail-on-rank-change",
                                      "--lang", "en"])
    assert result.exit_code == 0, result.output
    head = next(line for line in result.output.splitlines() if line.startswith("Unit"))
    assert "Rank" not in head and "Grade" in head
    data = json.loads(runner.invoke(app, ["diff", "rounds/suizhou-2021", "rounds/suizhou-2022",
                                          "--format", "json"]).stdout)
    assert all(u["old_rank"] is None and u["new_rank"] is None for u in data["units"])
    suizhou = score(check(ROOT / "rounds/suizhou-2021").loaded.round)
    assert all(u.rank is not None and rank(u) is None for u in suizhou.units)  # computed, not published
    shanwei = score(check(ROOT / "rounds/shanwei-2020").loaded.round)
    assert all(category_rank(u) == u.category_rank for u in shanwei.units)
    assert any(category_rank(u) for u in shanwei.units)


def test_a_published_rank_that_moves_trips_the_gate(tmp_path, monkeypatch):
    write_repo(tmp_path, {"schemes/mini.yaml": MINI_SCHEME.replace("tags:\n", "ranking: published\ntags:\n", 1),
                          "units/mini.yaml": MINI_UNITS,
                          "rounds/r1/round.toml": MINI_ROUND, "rounds/r1/observations/a.yaml": MINI_OBS_A,
                          "rounds/r1/observations/b.yaml": MINI_OBS_B,
                          "rounds/r2/round.toml": MINI_ROUND.replace('id = "r1"', 'id = "r2"'),
                          "rounds/r2/observations/a.yaml": MINI_OBS_A,
                          "rounds/r2/observations/b.yaml": MINI_OBS_B.replace("result: done", "result: not-done\n"
                                                                                "    reason: 未覆盖")})
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["diff", "rounds/r1", "rounds/r2", "--fail-on-rank-change", "--lang", "en"])
    assert result.exit_code == 1 and ": rank 1 → 2" in result.output, result.output
    assert "Rank" in next(line for line in result.output.splitlines() if line.startswith("Unit"))
