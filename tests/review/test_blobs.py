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
