"""The journal that makes a batch of writes all or none, and the lock that keeps writers apart.

Who calls it: `gapctl.data.writes` only (`write_files`, `write_directory`); `gapctl.scoring.outcomes`
asks `pending` so that validate and score can say a batch is unfinished.

How a batch goes, holding the lock of its directory (`flock` on the directory itself, so
that two gapctl processes never interleave their checks and renames there):

1. finish any batch a killed run left in the directory (`recover`), saying so in one line;
2. create `.gapctl-journal.<random>.tmp` in the directory and note in it, before each
   temporary file or directory exists, its name and its target's;
3. write and fsync every temporary file;
4. append the commit record (the targets as they were, the temporary files' identities)
   and fsync the journal: from here on the batch will be completed, not undone;
5. rename each temporary file into place (a directory: exchange it with the old one in one
   `renameat2(RENAME_EXCHANGE)`), fsync the directories, delete the journal.

A run killed before step 4 is rolled back by the next one (its temporary files deleted,
no target touched); killed after, it is completed (the remaining temporary files renamed
in). Either way every file of the batch is old or every file is new, and nothing temporary
is left. A target that someone changed after the kill is left as they made it (and said).
A batch of one file needs no commit record: its one rename is the commit.

The journal's name ends in `.tmp`, like the temporary files, so git ignores it where
`.*.tmp` is ignored (`gapctl init` writes that rule) and gapctl's loader never reads it.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gapctl.figures import figure
from gapctl.i18n import _

PREFIX = ".gapctl-journal."
SUFFIX = ".tmp"
LOCK_WAIT = 120.0  # seconds to wait for another gapctl writing in the same directory


class Busy(Exception):
    """Another gapctl process kept the directory's lock for too long."""


def _say(line: str) -> None:
    sys.stderr.write(f"gapctl: {line}\n")
    sys.stderr.flush()


def _identity(st: os.stat_result | None) -> list[int] | None:
    return None if st is None else [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns]


