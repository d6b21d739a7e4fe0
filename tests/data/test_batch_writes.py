"""A batch of writes is all or none, whenever the process is killed (gapctl.data.journal, gapctl.data.writes).

A child process writes a batch and is SIGKILLed at a chosen system call (a temporary file's
write or fsync, the journal's commit, a rename); the next writer finishes the batch. After
that every file is all old or all new, nothing temporary is left, and the line saying what
was done is printed. A report is replaced in one step, and a full disk changes nothing.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from gapctl.data import journal as J
from gapctl.data.writes import DiskFull, Write, recover, write_files
from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SIGKILL, /proc, renameat2")

# Counts the system calls a batch makes (os.write, os.fsync, os.replace, os.link, os.rename, the
# directory exchange) and SIGKILLs itself at call number KILL_AT; KILL_AT=0 counts and prints.
CHILD = r"""
import os, signal, sys
from pathlib import Path

kill_name, _, kill_at = os.environ["KILL_AT"].rpartition(":")
kill_at = int(kill_at)
calls = {}


def counted(real, name):
    def call(*args, **kwargs):
        calls[name] = calls.get(name, 0) + 1
        calls[""] = calls.get("", 0) + 1
        if calls.get(kill_name) == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)
    return call


for name in ("write", "fsync", "replace", "link", "rename"):
    setattr(os, name, counted(getattr(os, name), name))
from gapctl.data import journal
journal.exchange = counted((lambda a, b: False) if os.environ.get("NO_EXCHANGE") else journal.exchange, "exchange")
what = sys.argv[1]
if what == "batch":
    from gapctl.data.writes import Write, write_files
    directory, count = Path(sys.argv[2]), int(sys.argv[3])
    write_files([Write(directory / f"f{i:03}.yaml", f"new {i}\n".encode() * 50) for i in range(count)], directory)
else:
    from gapctl.cli import main
    sys.argv = ["gapctl", *sys.argv[2:]]  # as the journal records the command
    try:
        main(sys.argv[1:])
    except SystemExit:
        pass
