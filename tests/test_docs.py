"""Docs that come from the code must not drift, and every command must have help."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from gapctl.cli import app
from gapctl.data import schema as S
from gapctl.docs import GENERATED
from tests.conftest import ROOT

runner = CliRunner()


@pytest.mark.parametrize("rel", sorted(GENERATED))
def test_generated_docs_are_current(rel):
    assert (ROOT / rel).read_text(encoding="utf-8") == GENERATED[rel](), \
        f"{rel} is stale: run `python -m gapctl.docs`"


def _commands():
    """(command line, click command) for every command, group and subcommand of gapctl."""
    import typer.main

    root = typer.main.get_command(app)
    out = [("", root)]
    for name, command in root.commands.items():
        out.append((name, command))
        for sub_name, sub in (getattr(command, "commands", None) or {}).items():
            out.append((f"{name} {sub_name}", sub))
    return out


@pytest.mark.parametrize("line, command", _commands(), ids=lambda x: x if isinstance(x, str) else "")
def test_every_command_has_help_with_examples_in_both_languages(line, command, monkeypatch):
    """Help is written in English (the catalogue's msgid, exactly as typer shows it) and shown in
    Chinese by default, examples and all; so is every option's help."""
    from gapctl import i18n

    assert command.help and "Examples:" in command.help, line
    assert i18n.in_lang(command.help, "zh") != command.help, f"{line}: help has no Chinese (./dev i18n)"
    for param in command.params:
        if getattr(param, "help", None):
            assert i18n.in_lang(param.help, "zh") != param.help, f"{line} {param.name}: no Chinese"
    args = [*line.split(), "--help"]
    english = runner.invoke(app, args, env={"COLUMNS": "200"})
    monkeypatch.setenv("GAPCTL_LANG", "zh")
    chinese = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert english.exit_code == chinese.exit_code == 0
    assert "Examples:" in english.output and "Usage:" in english.output and "示例：" not in english.output
    assert "示例：" in chinese.output and "用法：" in chinese.output and "Examples:" not in chinese.output
    assert "Show this message and exit." not in chinese.output and "显示本帮助并退出。" in chinese.output
    for example in re.findall(r"^  (gapctl [^#\n]*)", command.help, re.M):  # the examples (not their comments)
        assert example.rstrip() in chinese.output, (line, example)


SHAPES = [S.SCHEME, S.SCORING, S.INDICATOR, S.SECTION, S.MEASURE, S.EXTERNAL, S.COMPONENT,
          S.GRADE, S.FLAG, S.CATEGORY, S.RANKING, S.CONVERSION, S.SELECTOR, S.UNIT_SET, S.UNIT,
          S.ROUND, S.SCHEME_ASSIGNMENT, S.PERIOD, S.STAGES, S.EXTERNAL_REF, S.OBSERVATIONS,
          S.RESULT, S.EVIDENCE, S.EXTERNAL_FILE, S.DEDUCTION, S.APPEALS_FILE, S.APPEAL, S.DECISION]


@pytest.mark.parametrize("rel", ["docs/data-format.en.md", "docs/data-format.md"])
def test_the_data_format_page_documents_every_key(rel):
    """The data-format page, in English and in Chinese, names every key a file may carry."""
    section = (ROOT / rel).read_text(encoding="utf-8")
    section = re.sub(r"```.*?```", "", section, flags=re.S)  # fenced blocks break backtick pairs
    documented = {word for span in re.findall(r"`([^`]+)`", section)
                  for word in re.findall(r"[a-z_0-9]+", span)}
    missing = sorted({key for shape in SHAPES for key in shape} - documented)
    assert not missing, f"keys missing from {rel}: {missing}"


def test_shell_completion_script_is_offered():
    """Click's completion protocol names the shell itself (_GAPCTL_COMPLETE=source_bash), so the
    answer does not depend on which shell started the test (`--show-completion` guesses it from
    the parent process, and `sh` is not one it supports)."""
    import os
    import subprocess
    import sys

    for shell, marker in (("bash", "_gapctl_completion"), ("zsh", "#compdef gapctl")):
        env = {**os.environ, "_GAPCTL_COMPLETE": f"source_{shell}"}
        proc = subprocess.run(["/bin/sh", "-c", '"$0" -m gapctl', sys.executable], capture_output=True,
                              text=True, timeout=60, env=env)
        assert proc.returncode == 0 and marker in proc.stdout, (shell, proc.stderr)


def test_help_is_chinese_by_default_in_a_real_process(tmp_path):
    """No GAPCTL_LANG, no locale: `gapctl --help` and a command's help speak Chinese; `--lang en`
    anywhere on the command line (main() reads it before anything is printed) switches to English."""
    import subprocess
    import sys

    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "COLUMNS": "120"}

    def run(*args: str) -> str:
        proc = subprocess.run([sys.executable, "-m", "gapctl", *args], capture_output=True, text=True,
                              encoding="utf-8", env=env, cwd=tmp_path, timeout=60)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    assert "用纯文本数据仓库管理政务公开考核评估" in run("--help") and "命令" in run("--help")
    assert "示例：" in run("explain", "--help") and "gapctl explain rounds/suizhou-2021 区财政金融局" in \
        run("explain", "--help")
    assert "Examples:" in run("--lang", "en", "explain", "--help")
    assert "Examples:" in run("explain", "--help", "--lang=en")
    assert "Government-openness assessments" in run("--lang", "en", "--help")


def test_the_help_texts_are_restored_after_a_page():
    """One process prints help in both languages: translating a page leaves the texts as written."""
    import typer.main

    from gapctl.cli.help import translated

    root = typer.main.get_command(app)
    ctx = root.make_context("gapctl", ["--help"], resilient_parsing=True)
    before = (root.help, root.commands["score"].help, [p.help for p in root.params])
    from gapctl import i18n
    i18n.use("zh")
    try:
        with translated(root, ctx):
            assert root.commands["score"].short_help.startswith("为轮次")
        assert (root.help, root.commands["score"].help, [p.help for p in root.params]) == before
    finally:
        i18n.use(None)
