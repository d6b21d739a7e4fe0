"""Scores built from other scores, end to end on the shipped example round (rounds/example-county-2024):
the county's score combines its own tree, its three accounts, a sample of three of its four
departments, and its towns. Validate, score (both paths), explain with members, report, and a
diff after one channel's observation changes that names the channel and what moved.
"""

from __future__ import annotations

import shutil
import subprocess
from decimal import Decimal

from typer.testing import CliRunner

from gapctl.api import check, load_round, score
from gapctl.cli import app
from tests.conftest import ROOT

runner = CliRunner()
ROUND = "rounds/example-county-2024"


def _county(result):
    return result.by_unit()["county"]


def test_the_example_round_validates_and_its_figures_follow_from_its_members(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert check(ROUND).report.exit_code(strict=True) == 0
    county = _county(score(load_round(ROUND)))
    groups = {gid: g for gid, g in county.groups.items()}
    # accounts: 94, 97, 80 → 90.333…; departments drawn: finance 100, education 74, housing 77 (health is
    # not drawn, though it has observations); towns: 100, 61, 68
    assert [m.id for m in groups["depts"].members] == ["finance", "education", "housing"]
    assert groups["accounts"].value == (Decimal(94) + 97 + 80) / 3
    assert county.components == {"own": Decimal("89.0"), "media": Decimal("90.3"), "depts": Decimal("83.7"),
                                 "towns": Decimal("76.3")}
    assert county.base == county.total == Decimal("85.5")  # (5 × 89 + 90.3 + 2 × 83.7 + 2 × 76.3) ÷ 10 = 85.53


def test_the_file_by_file_path_gives_the_same_figures(monkeypatch):
    import json

    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, ["score", ROUND, "--format", "json", "--no-cache"])
    assert result.exit_code == 0
    rows = {row["unit"]: row for row in json.loads(result.stdout)["units"]}
    library = score(load_round(ROUND)).by_unit()
    for unit_id, row in rows.items():
        assert Decimal(row["total"]) == library[unit_id].total, unit_id
    assert [m["id"] for m in rows["county"]["groups"]["accounts"]["members"]] == \
        ["county/portal", "county/wechat", "county/weibo"]


def test_explain_names_every_member_and_expands_them_with_depth(monkeypatch):
    monkeypatch.chdir(ROOT)
    plain = runner.invoke(app, ["explain", ROUND, "county"]).stdout
    assert "汇总 县直部门（抽查）平均 = (100 + 74 + 77) ÷ 3" in plain
    assert "县卫生健康局" not in plain  # not drawn
    deep = runner.invoke(app, ["explain", ROUND, "county", "--depth", "1"]).stdout
    assert "── 政务新媒体账号：微博“示例县发布” (county/weibo)" in deep
    assert "· 每有一周未发布信息扣2分（每处扣2分）：6处 → −12" in deep


def test_the_report_lists_members_under_their_unit_and_the_draw(monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, ["report", ROUND, "--format", "md", "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "r" / "units" / "county.md").read_text(encoding="utf-8")
    assert "## 政务新媒体账号" in page and "| 微博“示例县发布” | 微博 | 80 |" in page
    assert "[县财政局](finance.md)" in page and "抽查：finance、education、housing（3/4" in page


def test_a_changed_channel_is_named_in_the_diff_of_its_unit(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    for part in ("schemes", "units", ROUND):
        shutil.copytree(ROOT / part, repo / part)

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                       env={"GIT_AUTHOR_NAME": "张三", "GIT_AUTHOR_EMAIL": "z@example.org", "PATH": "/usr/bin:/bin",
                            "GIT_COMMITTER_NAME": "张三", "GIT_COMMITTER_EMAIL": "z@example.org"})
    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "base")
    weibo = repo / ROUND / "channels" / "county" / "weibo.yaml"
    weibo.write_text(weibo.read_text(encoding="utf-8").replace("silent-weeks: 6", "silent-weeks: 1"), encoding="utf-8")
    git("commit", "-qam", "微博整改后复查")
    monkeypatch.chdir(repo)
    result = runner.invoke(app, ["diff", ROUND, "--rev", "HEAD~1..HEAD"])
    assert result.exit_code == 0, result.output
    # weibo 80 → 90: the accounts' mean 90.333… → 93.666…, the component 90.3 → 93.7, the base 85.53 → 85.87
    assert "示例县人民政府" in result.stdout and "85.5 → 85.9" in result.stdout
    assert ("政务新媒体账号 微博“示例县发布” 80 → 90（M1 更新及时 每有一周未发布信息扣2分 6处 → "
            "每有一周未发布信息扣2分 1处") in result.stdout
    assert "张三" in result.stdout


def test_a_warm_run_after_one_channel_changes_reads_only_that_file(tmp_path, monkeypatch):
    """Roll-ups run on the per-file summaries, so a channel's edit does not touch its unit's outcome."""
    from gapctl.scoring import outcomes
    repo = tmp_path / "repo"
    for part in ("schemes", "units", ROUND):
        shutil.copytree(ROOT / part, repo / part)
    monkeypatch.chdir(repo)
    monkeypatch.setenv("GAPCTL_CACHE_DIR", str(tmp_path / "cache"))
    cold = outcomes.check(ROUND)
    before = _county(outcomes.score(cold)).total
    weibo = repo / ROUND / "channels" / "county" / "weibo.yaml"
    weibo.write_text(weibo.read_text(encoding="utf-8").replace("silent-weeks: 6", "silent-weeks: 1"), encoding="utf-8")
    warm = outcomes.check(ROUND)
    assert warm.plans[0].computed == 1  # the one channel file; the county's own file came from the cache
    assert _county(outcomes.score(warm)).total == before + Decimal("0.4")