print("CALLS", calls.get("", 0))
"""


def child(args: list[str], cwd: Path, kill_at: int | str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", CHILD, *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "KILL_AT": str(kill_at), **env}, timeout=120)


def calls_made(args: list[str], cwd: Path, **env: str) -> int:
    done = child(args, cwd, 0, **env)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split("CALLS")[-1])


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.rglob("*") if p.name.endswith(".tmp") or ".tmp" in p.name)


def test_a_batch_killed_at_random_points_is_all_old_or_all_new_after_recovery(tmp_path: Path) -> None:
    count = 40
    probe = tmp_path / "probe"
    probe.mkdir()
    total = calls_made(["batch", str(probe), str(count)], probe)
    assert total > 3 * count  # every file written, fsynced and renamed, and the journal
    rng = random.Random(16)
    points = sorted({1, 2, total - 1, *(rng.randrange(1, total) for _ in range(8))})
    outcomes = set()
    for n, kill_at in enumerate(points):
        directory = tmp_path / f"run{n}"
        directory.mkdir()
        old = {f"f{i:03}.yaml": f"old {i}\n".encode() for i in range(count)}
        for name, data in old.items():
            (directory / name).write_bytes(data)
        killed = child(["batch", str(directory), str(count)], directory, kill_at)
        assert killed.returncode == -signal.SIGKILL, (kill_at, killed.stderr)
        lines = recover(directory)                              # what the next writer does first
        new = {name: (directory / name).read_bytes() == f"new {i}\n".encode() * 50
               for i, name in enumerate(old)}
        states = set(new.values())
        assert len(states) == 1, (kill_at, sorted(k for k, v in new.items() if v))  # all old or all new
        assert [(directory / name).read_bytes() for name in old if not new[name]] == \
            [data for name, data in old.items() if not new[name]]
        assert leftovers(directory) == [], kill_at
        assert len(lines) <= 1 and all(line.startswith(("completed", "undid")) for line in lines)
        outcomes.add((states.pop(), bool(lines)))
    assert (False, True) in outcomes and (True, True) in outcomes   # some undone, some completed


def test_an_import_killed_during_its_renames_is_completed_by_the_next_command(mini_repo: Path) -> None:
    """Through the CLI: `gapctl import` killed after its first rename; `gapctl validate` says so,
    and `gapctl fmt` (the next command that writes) completes it."""
    observations = mini_repo / "rounds/r1/observations"
    (mini_repo / "r.csv").write_text("单位,指标,结果\na,1.1,未完成\nb,1.1,未完成\n", encoding="utf-8")
    before = {p.name: p.read_bytes() for p in observations.iterdir()}
    probe = mini_repo.parent / "probe"
    import shutil
    shutil.copytree(mini_repo, probe)
    calls_made(["cli", "import", "rounds/r1", "r.csv", "--force"], probe)
    after = {p.name: p.read_bytes() for p in (probe / "rounds/r1/observations").iterdir()}
    assert after != before and set(after) == set(before)
    killed = child(["cli", "import", "rounds/r1", "r.csv", "--force"], mini_repo, "replace:2")  # after one rename
    assert killed.returncode == -signal.SIGKILL
    now = {p.name: p.read_bytes() for p in observations.iterdir() if not p.name.startswith(".")}
    assert now != before and now != after                     # half done: what the audit found
    validated = subprocess.run([sys.executable, "-m", "gapctl", "validate", "rounds/r1"], cwd=mini_repo,
                               capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert "an interrupted write of 2 file(s) (gapctl import rounds/r1 r.csv --force) is not finished" \
        in validated.stderr and "completes it" in validated.stderr
    fixed = subprocess.run([sys.executable, "-m", "gapctl", "fmt", "rounds/r1"], cwd=mini_repo,
                           capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert "completed an interrupted write of 2 file(s) by `gapctl import rounds/r1 r.csv --force`" in fixed.stderr
    assert {p.name: p.read_bytes() for p in observations.iterdir()} == after
    assert leftovers(mini_repo) == []


@pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "two-renames"])
def test_a_report_killed_anywhere_leaves_a_whole_report(mini_repo: Path, exchange: bool) -> None:
    """The old report or the new one is there whenever `gapctl report` is killed: with the
    exchange, at every moment; where there is none, once the next writer has finished it."""
    # without the cache: whether its stat index is written again depends on the clock (git's racily
    # clean rule), and the calls must be the same in every run for KILL_AT to mean the same moment
    env = {"GAPCTL_NO_CACHE": "1", **({} if exchange else {"NO_EXCHANGE": "1"})}
    out = mini_repo / "out/r1"
    args = ["cli", "report", "rounds/r1", "--out", "out/r1", "--format", "md"]
    assert child(args, mini_repo, 0, **env).returncode == 0
    pages = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    total = calls_made(args, mini_repo, **env)
    rng = random.Random(4)
    for kill_at in sorted({total - 2, total - 1, total, rng.randrange(1, total)}):
        (out / "index.md").write_text("the old report\n", encoding="utf-8")
        killed = child(args, mini_repo, kill_at, **env)
        assert killed.returncode == -signal.SIGKILL, (kill_at, killed.stderr)
        if exchange:
            assert (out / "index.md").is_file(), kill_at          # never a moment without a report
        recover(out.parent)
        assert sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file()) == pages, kill_at
        assert leftovers(out.parent) == [], kill_at


def test_a_full_disk_changes_nothing_and_exits_3(mini_repo: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(mini_repo)
    observations = mini_repo / "rounds/r1/observations"
    (mini_repo / "r.csv").write_text("单位,指标,结果\na,1.1,未完成\nb,1.1,未完成\n", encoding="utf-8")
    before = {p.name: p.read_bytes() for p in observations.iterdir()}
    real = os.write
    calls = []

    def full(fd: int, data: bytes) -> int:
        if os.path.basename(os.readlink(f"/proc/self/fd/{fd}")).startswith(".b.yaml."):
            raise OSError(28, "No space left on device")
        calls.append(fd)
        return real(fd, data)

    monkeypatch.setattr(os, "write", full)
    from gapctl.cli import main
    with pytest.raises(SystemExit) as stopped:
        main(["import", "rounds/r1", "r.csv", "--force"])
    monkeypatch.undo()
    monkeypatch.setenv("GAPCTL_LANG", "en")  # undo() also dropped the English the tests read
    monkeypatch.chdir(mini_repo)
    assert stopped.value.code == 3
    assert capsys.readouterr().err.splitlines()[-1:] == [
        "gapctl: could not run: rounds/r1/observations/b.yaml: cannot write: No space left on device; nothing was "
        "changed"]
    assert {p.name: p.read_bytes() for p in observations.iterdir()} == before
    assert leftovers(mini_repo) == []
    with pytest.raises(DiskFull, match="No space left on device; nothing was changed"):
        monkeypatch.setattr(os, "write", full)
        write_files([Write(observations / "a.yaml", b"x"), Write(observations / "b.yaml", b"y")], mini_repo)
    monkeypatch.undo()
    monkeypatch.setenv("GAPCTL_LANG", "en")  # undo() also dropped the English the tests read
    assert {p.name: p.read_bytes() for p in observations.iterdir()} == before


def test_writers_in_one_directory_take_turns(tmp_path: Path) -> None:
    """While one gapctl holds the directory's lock, another waits (and gives up after the limit)."""
    import fcntl

    fd = os.open(tmp_path, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        with pytest.raises(J.Busy), J.locked(tmp_path, wait=0.2):
            pass
    finally:
        os.close(fd)
    with J.locked(tmp_path, wait=0.2):
        pass


def test_a_large_batch_written_by_threads_is_committed_exactly_or_not_at_all(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch of many files has its temporary files written from a thread pool (gapctl.data.writes.WRITERS):
    every file ends up with its own bytes and mode; a write that fails in the middle of the pool leaves every
    file as it was, no temporary file, and names the file that failed, as one-at-a-time writing did."""
    from gapctl.data import writes as W

    count = 3 * W._THREADED_FROM
    old = {f"f{i:03}.yaml": f"old {i}\n".encode() for i in range(count)}
    for name, data in old.items():
        (tmp_path / name).write_bytes(data)
        (tmp_path / name).chmod(0o640 if name.endswith(("1.yaml", "7.yaml")) else 0o644)
    modes = {name: (tmp_path / name).stat().st_mode for name in old}
    new = {name: f"new {i}\n".encode() * (1 + i % 5) for i, name in enumerate(old)}
    real, written = os.write, []
    later_written = threading.Event()  # the failure waits for a later file, so the pool's overlap is shown

    def full(fd: int, data: bytes) -> int:
        name = os.path.basename(os.readlink(f"/proc/self/fd/{fd}"))
        if name.startswith(".f025.yaml."):
            later_written.wait(timeout=10)
            raise OSError(28, "No space left on device")
        written.append(name)
        if name.startswith(".f030.yaml."):
            later_written.set()
        return real(fd, data)

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(DiskFull, match=r"f025\.yaml: cannot write: No space left on device; nothing was changed"):
        write_files([Write(tmp_path / name, data, (tmp_path / name).stat()) for name, data in new.items()], tmp_path)
    monkeypatch.undo()
    assert any(name.startswith(".f030.yaml.") for name in written)  # the pool wrote others meanwhile
    assert {name: (tmp_path / name).read_bytes() for name in old} == old
    assert leftovers(tmp_path) == [] and not J.journals(tmp_path)

    assert write_files([Write(tmp_path / name, data) for name, data in new.items()], tmp_path) == \
        [tmp_path / name for name in new]
    assert {name: (tmp_path / name).read_bytes() for name in old} == new
    assert {name: (tmp_path / name).stat().st_mode for name in old} == modes
    assert leftovers(tmp_path) == [] and not J.journals(tmp_path)


def test_a_large_batch_killed_during_its_threaded_renames_is_completed_by_recovery(tmp_path: Path) -> None:
    """A committed batch of many files renames them from a thread pool (Journal.roll_forward's threads); killed after
    some of those renames, the next writer completes the batch: every file new, nothing temporary left."""
    count = 40
    old = {f"f{i:03}.yaml": f"old {i}\n".encode() for i in range(count)}
    for name, data in old.items():
        (tmp_path / name).write_bytes(data)
    killed = child(["batch", str(tmp_path), str(count)], tmp_path, "replace:10")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    renamed = [name for i, name in enumerate(old) if (tmp_path / name).read_bytes() != old[name]]
    assert 0 < len(renamed) < count  # killed part-way
    lines = recover(tmp_path)
    assert len(lines) == 1 and lines[0].startswith("completed")
    assert all((tmp_path / name).read_bytes() == f"new {i}\n".encode() * 50 for i, name in enumerate(old))
    assert leftovers(tmp_path) == [] and not J.journals(tmp_path)


@pytest.mark.parametrize("fails", [False, True])
def test_files_written_after_a_flush_ahead_are_made_durable_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 fails: bool) -> None:
    """`Staging.sync_ahead` flushes what is written in a thread, again and again, while more is written; the
    directory is swapped in only after that thread has ended and the final flush (which covers what came after its
    last one) is done; a fill that fails after a flush ahead waits for it and leaves the old directory."""
    from gapctl.data import writes

    flushed: list[tuple[str, list[str]]] = []
    started = threading.Event()

    def sync_all(directory: Path) -> None:  # what each flush found written, the one ahead slowed down
        ahead = threading.current_thread().name == "gapctl-sync"
        if ahead:
            started.set()
            threading.Event().wait(0.2)
        flushed.append(("ahead" if ahead else "final", sorted(p.name for p in directory.rglob("*") if p.is_file())))
    monkeypatch.setattr(writes, "_sync_all", sync_all)
    target = tmp_path / "out"
    writes.write_directory(target, {"old.txt": b"old"})
    flushed.clear()

    def fill(stage: writes.Staging) -> None:
        stage.put("a.html", b"a")
        stage.sync_ahead()
        started.wait(5)
        stage.put("index.html", b"index")
        if fails:
            raise RuntimeError("made up")
    if fails:
        with pytest.raises(RuntimeError):
            writes.write_directory(target, fill)
        assert flushed and {kind for kind, _ in flushed} == {"ahead"}
        assert sorted(p.name for p in target.iterdir()) == ["old.txt"]
        return
    writes.write_directory(target, fill)
    assert [kind for kind, _ in flushed][-1] == "final" and {kind for kind, _ in flushed[:-1]} == {"ahead"}
    assert flushed[-1][1] == ["a.html", "index.html"]
    assert sorted(p.name for p in target.iterdir()) == ["a.html", "index.html"]
