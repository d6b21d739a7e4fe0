"""A command line that names a command runs an app holding that command alone (gapctl.cli.run._app_for): typer
builds a click command of every command's options before it runs one. Its help, usage and errors are the full
app's, for every command and group."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.main import get_command_name
from typer.testing import CliRunner

from gapctl.cli import app, run

NAMES = [c.name or get_command_name(c.callback.__name__) for c in app.registered_commands] + \
    [g.name or g.typer_instance.info.name for g in app.registered_groups]


def test_every_command_and_group_is_found() -> None:
    assert {"score", "validate", "report", "diff", "evidence"} <= set(NAMES)
    for name in NAMES:
        only = run._app_for([name, "x"])
        assert only is not app
        assert len(only.registered_commands) + len(only.registered_groups) == 1
    assert len(app.registered_commands) + len(app.registered_groups) == len(NAMES)  # the app is left whole


@pytest.mark.parametrize("args", [[], ["--help"], ["--lang", "en", "score"], ["scor"], ["--version"]])
def test_other_command_lines_run_the_whole_app(args: list[str]) -> None:
    assert run._app_for(args) is app


def test_completion_runs_the_whole_app(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_GAPCTL_COMPLETE", "complete_bash")
    assert run._app_for(["score", "x"]) is app


@pytest.mark.parametrize("name", NAMES)
def test_help_usage_and_errors_are_the_whole_apps(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    for n, extra in enumerate((["--help"], [], ["--no-such-option"], ["a", "b", "c", "d", "e", "f"])):
        args = [name, *extra]
        results = []
        for which, chosen in (("whole", app), ("alone", run._app_for(args))):
            here = tmp_path / f"{n}-{which}"  # a command line that runs writes in a directory of its own
            here.mkdir()
            monkeypatch.chdir(here)
            results.append(runner.invoke(chosen, args, prog_name="gapctl"))
        whole, alone = results
        assert (alone.exit_code, alone.output) == (whole.exit_code, whole.output), args
