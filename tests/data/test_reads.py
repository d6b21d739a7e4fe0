"""One rule for opening files (gapctl.data.reads), for every kind of file gapctl reads.

For each kind a copy of the Suizhou round gets, in place of one real file: a symbolic link to a
file inside the repository (read as before), a link to a file outside it holding a secret
(refused with a problem line naming the link, never the secret), and a FIFO (refused at once;
reading it would block forever). Links in CI mode, links in a git revision, the cache and the
calendars follow the same rule.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gapctl.api import check
from gapctl.cli import app
from gapctl.data import reads
from tests.conftest import ROOT, gapctl_command

runner = CliRunner()
SECRET = "TOPSECRET-4f1c"
ROUND = "rounds/suizhou-2021"
APPEAL = """\
unit: finance
appeals:
  - indicator: "2.1.13"
    filed: 2022-01-30
    argument: 已按要求公开
"""
CALENDAR = "name: 2021年节假日安排\nyears: [2021]\nholidays: [2021-10-01]\nworkdays: [2021-10-09]\n"
KINDS = {  # kind → the file that is replaced
    "scheme": "schemes/suizhou-2021.yaml",
    "unit set": "units/suizhou-gxq.yaml",
    "round": f"{ROUND}/round.toml",
    "observation": f"{ROUND}/observations/finance.yaml",
    "appeal": f"{ROUND}/appeals/finance.yaml",
    "external": f"{ROUND}/external/city-2021.yaml",
}
PROBLEM = re.compile(r"^(\S.*?):(\d+):(\d+): ([EW]\d{3}) (.*)$", re.M)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """tmp/repo: the Suizhou round with its scheme and units, an appeal and a calendar; tmp/outside: a secret."""
    base = tmp_path / "repo"
    for rel in ("schemes/suizhou-2021.yaml", "units/suizhou-gxq.yaml"):
        (base / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, base / rel)
    shutil.copytree(ROOT / ROUND, base / ROUND)
    (base / KINDS["appeal"]).parent.mkdir()
    (base / KINDS["appeal"]).write_text(APPEAL, encoding="utf-8")
    (base / "calendars").mkdir()
    (base / "calendars/2021.yaml").write_text(CALENDAR, encoding="utf-8")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside/secret.yaml").write_text(SECRET, encoding="utf-8")
    return base


def validate(repo: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, list[tuple[str, str, str]]]:
    """`gapctl validate` (in this process) on the round: exit code, output, [(path, code, message)]."""
    monkeypatch.chdir(repo)
    result = runner.invoke(app, ["validate", ROUND, "--no-cache"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output, [(m[0], m[3], m[4]) for m in PROBLEM.findall(result.output)]


def library(repo: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str]]:
    """The same through the library (gapctl.api.check: the loader, without gapctl.scoring.outcomes)."""
    monkeypatch.chdir(repo)
    return [(p.locate().path, p.code, p.message) for p in check(ROUND).report.sorted()]


def _move_inside(repo: Path, rel: str) -> None:
    """The file moves to repo/shared/ and a relative link to it takes its place."""
    real = repo / "shared" / Path(rel).name
    real.parent.mkdir(exist_ok=True)
    (repo / rel).rename(real)
    (repo / rel).symlink_to(os.path.relpath(real, (repo / rel).parent))


def _link_outside(repo: Path, rel: str) -> None:
    (repo / rel).unlink()
    (repo / rel).symlink_to(os.path.relpath(repo.parent / "outside/secret.yaml", (repo / rel).parent))


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_link_to_a_file_inside_the_repository_is_read_as_before(kind, repo, monkeypatch):
    expected = validate(repo, monkeypatch)
    _move_inside(repo, KINDS[kind])
    code, output, problems = validate(repo, monkeypatch)
    assert "E106" not in output and code == expected[0]
    assert problems == expected[2]


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_link_leaving_the_repository_is_refused_naming_the_link_not_the_content(kind, repo, monkeypatch):
    rel = KINDS[kind]
    _link_outside(repo, rel)
    for problems, output in [(validate(repo, monkeypatch)[2], validate(repo, monkeypatch)[1]),
                             (library(repo, monkeypatch), "")]:
        refused = [p for p in problems if p[0] == rel]
        assert [code for _, code, _ in refused] == ["E106"], problems
        assert "is a symbolic link to" in refused[0][2] and "outside the repository" in refused[0][2]
        assert SECRET not in output and not any(SECRET in message for *_, message in problems)


def test_a_directory_link_leaving_the_repository_is_refused_for_every_file_under_it(repo, monkeypatch, tmp_path):
    observations = repo / ROUND / "observations"
    shutil.move(observations, tmp_path / "outside/observations")
    observations.symlink_to(tmp_path / "outside/observations", target_is_directory=True)
    code, output, problems = validate(repo, monkeypatch)
    refused = {path for path, problem, message in problems if problem == "E106"
               and f"reached through the symbolic link {ROUND}/observations" in message}
    assert code == 1 and len(refused) == len(list(observations.iterdir())) > 5


def _fifo(repo: Path, rel: str) -> None:
    path = repo / rel
    if path.exists():
        path.unlink()
    os.mkfifo(path)


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_fifo_is_refused_at_once_never_read(kind, repo, tmp_path):
    """Through the real executable (a FIFO that blocked would hang it: the timeout would fail the test)."""
    _fifo(repo, KINDS[kind])
    started = time.monotonic()
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"), PYTHONIOENCODING="utf-8")
    proc = subprocess.run([*gapctl_command(), "validate", ROUND], cwd=repo, env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert time.monotonic() - started < 30
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    refused = [(code, message) for path, _, _, code, message in PROBLEM.findall(proc.stdout)
               if path == KINDS[kind]]
    assert refused == [("E106", "cannot read file: is a FIFO (named pipe), not a regular file; gapctl reads "
                                "only regular files")], proc.stdout


def _finishes(call: Callable[[], Any], fifo: Path, seconds: float = 10) -> Any:
    """call()'s result; fails (and unblocks the reader) if it has not returned within `seconds`."""
    out: list[Any] = []
    worker = threading.Thread(target=lambda: out.append(call()), daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)  # let the blocked read see end-of-file
        os.close(fd)
        worker.join(5)
        pytest.fail(f"reading {fifo} blocked")
    return out[0]


