"""Start-up: `gapctl --help`, `--version`, `validate` and a warm `score` import only what they need.

Measured with `python -X importtime` in a real subprocess: modules are listed, not timed,
so the test is stable on a busy machine; the wall time is in the benchmark table.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

HEAVY = {"ruamel", "openpyxl", "tabulate", "chinese_calendar", "multiprocessing", "gapctl.report",
         "gapctl.review.diff", "gapctl.io.fmt", "gapctl.io.export", "gapctl.io.importer", "pyarrow", "dask",
         "distributed", "gapctl.io.columnar", "gapctl.io.shards", "gapctl.data.yaml_edit",
         "pydantic", "pydantic_core", "lark", "docx", "markdown_it", "defusedxml", "concurrent"}
HELP_NEEDS = {"markdown_it"}  # typer's rich help pages render their text with it


def imported(*args: str, env: dict[str, str] | None = None) -> set[str]:
    run = subprocess.run([sys.executable, "-X", "importtime", "-m", "gapctl", *args], cwd=ROOT,
                         capture_output=True, text=True, timeout=60, env=env)
    assert "Traceback" not in run.stderr
    return {line.split("|")[-1].strip() for line in run.stderr.splitlines() if line.startswith("import time:")}


@pytest.mark.parametrize("args", [("--help",), ("--version",), ("validate", "rounds/suizhou-2021", "--no-cache")])
def test_imports_only_what_the_command_needs(args: tuple[str, ...]) -> None:
    modules = imported(*args)
    assert "gapctl.cli" in modules                       # the measurement saw the program
    avoid = HEAVY - HELP_NEEDS if "--help" in args else HEAVY
    heavy = sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in avoid))
    assert not heavy, f"gapctl {' '.join(args)} imports {heavy}"


def test_help_does_not_load_the_library() -> None:
    modules = imported("--help")
    assert not {"yaml", "gapctl.scoring.load", "gapctl.scoring.score", "gapctl.scoring.validate"} & modules


def test_version_imports_nothing_of_the_library() -> None:
    modules = imported("--version")
    assert "gapctl.cli" in modules
    assert not {m for m in modules if m.split(".")[0] in ("yaml", "yaml_rs", "msgpack", "pydantic", "lark")}
    assert not {"gapctl.scoring.load", "gapctl.scoring.score", "gapctl.scoring.outcomes", "gapctl.data.model"} & modules


def test_a_warm_score_imports_only_what_it_needs(tmp_path) -> None:
    """`gapctl score` on a filled cache: no pydantic (typer's coercion, see gapctl.cli.params), no
    report, spreadsheet, Word, Markdown or formula libraries, no process pool."""
    env = {**os.environ, "GAPCTL_CACHE_DIR": str(tmp_path / "cache"), "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    env.pop("GAPCTL_NO_CACHE", None)
    cold = subprocess.run([sys.executable, "-m", "gapctl", "score", "rounds/suizhou-2021"], cwd=ROOT, env=env,
                          capture_output=True, timeout=120)
    assert cold.returncode == 0, cold.stderr
    # another command line than the cold run's: not the output that run kept (gapctl.scoring.warm,
    # tests/scoring/test_warm_output.py), but the scores read from the cache
    modules = imported("score", "rounds/suizhou-2021", "--rank", env=env)
    assert "gapctl.scoring.outcomes" in modules
    heavy = sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))
    assert not heavy, f"a warm gapctl score imports {heavy}"


@pytest.mark.parametrize("collecting", [True, False])
def test_the_collector_is_paused_only_while_the_commands_are_imported(collecting: bool) -> None:
    """gapctl.cli pauses the garbage collector while typer and the commands' modules are imported (~35 collections
    over objects none of which is garbage, ~7 ms), gapctl from its first line (the standard library's modules its first
    imports bring, then its kept class code read), and each leaves it as it found it: a library user's setting is
    kept. What is left runs as gapctl's own first module is read and between the two pauses."""
    probe = ("import gc\n"
             f"{'gc.enable()' if collecting else 'gc.disable()'}\n"
             "seen = []\n"
             "gc.callbacks.append(lambda phase, info: phase == 'start' and seen.append(info))\n"
             "import gapctl.cli\n"
             "print(gc.isenabled(), len(seen))\n")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == str(collecting)
    assert int(out[1]) <= (4 if collecting else 0)


@pytest.mark.parametrize(("args", "code"), [(["--version"], 0), (["score", "rounds/suizhou-2021"], 0),
                                            (["score", "--no-such-option"], 2),
                                            (["validate", "tests/bad/001-yaml-syntax-error"], 1)])
def test_a_command_ends_without_teardown_as_the_interpreter_would_end_it(args: list[str], code: int,
                                                                         tmp_path) -> None:
    """`gapctl.cli.entry` (the console script) and `python -m gapctl` end the process with os._exit after the
    command (`finish`): no object is freed one by one, but the exit status, everything printed (stdout to a file,
    not a terminal: buffered), and every atexit function (a library's, a temporary directory's finalizer) are as a
    normal exit gives them."""
    import shutil

    marker = tmp_path / "atexit-ran"
    leftover = tmp_path / "made"
    torn = tmp_path / "torn-down"
    probe = ("import atexit, sys, tempfile\n"
             f"atexit.register(lambda: open({str(marker)!r}, 'w').write('ran'))\n"
             "class Last:\n"  # freed only when the interpreter takes its objects apart
             f"    def __del__(self): open({str(torn)!r}, 'w').write('torn down')\n"
             "last = Last()\n"
             f"kept = tempfile.TemporaryDirectory(dir={str(tmp_path)!r}, prefix='made')\n"
             "from gapctl.cli import entry\n"
             f"entry({args!r})\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = tmp_path / "out.txt"
    with open(out, "wb") as stdout:
        run = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, stdout=stdout, stderr=subprocess.PIPE)
    assert run.returncode == code
    assert marker.read_text() == "ran" and not list(tmp_path.glob(f"{leftover.name}*"))
    assert not torn.exists()                                 # the objects were not taken apart one by one
    with open(tmp_path / "module.txt", "wb") as stdout:
        module = subprocess.run([sys.executable, "-m", "gapctl", *args], cwd=ROOT, env=env, stdout=stdout,
                                stderr=subprocess.PIPE)
    assert module.returncode == code
    assert out.read_bytes() == (tmp_path / "module.txt").read_bytes()
    if args[0] == "score":
        from typer.testing import CliRunner

        from gapctl.cli import app

        assert out.read_bytes().decode("utf-8") == CliRunner().invoke(app, args).stdout  # all of it, flushed
    shutil.rmtree(tmp_path / "made", ignore_errors=True)


def test_finish_leaves_a_message_exit_to_the_interpreter() -> None:
    """sys.exit("message") prints the message and exits 1: `finish` returns for it (and for any code that is not a
    number), and the interpreter ends the process as it does."""
    from gapctl.cli import finish

    assert finish("a message") is None
    assert finish(2.5) is None
