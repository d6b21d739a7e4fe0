"""The shipped CI workflow and pre-commit hooks call commands and options that exist."""

from __future__ import annotations

import re

import yaml
from typer.testing import CliRunner

from gapctl.cli import app
from tests.conftest import ROOT

runner = CliRunner()


def _help(command: str) -> str:
    result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    return result.output


def test_workflow_runs_fmt_validate_and_posts_the_diff():
    workflow = yaml.safe_load((ROOT / ".github/workflows/gapctl.yml").read_text(encoding="utf-8"))
    steps = workflow["jobs"]["check"]["steps"]
    scripts = "\n".join(step.get("run", "") for step in steps)
    assert "gapctl fmt --check ." in scripts and "gapctl validate ." in scripts
    assert re.search(r'gapctl diff "\$\{round%/\}" --rev "\$BASE" --format md', scripts)
    assert any("github-script" in step.get("uses", "") for step in steps)
    assert workflow["permissions"]["pull-requests"] == "write"
    for command, options in (("fmt", ["--check"]), ("diff", ["--rev", "--format"])):
        text = _help(command)
        assert all(option in text for option in options), command
    gates = "--fail-if-total-drops-more-than"
    assert gates in (ROOT / ".github/workflows/gapctl.yml").read_text(encoding="utf-8") and gates in _help("diff")


def test_pre_commit_hooks_name_real_commands():
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert {h["id"] for h in hooks} == {"gapctl-fmt", "gapctl-validate"}
    for hook in hooks:
        command = hook["entry"].split()[1]
        assert runner.invoke(app, [command, "--help"]).exit_code == 0
        assert re.match(hook["files"], "rounds/r/observations/a.yaml")


def test_workflow_keeps_the_cache_and_its_signing_key():
    """Without the key, a restored cache is (rightly) distrusted and every file is read again."""
    workflow = yaml.safe_load((ROOT / ".github/workflows/gapctl.yml").read_text(encoding="utf-8"))
    steps = workflow["jobs"]["check"]["steps"]
    cache = next(step for step in steps if str(step.get("uses", "")).startswith("actions/cache@"))
    paths = cache["with"]["path"].split()
    assert ".gapctl-cache" in paths and "~/.cache/gapctl" in paths
    names = [step.get("name") for step in steps]
    assert names.index(cache["name"]) < names.index("Validate")
