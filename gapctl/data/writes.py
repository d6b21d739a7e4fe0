"""Writing files: every gapctl command that writes goes through `write_files` (or, for a
directory made whole, `write_directory`).

Each file is written to a temporary file beside it (`.<name>.<random>.tmp`, a dotfile, so
neither the loader nor `gapctl fmt` ever reads it), fsynced, given the mode of the file it
replaces, and renamed over it; then the directory is fsynced. A batch is all or none, also
when the process is killed: a journal (`gapctl.data.journal`) names every temporary file before it
exists and commits the batch once every one is written, so the next gapctl command that
writes in the same directory completes a committed batch or undoes one that was not, says so
in one line, and leaves no temporary file. Writers in one directory take turns (a lock on the
directory). A full disk changes nothing: it stops the batch before any rename and raises
DiskFull (exit 3 "could not run" in the CLI).

A write is refused (WriteError, nothing changed) when the file or a directory between it
and `root` is a symbolic link, when the file is not a regular file, when it changed since it
was read (`seen`), or when it had to be new and now exists.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gapctl.data import journal as J
from gapctl.data.sources import decode
from gapctl.i18n import _

_CHUNK = 1 << 20


def display_path(path: Path) -> str:
    """A path as users typed it, relative to the working directory when inside it; never resolved,
    so that a symbolic link is named as itself, not as the file it points to."""
    absolute, cwd = os.path.abspath(path), os.getcwd()
    try:
        return os.path.relpath(absolute, cwd) if os.path.commonpath([absolute, cwd]) == cwd else str(path)
    except ValueError:  # another drive
        return str(path)


class WriteError(Exception):
    """A write gapctl refused or could not do; the message is one line naming the file."""


class DiskFull(Exception):
    """No space left (or the quota reached): nothing was changed, and the command could not run
    (exit 3). Not a WriteError, so that callers which turn refusals into exit 1 let it through."""


_FULL = (errno.ENOSPC, errno.EDQUOT)


@dataclass(frozen=True)
class Write:
    """One file to write: its bytes (or chunks of them, for large copies) and what it must still be."""

    path: Path
    data: bytes | Iterable[bytes]
    seen: os.stat_result | None = None  # the file as it was read; refuse if it changed since
    new: bool = False                   # the file must not exist yet


def _linked_dir(path: Path, root: Path | None, looked: dict[str, bool] | None = None) -> Path | None:
    """The first directory between `path` and `root` (root excluded) that is a symbolic link. `looked`:
    directories already looked at in this pass over a batch (directory → whether it is a link), each
    looked at once for the batch's thousands of files."""
    if root is None:
        return None
    top = os.path.abspath(root)
    here = os.path.dirname(os.path.abspath(path))
    prefix = top.rstrip(os.sep) + os.sep
    while here != top and here.startswith(prefix):
        linked = looked.get(here) if looked is not None else None
        if linked is None:
            linked = os.path.islink(here)
            if looked is not None:
                looked[here] = linked
        if linked:
            return Path(here)
        here = os.path.dirname(here)
    return None


def refusal(path: Path, root: Path | None = None, looked: dict[str, bool] | None = None) -> str | None:
    """Why gapctl will not write `path` (a link, a link in its directories under `root`, not a
    regular file), or None. `looked`: see `_linked_dir`."""
    linked = _linked_dir(path, root, looked)
    if linked is not None:
        return _("{path}: the directory {directory} is a symbolic link; gapctl does not write through "
                 "links").format(path=display_path(path), directory=display_path(linked))
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as err:
        return _("{path}: cannot write: {reason}").format(path=display_path(path), reason=err.strerror)
    if stat.S_ISLNK(st.st_mode):
        return _("{path}: is a symbolic link; gapctl does not write through links (edit the file it points "
                 "to)").format(path=display_path(path))
    if not stat.S_ISREG(st.st_mode):
        return _("{path}: is not a regular file").format(path=display_path(path))
    return None


def _check(write: Write, root: Path | None, looked: dict[str, bool] | None = None) -> None:
    why = refusal(write.path, root, looked)
    if why:
        raise WriteError(why)
    try:
        now: os.stat_result | None = os.lstat(write.path)
    except FileNotFoundError:
        now = None
    if write.new and now is not None:
        raise WriteError(_("{path}: already exists; not overwritten").format(path=display_path(write.path)))
    if write.seen is not None and (now is None or _identity(now) != _identity(write.seen)):
        raise WriteError(_("{path}: changed while gapctl was working on it; left as it is (run the command "
                           "again)").format(path=display_path(write.path)))


