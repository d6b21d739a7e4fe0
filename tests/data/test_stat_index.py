"""Warm runs read only files whose stat changed (gapctl.data.cache.StatIndex, git's index for hashes).

An unchanged file is trusted from its size, times and inode; an edit is found even when it keeps
the size and the modification time is put back; a file touched but not changed is read and
hashed again and still reuses its cached outcome; git's "racily clean" rule keeps a file whose
timestamp is too recent to tell from a later edit out of the trusted set.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from gapctl.data import cache as C
from gapctl.scoring import outcomes
from tests.conftest import copy_repo
from tests.data.test_cache import file_by_file

ROUND = Path("rounds/suizhou-2021")
HOUR_NS = 3600 * 10**9


pytestmark = pytest.mark.usefixtures("own_cache_home")  # tests.conftest: the cache on, in tmp_path


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped rounds whose files were last changed an hour ago (not racy)."""
    repo = copy_repo(tmp_path)
    old = time.time_ns() - HOUR_NS
    for path in repo.rglob("*"):
        if path.is_file() and not path.is_symlink():
            os.utime(path, ns=(old, old))
    monkeypatch.chdir(repo)
    return repo


class Reads:
    """The observation files gapctl.scoring.outcomes opens (to hash them, or to check them); the scheme and
    round file it hashes for the context of every outcome are left out."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.paths: list[str] = []
        original = outcomes.read_bytes

        def spy(path, *args, **kwargs):
            if Path(path).parent.name == "observations":
                self.paths.append(Path(path).name)
            return original(path, *args, **kwargs)
        monkeypatch.setattr(outcomes, "read_bytes", spy)


def observations(repo: Path) -> list[Path]:
    return sorted((repo / ROUND / "observations").iterdir())


def test_a_warm_run_reads_no_unchanged_file(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cold = file_by_file(ROUND)
    reads = Reads(monkeypatch)
    warm = file_by_file(ROUND)
    assert warm[:2] == cold[:2]
    assert warm[2].plans[0].computed == 0
    assert reads.paths == []  # every hash came from the index


def test_an_edit_keeping_size_and_modification_time_is_found(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = file_by_file(ROUND)
    target = next(p for p in observations(repo) if b"result: done" in p.read_bytes())
    st = target.stat()
    text = target.read_bytes()
    edited = text.replace(b"result: done", b"result: dona", 1)  # same length; an unknown result
    assert len(edited) == len(text)
    target.write_bytes(edited)
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))  # the modification time put back
    assert (target.stat().st_size, target.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    reads = Reads(monkeypatch)
    after = file_by_file(ROUND)
    assert target.name in reads.paths
    assert after[2].plans[0].computed == 1
    assert after[0] != before[0]  # the unknown result is a problem now


def test_a_touched_file_is_hashed_again_and_reuses_its_outcome(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file_by_file(ROUND)
    target = observations(repo)[0]
    os.utime(target)  # now: changed times, same bytes
    reads = Reads(monkeypatch)
    warm = file_by_file(ROUND)
    assert reads.paths == [target.name]  # hashed again, and not checked again:
    assert warm[2].plans[0].computed == 0 and warm[2].cache.hits  # its cached outcome is used


def test_files_changed_just_before_a_run_are_hashed_again_next_time(repo: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Racily clean: a file modified within the timestamp granularity of the run that indexed it
    could change again with an unchanged stat, so it is hashed again until its time is older."""
    target = observations(repo)[0]
    os.utime(target)  # modified now, then indexed by the run below
    file_by_file(ROUND)
    reads = Reads(monkeypatch)
    file_by_file(ROUND)
    assert reads.paths == [target.name]  # racy: hashed again though its stat did not change
    reads.paths.clear()
    old = time.time_ns() - HOUR_NS  # as if the index had been written an hour after the edit
    os.utime(target, ns=(old, old))
    file_by_file(ROUND)
    reads.paths.clear()
    file_by_file(ROUND)
    assert reads.paths == []


def test_the_racy_rule_without_help_from_the_change_time(tmp_path: Path) -> None:
    """`trusted` alone: a matching stat is trusted only when its times are older than the index's
    snapshot by the granularity, whatever the change time says."""
    cache = C.Cache(tmp_path / "cache", b"k" * 32)
    path = tmp_path / "f.yaml"
    path.write_bytes(b"a: 1\n")
    st = os.lstat(path)
    index = C.StatIndex(cache, "set")
    name = os.path.abspath(path)
    index.old = {name: [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, "hash"]}
    index.old_dirs = {os.path.dirname(name): os.path.realpath(os.path.dirname(name))}
    index.old_snapshot = st.st_mtime_ns + C.RACY_NS  # indexed within the window
    assert index.trusted(name, st) is None
    index.old_snapshot = st.st_mtime_ns + C.RACY_NS + 1  # older than the window
    assert index.trusted(name, st) == "hash"
    index.old[name][0] += 1  # another size
    assert index.trusted(name, st) is None


