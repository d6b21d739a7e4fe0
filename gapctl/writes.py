"""Writing files: every gapctl command that writes goes through `write_files`.

Each file is written to a temporary file beside it (`.<name>.<random>.tmp`, a dotfile, so
neither the loader nor `gapctl fmt` ever reads it), fsynced, given the mode of the file it
replaces, and renamed over it; then the directory is fsynced. A reader sees the old file or
the new one, never a mix, whenever the process dies; at worst a stray temporary file is left.
A batch writes every temporary file before it renames any, so a full disk changes nothing.

A write is refused (WriteError, nothing changed) when the file or a directory between it
and `root` is a symbolic link, when the file is not a regular file, when it changed since it
was read (`seen`), or when it had to be new and now exists.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from gapctl.sources import decode

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


@dataclass(frozen=True)
class Write:
    """One file to write: its bytes (or chunks of them, for large copies) and what it must still be."""

    path: Path
    data: bytes | Iterable[bytes]
    seen: os.stat_result | None = None  # the file as it was read; refuse if it changed since
    new: bool = False                   # the file must not exist yet


def _linked_dir(path: Path, root: Path | None) -> Path | None:
    """The first directory between `path` and `root` (root excluded) that is a symbolic link."""
    if root is None:
        return None
    top = Path(os.path.abspath(root))
    here = Path(os.path.abspath(path)).parent
    while here != top and here.is_relative_to(top):
        if os.path.islink(here):
            return here
        here = here.parent
    return None


def refusal(path: Path, root: Path | None = None) -> str | None:
    """Why gapctl will not write `path` (a link, a link in its directories under `root`, not a
    regular file), or None."""
    shown = display_path(path)
    linked = _linked_dir(path, root)
    if linked is not None:
        return (f"{shown}: the directory {display_path(linked)} is a symbolic link; gapctl does not write "
                "through links")
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as err:
        return f"{shown}: cannot write: {err.strerror}"
    if stat.S_ISLNK(st.st_mode):
        return f"{shown}: is a symbolic link; gapctl does not write through links (edit the file it points to)"
    if not stat.S_ISREG(st.st_mode):
        return f"{shown}: is not a regular file"
    return None


def _check(write: Write, root: Path | None) -> None:
    why = refusal(write.path, root)
    if why:
        raise WriteError(why)
    shown = display_path(write.path)
    try:
        now: os.stat_result | None = os.lstat(write.path)
    except FileNotFoundError:
        now = None
    if write.new and now is not None:
        raise WriteError(f"{shown}: already exists; not overwritten")
    if write.seen is not None and (now is None or _identity(now) != _identity(write.seen)):
        raise WriteError(f"{shown}: changed while gapctl was working on it; left as it is (run the command again)")


def _identity(st: os.stat_result) -> tuple[int, ...]:
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _default_mode() -> int:
    """0o666 less the umask: the mode open() would give a new file (mkstemp gives 0o600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _temporary(write: Write) -> str:
    """Write the data to a new temporary file beside the target, fsynced, with the target's mode."""
    write.path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=write.path.parent, prefix=f".{write.path.name}.", suffix=".tmp")
    try:
        try:
            chunks = [write.data] if isinstance(write.data, (bytes, bytearray, memoryview)) else write.data
            for chunk in chunks:
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view[:_CHUNK]):]
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            mode = stat.S_IMODE(os.lstat(write.path).st_mode)
        except FileNotFoundError:
            mode = _default_mode()
        os.chmod(tmp, mode)
    except BaseException:
        _remove(tmp)
        raise
    return tmp


def _put(tmp: str, write: Write) -> None:
    """Rename the temporary file into place; a new file never replaces one that appeared meanwhile."""
    if not write.new:
        os.replace(tmp, write.path)
        return
    try:
        os.link(tmp, write.path)  # fails if the target exists, unlike a rename
    except FileExistsError:
        raise WriteError(f"{display_path(write.path)}: already exists; not overwritten") from None
    except OSError:  # no hard links on this file system
        if os.path.lexists(write.path):
            raise WriteError(f"{display_path(write.path)}: already exists; not overwritten") from None
        os.replace(tmp, write.path)
        return
    _remove(tmp)


def _remove(tmp: str) -> None:
    try:
        os.unlink(tmp)
    except OSError:
        pass


def _sync_directory(directory: Path) -> None:
    """Make the rename durable; directories cannot be opened on every platform."""
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


def round_root(round_dir: Path) -> Path:
    """The repository a round belongs to (rounds/<id> → the repository), for `root`; a round
    directory elsewhere → its parent. Links at or below the round directory are refused."""
    round_dir = Path(os.path.abspath(round_dir))
    return round_dir.parent.parent if round_dir.parent.name == "rounds" else round_dir.parent


def write_files(writes: Sequence[Write], root: Path | None = None) -> list[Path]:
    """Write every file atomically, or none if any is refused or a temporary file cannot be written.

    `root` is the repository (or output directory) the files belong to: no directory below it
    may be a link. Missing directories are created. Raises WriteError.
    """
    for write in writes:
        _check(write, root)
    pending: list[tuple[Write, str]] = []
    done: list[Path] = []
    current = writes[0] if writes else None
    try:
        for current in writes:
            pending.append((current, _temporary(current)))
        for current, tmp in pending:
            _check(current, root)  # again, just before the rename
            _put(tmp, current)
            done.append(current.path)
    except BaseException as err:
        for _, tmp in pending:
            if os.path.lexists(tmp):
                _remove(tmp)
        if not isinstance(err, (OSError, WriteError)):
            raise
        assert current is not None
        message = str(err) if isinstance(err, WriteError) else \
            f"{display_path(current.path)}: cannot write: {err.strerror or err}"
        if done:
            message += f" ({len(done)} of {len(writes)} file(s) were already written: {display_path(done[0])} …)"
        elif not isinstance(err, WriteError):
            message += "; nothing was changed"
        raise WriteError(message) from err
    for directory in dict.fromkeys(w.path.parent for w in writes):
        _sync_directory(directory)
    return done


def write_atomically(path: Path, data: bytes | Iterable[bytes], seen: os.stat_result | None = None, *,
                     new: bool = False, root: Path | None = None) -> None:
    """Write one file atomically (see write_files). Raises WriteError."""
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
    try:
        seen = os.lstat(path)  # before reading: a change after this is caught when writing
        raw = path.read_bytes()
    except OSError as err:
        raise WriteError(f"{display_path(path)}: cannot read: {err.strerror}") from None
    text, hint = decode(raw)
    if text is None:
        raise WriteError(f"{display_path(path)}: not UTF-8 (it looks like {hint}); not written")
    return Original(path, raw, text, seen)


__all__ = ["Original", "Write", "WriteError", "line_ending", "read_original", "refusal", "round_root",
           "write_atomically", "write_files"]
