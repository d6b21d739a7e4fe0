"""The shipped CI workflow and pre-commit hooks: real commands and options, least privilege, pinned
actions, no secret in the cache. What the steps do is run in tests/test_workflow.py."""

from __future__ import annotations

import re

import yaml
from typer.testing import CliRunner

from gapctl.cli import app
from tests.conftest import ROOT

runner = CliRunner()
WORKFLOW_TEXT = (ROOT / ".github/workflows/gapctl.yml").read_text(encoding="utf-8")
WORKFLOW = yaml.safe_load(WORKFLOW_TEXT)


def _help(command: str) -> str:
    result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    return result.output


def _steps(job: str) -> list[dict]:
    return WORKFLOW["jobs"][job]["steps"]


def _scripts(job: str) -> str:
    return "\n".join(step.get("run", "") for step in _steps(job))


def test_workflow_checks_validates_and_diffs_the_whole_repository():
    scripts = _scripts("check")
    assert "gapctl fmt --check ." in scripts and "gapctl validate . --format github" in scripts
    assert re.search(r'gapctl diff \. --rev "\$BASE" --format md --max-chars "\$GAPCTL_MAX_CHARS" --out gapctl-diff',
                     scripts)
    assert "rounds/*" not in scripts                      # no glob that fails in a repository without rounds
    for command, options in (("fmt", ["--check"]), ("validate", ["--format", "github"]),
                             ("diff", ["--rev", "--format", "--max-chars", "--out"])):
        text = _help(command)
        assert all(option in text for option in options), command
    assert "--fail-if-total-drops-more-than" in WORKFLOW_TEXT and "--fail-if-total-drops-more-than" in _help("diff")


def test_gapctl_is_installed_pinned_from_its_repository_never_by_a_bare_name():
    env = WORKFLOW["env"]
    assert env["GAPCTL_VERSION"] == "v0.2.0" and env["GAPCTL_REPO"].startswith("https://github.com/")
    install = next(step["run"] for step in _steps("check") if step.get("name") == "Install gapctl")
    assert 'python -m pip install "git+${GAPCTL_REPO}@${GAPCTL_VERSION}"' in install
    assert "python -m pip install .  # gapctl's own repository" in install
    assert not re.search(r"pip install +[\"']?gapctl\b", WORKFLOW_TEXT)
    assert "GAPCTL_SPEC" not in WORKFLOW_TEXT and "CHANGE" in WORKFLOW_TEXT.split("GAPCTL_REPO:")[1].splitlines()[0]


def test_only_the_comment_job_may_write_and_it_runs_no_gapctl():
    assert WORKFLOW["permissions"] == {}
    jobs = WORKFLOW["jobs"]
    assert jobs["check"]["permissions"] == {"contents": "read"}
    assert jobs["comment"]["permissions"] == {"pull-requests": "write"}
    assert "gapctl" not in _scripts("comment") and not any("checkout" in s.get("uses", "") for s in _steps("comment"))
    assert all(step.get("with", {}).get("persist-credentials") is False
               for step in _steps("check") if "actions/checkout" in step.get("uses", ""))


def test_actions_are_pinned_to_commit_ids_with_their_tag():
    uses = re.findall(r"uses: (\S+)@(\S+)(.*)", WORKFLOW_TEXT)
    assert {name for name, _, _ in uses} == {"actions/checkout", "actions/setup-python", "actions/cache",
                                             "actions/upload-artifact", "actions/download-artifact",
                                             "actions/github-script"}
    for name, ref, comment in uses:
        assert re.fullmatch(r"[0-9a-f]{40}", ref), name
        assert re.fullmatch(r"\s+# v\d+\.\d+\.\d+", comment), name


def test_no_expression_is_pasted_into_a_script():
    """`${{ }}` in a run: block is script injection (a branch name is the pull request's to choose)."""
    for job in WORKFLOW["jobs"].values():
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), step.get("name")
            assert "${{" not in step.get("with", {}).get("script", ""), step.get("name")


def test_the_cache_holds_no_signing_key():
    """The key signs the cache's entries: cached with them, anyone's pull request could read it."""
    steps = _steps("check")
    cache = next(step for step in steps if str(step.get("uses", "")).startswith("actions/cache@"))
    assert cache["with"]["path"].split() == [".gapctl-cache"]
    assert cache["if"] == "steps.key.outputs.cache == 'true'"
    key = next(step for step in steps if step.get("id") == "key")
    assert key["env"] == {"GAPCTL_CACHE_KEY": "${{ secrets.GAPCTL_CACHE_KEY }}"}
    names = [step.get("name") for step in steps]
    assert names.index(key["name"]) < names.index(cache["name"]) < names.index("Validate")
    assert "~/.cache/gapctl" not in str(cache)


def test_the_header_says_how_to_protect_the_gates():
    header = WORKFLOW_TEXT.split("\nname:")[0]
    assert "CODEOWNERS" in header and "/.github/  @" in header and "Require review from Code Owners" in header
    assert "GAPCTL_CACHE_KEY" in header and "pull-requests: write" in header


def test_pre_commit_hooks_name_real_commands_and_validate_each_round_once():
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert {h["id"] for h in hooks} == {"gapctl-fmt", "gapctl-validate"}
    for hook in hooks:
        command = hook["entry"].split()[1]
        assert runner.invoke(app, [command, "--help"]).exit_code == 0
        assert re.match(hook["files"], "rounds/r/observations/a.yaml")
    validate = next(h for h in hooks if h["id"] == "gapctl-validate")
    assert validate["require_serial"] is True         # one process: pre-commit must not split the file list
    assert "rev: v0.2.0" in (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