def _identity(st: os.stat_result) -> tuple[int, ...]:
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _default_mode() -> int:
    """0o666 less the umask: the mode open() would give a new file (mkstemp gives 0o600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_all(fd: int, data: bytes | bytearray | memoryview, at: int | None = None) -> None:
    """All of `data` written to `fd` at its offset, or at offset `at` (os.pwrite: the file's offset left as it was),
    at most _CHUNK bytes a call: os.write and os.pwrite may write less than they are given."""
    view, done = memoryview(data).cast("B"), 0
    while done < len(view):
        part = view[done:done + _CHUNK]
        done += os.write(fd, part) if at is None else os.pwrite(fd, part, at + done)


def _temporary(write: Write, tmp: Path) -> None:
    """Write the data to the new temporary file `tmp` beside the target, fsynced, with the target's mode."""
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        chunks = [write.data] if isinstance(write.data, (bytes, bytearray, memoryview)) else write.data
        for chunk in chunks:
            write_all(fd, chunk)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        mode = stat.S_IMODE(os.lstat(write.path).st_mode)
    except FileNotFoundError:
        mode = _default_mode()
    os.chmod(tmp, mode)


def round_root(round_dir: Path) -> Path:
    """The repository a round belongs to (rounds/<id> → the repository), for `root`; a round
    directory elsewhere → its parent. Links at or below the round directory are refused."""
    round_dir = Path(os.path.abspath(round_dir))
    return round_dir.parent.parent if round_dir.parent.name == "rounds" else round_dir.parent


def batch_directory(paths: Sequence[Path], root: Path | None) -> Path:
    """Where a batch keeps its journal and lock: `root`, else the directory all its files share."""
    if root is not None:
        return Path(os.path.abspath(root))
    parents = [os.path.abspath(p.parent) for p in paths]
    return Path(os.path.commonpath(parents)) if parents else Path(os.getcwd())


def recover(directory: Path) -> list[str]:
    """Finish a batch a killed gapctl left in `directory` (completed or undone, one line each on
    stderr); every command that writes does this first. Raises DiskFull / WriteError as writes do."""
    directory = Path(os.path.abspath(directory))
    if not J.journals(directory):
        return []
    try:
        with J.locked(directory):
            return J.recover(directory)
    except J.Busy as err:
        raise WriteError(str(err)) from None
    except OSError as err:
        raise _failure(err, directory, 0, 0) from err


def _failure(err: OSError, path: Path, done: int, total: int) -> Exception:
    reason = err.strerror or str(err)
    if err.errno in _FULL:
        return DiskFull(_("{path}: cannot write: {reason}; nothing was changed").format(
            path=display_path(path), reason=reason))
    message = _("{path}: cannot write: {reason}").format(path=display_path(path), reason=reason)
    if done:
        message += _(" (the batch of {total} file(s) was committed: the next gapctl command that writes here "
                     "completes it)").format(total=total)
    else:
        message += _("; nothing was changed")
    return WriteError(message)


def write_files(writes: Sequence[Write], root: Path | None = None) -> list[Path]:
    """Write every file, all or none, even if the process is killed (see the module docstring).

    `root` is the repository (or output directory) the files belong to: no directory below it
    may be a link; the batch's journal and lock live there. Missing directories are created.
    Raises WriteError (refused), DiskFull (no space: nothing changed).
    """
    looked: dict[str, bool] = {}  # directories looked at in this pass (each pass looks again)
    for write in writes:
        _check(write, root, looked)
    if not writes:
        return []
    directory = batch_directory([w.path for w in writes], root)
    current = writes[0]
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with J.locked(directory):
            J.recover(directory)
            looked = {}
            for write in writes:
                _check(write, root, looked)  # again, now that no other gapctl writes here
            return _batch(writes, root, directory)
    except J.Busy as err:
        raise WriteError(str(err)) from None
    except OSError as err:
        raise _failure(err, current.path, 0, len(writes)) from err


def _batch(writes: Sequence[Write], root: Path | None, directory: Path) -> list[Path]:
    journal = J.Journal.begin(directory)
    current = writes[0]
    try:
        try:
            temporaries = []
            for current in writes:  # every temporary file named in the journal before any exists
                current.path.parent.mkdir(parents=True, exist_ok=True)
                temporaries.append((current, journal.intend(current.path, new=current.new)))
            at: list[Write] = []
            try:
                _temporaries(temporaries, at)
            except BaseException:
                current = at[0] if at else current  # the file named in the error, as one at a time would
                raise
            looked: dict[str, bool] = {}
            for current in writes:
                _check(current, root, looked)  # changed while the temporary files were written?
            if len(writes) > 1:
                journal.commit()
        except BaseException:
            journal.roll_back()
            journal.finish()
            raise
    except OSError as err:
        raise _failure(err, current.path, 0, len(writes)) from err
    if len(writes) == 1:  # one rename: the commit itself
        try:
            _put(journal, writes[0])
        except OSError as err:
            journal.roll_back()
            journal.finish()
            raise _failure(err, current.path, 0, 1) from err
    else:
        try:
            _moved, kept = journal.roll_forward(WRITERS if len(writes) >= _THREADED_FROM else 1)
        except OSError as err:  # committed: the journal stays, and the next run completes the batch
            journal.close()
            raise _failure(err, current.path, len(writes), len(writes)) from err
        if kept:
            journal.finish()
            raise WriteError(_("{path}: changed while gapctl was writing the batch; kept as it is, the other "
                               "files were written").format(path=kept[0]))
    for parent in dict.fromkeys(w.path.parent for w in writes):
        J.sync_directory(parent)
    journal.finish()
    return [w.path for w in writes]


WRITERS = 8  # threads writing a batch's temporary files: fsync waits on the disk, not on the GIL
_THREADED_FROM = 16  # files: below this one thread is as fast


def _temporaries(temporaries: list[tuple[Write, Path]], at: list[Write]) -> None:
    """Write every temporary file (`_temporary`): one after the other for a few, from a small thread pool for
    many (each waits on its own fsync). Raises the error of the first file (in order) that failed, once no
    write runs any more, so that the roll-back finds every file made; `at` then holds that file."""
    if len(temporaries) < _THREADED_FROM:
        for write, tmp in temporaries:
            at[:] = [write]
            _temporary(write, tmp)
        return
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(WRITERS)
    futures = [pool.submit(_temporary, write, tmp) for write, tmp in temporaries]
    try:
        for (write, _tmp), future in zip(temporaries, futures, strict=True):
            at[:] = [write]
            future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _put(journal: J.Journal, write: Write) -> None:
    """Rename the one temporary file into place; a new file never replaces one that appeared meanwhile."""
    tmp = journal._abs(journal.entries[0].tmp)
    if not write.new:
        os.replace(tmp, write.path)
        return
    try:
        os.link(tmp, write.path)  # fails if the target exists, unlike a rename
    except FileExistsError:
        os.unlink(tmp)
        journal.finish()
        raise WriteError(_("{path}: already exists; not overwritten").format(path=display_path(write.path))) from None
    except OSError:  # no hard links on this file system
        if os.path.lexists(write.path):
            os.unlink(tmp)
            journal.finish()
            raise WriteError(_("{path}: already exists; not overwritten").format(
                path=display_path(write.path))) from None
        os.replace(tmp, write.path)
        return
    os.unlink(tmp)


AHEAD_PAUSE = 0.05  # seconds between two flushes of `Staging.sync_ahead`'s thread


def _flushing(directory: Path, written: Any) -> None:
    while not written.is_set():
        _sync_all(directory)
        written.wait(AHEAD_PAUSE)


class Staging:
    """The new directory `write_directory` fills when given a function instead of a dict: files are
    written as they are made (`put`, or `open` for one written in parts), so a report of thousands
    of pages never holds them all."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.names: list[str] = []
        self.ahead: Any = None  # the thread flushing what is written while more is (`sync_ahead`)
        self.written: Any = None  # set when the filling is done: that thread's last flush is then under way

    def sync_ahead(self) -> None:
        """Make what is written durable while more is written: a thread flushes (`_sync_all`) again and again,
        AHEAD_PAUSE seconds apart, until the filling is done, so that the flush that ends `_fill` finds little left
        (a report's 3,000 pages and 47 MB report.html: 0.14 s of flushing at its end, without this)."""
        if self.ahead is None:
            import threading

            self.written = threading.Event()
            self.ahead = threading.Thread(target=_flushing, args=(self.directory, self.written), name="gapctl-sync",
                                          daemon=True)
            self.ahead.start()

    def done(self) -> None:
        """The filling is over (or failed): the flushing thread, if any, ended."""
        if self.ahead is not None:
            self.written.set()
            self.ahead.join()

    def open(self, rel: str) -> Any:
        """A new file of the directory, open for writing bytes."""
        path = self.directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        self.names.append(rel)
        return open(path, "xb")

    def put(self, rel: str, data: bytes) -> None:
        with self.open(rel) as out:
            out.write(data)


def write_directory(target: Path, files: dict[str, bytes] | Callable[[Staging], None],
                    root: Path | None = None) -> list[Path]:
    """Make the directory `target` hold exactly `files` (relative path → bytes), in one step.

    The directory is built beside `target` and swapped with the old one in one
    `renameat2(RENAME_EXCHANGE)`, so a reader sees the old directory or the new one, never
    none (where the exchange is not supported, two renames, completed by the next run if
    killed between them). `files` may be a function that fills the new directory (a `Staging`)
    file by file. Raises WriteError (a link, not a directory), DiskFull.
    """
    target = Path(os.path.abspath(target))
    if os.path.islink(target):
        raise WriteError(_("{path}: is a symbolic link; gapctl does not write through links").format(
            path=display_path(target)))
    if os.path.exists(target) and not os.path.isdir(target):
        raise WriteError(_("{path}: exists and is not a directory").format(path=display_path(target)))
    linked = _linked_dir(target / "x", root)
    if linked is not None:
        raise WriteError(_("{path}: the directory {directory} is a symbolic link; gapctl does not write through "
                           "links").format(path=display_path(target), directory=display_path(linked)))
    directory = target.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with J.locked(directory):
            J.recover(directory)
            journal = J.Journal.begin(directory)
            try:
                staging = journal.intend(target, directory=True)
                names = _fill(staging, files)
                journal.commit()
            except BaseException:
                journal.roll_back()
                journal.finish()
                raise
            try:
                journal.roll_forward()
            except OSError:
                journal.close()  # committed: the next run completes it
                raise
            journal.finish()
    except J.Busy as err:
        raise WriteError(str(err)) from None
    except OSError as err:
        raise _failure(err, target, 0, 1) from err
    return [target / rel for rel in names]


def _fill(staging: Path, files: dict[str, bytes] | Callable[[Staging], None]) -> list[str]:
    """Write the files into a new directory with ordinary modes, then make them durable at once."""
    mask = os.umask(0)
    os.umask(mask)
    os.mkdir(staging, 0o777 & ~mask)
    if callable(files):
        filled = Staging(staging)
        try:
            files(filled)
        finally:
            filled.done()
        names = filled.names
    else:
        for rel, data in sorted(files.items()):
            path = staging / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "xb") as out:
                out.write(data)
        names = list(files)
    _sync_all(staging)
    return names


def _sync_all(directory: Path) -> None:
    """Flush the file system `directory` is on (syncfs: one call instead of one fsync a file)."""
    try:
        import ctypes

        fd = os.open(directory, os.O_RDONLY)
        try:
            if ctypes.CDLL(None, use_errno=True).syncfs(fd) == 0:
                return
        finally:
            os.close(fd)
    except (OSError, AttributeError):
        pass
    os.sync()


def write_atomically(path: Path, data: bytes | Iterable[bytes], seen: os.stat_result | None = None, *,
                     new: bool = False, root: Path | None = None) -> None:
    """Write one file atomically (see write_files). Raises WriteError, DiskFull."""
    write_files([Write(Path(path), data, seen, new)], root)


# --- reading a file that is about to be edited --------------------------------------------

_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Original:
    """A file as read before an edit: its text (BOM removed, line endings as written) and how it
    is written back (its byte-order mark, and its first line's line ending for new lines)."""

    path: Path
    raw: bytes
    text: str
    seen: os.stat_result

    @property
    def bom(self) -> bool:
        return self.raw.startswith(_BOM)

    @property
    def newline(self) -> str:
        return line_ending(self.raw)

    @property
    def lf(self) -> str:
        """The text with LF line breaks, as the YAML tools read and write it."""
        return self.text.replace("\r\n", "\n")

    def encode(self, text: str, newlines: bool = True) -> bytes:
        """`text` as this file writes it: with its BOM, and (`newlines`) its line ending."""
        if newlines:
            text = text.replace("\r\n", "\n")
            if self.newline != "\n":
                text = text.replace("\n", self.newline)
        return (_BOM if self.bom else b"") + text.encode("utf-8")


def line_ending(raw: bytes) -> str:
    """The file's line ending: the first line's (CRLF or LF), as black decides it."""
    end = raw.find(b"\n")
    return "\r\n" if end > 0 and raw[end - 1:end] == b"\r" else "\n"


def read_original(path: Path, root: Path | None = None) -> Original:
    """Read a file that is about to be rewritten; WriteError if it may not be or is not UTF-8 text.

    Its data is not checked here: callers parse it and refuse to write over a file they cannot read.
    """
    why = refusal(path, root)
    if why:
        raise WriteError(why)
    if root is not None:
        recover(root)  # a batch a killed gapctl left: finished before the file is read
    try:
        seen = os.lstat(path)  # before reading: a change after this is caught when writing
        raw = path.read_bytes()
    except OSError as err:
        raise WriteError(_("{path}: cannot read: {reason}").format(path=display_path(path),
                                                                    reason=err.strerror)) from None
    text, hint = decode(raw)
    if text is None:
        raise WriteError(_("{path}: not UTF-8 (it looks like {encoding}); not written").format(
            path=display_path(path), encoding=_(hint) if hint else "?"))
    return Original(path, raw, text, seen)


__all__ = ["DiskFull", "Original", "Write", "WriteError", "line_ending", "read_original", "recover", "refusal",
           "round_root", "write_atomically", "write_directory", "write_files"]
