"""gapctl.review.blobs: a revision's files read from the working tree where the bytes are the same give
exactly what `git cat-file` gives, and the revision's bytes wherever the working tree differs."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from gapctl.data.tree import GitTree
from gapctl.review.blobs import CheckedOutTree
from tests.review.test_diff import commit


def test_a_checked_out_revision_reads_what_git_has(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    (repo / "d").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    files = {"d/same.yaml": b"unit: a\n", "d/edited.yaml": b"unit: b\n", "d/removed.yaml": b"unit: c\n",
             "d/linked.yaml": None}
    for rel, data in files.items():
        if data is not None:
            (repo / rel).write_bytes(data)
    os.symlink("same.yaml", repo / "d/linked.yaml")
    commit(repo, "张三", "初始", 1)
    (repo / "d/edited.yaml").write_bytes(b"unit: b2\n")
    (repo / "d/removed.yaml").unlink()
    (repo / "d/same.yaml").touch()  # a newer time, the same bytes
    git, ours = GitTree(repo, "HEAD"), CheckedOutTree(repo, "HEAD")
    reads: list[Path] = []
    from gapctl.data import reads as R
    original = R.read_bytes

    def counted(path: Path, *args, **kwargs) -> bytes:
        reads.append(Path(path))
        return original(path, *args, **kwargs)
    monkeypatch.setattr(R, "read_bytes", counted)
    try:
        for rel in files:
            assert ours.read_bytes(repo / rel) == git.read_bytes(repo / rel), rel
        assert ours.read_bytes(repo / "d/edited.yaml") == b"unit: b\n"
        assert ours.read_bytes(repo / "d/removed.yaml") == b"unit: c\n"
        assert repo / "d/same.yaml" in reads  # taken from the disk
    finally:
        git.close()
        ours.close()


def test_a_file_found_to_be_the_blob_is_not_hashed_again_while_unchanged(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A second read of a file whose old enough stat is the one vouched for skips git's blob id (the worker
    reading what the parent hashed); an edit changes the stat and the file is checked (and asked of git)."""
    from gapctl.review import blobs

    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    (repo / "a.yaml").write_bytes(b"unit: a\n")
    commit(repo, "张三", "初始", 1)
    old = os.stat(repo / "a.yaml").st_mtime_ns - 3600 * 10**9
    os.utime(repo / "a.yaml", ns=(old, old))
    hashed: list[bytes] = []
    real = blobs.blob_id

    def counted(data: bytes) -> str:
        hashed.append(data)
        return real(data)
    monkeypatch.setattr(blobs, "blob_id", counted)
    tree = CheckedOutTree(repo, "HEAD")
    try:
        assert tree.read_bytes(repo / "a.yaml") == b"unit: a\n" and len(hashed) == 1
        assert tree.vouched_for(repo / "a.yaml") is not None
        assert tree.read_bytes(repo / "a.yaml") == b"unit: a\n" and len(hashed) == 1
        (repo / "a.yaml").write_bytes(b"unit: z\n")  # same size, new times
        assert tree.read_bytes(repo / "a.yaml") == b"unit: a\n" and len(hashed) == 2
    finally:
        tree.close()


def test_what_a_worker_found_of_a_read_is_taken_by_the_parents_tree(tmp_path: Path) -> None:
    """A worker reads a file the parent did not (gapctl.scoring.outcomes.FileDigests leaves a chunk with no cache
    entry to its workers); its tree's note of the read (`read_note`), taken by the parent's tree (`take_note`),
    vouches for the file there as if the parent had read it: the working tree's side of a diff trusts it."""
    from gapctl.scoring.outcomes import read_note, take_note

    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    (repo / "a.yaml").write_bytes(b"unit: a\n")
    (repo / "b.yaml").write_bytes(b"unit: b\n")
    commit(repo, "张三", "初始", 1)
    (repo / "b.yaml").write_bytes(b"unit: c\n")  # not the blob: nothing to note
    worker, parent = CheckedOutTree(repo, "HEAD"), CheckedOutTree(repo, "HEAD")
    try:
        assert worker.read_bytes(repo / "a.yaml") == b"unit: a\n"
        assert worker.read_bytes(repo / "b.yaml") == b"unit: b\n"
        note = read_note(worker, repo / "a.yaml")
        assert isinstance(note, bytes) and read_note(worker, repo / "b.yaml") is None
        assert parent.vouched_for(repo / "a.yaml") is None
        take_note(parent, repo / "a.yaml", note)
        take_note(parent, repo / "b.yaml", None)
        assert parent.vouched_for(repo / "a.yaml") == worker.vouched_for(repo / "a.yaml")
        assert parent.vouched_for(repo / "b.yaml") is None
        take_note(parent, repo / "b.yaml", b"not a note")  # what is not a note is not taken
        assert parent.vouched_for(repo / "b.yaml") is None
        plain = GitTree(repo, "HEAD")
        assert read_note(plain, repo / "a.yaml") is None  # a tree that notes nothing
        plain.close()
    finally:
        worker.close()
        parent.close()
