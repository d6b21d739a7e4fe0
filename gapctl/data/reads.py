"""Opening files: every file gapctl reads from a repository goes through `read_bytes` or `open_regular`.

Schemes, unit sets, rounds, observations, appeals, external files, calendars, evidence and
cache entries come from a working tree anyone can change in a pull request, and what gapctl
prints about them ends up in CI logs. So a file is opened only when it is what it claims to be:

- a **regular file**: a FIFO, socket, character or block device is refused from `lstat`/`stat`
  alone, never opened (a FIFO would block the read forever, a device may act when opened);
  the file is then opened with `O_NONBLOCK | O_NOFOLLOW` and checked again with `fstat`, so
  one swapped for a FIFO or a link in between is refused too, not waited on;
- **inside its repository** (`root`): a symbolic link (the file, or a directory between it and
  `root`) is followed only when its target is inside `root`, compared as real paths;
- in **CI mode** (`GAPCTL_CI=1`, or `CI=true` as GitHub and GitLab set it, unless
  `GAPCTL_CI=0`): no symbolic link below `root` is followed at all, inside or not;
- **within `limit` bytes** when a limit is given: the size comes from `fstat` before reading,
  and no more than `limit + 1` bytes are ever read.

A refusal raises `Refused`, an `OSError` (callers that already turn `OSError` into "cannot read
file: …" need nothing more) whose message is one line naming the path as the user would type
it (links named as themselves, not resolved) and why; it never holds a byte of the file.
`TooLarge` (a `Refused`) carries the size. A missing file raises `FileNotFoundError` as before.

`root` defaults to `repository_of(path)`: the nearest directory above the file that holds
`schemes/`, `units/` or `rounds/` (as the loader finds a repository), else the parent of the
round directory it is in, else its own directory. `ANYWHERE` is for a file the user names on
the command line (the file `evidence add` copies in): links are followed wherever they lead,
but it must still be a regular file.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO, Final

from gapctl.i18n import _
from gapctl.memo import kept

CI_ENV = "GAPCTL_CI"
_ROUND_FILES = ("round.toml", "round.yaml", "round.yml")
_REPOSITORY_DIRS = ("schemes", "units", "rounds")
_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
          | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0))
_CHUNK = 1 << 20


class _Anywhere:
    def __repr__(self) -> str:
        return "ANYWHERE"


ANYWHERE: Final = _Anywhere()


class Refused(OSError):
    """gapctl will not read this file; `str()` is one line naming the path (never its content)."""

    def __init__(self, path: str | os.PathLike[str], why: str) -> None:
        super().__init__(errno.EPERM, why, os.fspath(path))
        self.shown = shown(path)
        self.why = why

    def __str__(self) -> str:
        return f"{self.shown}: {self.why}"


class TooLarge(Refused):
    """Larger than the limit the caller gave (`size` and `limit` in bytes)."""

    def __init__(self, path: str | os.PathLike[str], size: int, limit: int) -> None:
        super().__init__(path, _("file is {size} bytes, over the limit of {limit}").format(size=size, limit=limit))
        self.size, self.limit = size, limit


def ci_mode() -> bool:
    """Whether no symbolic link is followed: GAPCTL_CI=1, or CI=true unless GAPCTL_CI=0 (read at each call)."""
    environ = os.environ
    own = environ.get(CI_ENV)
    if own and own.strip():
        return own.strip().lower() not in ("0", "false", "no", "off")
    return environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def shown(path: str | os.PathLike[str]) -> str:
    """A path as users typed it: relative to the working directory when inside it; never resolved,
    so a symbolic link is named as itself; control and bidi characters made visible."""
    from gapctl.escape import plain

    text = os.fspath(path)
    try:
        absolute, cwd = os.path.abspath(text), os.getcwd()
        if os.path.commonpath([absolute, cwd]) == cwd:
            text = os.path.relpath(absolute, cwd)
    except ValueError:  # another drive, a NUL in the path
        pass
    return plain(text.replace("\x00", "\\u0000"))


def repository_of(path: str | os.PathLike[str]) -> Path:
    """The directory a file must not leave: its repository, else its round's parent, else its directory."""
    here = os.path.dirname(os.path.abspath(path))
    ancestors = [here]
    while True:
        parent = os.path.dirname(ancestors[-1])
        if parent == ancestors[-1]:
            break
        ancestors.append(parent)
    for directory in ancestors:
        if any(os.path.isdir(os.path.join(directory, name)) for name in _REPOSITORY_DIRS):
            return Path(directory)
    for directory in ancestors:
        if any(os.path.isfile(os.path.join(directory, name)) for name in _ROUND_FILES):
            return Path(os.path.dirname(directory))
    return Path(here)


_DIRS: dict[tuple[str, int, int], tuple[str, str, str]] = {}


def _directory(directory: str) -> tuple[str, str, str]:
    """(its real path, its repository_of, that one's real path) for a directory, remembered by its
    identity: one stat instead of an lstat per component and three per ancestor, since 30,000
    observation files share a handful of directories."""
    st = os.stat(directory)
    key = (directory, st.st_dev, st.st_ino)
    found = _DIRS.get(key)
    if found is None:
        top = str(repository_of(os.path.join(directory, "-")))
        found = kept(_DIRS, key, (os.path.realpath(directory), top, os.path.realpath(top)), 4096)
    return found