def _lstat(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def _remove(path: str) -> bool:
    """Remove a file or a whole directory; whether something was there."""
    st = _lstat(path)
    if st is None:
        return False
    if stat.S_ISDIR(st.st_mode):
        remove_tree(path)
    else:
        try:
            os.unlink(path)
        except FileNotFoundError:
            return False
    return True


REMOVERS = 8  # threads that unlink the files of a large directory being removed
_REMOVE_THREADED_FROM = 64  # files in one directory


def remove_tree(path: str) -> None:
    """`shutil.rmtree(path, ignore_errors=True)`, the files of a directory holding many unlinked from a few
    threads: on a file system mounted with `discard` each unlink waits ~3 ms on the disk (the old report of
    3,000 unit pages took 8-10 s to remove one file after the other, from 8 threads 0.2 s)."""
    try:
        for entry in os.scandir(path):
            if entry.is_dir(follow_symlinks=False):
                remove_tree(entry.path)
        files = [entry.path for entry in os.scandir(path) if not entry.is_dir(follow_symlinks=False)]
    except OSError:
        files = []
    if len(files) >= _REMOVE_THREADED_FROM:
        from concurrent.futures import ThreadPoolExecutor

        def unlink(file: str) -> None:
            try:
                os.unlink(file)
            except OSError:
                pass  # left to rmtree below, which ignores what it cannot remove
        with ThreadPoolExecutor(REMOVERS) as pool:
            list(pool.map(unlink, files, chunksize=16))
    shutil.rmtree(path, ignore_errors=True)


def sync_directory(directory: str | Path) -> None:
    """Make renames in `directory` durable; directories cannot be opened on every platform."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --- the lock ---------------------------------------------------------------------------

@contextmanager
def locked(directory: Path, wait: float | None = None) -> Iterator[None]:
    """Hold an exclusive lock on `directory` (flock on the directory itself: no lock file to
    leave behind); raises Busy after `wait` seconds. Where locks are not supported, no lock."""
    import fcntl

    from gapctl.data.locks import close_held, open_held

    try:
        fd = open_held(directory, os.O_RDONLY)  # no process forked while it is held shares it
    except OSError:
        yield
        return
    try:
        limit = time.monotonic() + (LOCK_WAIT if wait is None else wait)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > limit:
                    raise Busy(_("{directory}: another gapctl command has been writing there for {seconds} s; "
                                 "nothing was changed (try again)").format(directory=directory,
                                                                           seconds=figure(LOCK_WAIT, 0))) from None
                time.sleep(0.02)
            except OSError:  # no locks on this file system
                break
        yield
    finally:
        close_held(fd)  # releases the lock


# --- renaming a directory in one step ----------------------------------------------------

_RENAMEAT2: Any = None


def exchange(a: str, b: str) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    global _RENAMEAT2
    if not sys.platform.startswith("linux"):
        return False
    import ctypes  # here: only a write that exchanges directories pays for importing it (1.6 ms)

    if _RENAMEAT2 is None:
        try:
            function = ctypes.CDLL(None, use_errno=True).renameat2
            function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
            function.restype = ctypes.c_int
            _RENAMEAT2 = function
        except (OSError, AttributeError):
            _RENAMEAT2 = False
    if _RENAMEAT2 is False:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if _RENAMEAT2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), b)


# --- the journal --------------------------------------------------------------------------

@dataclass
class Entry:
    tmp: str          # relative to the journal's directory
    target: str
    directory: bool = False
    aside: str | None = None  # where an old directory goes where it cannot be exchanged
    new: bool = False         # the target must not exist (a file made, never replaced)
    old: list[int] | None = None   # the target's identity when committed (None: absent)
    made: list[int] | None = None  # the temporary file's (dev, inode) when committed


@dataclass
class Journal:
    directory: Path
    path: Path
    fd: int | None = None
    entries: list[Entry] = field(default_factory=list)
    committed: bool = False
    command: str = ""

    # -- writing --

    @classmethod
    def begin(cls, directory: Path) -> Journal:
        while True:
            path = directory / f"{PREFIX}{os.urandom(6).hex()}{SUFFIX}"
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
                break
            except FileExistsError:
                continue
        journal = cls(directory, path, fd, command=_command())
        journal._append({"gapctl-journal": 1, "pid": os.getpid(), "command": journal.command})
        return journal

    def _append(self, record: dict[str, Any]) -> None:
        assert self.fd is not None
        import json

        data = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]

    def intend(self, target: Path, directory: bool = False, new: bool = False) -> Path:
        """Name a temporary file (or directory) for `target` and note it before it exists."""
        rel_target = os.path.relpath(target, self.directory)
        tmp = target.parent / f".{target.name}.{os.urandom(4).hex()}{SUFFIX}"
        entry = Entry(os.path.relpath(tmp, self.directory), rel_target, directory, new=new)
        if directory:
            entry.aside = os.path.relpath(target.parent / f".{target.name}.{os.urandom(4).hex()}.old{SUFFIX}",
                                          self.directory)
        self.entries.append(entry)
        self._append({"tmp": entry.tmp, "target": entry.target, "dir": directory, "aside": entry.aside,
                      "new": new})
        return tmp

    def commit(self) -> None:
        """Record the targets as they are and the temporary files as written; fsync: no way back."""
        for entry in self.entries:
            entry.old = _identity(_lstat(self._abs(entry.target)))
            made = _lstat(self._abs(entry.tmp))
            entry.made = None if made is None else [made.st_dev, made.st_ino]
        self._append({"commit": [[e.old, e.made] for e in self.entries]})
        assert self.fd is not None
        os.fsync(self.fd)
        self.committed = True

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def finish(self) -> None:
        """The batch is done: forget it."""
        self.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass

    # -- reading one a killed run left --

    @classmethod
    def read(cls, path: Path) -> Journal:
        import json

        journal = cls(path.parent, path)
        try:
            lines = path.read_bytes().split(b"\n")
        except OSError:
            return journal
        for number, line in enumerate(lines):
            try:
                record = json.loads(line)
            except ValueError:
                break  # a line cut short by the kill: nothing after it was done
            if not isinstance(record, dict):
                break
            if number == 0:
                journal.command = str(record.get("command", ""))
            elif "commit" in record:
                states = record["commit"]
                if isinstance(states, list) and len(states) == len(journal.entries):
                    for entry, (old, made) in zip(journal.entries, states, strict=True):
                        entry.old, entry.made = old, made
                    journal.committed = True
                break
            elif isinstance(record.get("tmp"), str) and isinstance(record.get("target"), str):
                journal.entries.append(Entry(record["tmp"], record["target"], bool(record.get("dir")),
                                             record.get("aside"), bool(record.get("new"))))
        return journal

    def _abs(self, rel: str) -> str:
        return os.path.normpath(os.path.join(self.directory, rel))

    # -- finishing --

    def roll_back(self) -> int:
        """Delete every temporary file the batch made; targets are untouched. How many there were."""
        removed = 0
        for entry in self.entries:
            removed += _remove(self._abs(entry.tmp))
            if entry.aside:
                removed += _remove(self._abs(entry.aside))
        return removed

    def roll_forward(self, threads: int = 1) -> tuple[int, list[str]]:
        """Put every temporary file still there in place: (how many, targets changed meanwhile and kept).

        With `threads` > 1 the entries are put in place from that many threads: on a file system mounted
        with `discard` a rename that frees the old file's blocks waits ~3 ms on the disk (3,000 files one
        after the other took 6 s, from 8 threads 0.4 s). Each entry's step is the same either way, and a
        run killed part-way is completed the same way (a rename done is skipped)."""
        if threads > 1 and len(self.entries) > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(threads) as pool:
                steps = list(pool.map(self._forward, self.entries))  # the first error raised, once all have run
        else:
            steps = [self._forward(entry) for entry in self.entries]
        for parent in sorted({os.path.dirname(self._abs(e.target)) for e in self.entries}):
            sync_directory(parent)
        return sum(moved for moved, _kept in steps), [kept for _moved, kept in steps if kept is not None]

    def _forward(self, entry: Entry) -> tuple[int, str | None]:
        """One entry put in place: (1 if it moved, else 0; its target if changed meanwhile and kept)."""
        tmp, target = self._abs(entry.tmp), self._abs(entry.target)
        if entry.directory:
            return self._directory(entry, tmp, target), None
        made, now = _lstat(tmp), _lstat(target)
        if made is None or entry.made is None or [made.st_dev, made.st_ino] != entry.made:
            return 0, None  # renamed already (or not ours)
        if now is not None and (now.st_dev, now.st_ino) == (made.st_dev, made.st_ino):
            os.unlink(tmp)  # a new file linked in, the temporary name not yet removed
            return 0, None
        if _identity(now) != entry.old:
            os.unlink(tmp)
            return 0, entry.target  # someone changed it since: theirs stays
        if entry.new:
            try:
                os.link(tmp, target)  # never over a file that appeared meanwhile
            except FileExistsError:
                os.unlink(tmp)
                return 0, entry.target
            except OSError:  # no hard links here
                os.replace(tmp, target)
                return 1, None
            os.unlink(tmp)
            return 1, None
        os.replace(tmp, target)
        return 1, None

    def _directory(self, entry: Entry, tmp: str, target: str) -> int:
        made, now = _lstat(tmp), _lstat(target)
        aside = self._abs(entry.aside) if entry.aside else None
        if now is not None and entry.made is not None and [now.st_dev, now.st_ino] == entry.made:
            _remove(tmp)  # swapped in already; what is left at tmp is the old directory
            if aside:
                _remove(aside)
            return 0
        if made is None or entry.made is None or [made.st_dev, made.st_ino] != entry.made:
            return 0
        if now is None:  # (killed between the two renames below: the old directory is aside)
            os.rename(tmp, target)
            sync_directory(os.path.dirname(target))
            if aside:
                _remove(aside)
        elif exchange(tmp, target):
            sync_directory(os.path.dirname(target))
            _remove(tmp)  # the old directory
        else:  # two renames; a kill between them is completed by the next run
            assert aside is not None
            os.rename(target, aside)
            os.rename(tmp, target)
            sync_directory(os.path.dirname(target))
            _remove(aside)
        return 1


def _command() -> str:
    args = sys.argv[1:]
    name = os.path.basename(sys.argv[0]) if sys.argv else ""
    if name in ("gapctl", "__main__.py", "cli.py"):
        return " ".join(["gapctl", *args])
    return ""


def journals(directory: Path) -> list[Path]:
    try:
        return sorted(Path(e.path) for e in os.scandir(directory)
                      if e.name.startswith(PREFIX) and e.name.endswith(SUFFIX) and e.is_file(follow_symlinks=False))
    except OSError:
        return []


def pending(directory: Path) -> list[str]:
    """One line for each batch a killed run left unfinished in `directory` (for validate)."""
    lines = []
    for path in journals(directory):
        journal = Journal.read(path)
        what = _(" ({command})").format(command=journal.command) if journal.command else ""
        if journal.committed:
            line = _("{directory}: an interrupted write of {count} file(s){command} is not finished; the next "
                     "gapctl command that writes there (gapctl fmt) completes it")
        else:
            line = _("{directory}: an interrupted write of {count} file(s){command} is not finished; the next "
                     "gapctl command that writes there (gapctl fmt) undoes it")
        lines.append(line.format(directory=path.parent, count=len(journal.entries), command=what))
    return lines


def recover(directory: Path) -> list[str]:
    """Finish every batch a killed run left in `directory` (the caller holds its lock): complete
    the committed ones, undo the others. One line each, also printed on stderr."""
    lines = []
    for path in journals(directory):
        journal = Journal.read(path)
        what = _(" by `{command}`").format(command=journal.command) if journal.command else ""
        if journal.committed:
            moved, kept = journal.roll_forward()
            line = _("completed an interrupted write of {count} file(s){command} in {directory}: {moved} were still "
                     "old, now new").format(count=len(journal.entries), command=what, directory=directory,
                                            moved=moved)
            if kept:
                line += _("; {kept} changed since and kept as they are ({first} …)").format(kept=len(kept),
                                                                                          first=kept[0])
        else:
            removed = journal.roll_back()
            line = _("undid an interrupted write of {count} file(s){command} in {directory}: no file had changed; "
                     "{removed} temporary file(s) removed").format(count=len(journal.entries), command=what,
                                                                  directory=directory, removed=removed)
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        lines.append(line)
        _say(line)
    return lines