def test_a_directory_swapped_for_a_link_is_read_again(repo: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The same files (same inodes and times), now behind a link: not trusted, so they are read
    through gapctl.data.reads again and give what they give without a cache."""
    file_by_file(ROUND)
    folder = repo / ROUND / "observations"
    outside = tmp_path / "elsewhere"
    folder.rename(outside)
    folder.symlink_to(outside)
    reads = Reads(monkeypatch)
    after = file_by_file(ROUND)
    assert sorted(set(reads.paths)) == sorted(p.name for p in outside.iterdir())
    monkeypatch.setenv("GAPCTL_NO_CACHE", "1")
    assert after[:2] == file_by_file(ROUND)[:2]


def test_an_index_entry_is_signed(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A forged or damaged index is not read: every file is hashed again."""
    file_by_file(ROUND)
    index = C.StatIndex(C.open_cache(repo), str((repo / ROUND).resolve()))
    entry = index.cache.path(index.key)
    assert entry.is_file() and index.old
    entry.write_bytes(entry.read_bytes()[:-1] + b"\x00")
    reads = Reads(monkeypatch)
    warm = file_by_file(ROUND)
    assert len(reads.paths) == len(observations(repo))
    assert warm[2].plans[0].computed == 0



@pytest.mark.parametrize("name", ["a/b.yaml", "b.yaml", "/b.yaml", "/x/y/z.yaml", "./a/../b/c.yaml", "a//b.yaml",
                                  "../q.yaml", "a/.", "a/..", "/", "a/", "x/./y.yaml", "/a/b/../c.yaml"])
def test_names_are_made_absolute_as_os_path_abspath_makes_them(name: str, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The index makes each directory absolute once (`StatIndex._absolute`), files of a relative and an
    absolute name alike; the names must be os.path.abspath's, or no entry would be found again."""
    monkeypatch.chdir(tmp_path)
    index = C.StatIndex.__new__(C.StatIndex)
    index.absolute = {}
    for _ in range(2):  # the second time from the directories made absolute the first
        assert index._absolute(name) == os.path.abspath(name)
        assert index._absolute("b.yaml") == os.path.abspath("b.yaml")


def test_a_warm_run_takes_each_files_key_from_its_chunk(repo: Path) -> None:
    """Keys taken from chunk entries (their content hash and unit key unchanged) are the keys the files'
    bytes make; an edited file's key is made again."""
    file_by_file(ROUND)
    warm = file_by_file(ROUND)[2].plans[0]
    paths = outcomes.round_paths(warm)
    assert warm.keys == [outcomes.file_key(warm, path) for path in paths] and all(warm.keys)
    target = observations(repo)[0]
    target.write_text(target.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    edited = file_by_file(ROUND)[2].plans[0]
    assert edited.keys == [outcomes.file_key(edited, path) for path in paths]
    assert edited.keys[paths.index(ROUND / "observations" / target.name)] != warm.keys[paths.index(
        ROUND / "observations" / target.name)]


def test_a_hash_vouched_for_is_trusted_as_an_entry_is(tmp_path: Path) -> None:
    """`vouch` (another reader of this run hashed the file, gapctl.review.blobs): its hash is taken without
    reading the file while the stat is the one vouched for and older than the read by the granularity, and
    kept in the index written afterwards; another stat, a recent read or another directory is read again."""
    cache = C.Cache(tmp_path / "cache", b"k" * 32)
    path = tmp_path / "f.yaml"
    path.write_bytes(b"a: 1\n")
    st = os.lstat(path)
    seen = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
    real = os.path.realpath(tmp_path)
    reads: list[Path] = []

    def read(p: Path) -> bytes:
        reads.append(p)
        return p.read_bytes()
    index = C.StatIndex(cache, "set")
    index.vouch(path, seen, "vouched", real, st.st_mtime_ns + C.RACY_NS + 1)
    assert index.hash(path, read) == "vouched" and not reads
    assert index.new[os.path.abspath(path)][4] == "vouched"
    for fstat, directory, taken in [((st.st_size + 1, *seen[1:]), real, st.st_mtime_ns + C.RACY_NS + 1),
                                    (seen, real, st.st_mtime_ns + C.RACY_NS),  # read within the window
                                    (seen, str(tmp_path / "elsewhere"), st.st_mtime_ns + C.RACY_NS + 1)]:
        index = C.StatIndex(cache, "other")
        index.vouch(path, fstat, "vouched", directory, taken)
        reads.clear()
        assert index.hash(path, read) == C.content_hash(b"a: 1\n") and reads == [path]


# --- when the index is written again (StatIndex.save) ---------------------------------
# The stat index is written again only when a later run gains from it (gapctl.data.cache.StatIndex.save):
# not after a run whose only files hashed again were just edited (racily clean, so never trusted from this
# run's entry), as in a warm `score` after one edit; yes once such a file is old enough to be trusted, and
# whenever the set of files changes.

def _index_writes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many files each saved index holds, one number per write."""
    writes: list[int] = []
    real = C.Cache.put

    def put(self, key, payload, counted=True):
        if not counted:  # the index is the only entry put uncounted
            writes.append(len(C.codec.loads(payload)["files"]))
        return real(self, key, payload, counted)
    monkeypatch.setattr(C.Cache, "put", put)
    return writes


def test_a_just_edited_file_does_not_rewrite_the_index_and_an_old_enough_one_does(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file_by_file(ROUND)
    files = sorted((repo / ROUND / "observations").iterdir())
    target = files[-1]
    writes = _index_writes(monkeypatch)
    target.write_bytes(target.read_bytes() + b"# edited\n")  # now: racily clean
    edited = file_by_file(ROUND)
    assert edited[2].plans[0].computed == 1  # the edit was seen and scored
    assert writes == []
    again = file_by_file(ROUND)  # hashed again (still racy): its outcome from the cache, the index as it was
    assert again[:2] == edited[:2] and again[2].plans[0].computed == 0 and writes == []
    old = time.time_ns() - HOUR_NS
    os.utime(target, ns=(old, old))  # old enough now: a later run may trust its entry, so the index is written
    file_by_file(ROUND)
    assert len(writes) == 1 and writes[0] >= len(files)
    warm = file_by_file(ROUND)  # every hash from the index: nothing hashed, nothing written
    assert len(writes) == 1 and warm[:2] == edited[:2] and warm[2].plans[0].computed == 0


def test_a_new_file_rewrites_the_index_even_when_just_made(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The set of files changed: the index is written, though the new file's own entry is racy."""
    file_by_file(ROUND)
    files = sorted((repo / ROUND / "observations").iterdir())
    writes = _index_writes(monkeypatch)
    files[0].rename(files[0].with_name("zz-moved" + files[0].suffix))  # one name gone, one new
    file_by_file(ROUND)
    assert len(writes) == 1


def test_a_cold_run_reads_each_file_once_and_a_warm_run_none(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no cache entry for a chunk, its files are hashed by whoever reads them to check them (outcomes.FileDigests):
    the parent does not read them first to hash them, and the stat index still keeps their hashes."""
    reads = Reads(monkeypatch)
    cold = file_by_file(ROUND)
    names = [p.name for p in observations(repo)]
    assert sorted(reads.paths) == sorted(names)  # once each (twice before: hashed, then checked)
    assert cold[2].plans[0].computed == len(names)
    reads.paths.clear()
    warm = file_by_file(ROUND)
    assert warm[:2] == cold[:2] and warm[2].plans[0].computed == 0
    assert reads.paths == []  # the hashes the checks made are in the index
    assert warm[2].plans[0].hashes == cold[2].plans[0].hashes  # what provenance reads, the same either way


def test_the_parent_reads_no_file_of_a_cold_run_its_workers_check(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same through forked workers: the parent reads nothing; a warm run then reads nothing either (the workers
    handed back each file's hash, kept in the stat index with the stat the parent took before they read it)."""
    monkeypatch.setattr(outcomes, "PARALLEL_FROM", 2)  # the small round as if it were large: the pool is used
    monkeypatch.setenv("GAPCTL_JOBS", "2")
    reads = Reads(monkeypatch)  # the workers' reads are their own lists', not this process's
    cold = file_by_file(ROUND)
    assert reads.paths == []
    assert cold[2].plans[0].computed == len(observations(repo))
    assert set(cold[2].plans[0].hashes) >= set(observations(Path(".")))  # every file's hash, from its worker
    warm = file_by_file(ROUND)
    assert warm[:2] == cold[:2] and warm[2].plans[0].computed == 0
    assert reads.paths == []
    uncached = file_by_file(ROUND, use_cache=False)
    assert uncached[:2] == cold[:2]


def test_the_warm_walks_stats_are_the_runs_first_look(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A `gapctl score` whose kept output no longer holds has walked the repository (gapctl.scoring.warm): the
    plan takes each file's lstat from that walk (`warm.looked`) instead of taking it again, and an edit made
    before the walk is still found (its stat is the index's no more)."""
    from gapctl.scoring import warm

    looked: list[str] = []
    original = outcomes._looked_at
    monkeypatch.setattr(outcomes, "_looked_at", lambda plan, path: looked.append(path.name) or original(plan, path))
    file_by_file(ROUND)                                      # cold: fills the cache and the index
    names = [p.name for p in observations(repo)]
    assert sorted(looked) == sorted(names)
    edited = observations(repo)[-1]
    edited.write_text(edited.read_text(encoding="utf-8") + "# 复核\n", encoding="utf-8")
    looked.clear()
    reads = Reads(monkeypatch)
    assert not warm.replayed(["score", str(ROUND)])          # nothing kept: the walk's stats wait for the run
    walked = warm._SEEN
    assert walked is not None and str(edited.resolve()) in walked[1]
    run = file_by_file(ROUND)
    assert looked == [] and warm._SEEN is None               # every stat from the walk, taken once
    assert set(reads.paths) == {edited.name} and run[2].plans[0].computed == 1  # (hashed, then checked)
    assert run[:2] == file_by_file(ROUND, use_cache=False)[:2]
    warm.forget()