def _inside(real: str, real_root: str) -> bool:
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def _first_link(absolute: str, top: str) -> str | None:
    """The first directory between `top` (excluded) and `absolute` that is a symbolic link."""
    rel = os.path.relpath(os.path.dirname(absolute), top)
    if rel == "." or rel.startswith(".."):
        return None
    here = top
    for part in rel.split(os.sep):
        here = os.path.join(here, part)
        if os.path.islink(here):
            return here
    return None


def _kind(mode: int) -> str | None:
    """What a file that is not a regular file is, in words (None for a regular file)."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return _("is a directory, not a file")
    if stat.S_ISFIFO(mode):
        return _("is a FIFO (named pipe), not a regular file; gapctl reads only regular files")
    if stat.S_ISSOCK(mode):
        return _("is a socket, not a regular file; gapctl reads only regular files")
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return _("is a device, not a regular file; gapctl reads only regular files")
    return _("is not a regular file; gapctl reads only regular files")


def _where(top: str) -> str:
    """ " (rounds/..)": the repository's directory, when it is not the working directory."""
    text = shown(top)
    return "" if text == "." else _(" ({path})").format(path=text)


def _link_target(link: str) -> str:
    """Where a link points, as written in it (relative to the link), control characters made visible."""
    from gapctl.escape import plain

    try:
        return plain(os.readlink(link).replace("\x00", "\\u0000"))
    except OSError:
        return "?"


def check(path: str | os.PathLike[str], root: str | os.PathLike[str] | _Anywhere | None = None) -> str:
    """The real path to open for `path`, after every check above; raises Refused or FileNotFoundError."""
    absolute = os.path.abspath(path)
    st = os.lstat(absolute)  # FileNotFoundError, NotADirectoryError, ValueError (NUL) go to the caller
    anywhere = root is ANYWHERE
    real_parent, top, real_top = _directory(os.path.dirname(absolute))
    if not anywhere and root is not None:
        top = os.path.abspath(root)  # type: ignore[arg-type]
        real_top = _directory(top)[0]
    ci = not anywhere and ci_mode()
    if stat.S_ISLNK(st.st_mode):
        target = _link_target(absolute)
        if ci:
            raise Refused(path, _("is a symbolic link (to {target}); in CI (CI=true or {variable}=1) gapctl "
                                  "follows no links: commit the file itself").format(target=target, variable=CI_ENV))
        try:
            real = os.path.realpath(absolute, strict=True)
            st = os.stat(real)
        except (OSError, RuntimeError):  # missing target, a loop of links
            raise Refused(path, _("is a symbolic link to {target}, which does not exist or loops back on "
                                  "itself").format(target=target)) from None
        if not anywhere and not _inside(real, real_top):
            raise Refused(path, _("is a symbolic link to {target}, outside the repository{where}; gapctl reads "
                                  "no file outside it").format(target=target, where=_where(top)))
    else:
        real = os.path.join(real_parent, os.path.basename(absolute))
        if not anywhere:
            inside = _inside(real, real_top)
            if not inside or ci and real != os.path.normpath(os.path.join(real_top, os.path.relpath(absolute, top))):
                link = _first_link(absolute, top)  # a directory on the way is a link
                via = _("the symbolic link {link} (to {target})").format(link=shown(link), target=_link_target(link)) \
                    if link else None
                if not inside:
                    if via:
                        raise Refused(path, _("is reached through {via}, which leads outside the repository{where}; "
                                              "gapctl reads no file outside it").format(via=via, where=_where(top)))
                    raise Refused(path, _("is outside the repository{where}; gapctl reads no file outside "
                                          "it").format(where=_where(top)))
                raise Refused(path, _("is reached through {via}; in CI (CI=true or {variable}=1) gapctl follows no "
                                      "links").format(via=via or _("a symbolic link"), variable=CI_ENV))
    why = _kind(st.st_mode)
    if why:
        raise Refused(path, why)
    return real


def open_regular(path: str | os.PathLike[str], root: str | os.PathLike[str] | _Anywhere | None = None) -> BinaryIO:
    """The file opened for reading in binary, after `check`; never blocks on a FIFO."""
    real = check(path, root)
    try:
        fd = os.open(real, _FLAGS)
    except OSError as err:
        if err.errno in (errno.ELOOP, errno.EMLINK):  # O_NOFOLLOW: it became a link after the check
            raise Refused(path, _("changed into a symbolic link while gapctl was reading it")) from None
        if err.errno == errno.ENXIO:  # a socket, or a FIFO with nothing on the other end
            raise Refused(path, _("is not a regular file; gapctl reads only regular files")) from None
        raise
    try:
        why = _kind(os.fstat(fd).st_mode)
        if why:
            raise Refused(path, why)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_bytes(path: str | os.PathLike[str], root: str | os.PathLike[str] | _Anywhere | None = None,
               limit: int | None = None) -> bytes:
    """The file's bytes, after `check`; TooLarge before reading when it holds more than `limit` bytes."""
    with open_regular(path, root) as handle:
        if limit is not None:
            size = os.fstat(handle.fileno()).st_size
            if size > limit:
                raise TooLarge(path, size, limit)
            data = handle.read(limit + 1)
            if len(data) > limit:  # it grew since fstat
                raise TooLarge(path, len(data), limit)
            return data
        return handle.read()


__all__ = ["ANYWHERE", "CI_ENV", "Refused", "TooLarge", "check", "ci_mode", "open_regular", "read_bytes",
           "repository_of", "shown"]
