"""Docs that come from the code must not drift, and every command must have help."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from gapctl import schema as S
from gapctl.cli import app
from gapctl.docs import GENERATED
from tests.conftest import ROOT


@pytest.mark.parametrize("rel", sorted(GENERATED))
def test_generated_docs_are_current(rel):
    assert (ROOT / rel).read_text(encoding="utf-8") == GENERATED[rel](), \
        f"{rel} is stale: run `python -m gapctl.docs`"


def test_every_command_has_help_with_examples():
    runner = CliRunner()
    for command in app.registered_commands:
        name = command.name or command.callback.__name__
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0
        assert command.callback.__doc__ and "Examples:" in command.callback.__doc__, name


SHAPES = [S.SCHEME, S.SCORING, S.INDICATOR, S.SECTION, S.MEASURE, S.EXTERNAL, S.COMPONENT,
          S.GRADE, S.FLAG, S.CATEGORY, S.RANKING, S.CONVERSION, S.SELECTOR, S.UNIT_SET, S.UNIT,
          S.ROUND, S.SCHEME_ASSIGNMENT, S.PERIOD, S.STAGES, S.EXTERNAL_REF, S.OBSERVATIONS,
          S.RESULT, S.EVIDENCE, S.EXTERNAL_FILE, S.DEDUCTION, S.APPEALS_FILE, S.APPEAL, S.DECISION]


def test_readme_data_format_documents_every_key():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Data format"):]
    section = section[: section.index("\n## ", 4)]
    section = re.sub(r"```.*?```", "", section, flags=re.S)  # fenced blocks break backtick pairs
    documented = {word for span in re.findall(r"`([^`]+)`", section)
                  for word in re.findall(r"[a-z_0-9]+", span)}
    missing = sorted({key for shape in SHAPES for key in shape} - documented)
    assert not missing, f"keys missing from the README's Data format section: {missing}"


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


def test_every_subcommand_of_groups_has_examples():
    from gapctl.cli import evidence_app, new_app

    for group in (evidence_app, new_app):
        for command in group.registered_commands:
            assert "Examples:" in (command.callback.__doc__ or ""), command.callback.__name__
