"""Where files come from: the working tree on disk, or a git revision read from objects.

The loader asks a `FileTree` whether paths exist, what a directory holds and what a file
contains, so the same code loads a round from disk or from `git cat-file` without touching
the working tree or the index. Both trees give each file a git blob id, so that `diff`
parses a file that is the same on both sides once.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from gapctl.i18n import _


class GitError(Exception):
    """git is missing, the path is not in a repository, or a revision does not exist."""


def blob_id(data: bytes) -> str:
    """The id git gives these bytes as a blob (`git hash-object`)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class DiskTree:
    """The file system as it is."""

    label = "working tree"

    def is_dir(self, path: Path) -> bool:
        return path.is_dir()

    def is_file(self, path: Path) -> bool:
        """Anything there that is not a directory: a link or a FIFO is a file that reading refuses
        (gapctl.data.reads), with a problem that says why, rather than a file that is missing."""
        return os.path.lexists(path) and not path.is_dir()

    def exists(self, path: Path) -> bool:
        return os.path.lexists(path)

    def files(self, directory: Path) -> list[Path]:
        return [directory / name for name in self._names(directory, files=True)]

    def dirs(self, directory: Path) -> list[Path]:
        return [directory / name for name in self._names(directory, files=False)]

    @staticmethod
    def _names(directory: Path, files: bool) -> list[str]:
        """Sorted names of the files (anything but a directory, as `is_file`) or directories in
        `directory`; scandir's entry types spare a stat per entry, which counts with 30,000
        observation files."""
        try:
            with os.scandir(directory) as entries:
                return sorted(e.name for e in entries if (not e.is_dir()) is files)
        except (FileNotFoundError, NotADirectoryError):
            return []

    def read_bytes(self, path: Path) -> bytes:
        """The file's bytes through gapctl.data.reads: inside its repository, a regular file (Refused, an OSError)."""
        from gapctl.data.reads import read_bytes
        return read_bytes(path)

    def blob(self, path: Path, data: bytes) -> str:
        return blob_id(data)

    def close(self) -> None:
        return None


def git(args: list[str], cwd: Path, input_bytes: bytes | None = None) -> bytes:
    try:
        proc = subprocess.run(["git", "--no-optional-locks", *args], cwd=cwd, input=input_bytes,
                              capture_output=True, check=False)
    except FileNotFoundError as err:
        raise GitError(_("git is not installed")) from err
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(message[-1] if message else _("{command} failed").format(command=" ".join(["git", *args])))
    return proc.stdout


def toplevel(path: Path) -> Path:
    """The root of the git repository that holds `path`."""
    start = path if path.is_dir() else path.parent
    return Path(git(["rev-parse", "--show-toplevel"], start).decode().strip())


