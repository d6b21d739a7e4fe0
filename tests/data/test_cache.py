"""The content-addressed cache and the file-by-file path (gapctl.scoring.outcomes) that uses it.

The file-by-file path must give exactly what the whole-round path gives (problems and
scores), cold, warm, after an edit, in a process pool, and with a damaged cache.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gapctl.api import check, score
from gapctl.data import cache as C
from gapctl.scoring import executors, outcomes, scoreboard
from tests.conftest import ROOT as REPO
from tests.conftest import copy_repo

ROUNDS = sorted(p.name for p in (REPO / "rounds").iterdir() if p.is_dir())


pytestmark = pytest.mark.usefixtures("own_cache_home")  # tests.conftest: the cache on, in tmp_path


def problem_rows(report) -> list[tuple]:
    return [(loc.path, loc.line, loc.col, p.code, p.message) for p in report.sorted() for loc in [p.locate()]]


def score_json(scored) -> str:
    return json.dumps(scoreboard.json_data(scored, scored.units), ensure_ascii=False, sort_keys=True)


def whole_round(path: Path) -> tuple[list[tuple], str | None]:
    result = check(path)
    scored = score(result.loaded.round) if result.loaded.round and not result.report.errors else None
    return problem_rows(result.report), score_json(scored) if scored else None


def file_by_file(path: Path, use_cache: bool = True) -> tuple[list[tuple], str | None, outcomes.Checked]:
    result = outcomes.check(path, use_cache)
    scored = outcomes.score(result) if result.loaded.round and not result.report.errors else None
    return problem_rows(result.report), score_json(scored) if scored else None, result


@pytest.mark.parametrize("name", ROUNDS)
def test_cold_warm_and_uncached_runs_equal_the_whole_round_path(name: str, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    repo = copy_repo(tmp_path)
    monkeypatch.chdir(repo)
    expected = whole_round(Path("rounds") / name)
    uncached = file_by_file(Path("rounds") / name, use_cache=False)
    cold = file_by_file(Path("rounds") / name)
    warm = file_by_file(Path("rounds") / name)
    assert uncached[:2] == cold[:2] == warm[:2] == expected
    assert uncached[2].cache is None
    files = len(warm[2].plans[0].round.observation_paths) + len(warm[2].plans[0].round.channel_paths)
    assert cold[2].plans[0].computed == files and cold[2].cache.written and not cold[2].cache.hits
    assert warm[2].plans[0].computed == 0 and not warm[2].cache.written and not warm[2].cache.misses


def test_no_cache_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = copy_repo(tmp_path)
    monkeypatch.chdir(repo)
    file_by_file(Path("rounds/suizhou-2021"), use_cache=False)
    assert not (repo / ".gapctl-cache").exists()
    monkeypatch.setenv("GAPCTL_NO_CACHE", "1")
    assert file_by_file(Path("rounds/suizhou-2021"))[2].cache is None


def test_an_edited_file_is_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = copy_repo(tmp_path)
    monkeypatch.chdir(repo)
    round_dir = Path("rounds/suizhou-2021")
    before = file_by_file(round_dir)
    target = round_dir / "observations" / "finance.yaml"
    text = target.read_text(encoding="utf-8")
    assert "result: done" in text
    target.write_text(text.replace("result: done", "result: not-done\n    reason: 测试修改", 1), encoding="utf-8")
    after = file_by_file(round_dir)
    assert after[2].plans[0].computed == 1                 # only the edited file: its chunk's others are reused
    assert after[:2] == whole_round(round_dir)
    assert after[1] != before[1]                           # and its score changed


def test_a_corrupt_or_foreign_entry_is_rejected_and_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = copy_repo(tmp_path)
    monkeypatch.chdir(repo)
    round_dir = Path("rounds/yanjiang-2021")
    expected = file_by_file(round_dir)[:2]
    entries = sorted(p for p in (repo / ".gapctl-cache").rglob("*") if p.is_file() and len(p.parent.name) == 2)
    assert entries
    entries[0].write_bytes(entries[0].read_bytes()[:-7] + b"garbage")          # corrupt
    entries[1].write_bytes(b"")                                                # truncated
    foreign = C.Cache(repo / ".gapctl-cache", b"k" * 32)                      # signed by another key
    payload = entries[2].read_bytes()[len(C.MAGIC) + C.SIGNATURE_BYTES:]
    foreign.put(entries[2].parent.name + entries[2].name, payload)
    again = file_by_file(round_dir)
    assert again[:2] == expected
    assert again[2].cache.rejected == 3
    third = file_by_file(round_dir)                        # the rebuilt entries are trusted again
    assert third[2].cache.rejected == 0 and third[:2] == expected


def test_a_pickle_that_would_run_code_is_never_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = copy_repo(tmp_path)
    monkeypatch.chdir(repo)
    round_dir = Path("rounds/suizhou-2021")
    file_by_file(round_dir)
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))
    for entry in (p for p in (repo / ".gapctl-cache").rglob("*") if p.is_file() and len(p.parent.name) == 2):
        entry.write_bytes(C.MAGIC + b"\0" * C.SIGNATURE_BYTES + C.dumps(Exploit()))
    assert file_by_file(round_dir)[:2] == whole_round(round_dir)
    assert not marker.exists()


def test_a_process_pool_gives_the_same_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = copy_repo(tmp_path)
    monkeypatch.chdir(repo)
    monkeypatch.setattr(outcomes, "PARALLEL_FROM", 2)
    monkeypatch.setenv("GAPCTL_JOBS", "2")
    for name in ("shanwei-2020", "chongqing-2020"):
        assert file_by_file(Path("rounds") / name, use_cache=False)[:2] == whole_round(Path("rounds") / name)


def test_workers_replaced_after_every_batch_give_the_same_result(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A forked worker is replaced after WORKER_BATCHES batches (so it never copies the parent's
    memory page by page); here after each one, with the cache filling and then read back."""
    repo = copy_repo(tmp_path)
    monkeypatch.chdir(repo)
    monkeypatch.setattr(outcomes, "PARALLEL_FROM", 2)
    monkeypatch.setattr(outcomes, "CHUNK_BOUNDARY", 2)  # batches of two files: several per worker
    monkeypatch.setenv("GAPCTL_JOBS", "2")
    monkeypatch.setenv("GAPCTL_WORKER_BATCHES", "1")
    assert executors.batches_per_worker() == 1
    round_dir = Path("rounds") / "chongqing-2020"
    expected = whole_round(round_dir)
    cold = file_by_file(round_dir)
    assert cold[:2] == expected and cold[2].plans[0].computed > 2
    warm = file_by_file(round_dir)
    assert warm[:2] == expected and warm[2].plans[0].computed == 0


