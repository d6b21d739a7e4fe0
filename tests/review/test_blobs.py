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
