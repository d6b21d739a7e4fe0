"""A git revision whose files are read from the working tree where they are the same bytes.

Who calls it: `gapctl.review.diff` for each revision it compares. A revision's file is read with
`git cat-file --batch`, one request and answer at a time (about a millisecond a file, in each
process that reads it: the parent hashing the files for the cache's keys, then the worker that
checks them). In a diff against the working tree nearly every file of the revision is the file
on disk: `CheckedOutTree` reads the disk's copy of a file and keeps it only when its git blob id
is the revision's blob id for that path (the same bytes, whatever the index or timestamps say),
and otherwise asks git. Links, files outside the repository and unreadable files are asked of git.
"""

from __future__ import annotations

import os
from pathlib import Path

from gapctl.data.tree import GitTree, blob_id


class CheckedOutTree(GitTree):
    """`GitTree` that takes a file's bytes from the working tree when they are the revision's blob.

    Each directory is resolved once (`GitTree._rel` resolves a file's directory every time it is asked,
    and a diff asks for every file of a side twice: for its key, then to check it)."""

    def _rel(self, path: Path) -> str | None:
        absolute = os.path.abspath(path)
        directory, _sep, name = absolute.rpartition(os.sep)
        dirs = self.__dict__.setdefault("_resolved", {})
        found = dirs.get(directory)
        if found is None:
            found = dirs[directory] = super()._rel(Path(directory) / "x") or ""  # "" : outside the repository
        return found[:-1] + name if found and name else super()._rel(path)

    def read_bytes(self, path: Path) -> bytes:
        rel = self._rel(path)
        if rel is not None and rel in self.blobs and rel not in self.links:
            from gapctl.data.reads import read_bytes
            try:
                data = read_bytes(self.root / rel)
            except (OSError, ValueError):
                data = None
            if data is not None and blob_id(data) == self.blobs[rel]:
                return data
        return super().read_bytes(path)