def test_calendars_follow_the_same_rule(repo):
    from gapctl.data.workdays import load_calendar_files

    files, messages = load_calendar_files(repo)
    assert [f.name for f in files] == ["2021年节假日安排"] and messages == []
    _move_inside(repo, "calendars/2021.yaml")
    assert [f.name for f in load_calendar_files(repo)[0]] == ["2021年节假日安排"]
    _link_outside(repo, "calendars/2021.yaml")
    (repo / "calendars/2022.yaml").unlink(missing_ok=True)
    os.mkfifo(repo / "calendars/2022.yaml")
    files, messages = _finishes(lambda: load_calendar_files(repo), repo / "calendars/2022.yaml")
    assert files == []
    assert any("2021.yaml:1:1: cannot read file: is a symbolic link to" in m and "outside the repository" in m
               for m in messages), messages
    assert any("2022.yaml:1:1: cannot read file: is a FIFO" in m for m in messages), messages
    assert not any(SECRET in m for m in messages)


def test_evidence_files_follow_the_same_rule(repo, monkeypatch):
    """An evidence file with a sha256 is read to check it: a FIFO in its place is refused, not waited on."""
    monkeypatch.chdir(repo)
    assert runner.invoke(app, ["evidence", "verify", ROUND]).exit_code in (0, 1)
    evidence = sorted(p for p in (repo / ROUND / "evidence").rglob("*") if p.is_file())
    assert evidence
    victim = evidence[0]
    victim.unlink()
    os.mkfifo(victim)
    result = _finishes(lambda: runner.invoke(app, ["evidence", "verify", ROUND]), victim)
    assert result.exit_code == 1 and "is a FIFO (named pipe)" in result.output


def test_cache_entries_follow_the_same_rule(tmp_path):
    """A cache entry that is a FIFO or a link out of the cache is a miss, never read."""
    from gapctl.data.cache import Cache

    cache = Cache(tmp_path / "cache", b"k" * 32)
    cache.put("ab" * 32, b"payload")
    assert cache.get("ab" * 32) == b"payload"
    entry = cache.path("ab" * 32)
    entry.unlink()
    os.mkfifo(entry)
    assert _finishes(lambda: cache.get("ab" * 32), entry) is None
    entry.unlink()
    (tmp_path / "elsewhere").write_bytes(b"x")
    entry.symlink_to(tmp_path / "elsewhere")
    assert cache.get("ab" * 32) is None


