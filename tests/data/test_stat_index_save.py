"""The stat index is written again only when a later run gains from it (gapctl.data.cache.StatIndex.save):
not after a run whose only files hashed again were just edited (racily clean, so never trusted from this
run's entry), as in a warm `score` after one edit; yes once such a file is old enough to be trusted, and
whenever the set of files changes."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from gapctl.data import cache as C
from tests.conftest import copy_repo
from tests.data.test_cache import file_by_file

ROUND = Path("rounds/suizhou-2021")
HOUR_NS = 3600 * 10**9

pytestmark = pytest.mark.usefixtures("own_cache_home")  # tests.conftest: the cache on, in tmp_path


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    repo = copy_repo(tmp_path)
    old = time.time_ns() - HOUR_NS
    for path in repo.rglob("*"):
        if path.is_file() and not path.is_symlink():
            os.utime(path, ns=(old, old))
    monkeypatch.chdir(repo)
    return repo


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
