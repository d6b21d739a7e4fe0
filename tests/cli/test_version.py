"""`gapctl --version`, and the version in every JSON output: a consumer can tell which release wrote it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gapctl import __version__
from gapctl.cli import app
from tests.conftest import ROOT

runner = CliRunner()

JSON_COMMANDS = [
    ["validate", "rounds/suizhou-2021"],
    ["validate", "--list-codes"],
    ["show", "schemes/suizhou-2021.yaml"],
    ["score", "rounds/suizhou-2021"],
    ["explain", "rounds/yanjiang-2021", "baohe"],
    ["diff", "rounds/suizhou-2021", "rounds/suizhou-2022"],
    ["status", "rounds/shanwei-2020", "--today", "2021-10-18"],
    ["compare-self", "rounds/shanwei-2020"],
    ["agreement", "rounds/shanwei-2020"],
    ["followup", "rounds/suizhou-2021", "rounds/suizhou-2022"],
    ["init", "--list"],
    ["fmt", "--check", "schemes", "units"],
    ["evidence", "verify", "rounds/suizhou-2021"],
    ["schema", "--check"],
    ["trend", "rounds/suizhou-2021", "rounds/suizhou-2022"],
    ["robustness", "rounds/suizhou-2021", "--draws", "20"],
    ["verify", "rounds/shanwei-2020", "docs/examples/shanwei-2020-published.csv"],
]
# outputs about gapctl itself or about files written or reformatted, not figures computed from a round:
# `version` only (every other JSON output carries `provenance` next to it: gapctl.review.provenance)
WITHOUT_PROVENANCE = {"validate --list-codes", "init --list", "fmt --check", "schema --check"}
GROUPS = ("evidence", "new")


def command_of(args: list[str]) -> str:
    """The command an argument list runs: `score`, or `evidence verify` for a group's."""
    return " ".join(args[:2]) if args[0] in GROUPS else args[0]


def writing_commands(repo: Path) -> list[list[str]]:
    """Commands that write (in `repo`, a copy of the mini repository) and print JSON of what they wrote."""
    from tests.io.test_import_scheme import build_workbook, row

    (repo / "shot.png").write_bytes(b"\x89PNG")
    workbook = build_workbook(repo / "table.xlsx", [row("公开渠道", "渠道覆盖", "", 2)])
    return [["init", str(repo / "office")],
            ["new", "round", "r2", "--scheme", "mini", "--units", "mini", "--repo", str(repo)],
            ["evidence", "add", "rounds/r1", "a", "1.1", "shot.png"],
            ["import-scheme", str(workbook), "--id", "table-2024", "--out", str(repo / "table-2024.yaml")]]


@pytest.mark.parametrize("args", JSON_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_every_json_output_starts_with_the_version(args, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, [*args, "--format", "json", *(["--no-cache"] if args[0] == "validate" else [])])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert isinstance(document, dict) and next(iter(document)) == "version"
    assert document["version"] == __version__
    if " ".join(args[:2]) in WITHOUT_PROVENANCE:
        assert "provenance" not in document
    else:
        assert list(document)[1] == "provenance" and document["provenance"]["files"]
        assert document["provenance"]["gapctl"] == __version__


def test_commands_that_write_say_what_they_wrote_in_json(mini_repo, monkeypatch):
    monkeypatch.chdir(mini_repo)
    for args in writing_commands(mini_repo):
        result = runner.invoke(app, [*args, "--format", "json"])
        assert result.exit_code == 0, (args, result.output)
        document = json.loads(result.stdout)
        assert next(iter(document)) == "version" and document["version"] == __version__


def test_every_command_with_json_output_is_covered(tmp_path):
    """A new command with --format json must be added above (read from each command's help)."""
    import re

    import typer.main

    group = typer.main.get_command(app)
    with_json = set()
    for name, command in group.commands.items():
        for sub in getattr(command, "commands", None) or [None]:
            args = [name, sub, "--help"] if sub else [name, "--help"]
            text = runner.invoke(app, args, env={"COLUMNS": "300"}).output
            option = re.search(r"--format.*", text)
            if option and "json" in option.group():
                with_json.add(" ".join(args[:-1]))
    covered = {command_of(args) for args in JSON_COMMANDS + writing_commands(tmp_path)}
    assert with_json and with_json <= covered, with_json - covered


def test_version_option_in_a_real_process():
    for option in ("--version", "-V"):
        proc = subprocess.run([sys.executable, "-m", "gapctl", option], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0 and proc.stdout == f"gapctl {__version__}\n", proc.stderr


def test_the_package_version_is_the_one_in_the_code():
    from importlib.metadata import version

    assert version("gapctl") == __version__
