"""`gapctl --version`, and the version in every JSON output: a consumer can tell which release wrote it."""

from __future__ import annotations

import json
import subprocess
import sys

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
]


@pytest.mark.parametrize("args", JSON_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_every_json_output_starts_with_the_version(args, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, [*args, "--format", "json", *(["--no-cache"] if args[0] == "validate" else [])])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert isinstance(document, dict) and next(iter(document)) == "version"
    assert document["version"] == __version__


def test_every_command_with_json_output_is_covered():
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
    assert with_json and with_json <= {args[0] for args in JSON_COMMANDS}, with_json


def test_version_option_in_a_real_process():
    for option in ("--version", "-V"):
        proc = subprocess.run([sys.executable, "-m", "gapctl", option], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0 and proc.stdout == f"gapctl {__version__}\n", proc.stderr


def test_the_package_version_is_the_one_in_the_code():
    from importlib.metadata import version

    assert version("gapctl") == __version__