class GitTree:
    """A revision of a git repository, read from its objects (never the working tree)."""

    def __init__(self, root: Path, rev: str):
        self.root = root.resolve()
        self.rev = rev
        try:  # --quiet: a revision that does not exist fails without a message of git's own
            self.commit = git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], self.root).decode().strip()
        except GitError:
            self.commit = ""
        if not self.commit:
            raise GitError(_("unknown revision '{revision}' (not in this clone; a CI checkout needs fetch-depth: "
                             "0)").format(revision=rev))
        self.label = f"{rev} ({self.commit[:7]})"
        listing = git(["ls-tree", "-r", "-z", "--full-tree", self.commit], self.root)
        self.blobs: dict[str, str] = {}
        self.links: set[str] = set()  # paths stored as symbolic links (mode 120000): their blob is the target
        self.dir_set: set[str] = {""}
        for entry in listing.split(b"\0"):
            if not entry:
                continue
            meta, _tab, name = entry.partition(b"\t")
            parts = meta.split()
            if len(parts) < 3 or parts[1] != b"blob":
                continue
            rel = name.decode("utf-8", "surrogateescape")
            self.blobs[rel] = parts[2].decode()
            if parts[0] == b"120000":
                self.links.add(rel)
            parent = rel.rpartition("/")[0]
            while parent not in self.dir_set:
                self.dir_set.add(parent)
                parent = parent.rpartition("/")[0]
        self._reader: subprocess.Popen[bytes] | None = None
        self._reader_pid = 0  # the process that started the reader (workers forked later start their own)

    def _rel(self, path: Path) -> str | None:
        try:  # the name itself not resolved: a link in the working tree is not the revision's file
            absolute = Path(os.path.abspath(path))
            rel = (absolute.parent.resolve() / absolute.name).relative_to(self.root)
        except ValueError:
            return None
        text = rel.as_posix()
        return "" if text == "." else text

    def is_dir(self, path: Path) -> bool:
        return self._rel(path) in self.dir_set

    def is_file(self, path: Path) -> bool:
        return self._rel(path) in self.blobs

    def exists(self, path: Path) -> bool:
        return self.is_dir(path) or self.is_file(path)

    def _children(self, directory: Path) -> tuple[list[str], list[str]]:
        rel = self._rel(directory)
        if rel is None or rel not in self.dir_set:
            return [], []
        prefix = f"{rel}/" if rel else ""
        files = [k for k in self.blobs if k.startswith(prefix) and "/" not in k[len(prefix):]]
        dirs = [d for d in self.dir_set if d and d.startswith(prefix) and "/" not in d[len(prefix):]]
        return sorted(files), sorted(dirs)

    def files(self, directory: Path) -> list[Path]:
        return [self.root / f for f in self._children(directory)[0]]

    def dirs(self, directory: Path) -> list[Path]:
        return [self.root / d for d in self._children(directory)[1]]

    def read_bytes(self, path: Path) -> bytes:
        """A file's bytes in the revision; a symbolic link is followed as on disk (gapctl.data.reads): only
        to a file inside the repository, and not at all in CI mode (Refused, an OSError)."""
        rel = self._rel(path)
        if rel is None or rel not in self.blobs:
            raise FileNotFoundError(str(path))
        return self._object(self._follow(path, rel))

    def _follow(self, path: Path, rel: str) -> str:
        """The path inside the revision that `rel` stands for, following its symbolic links."""
        import posixpath

        from gapctl.data.reads import CI_ENV, Refused, ci_mode
        from gapctl.escape import plain

        for _step in range(40):  # as many links as the kernel follows
            if rel not in self.links:
                return rel
            target = self._object(rel).decode("utf-8", "surrogateescape")
            shown = plain(target.replace("\x00", "\\u0000"))
            if ci_mode():
                raise Refused(path, _("is a symbolic link (to {target}) in {revision}; in CI (CI=true or {variable}=1) "
                                      "gapctl follows no links: commit the file itself").format(
                    target=shown, revision=self.label, variable=CI_ENV))
            joined = posixpath.normpath(posixpath.join(posixpath.dirname(rel), target))
            if target.startswith("/") or joined == ".." or joined.startswith("../"):
                raise Refused(path, _("is a symbolic link to {target} in {revision}, outside the repository; gapctl "
                                      "reads no file outside it").format(target=shown, revision=self.label))
            if joined not in self.blobs:
                raise Refused(path, _("is a symbolic link to {target} in {revision}, which does not exist there or "
                                      "is not a file").format(target=shown, revision=self.label))
            rel = joined
        raise Refused(path, _("is a symbolic link in {revision} that loops back on itself").format(revision=self.label))

    def _object(self, rel: str) -> bytes:
        if self._reader is None or self._reader_pid != os.getpid():  # a forked worker starts its own
            self._reader = subprocess.Popen(["git", "cat-file", "--batch"], cwd=self.root,
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            self._reader_pid = os.getpid()
        assert self._reader.stdin and self._reader.stdout
        self._reader.stdin.write(self.blobs[rel].encode() + b"\n")
        self._reader.stdin.flush()
        header = self._reader.stdout.readline().split()
        size = int(header[2])
        data = self._reader.stdout.read(size)
        self._reader.stdout.read(1)  # the newline after the object
        return data

    def blob(self, path: Path, data: bytes) -> str:
        """The id of the blob `data` came from (a link's target's, so that a memo shared between
        revisions never mistakes one target for another)."""
        rel = self._rel(path)
        if rel in self.links:
            try:
                rel = self._follow(path, rel)
            except OSError:
                return blob_id(data)
        return self.blobs[rel] if rel in self.blobs else blob_id(data)

    def close(self) -> None:
        if self._reader is not None and self._reader_pid == os.getpid():
            if self._reader.stdin:
                self._reader.stdin.close()
            self._reader.wait()
            self._reader = None
