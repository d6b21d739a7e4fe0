"""The command line speaks Chinese by default (tests otherwise run with GAPCTL_LANG=en): summaries,
errors and labels; `--lang en` on the root or on a command switches messages and labels to English."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from gapctl.cli import app
from tests.conftest import ROOT

runner = CliRunner()


@pytest.fixture
def chinese(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAPCTL_LANG", "zh")


def test_fmt_and_new_round_report_in_chinese(mini_repo, monkeypatch, chinese):
    monkeypatch.chdir(mini_repo)
    units = "units:\n  - {name: 甲, id: a, type: 区属部门}\nname: 测试单位\nid: mini\n"
    (mini_repo / "units/mini.yaml").write_text(units, encoding="utf-8")
    check = runner.invoke(app, ["fmt", "--check", "units"])
    assert check.exit_code == 1
    assert check.output.splitlines() == ["将重新格式化 units/mini.yaml", "1 个文件将重新格式化，0 个已是规范格式。"]
    made = runner.invoke(app, ["new", "round", "r2", "--scheme", "mini", "--units", "mini"])
    assert made.exit_code == 0 and made.output == "已创建 rounds/r2，含 1 份观测记录文件。\n"
    refused = runner.invoke(app, ["new", "round", "r2", "--scheme", "mini", "--units", "mini"])
    assert refused.exit_code == 1 and "已存在" in refused.output


def test_status_and_show_in_chinese_by_default_and_english_on_request(monkeypatch, chinese):
    monkeypatch.chdir(ROOT)
    args = ["status", "rounds/shanwei-2020", "--today", "2021-10-18"]
    zh = runner.invoke(app, args).output
    assert "5个工作日内到期：" in zh and "复核申请截止：2021-10-22（4个工作日后）" in zh
    assert "示例数据，非真实评估结果" in runner.invoke(app, ["show", "rounds/suizhou-2021"]).output
    for english in (runner.invoke(app, [*args, "--lang", "en"]).output,
                    runner.invoke(app, ["--lang", "en", *args]).output):
        assert "Due in the next 5 working days:" in english and "appeal window closes on 2021-10-22" in english


def test_a_commands_lang_sets_the_language_of_its_messages(monkeypatch):
    """GAPCTL_LANG=en (the tests' default), but `explain … --lang zh`: the error is in Chinese too."""
    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, ["explain", "rounds/suizhou-2021", "nobody", "--lang", "zh"])
    assert result.exit_code == 1 and result.stderr.startswith("轮次 suizhou-2021 中没有单位“nobody”")


def test_the_root_lang_sets_labels_too(monkeypatch):
    """`gapctl --lang en score …` reads as `gapctl score … --lang en`: English labels for a Chinese scheme."""
    monkeypatch.chdir(ROOT)
    root = runner.invoke(app, ["--lang", "en", "score", "rounds/suizhou-2021", "--no-cache"])
    command = runner.invoke(app, ["score", "rounds/suizhou-2021", "--lang", "en", "--no-cache"])
    default = runner.invoke(app, ["score", "rounds/suizhou-2021", "--no-cache"])
    assert root.exit_code == command.exit_code == 0
    assert root.output == command.output != default.output


def test_evidence_verify_and_usage_words_in_chinese(monkeypatch, chinese):
    monkeypatch.chdir(ROOT)
    verified = runner.invoke(app, ["evidence", "verify", "rounds/suizhou-2021"])
    assert verified.exit_code == 0 and verified.output.splitlines()[-1].startswith("已核验 ")
    assert "用法：" in runner.invoke(app, ["evidence"]).output  # a group without a command shows its help
