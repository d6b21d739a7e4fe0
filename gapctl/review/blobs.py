"""A git revision whose files are read from the working tree where they are the same bytes.

Who calls it: `gapctl.review.diff` for each revision it compares. A revision's file is read with
`git cat-file --batch`, one request and answer at a time (about a millisecond a file, in each
process that reads it: the parent hashing the files for the cache's keys, then the worker that
checks them). In a diff against the working tree nearly every file of the revision is the file
on disk: `CheckedOutTree` reads the disk's copy of a file and keeps it only when its git blob id
is the revision's blob id for that path (the same bytes, whatever the index or timestamps say),
and otherwise asks git. Links, files outside the repository and unreadable files are asked of git.

A file found to be the blob is vouched for (`vouched`: its size, times and inode, the same before and
after the read, and when it was read): the same file read again is not hashed again while its stat
shows the same and its modification time is older than that moment by `RACY_NS` (git's racily-clean
rule, as `gapctl.data.cache.StatIndex`); and the working tree's side of the diff takes the file's
content hash from the older side's instead of reading it again (`gapctl.scoring.outcomes.run_plan`).
A worker that read a file hands back its entry (`read_note`), which the parent's tree takes
(`take_note`): the parent need not read the file itself.
"""

from __future__ import annotations

import os
import struct
import time
from pathlib import Path
from typing import Any

from gapctl.data.cache import RACY_NS
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

    @property
    def vouched(self) -> dict[str, bytes]:
        """A file's path in the revision → its stat (size, modification and change times in ns, inode)
        around a read that found it to be the revision's blob, and the time (ns) taken before that read,
        packed (`_VOUCHED`: 40 bytes, where a tuple of tuples of ints took ~300 at 30,000 files a side)."""
        return self.__dict__.setdefault("_vouched", {})  # type: ignore[no-any-return]

    def vouched_for(self, path: Path) -> tuple[tuple[int, int, int, int], int, str] | None:
        """The file's stat and read time as `vouched` holds them, with the real path of the directory it
        was read in; None when this tree did not find it to be the blob."""
        rel = self._rel(path)
        packed = self.vouched.get(rel) if rel else None
        if packed is None:
            return None
        size, mtime, ctime, inode, before = _VOUCHED.unpack(packed)
        directory = os.path.join(self.root, rel)
        return (size, mtime, ctime, inode), before, directory[:directory.rfind(os.sep)]

    def read_note(self, path: Path) -> bytes | None:
        """What a worker hands back of its read of the file (`gapctl.scoring.outcomes.read_note`): its `vouched`
        entry, for the parent's copy of this tree to hold as if it had read the file itself."""
        rel = self._rel(path)
        return self.vouched.get(rel) if rel else None

    def take_note(self, path: Path, note: bytes) -> None:
        rel = self._rel(path)
        if rel and isinstance(note, bytes) and len(note) == _VOUCHED.size:
            self.vouched[rel] = note

    def read_bytes(self, path: Path) -> bytes:
        rel = self._rel(path)
        if rel is not None and rel in self.blobs and rel not in self.links:
            from gapctl.data.reads import read_bytes
            vouched = self.vouched
            disk = self.root / rel
            before = time.time_ns()
            try:
                first = os.stat(disk)
                data: bytes | None = read_bytes(disk)
                st: Any = os.stat(disk)  # after the read: unchanged while it was read, if the same as before
            except (OSError, ValueError):
                data = None
            if data is not None:
                seen = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
                if seen != (first.st_size, first.st_mtime_ns, first.st_ctime_ns, first.st_ino):
                    seen = (-1, 0, 0, 0)  # changed while read: never vouched for
                packed = vouched.get(rel)
                found = _VOUCHED.unpack(packed) if packed is not None else None
                if found is not None and found[:4] == seen and len(data) == seen[0] \
                        and seen[1] < found[4] - RACY_NS:
                    return data  # the file found to be the blob, unchanged since
                if blob_id(data) == self.blobs[rel]:
                    vouched[rel] = _VOUCHED.pack(*seen, before)
                    return data
        return super().read_bytes(path)


_VOUCHED = struct.Struct("<qqqQq")  # size, modification and change times (ns), inode, the time before the read (ns)