def test_bad_inputs_give_the_same_problems_file_by_file(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.test_bad_inputs import CASES, _expectation

    for case in CASES:
        run = _expectation(case)[0]
        monkeypatch.chdir(case)
        assert problem_rows(outcomes.check(run, use_cache=False).report) == problem_rows(check(run).report), case.name


def test_concurrent_runs_leave_a_sound_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three real `gapctl validate` processes fill the same cache at once; a fourth reads it all."""
    import subprocess
    import sys

    repo = copy_repo(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "gapctl", "validate", "rounds/shanwei-2020", "--format", "json"]
    runs = [subprocess.Popen(cmd, cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(3)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0]
    assert len({out for out, _ in outputs}) == 1 and all(b"Traceback" not in err for _, err in outputs)
    assert not [p for p in (repo / ".gapctl-cache").rglob(".tmp.*")]
    monkeypatch.chdir(repo)
    monkeypatch.setattr(C, "_FINGERPRINT", None)  # hash the code as the children just did
    warm = file_by_file(Path("rounds/shanwei-2020"))
    assert warm[2].cache.rejected == 0 and warm[2].cache.misses == 0
    assert warm[:2] == whole_round(Path("rounds/shanwei-2020"))


@pytest.mark.parametrize("file_by_file_path", [True, False])
def test_a_file_over_the_limit_is_refused_without_being_read(file_by_file_path: bool, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    repo = copy_repo(tmp_path)
    big = repo / "rounds/suizhou-2021/observations/finance.yaml"
    with open(big, "r+b") as handle:          # sparse: 30 MB on paper, nothing on disk
        handle.truncate(30 * 1024 * 1024)
    read = Path.read_bytes

    def guarded(self: Path) -> bytes:
        assert self.name != "finance.yaml", "the oversized file was read"
        return read(self)
    monkeypatch.setattr(Path, "read_bytes", guarded)
    monkeypatch.chdir(repo)
    result = outcomes.check("rounds/suizhou-2021") if file_by_file_path else check("rounds/suizhou-2021")
    assert [p.code for p in result.report.problems if "finance" in str(p.locate().path)] == ["E105"]


def test_chunks_end_where_their_files_say() -> None:
    """Chunks cut by file name: editing a file never moves a cut; adding or removing one changes at
    most two chunks (its own, and a neighbour it merges with or splits from), wherever it is."""
    import random

    rng = random.Random(7)
    paths = [Path(f"rounds/r/observations/u{n:04d}.yaml") for n in range(3000)]
    before = outcomes.chunks_of(paths)
    assert sorted(i for chunk in before for i in chunk) == list(range(3000))
    assert 100 < len(before) < 400 and max(map(len, before)) < 200

    def as_names(chunks, ps):
        return {tuple(ps[i].name for i in chunk) for chunk in chunks}
    for _ in range(50):
        n = rng.randrange(3000)
        for changed in (paths[:n] + [Path(f"rounds/r/observations/added{n}.yaml")] + paths[n:],  # added
                        paths[:n] + paths[n + 1:]):                                               # removed
            after = as_names(outcomes.chunks_of(changed), changed)
            assert len(as_names(before, paths) - after) <= 2


# --- a cache nobody can plant (issue #16) ------------------------------------------------

def entry_files(repo: Path) -> list[Path]:
    return sorted(p for p in (repo / ".gapctl-cache").rglob("*") if p.is_file() and len(p.parent.name) == 2)


def test_a_signed_entry_that_would_run_code_or_forge_a_score_runs_nothing(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """An attacker holding the key (leaked from CI) signs entries: a pickle that would run a
    command is not MessagePack and is recomputed; bytes naming a class outside gapctl are refused."""
    repo = copy_repo(tmp_path)
    monkeypatch.chdir(repo)
    round_dir = Path("rounds/suizhou-2021")
    expected = file_by_file(round_dir)[:2]
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))
    import pickle

    import msgpack
    secret = C._secret()
    cache = C.Cache(repo / ".gapctl-cache", secret)
    planted = [pickle.dumps(Exploit()),                                                  # pickle
               msgpack.packb([msgpack.ExtType(6, msgpack.packb(["os:system", "touch x"]))]),  # a foreign class
               msgpack.packb([msgpack.ExtType(6, msgpack.packb(["subprocess:Popen", ["touch", "x"]]))])]
    for n, entry in enumerate(entry_files(repo)):
        key = entry.parent.parent.name and entry.parent.name + entry.name
        cache.put(key, planted[n % len(planted)])
    again = file_by_file(round_dir)
    assert again[:2] == expected and not marker.exists()
    assert again[2].cache.rejected == 0 and again[2].cache.hits  # signed, so read: and refused by the codec


def test_an_empty_or_short_key_file_is_replaced_and_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    import stat

    monkeypatch.setattr(C, "_SAID", set())
    key = C.key_path()
    key.parent.mkdir(parents=True)
    for short in (b"", b"x" * 31):
        key.write_bytes(short)
        secret = C._secret()
        assert secret is not None and len(secret) == 32 and secret != short
        assert key.read_bytes() == secret and stat.S_IMODE(key.stat().st_mode) == 0o600
        assert f"had {len(short)} bytes, fewer than 32; made a new key" in capsys.readouterr().err
    assert C._secret() == secret and capsys.readouterr().err == ""   # a good key is kept, silently


def test_a_new_key_file_is_private(tmp_path: Path) -> None:
    import stat

    secret = C._secret()
    assert secret is not None and len(secret) == 32
    assert stat.S_IMODE(C.key_path().stat().st_mode) == 0o600


def test_the_repository_secret_is_used_when_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """GAPCTL_CACHE_KEY (CI's repository secret) signs entries instead of the key file; as the
    workflow writes the same secret into the key file, both give the same key."""
    repo = copy_repo(tmp_path)
    monkeypatch.chdir(repo)
    monkeypatch.setattr(C, "_SAID", set())
    monkeypatch.setenv("GAPCTL_CACHE_KEY", "s" * 40)
    assert C._secret() == b"s" * 40 and not C.key_path().exists()
    file_by_file(Path("rounds/suizhou-2021"))
    monkeypatch.delenv("GAPCTL_CACHE_KEY")
    C.key_path().parent.mkdir(parents=True)
    C.key_path().write_bytes(b"s" * 40)                        # what the workflow's step writes
    warm = file_by_file(Path("rounds/suizhou-2021"))
    assert warm[2].cache.hits and not warm[2].cache.rejected
    monkeypatch.setenv("GAPCTL_CACHE_KEY", "short")
    result = file_by_file(Path("rounds/suizhou-2021"))
    assert result[2].cache is None and result[:2] == warm[:2]
    assert "GAPCTL_CACHE_KEY has 5 bytes, fewer than 32; the cache is off" in capsys.readouterr().err


def test_a_linked_or_tracked_cache_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    import subprocess

    repo = copy_repo(tmp_path)
    monkeypatch.chdir(repo)
    round_dir = Path("rounds/suizhou-2021")
    expected = whole_round(round_dir)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (repo / ".gapctl-cache").symlink_to(elsewhere, target_is_directory=True)
    monkeypatch.setattr(C, "_SAID", set())
    linked = file_by_file(round_dir)
    assert linked[:2] == expected and linked[2].cache is None and list(elsewhere.iterdir()) == []
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and ".gapctl-cache is a symbolic link; the cache is not used" in err
    (repo / ".gapctl-cache").unlink()
    file_by_file(round_dir)                                   # a real cache, then committed by someone
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-f", ".gapctl-cache"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "oops"], cwd=repo, check=True)
    monkeypatch.setattr(C, "_SAID", set())
    tracked = file_by_file(round_dir)
    assert tracked[:2] == expected and tracked[2].cache is None
    assert "is tracked by git; the cache is not used" in capsys.readouterr().err


def test_entries_of_other_versions_and_past_the_size_limit_are_pruned(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    repo = copy_repo(tmp_path)
    monkeypatch.chdir(repo)
    cache_dir = repo / ".gapctl-cache"
    old_version = cache_dir / "0123456789abcdef" / "ab"
    old_version.mkdir(parents=True)
    (old_version / "cdef").write_bytes(b"x" * 100)
    day_ago = time.time() - 2 * C.DAY
    os.utime(old_version.parent, (day_ago, day_ago))
    recent_version = cache_dir / "fedcba9876543210"
    recent_version.mkdir()                                    # another gapctl used today: kept
    file_by_file(Path("rounds/chongqing-2020"))
    assert not old_version.parent.exists() and recent_version.exists()
    entries = entry_files(repo)
    sizes = {p: p.stat().st_size for p in entries}
    size = sum(sizes.values())
    for n, entry in enumerate(entries):                       # oldest first
        os.utime(entry, (day_ago + n, day_ago + n))
    cache = C.Cache(cache_dir, C._secret(), limit_mb=size / 2 / 1024 / 1024)
    cache.prune()
    left = entry_files(repo)
    assert 0 < len(left) < len(entries) and sum(sizes[p] for p in left) <= size * 0.4 + max(sizes.values())
    assert left == entries[len(entries) - len(left):]        # the most recently used are kept
    monkeypatch.setenv("GAPCTL_CACHE_MB", "7")
    assert C.Cache(cache_dir, b"k" * 32).limit == 7 * 1024 * 1024


@pytest.mark.parametrize("ref", [("U", "finance"), ("U", '区财政"局\\\n\x00\u2028'), ("I", "s", "1.10"),
                                 ("R", "s", "1", 0), (), ("K",), ("U", "\ud800")])
def test_reference_names_are_the_json_of_their_id_tuples(ref: tuple) -> None:
    """A tuple of strings is written by hand (every unit, indicator and rule of a round is named each run), as
    the encoder writes it."""
    assert C.reference_name(ref) == json.dumps(list(ref), ensure_ascii=False, separators=(",", ":"))