@pytest.mark.parametrize("setting", [{"GAPCTL_CI": "1"}, {"GAPCTL_CI": "", "CI": "true"}])
def test_in_ci_mode_no_link_is_followed(setting, repo, monkeypatch):
    _move_inside(repo, KINDS["observation"])
    for name, value in setting.items():
        monkeypatch.setenv(name, value)
    code, output, problems = validate(repo, monkeypatch)
    assert code == 1 and (KINDS["observation"], "E106", "cannot read file: is a symbolic link (to "
                          "../../../shared/finance.yaml); in CI (CI=true or GAPCTL_CI=1) gapctl follows no links: "
                          "commit the file itself") in problems
    monkeypatch.setenv("GAPCTL_CI", "0")  # a CI job may allow links again
    monkeypatch.setenv("CI", "true")
    assert "E106" not in validate(repo, monkeypatch)[1]


def test_in_ci_mode_a_linked_directory_inside_the_repository_is_refused(repo, monkeypatch):
    (repo / ROUND / "external").rename(repo / "shared-external")
    (repo / ROUND / "external").symlink_to("../../shared-external", target_is_directory=True)
    assert "E106" not in validate(repo, monkeypatch)[1]
    monkeypatch.setenv("GAPCTL_CI", "1")
    problems = validate(repo, monkeypatch)[2]
    assert (KINDS["external"], "E106", f"cannot read file: is reached through the symbolic link {ROUND}/external "
            "(to ../../shared-external); in CI (CI=true or GAPCTL_CI=1) gapctl follows no links") in problems


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=repo, check=True,
                   capture_output=True)


def test_links_in_a_git_revision_follow_the_same_rule(repo, monkeypatch):
    from gapctl.data.tree import GitTree
    from gapctl.scoring.load import load

    _move_inside(repo, KINDS["external"])
    _link_outside(repo, KINDS["observation"])
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "links")
    tree = GitTree(repo, "HEAD")
    assert tree.read_bytes(repo / KINDS["external"]) == (repo / "shared/city-2021.yaml").read_bytes()
    with pytest.raises(reads.Refused, match="outside the repository"):
        tree.read_bytes(repo / KINDS["observation"])
    monkeypatch.chdir(repo)
    loaded = load(ROUND, tree=tree)
    problems = [(p.locate().path, p.code, p.message) for p in loaded.problems]
    assert any(path == KINDS["observation"] and code == "E106" and "outside the repository" in message
               for path, code, message in problems), problems
    assert not any(SECRET in message for *_, message in problems)
    monkeypatch.setenv("GAPCTL_CI", "1")
    with pytest.raises(reads.Refused, match="follows no links"):
        tree.read_bytes(repo / KINDS["external"])
    tree.close()


def test_what_a_refusal_says(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "schemes").mkdir()
    (tmp_path / "schemes/loop.yaml").symlink_to("loop.yaml")
    with pytest.raises(reads.Refused) as loop:
        reads.read_bytes("schemes/loop.yaml")
    assert str(loop.value) == "schemes/loop.yaml: is a symbolic link to loop.yaml, which does not exist or loops " \
                              "back on itself"
    with pytest.raises(reads.Refused, match="is a directory"):
        reads.read_bytes("schemes")
    with pytest.raises(FileNotFoundError):
        reads.read_bytes("schemes/missing.yaml")
    (tmp_path / "schemes/big.yaml").write_bytes(b"x" * 100)
    with pytest.raises(reads.TooLarge) as big:
        reads.read_bytes("schemes/big.yaml", limit=99)
    assert (big.value.size, big.value.limit) == (100, 99)
    assert reads.read_bytes("schemes/big.yaml", limit=100) == b"x" * 100
    assert isinstance(loop.value, OSError) and loop.value.strerror == loop.value.why  # "cannot read file: …"


def test_devices_are_refused_without_being_opened(tmp_path):
    with pytest.raises(reads.Refused, match="is a device"):
        reads.read_bytes("/dev/zero", reads.ANYWHERE)
    (tmp_path / "schemes").mkdir()
    (tmp_path / "schemes/zero.yaml").symlink_to("/dev/zero")
    with pytest.raises(reads.Refused, match="outside the repository"):
        reads.read_bytes(tmp_path / "schemes/zero.yaml")


def test_an_evidence_link_inside_the_round_is_followed_except_in_ci_mode(tmp_path, monkeypatch):
    case = tmp_path / "case"
    shutil.copytree(ROOT / "tests/bad/121-evidence-symlink-inside-round-ok", case, symlinks=True)
    monkeypatch.chdir(case)
    assert check("rounds/r").report.exit_code() == 0
    monkeypatch.setenv("GAPCTL_CI", "1")
    (problem,) = check("rounds/r").report.sorted()
    assert problem.code == "E505" and "is a symbolic link (to 2.1-shenqiandan.txt); in CI" in problem.message
