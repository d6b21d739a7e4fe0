"""`gapctl score` on an unchanged repository replays its last output (gapctl.scoring.warm): the same bytes
as a run without a cache, without importing the model, typer or the scoring code; and any change under
the repository (an edit, a new file, a link, a file too new to trust) runs the command again."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gapctl.scoring import warm
from tests.conftest import ROOT, copy_repo

ROUND = "rounds/suizhou-2021"
HOUR_AGO = time.time() - 3600
REPLAY_AVOIDS = {"typer", "gapctl.cli", "gapctl.data.model", "gapctl.scoring.outcomes", "gapctl.scoring.load",
                 "gapctl.scoring.score", "yaml", "msgpack.fallback"}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The shipped data, every entry an hour old: old enough to be trusted (not racily clean)."""
    repo = copy_repo(tmp_path)
    _age(repo)
    return repo


def _age(repo: Path) -> None:
    for directory, dirs, files in os.walk(repo):
        for name in [*dirs, *files]:
            os.utime(os.path.join(directory, name), (HOUR_AGO, HOUR_AGO), follow_symlinks=False)


def score(repo: Path, *args: str, env: dict[str, str] | None = None) -> tuple[str, set[str]]:
    """stdout and the gapctl/typer modules a `python -m gapctl score` imported (exit 0 asserted)."""
    environ = {**os.environ, "XDG_CACHE_HOME": str(repo.parent / "xdg")}
    environ.pop("GAPCTL_NO_CACHE", None)
    environ.pop("GAPCTL_CACHE_DIR", None)
    environ.update(env or {})
    run = subprocess.run([sys.executable, "-X", "importtime", "-m", "gapctl", *args], cwd=repo, env=environ,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    modules = {line.split("|")[-1].strip() for line in run.stderr.splitlines() if line.startswith("import time:")}
    assert not [line for line in run.stderr.splitlines() if not line.startswith("import time:")]
    return run.stdout, modules


def replayed(modules: set[str]) -> bool:
    return not REPLAY_AVOIDS & modules


@pytest.mark.parametrize("options", [(), ("--format", "csv", "--rank"), ("--lang", "zh", "--by-category")])
def test_an_unchanged_repository_replays_the_same_bytes(repo: Path, options: tuple[str, ...]) -> None:
    cold, modules = score(repo, "score", ROUND, *options)
    assert not replayed(modules)
    again, modules = score(repo, "score", ROUND, *options)
    assert replayed(modules), sorted(REPLAY_AVOIDS & modules)
    assert again == cold
    uncached, _ = score(repo, "score", ROUND, *options, env={"GAPCTL_NO_CACHE": "1"})
    assert again == uncached


def test_another_command_line_is_not_answered_by_this_one(repo: Path) -> None:
    score(repo, "score", ROUND)
    csv, modules = score(repo, "score", ROUND, "--format", "csv")
    assert not replayed(modules) and csv.count(",") > 10


def test_an_edit_a_new_file_and_a_removed_one_run_the_command_again(repo: Path) -> None:
    first, _ = score(repo, "score", ROUND)
    target = repo / ROUND / "observations" / "ecoenv.yaml"
    text = target.read_text(encoding="utf-8")
    edited = text.replace("fraction: 0.6\n", "fraction: 0.8\n", 1)
    assert edited != text
    target.write_text(edited, encoding="utf-8")
    _age(repo)
    changed, modules = score(repo, "score", ROUND)
    assert not replayed(modules) and changed != first
    assert changed == score(repo, "score", ROUND, env={"GAPCTL_NO_CACHE": "1"})[0]
    again, modules = score(repo, "score", ROUND)
    assert replayed(modules) and again == changed
    (repo / ROUND / "README.txt").write_text("a note\n", encoding="utf-8")  # anything new under the root
    _age(repo)
    assert not replayed(score(repo, "score", ROUND)[1])
    (repo / ROUND / "README.txt").unlink()
    _age(repo)
    assert not replayed(score(repo, "score", ROUND)[1])


def test_a_file_too_new_or_a_link_is_never_trusted(repo: Path) -> None:
    target = sorted((repo / ROUND / "observations").iterdir())[0]
    os.utime(target)  # now: racily clean, so the output is not kept
    score(repo, "score", ROUND)
    assert not replayed(score(repo, "score", ROUND)[1])
    _age(repo)
    (repo / "units" / "link").symlink_to(repo / "units")
    score(repo, "score", ROUND)
    assert not replayed(score(repo, "score", ROUND)[1])


def test_json_and_warnings_are_not_kept(repo: Path) -> None:
    score(repo, "score", ROUND, "--format", "json")
    assert not replayed(score(repo, "score", ROUND, "--format", "json")[1])
    target = repo / ROUND / "observations" / "ecoenv.yaml"  # points lost without a reason: a warning
    target.write_text(target.read_text(encoding="utf-8").replace("fraction: 1\n", "fraction: 0.5\n", 1),
                      encoding="utf-8")
    _age(repo)
    environ = {**os.environ, "XDG_CACHE_HOME": str(repo.parent / "xdg")}
    environ.pop("GAPCTL_NO_CACHE", None)
    environ.pop("GAPCTL_CACHE_DIR", None)
    runs = [subprocess.run([sys.executable, "-X", "importtime", "-m", "gapctl", "score", ROUND], cwd=repo,
                           env=environ, capture_output=True, text=True, timeout=120) for _ in range(2)]
    assert runs[0].stdout == runs[1].stdout and "warning(s)" in runs[1].stderr  # said again: run again
    assert "gapctl.data.model" in runs[1].stderr


@pytest.mark.parametrize(("args", "path"), [
    (["score", "r"], "r"),
    (["--lang", "en", "score", "r", "--unit", "x", "-f", "csv", "--rank", "--final", "--by-category"], "r"),
    (["score", "--format=table", "r"], "r"),
    (["score", "r", "--format", "json"], None),
    (["score", "r", "--no-cache"], None),
    (["score", "r", "--rev", "HEAD"], None),
    (["score", "r", "--help"], None),
    (["score"], None),
    (["score", "r", "s"], None),
    (["validate", "r"], None),
    (["--version"], None),
])
def test_only_a_plain_score_command_line_is_answered(args: list[str], path: str | None) -> None:
    assert warm.score_arguments(args) == path


def test_the_repository_root_is_the_one_load_finds() -> None:
    from gapctl.scoring.load import find_repository_root

    assert warm.repository_root(str(ROOT / ROUND)) == str(find_repository_root((ROOT / ROUND).resolve()))


@pytest.mark.parametrize("options", [("--today", "2021-12-20"), ()])
def test_status_on_an_unchanged_repository_replays_the_same_bytes(repo: Path, options: tuple[str, ...]) -> None:
    first, modules = score(repo, "status", ROUND, *options)
    assert not replayed(modules)
    again, modules = score(repo, "status", ROUND, *options)
    assert replayed(modules) and again == first
    assert again == score(repo, "status", ROUND, *options, env={"GAPCTL_NO_CACHE": "1"})[0]
    assert not replayed(score(repo, "status", ROUND, "--today", "2021-12-21")[1])  # another day


def test_status_only_in_text() -> None:
    assert warm.arguments(["status", "r", "--today", "2021-12-20"]) == ("status", "r")
    assert warm.arguments(["status", "r", "--format", "json"]) is None
    assert warm.arguments(["status", "r", "--rank"]) is None
