"""A content-addressed cache of per-file work, under `.gapctl-cache/` at the repository root.

An entry is named by a hash of everything its value depends on: the file's bytes, the
hash of gapctl's own code (so an edited checkout never reads entries an older build
wrote), and a context the caller gives (the scheme's hash, the unit's record, ...).

What an entry holds and why it can be trusted:

- a value in MessagePack (`gapctl.codec`): reading it builds data and gapctl dataclasses,
  never runs code, so even a forged entry cannot run a command. Nothing is unpickled.
- an HMAC-SHA256 over its name and bytes, under a key kept outside the repository: the
  repository secret `GAPCTL_CACHE_KEY` when it is set (CI), else this user's key file
  (`$XDG_CACHE_HOME/gapctl/key`, made on first use with mode 0600). A key shorter than 32
  bytes is refused: a short key file is replaced by a new one, a short `GAPCTL_CACHE_KEY`
  turns the cache off; either says so in one line. An entry that is truncated, corrupt,
  copied from another machine or written by someone else fails the check and is
  recomputed, so forged entries cannot change a score either.
- a directory that only gapctl fills: a `.gapctl-cache` that is a symbolic link (it would
  write elsewhere) or that git tracks (anyone who can push could fill it) is not used; one
  line says so and scoring goes on without a cache.

Entries are written to a temporary file in the same directory and renamed, so concurrent
runs see the old entry, the new one or none, never a torn one; each entry's bytes depend
only on its name, so two runs writing one entry write the same bytes. The first run that
writes also prunes (under a lock, so one run at a time) when its ledger says it is due: other gapctl versions'
entries unused for a day, then the least recently used entries past `GAPCTL_CACHE_MB` (500 MB).
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import os
import stat
import sys
import time
from pathlib import Path
from typing import Any

from gapctl import codec
from gapctl.i18n import _

CACHE_DIR = ".gapctl-cache"
MAGIC = b"GAPCTL-CACHE-2\n"  # 2: MessagePack (1 was pickle, never read again)
SIGNATURE_BYTES = 32
KEY_BYTES = 32
DEFAULT_MB = 500
DAY = 24 * 3600
LEDGER = ".ledger"  # `Cache.prune_due`
LEDGER_READ = 1 << 20  # a ledger this long (~100,000 entries written since the last scan) calls for a scan
_FINGERPRINT: str | None = None
_SAID: set[str] = set()


def notice(message: str) -> None:
    """One line on stderr, once per run: the cache never stops a command, but says what it refused."""
    if message not in _SAID:
        _SAID.add(message)
        sys.stderr.write(f"gapctl: {message}\n")
        sys.stderr.flush()


def said() -> bool:
    """Whether `notice` has printed anything in this run."""
    return bool(_SAID)


def code_fingerprint() -> str:
    """A hash of gapctl's own source files and compiled message catalogues: any edit to the code, or
    to a translation (cached problems carry their messages), changes every key (`package_fingerprint`)."""
    global _FINGERPRINT
    if _FINGERPRINT is None:
        from gapctl import __version__

        package = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))  # gapctl/, from gapctl/data/cache.py
        _FINGERPRINT = package_fingerprint(package, __version__, key_path().parent)
    return _FINGERPRINT


def package_fingerprint(package: str, version: str, memo_directory: Path) -> str:
    """A hash of the .py and .mo files under `package` (their paths and bytes) and `version`.

    Hashing gapctl's ~2 MB took ~7 ms of every run, a warm one's among them: the hash is kept in `memo_directory`
    (this user's cache directory, beside the key) under a digest of the files' stats (path, size, modification and
    change times, inode), and their bytes are hashed again only when a stat changes. As git's index does, the stats
    are not trusted when a file was modified within the last seconds (`_RACY_NS`): a later edit in the same tick
    of the clock would not change them."""
    files = _code_files(package)
    looked: Any = hashlib.sha256(f"{package}\0{version}\0".encode("utf-8", "surrogateescape"))
    newest = 0
    for name, _path, st in files:
        if st is None:
            looked = None
            break
        looked.update(b"%s\0%d %d %d %d\n" % (name, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino))
        newest = max(newest, st.st_mtime_ns)
    memo = memo_directory / ("code-" + hashlib.sha256(os.fsencode(package)).hexdigest()[:16])
    held = _read_memo(memo) if looked is not None else None
    if held is not None and held[0] == looked.hexdigest():
        return held[1]
    digest = hashlib.sha256()
    for name, path, _st in files:
        digest.update(name + b"\0")
        digest.update(Path(path).read_bytes())
    digest.update(version.encode())
    found = digest.hexdigest()
    if looked is not None and time.time_ns() - newest > _RACY_NS:
        _write_small(memo, f"{looked.hexdigest()} {found}\n")
    return found


def _code_files(package: str) -> list[tuple[bytes, str, os.stat_result | None]]:
    """The package's .py and .mo files under `package`: (path relative to it, in the order of its parts; path;
    stat, None when it cannot be taken), with os.scandir (Path.rglob took 2 ms of the 3 a warm fingerprint takes)."""
    found: list[tuple[list[str], str, os.stat_result | None]] = []
    stack = [(package, [])]
    while stack:
        directory, parts = stack.pop()
        try:
            with os.scandir(directory) as entries:
                listed = list(entries)
        except OSError:
            continue
        for entry in listed:
            if entry.is_dir():
                stack.append((entry.path, [*parts, entry.name]))
            elif entry.name.endswith((".py", ".mo")) and entry.is_file():
                try:
                    st: os.stat_result | None = entry.stat()
                except OSError:
                    st = None
                found.append(([*parts, entry.name], entry.path, st))
    found.sort(key=lambda item: item[0])
    return [("/".join(parts).encode("utf-8", "surrogateescape"), path, st) for parts, path, st in found]


_RACY_NS = 3_000_000_000  # a file modified this recently: its stat may not change with its next edit


def _read_memo(path: Path) -> list[str] | None:
    try:
        with open(path, encoding="ascii") as memo:
            fields = memo.read(200).split()
    except (OSError, ValueError):
        return None
    return fields if len(fields) == 2 and all(len(f) == 64 and set(f) <= _HEX for f in fields) else None


_HEX = set("0123456789abcdef")


def _write_small(path: Path, text: str) -> None:
    """`text` (ASCII) as the file `path` (its directory made), atomically; nothing when it cannot be written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = _mkstemp(path.parent, ".tmp.")
        try:
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(text)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        pass


def _mkstemp(directory: Path, prefix: str) -> tuple[int, str]:
    """A new file in `directory` (mode 0600, O_EXCL) and its path, as tempfile.mkstemp makes it, without importing
    tempfile (and random) in every run that writes an entry."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    for _attempt in range(100):
        name = os.path.join(directory, prefix + os.urandom(6).hex())
        try:
            return os.open(name, flags, 0o600), name
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no temporary name left", str(directory))


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()  # SHA-NI makes it the fastest in hashlib here


def key_of(*parts: Any) -> str:
    """The entry name for these parts (strings, bytes, numbers, tuples of them)."""
    return key_hasher(*parts).hexdigest()


_BASE: tuple[str, Any] | None = None  # (fingerprint, its hash so far): every key starts with it


def key_hasher(*parts: Any) -> Any:
    """The hash `key_of` finishes, so that a caller naming many entries that start with the same parts
    hashes those once (then `key_from(hasher, *further parts)` for each entry)."""
    global _BASE
    if _BASE is None or _BASE[0] != code_fingerprint():
        _BASE = (code_fingerprint(), hashlib.sha256(code_fingerprint().encode()))
    return _fed(_BASE[1].copy(), parts)


def key_from(hasher: Any, *parts: Any) -> str:
    """`key_of(<the parts of the key_hasher `hasher`>, *parts)`, `hasher` itself left as it is: for a caller
    naming many entries from one `key_hasher`."""
    return _fed(hasher.copy(), parts).hexdigest()


def _fed(digest: Any, parts: tuple[Any, ...]) -> Any:
    for part in parts:
        digest.update(b"\x1f" + (part if isinstance(part, bytes) else repr(part).encode()))
    return digest


# --- the signing key -------------------------------------------------------------------

def key_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gapctl" / "key"


def _secret() -> bytes | None:
    """The signing key: GAPCTL_CACHE_KEY when set, else this user's key file (made, or remade
    when it is too short); None when there is none to use."""
    given = os.environ.get("GAPCTL_CACHE_KEY")
    if given:
        key = given.encode("utf-8", "surrogateescape")
        if len(key) < KEY_BYTES:
            notice(_("GAPCTL_CACHE_KEY has {size} bytes, fewer than {least}; the cache is off for this run").format(
                size=len(key), least=KEY_BYTES))
            return None
        return key
    path = key_path()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        data = None
    except OSError:
        return None
    if data is not None and len(data) >= KEY_BYTES:
        return data
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = _mkstemp(path.parent, ".key.")  # mode 0600
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(os.urandom(KEY_BYTES))  # what secrets.token_bytes gives, without importing it
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o600)
            if data is None:
                try:
                    os.link(tmp, path)  # fails if another run made the key first: use theirs
                except FileExistsError:
                    pass
            else:
                os.replace(tmp, path)
                notice(_("the cache key {path} had {size} bytes, fewer than {least}; made a new key (entries "
                         "signed with the old one are recomputed)").format(path=path, size=len(data), least=KEY_BYTES))
        finally:
            if os.path.lexists(tmp):
                os.unlink(tmp)
        data = path.read_bytes()
    except OSError:
        return None
    return data if len(data) >= KEY_BYTES else None


# --- the directory ---------------------------------------------------------------------

def _in_git(directory: Path) -> bool:
    return any((parent / ".git").exists() for parent in [directory, *directory.parents])


def tracked_by_git(directory: Path) -> bool:
    """Whether git tracks anything under `directory` (`git ls-files`); False where git is missing."""
    parent = directory.parent
    if not _in_git(parent):
        return False
    import subprocess
    try:
        listed = subprocess.run(["git", "-C", str(parent), "ls-files", "-z", "--", directory.name],
                                capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return listed.returncode == 0 and bool(listed.stdout)


def refusal(directory: Path) -> str | None:
    """Why the cache directory must not be used, or None."""
    shown = os.path.relpath(directory) if directory.is_absolute() and str(directory).startswith(os.getcwd()) \
        else str(directory)
    if os.path.islink(directory):
        return _("{path} is a symbolic link; the cache is not used (gapctl writes its cache only into a "
                 "directory of its own: remove the link)").format(path=shown)
    if directory.exists() and not directory.is_dir():
        return _("{path} is not a directory; the cache is not used").format(path=shown)
    if directory.is_dir() and tracked_by_git(directory):
        return _("{path} is tracked by git; the cache is not used, since anyone who can push could fill it "
                 "(git rm -r --cached {path})").format(path=shown)
    return None


class Cache:
    """Signed, content-addressed MessagePack entries in `directory`/<gapctl version>/<2 hex>/<rest>."""

    def __init__(self, directory: Path, secret: bytes, limit_mb: float | None = None) -> None:
        self.directory = directory
        self.secret = secret
        self.version = code_fingerprint()[:16]
        self.here = directory / self.version
        self.limit = int((limit_mb if limit_mb is not None else _limit_mb()) * 1024 * 1024)
        self.hits = self.misses = self.rejected = self.written = self.pruned = 0
        self._dirs: set[Path] = set()  # entry directories known to be real directories
        self._pruning_done = False

    def path(self, key: str) -> Path:
        return self.here / key[:2] / key[2:]

    def _sign(self, key: str, payload: bytes) -> bytes:
        signature = hmac.new(self.secret, key.encode(), hashlib.sha256)  # the key and the payload, not joined: no copy
        signature.update(payload)
        return signature.digest()

    def get(self, key: str) -> bytes | None:
        """The payload stored under `key`, or None (missing, corrupt, foreign or unreadable)."""
        try:  # never through a link; a FIFO or device is not read (fstat below): the rule of gapctl.data.reads
            fd = os.open(self.path(key), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            self.misses += 1
            return None
        try:
            st = os.fstat(fd)
            blob = _read_all(fd, st.st_size) if stat.S_ISREG(st.st_mode) else b""
            if blob and time.time() - st.st_mtime > DAY:  # how recently used, a day at a time
                try:
                    os.utime(fd)
                except OSError:
                    pass
        except OSError:
            blob = b""
        finally:
            os.close(fd)
        head = len(MAGIC) + SIGNATURE_BYTES
        payload = blob[head:]
        if not blob.startswith(MAGIC) or not hmac.compare_digest(blob[len(MAGIC):head], self._sign(key, payload)):
            self.rejected += 1
            return None
        self.hits += 1
        return payload

    def put(self, key: str, payload: bytes, counted: bool = True) -> None:
        """Store `payload` under `key`; a cache that cannot be written is silently skipped. `counted`:
        whether `written` counts it (not the bookkeeping of a `StatIndex`)."""
        if not payload:
            return
        target = self.path(key)
        try:
            if not self._pruning_done:
                self._pruning_done = True
                self._make()
                if self.prune_due():
                    self.prune()
            if target.parent not in self._dirs:
                target.parent.mkdir(parents=True, exist_ok=True)
                if any(os.path.islink(d) for d in (self.here, target.parent)):
                    return  # planted while we ran: never write through a link
                self._dirs.add(target.parent)
            fd, tmp = _mkstemp(target.parent, ".tmp.")
            try:
                with os.fdopen(fd, "wb") as out:  # in parts: a round's finished records are ~9 MB at 30,000 units
                    out.write(MAGIC + self._sign(key, payload))
                    out.write(payload)
                os.replace(tmp, target)
            except BaseException:
                os.unlink(tmp)
                raise
            self._note(len(MAGIC) + SIGNATURE_BYTES + len(payload))
        except OSError:
            return
        self.written += counted

    # The ledger (LEDGER, in the cache's directory): when the last scan of `prune` was, the size it left, and then
    # the size of each entry written since, a line each (appended by whoever writes, workers too). `prune` scanned
    # every entry on each run that wrote one (~12 ms at 3,000 units, more at 30,000); it runs when the ledger
    # says the cache may be past its limit, or its last scan is a day old, or there is no ledger to read.

    def prune_due(self, now: float | None = None) -> bool:
        """Whether `prune` should scan the cache now (see the ledger above)."""
        now = time.time() if now is None else now
        try:
            fd = os.open(self.directory / LEDGER, os.O_RDONLY | os.O_NOFOLLOW)
            try:
                data = os.read(fd, LEDGER_READ)
            finally:
                os.close(fd)
            scanned, total, *written = data.split()
            size = int(total) + sum(map(int, written))
            return len(data) >= LEDGER_READ or not 0 <= now - float(scanned) < DAY or size > self.limit
        except (OSError, ValueError):
            return True

    def _note(self, size: int) -> None:
        """An entry of `size` bytes written: a line at the end of the ledger (nothing when there is no ledger)."""
        try:
            fd = os.open(self.directory / LEDGER, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW)
        except OSError:
            return
        try:
            os.write(fd, b"%d\n" % size)
        finally:
            os.close(fd)

    def _new_ledger(self, now: float, total: int) -> None:
        """The ledger after a scan: its time and the size it left, nothing written since."""
        _write_small(self.directory / LEDGER, f"{now!r} {total}\n")

    def _make(self) -> None:
        if not self.directory.is_dir():
            self.directory.mkdir(parents=True, exist_ok=True)
            (self.directory / ".gitignore").write_text("# made by gapctl: never commit the cache\n*\n")
            (self.directory / "CACHEDIR.TAG").write_text(
                "Signature: 8a477f597d28d172789f06886806bc55\n# gapctl's cache (https://bford.info/cachedir/)\n")
        if os.path.islink(self.here):
            raise OSError("a link")
        self.here.mkdir(exist_ok=True)
        os.utime(self.here)  # this version was used now

    def prune(self, now: float | None = None) -> None:
        """Remove other versions unused for a day, stray temporary files, then the least recently
        used entries until the cache is within its limit, and begin the ledger again (`prune_due`); one run at a
        time (a lock)."""
        import fcntl
        import shutil

        from gapctl.data.locks import close_held, open_held

        now = time.time() if now is None else now
        try:  # a worker forked while it is held does not keep it (gapctl.data.locks)
            lock = open_held(self.directory / ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        except OSError:
            return
        try:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return  # another run is pruning
            entries: list[tuple[float, int, str]] = []
            total = 0
            for version in os.scandir(self.directory):
                if not version.is_dir(follow_symlinks=False):
                    continue
                if version.name != self.version and now - version.stat(follow_symlinks=False).st_mtime > DAY:
                    shutil.rmtree(version.path, ignore_errors=True)
                    self.pruned += 1
                    continue
                for fan in os.scandir(version.path):
                    if not fan.is_dir(follow_symlinks=False):
                        continue
                    for entry in os.scandir(fan.path):
                        st = entry.stat(follow_symlinks=False)
                        if entry.name.startswith(".tmp.") and now - st.st_mtime > 3600:
                            _unlink(entry.path)  # left by a run that was killed
                            continue
                        entries.append((st.st_mtime, st.st_size, entry.path))
                        total += st.st_size
            if total > self.limit:
                goal = self.limit * 0.8  # room for a while, so that not every run prunes
                for _used, size, path in sorted(entries):
                    if total <= goal:
                        break
                    if _unlink(path):
                        total -= size
                        self.pruned += 1
            self._new_ledger(now, total)
        except OSError:
            return
        finally:
            close_held(lock)


def _read_all(fd: int, size: int) -> bytes:
    chunks = []
    while True:
        chunk = os.read(fd, max(size, 1 << 16))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _unlink(path: str) -> bool:
    try:
        os.unlink(path)
        return True
    except OSError:
        return False


def _limit_mb() -> float:
    try:
        return max(1.0, float(os.environ.get("GAPCTL_CACHE_MB", DEFAULT_MB)))
    except ValueError:
        return DEFAULT_MB


# --- values ----------------------------------------------------------------------------

def reference_name(ref: tuple[Any, ...]) -> str:
    """The name an object is written under in an entry (`dumps`), from its id tuple: its JSON (a round names each
    of its units, rules and indicators: a tuple of strings is written here as the encoder writes it)."""
    if all(type(part) is str for part in ref):
        return "[" + ",".join(map(_STRING, ref)) + "]"
    global _NAMES
    if _NAMES is None:
        import json
        _NAMES = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # json.dumps with these options
    return _NAMES.encode(ref)


_NAMES: Any = None  # `reference_name`'s encoder, made on first use (json is imported only then)
try:  # how json's encoder writes a string (ensure_ascii=False), without importing json (~1 ms a run)
    from _json import encode_basestring as _STRING
except ImportError:  # pragma: no cover - a Python without the C accelerator
    from json.encoder import py_encode_basestring as _STRING


_KINDS: dict[str, Any] | None = None


def problem_kinds() -> dict[str, Any]:
    """Reference name → problem kind, for `loads`."""
    global _KINDS
    if _KINDS is None:
        from gapctl.problems import CATALOGUE
        _KINDS = {reference_name(("K", code)): kind for code, kind in CATALOGUE.items()}
    return _KINDS


def problem_kind_ids() -> dict[int, str]:
    """id() of every problem kind → its reference name, for `dumps`."""
    return {id(kind): name for name, kind in problem_kinds().items()}


def dumps(value: Any, refer: codec.Refer | None = None) -> bytes:
    """`value` as an entry's payload (gapctl.codec); objects for which `refer` gives a name are
    written as that name. Without one, problem kinds are written by code, so that
    `problem.kind is SOME_KIND` holds for problems read back; a caller's `refer` must do the same
    (`problem_kind_ids`). A value that cannot be encoded gives b"", which `Cache.put` skips."""
    if refer is None:
        kinds = problem_kind_ids()
        refer = lambda obj: kinds.get(id(obj))  # noqa: E731
    try:
        return codec.dumps(value, refer)
    except codec.CodecError:
        return b""


def loads(payload: bytes, resolve: codec.Resolve | None = None) -> Any:
    """The value `dumps` wrote; reference names are turned back into objects by `resolve`
    (problem kinds by this module). Raises ValueError for bytes this code cannot read."""
    kinds = problem_kinds()

    def resolved(name: str) -> Any:
        kind = kinds.get(name)
        if kind is not None:
            return kind
        if resolve is None:
            raise codec.CodecError(f"unknown reference {name!r}")
        return resolve(name)
    return codec.loads(payload, resolved)


# --- which files changed: git's index, for content hashes ---------------------------------

RACY_NS = 2_000_000_000  # a file's timestamp is trusted only when older than the snapshot by this much


def file_stat(st: os.stat_result | None) -> tuple[int, int, int, int] | None:
    """What `StatIndex` keeps of a regular file's `lstat` (size, modification and change times in ns, inode);
    None for anything else (a link, a directory, no file), whose hash is never trusted."""
    if st is None or not stat.S_ISREG(st.st_mode):
        return None
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino


class StatIndex:
    """The content hash of each file of a set, read again only when the file may have changed.

    Like git's index: an entry keeps a file's size, modification and change times (ns) and inode
    with the hash of its bytes, and a file whose `lstat` still shows exactly those is not read.
    git's "racily clean" rule holds, on the modification time as in git: an entry whose
    modification time is not older than the moment the stats were taken (minus `RACY_NS`, two
    seconds: the coarsest file-system timestamps, FAT's) is not trusted, since the file could
    have changed again within the same timestamp (an edit that puts the modification time back
    still changes the change time, compared for equality);
    timestamp; such a file is hashed again each run until its timestamp is old enough. Only
    regular files are trusted (a link is read again, through `gapctl.data.reads`, every time), and
    only while each directory resolves to the same real path as when the entry was made (a
    directory swapped for a link is read again). The index is one signed cache entry per set
    (`name`), written only when an entry changed; a missing or unreadable index trusts nothing.
    """

    def __init__(self, cache: Cache, name: str) -> None:
        self.cache = cache
        self.key = key_of("stat-index", name)
        self.snapshot = time.time_ns()  # before any stat of this run: the racy rule's reference
        self.old: dict[str, list[Any]] = {}
        self.old_dirs: dict[str, str] = {}
        self.old_snapshot = 0
        payload = cache.get(self.key)
        if payload is not None:
            try:
                value = codec.loads(payload)
                if isinstance(value, dict) and isinstance(value.get("files"), dict):
                    self.old, self.old_dirs, self.old_snapshot = value["files"], value["dirs"], int(value["time"])
            except Exception:  # an index this code cannot read: trust nothing, write a new one
                self.old, self.old_dirs = {}, {}
        self.new: dict[str, list[Any]] = {}
        self.dirs: dict[str, str] = {}
        self.absolute: dict[str, str] = {}  # a directory as named → as os.path.abspath names it (`_absolute`)
        self.hashed = 0  # files read and hashed this run (the others were trusted)
        self.settled = 0  # of those, the ones whose entry a later run may trust (timestamp not racy)
        # absolute name → (entry, its directory's real path, the time the entry was taken), for files
        # another reader of this run vouched for (`vouch`)
        self.vouched: dict[str, tuple[list[Any], str, int]] = {}

    def _absolute(self, name: str) -> str:
        """os.path.abspath(name), its directory made absolute once for all the files in it."""
        head, sep, tail = name.rpartition("/")
        if tail in ("", ".", ".."):
            return os.path.abspath(name)
        base = self.absolute.get(head + sep)
        if base is None:
            base = self.absolute[head + sep] = os.path.abspath(head) if head else "/" if sep else os.getcwd()
        return base + "/" + tail if base != "/" else "/" + tail

    def _real(self, directory: str) -> str:
        real = self.dirs.get(directory)
        if real is None:
            real = self.dirs[directory] = os.path.realpath(directory)
        return real

    def vouch(self, path: str | os.PathLike[str], fstat: tuple[int, int, int, int], digest: str, real: str,
              taken: int) -> None:
        """Trust, in this run, the content hash `digest` of the file `path` read (through its directory's
        real path `real`) at `taken` (ns, before the read), whose stat around the read was `fstat`
        (size, modification and change times, inode): as an entry of the index would be trusted."""
        self.vouched[self._absolute(os.fspath(path))] = ([*fstat, digest], real, taken)

    def _entry(self, name: str, st: os.stat_result) -> list[Any] | None:
        """The entry (the index's, or one vouched for) whose hash may be trusted for `name` with stat `st`."""
        entry = self.old.get(name)
        directory = name[:name.rfind("/")] or "/"  # os.path.dirname of a normalised absolute path, cheaper
        if entry is not None and self._holds(entry, st, self.old_snapshot, self.old_dirs.get(directory), directory):
            return entry
        found = self.vouched.get(name)
        if found is not None and self._holds(found[0], st, found[2], found[1], directory):
            return found[0]
        return None

    def _holds(self, entry: Any, st: os.stat_result, snapshot: int, real: str | None, directory: str) -> bool:
        if not isinstance(entry, list) or len(entry) != 5 or not stat.S_ISREG(st.st_mode):
            return False
        size, mtime, ctime, inode, digest = entry
        if (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino) != (size, mtime, ctime, inode):
            return False
        if mtime >= snapshot - RACY_NS:  # racily clean (the change time only has to be equal)
            return False
        return real == self._real(directory) and isinstance(digest, str)

    def trusted(self, name: str, st: os.stat_result) -> str | None:
        """The hash an entry holds for a file whose stat is `st`, if it may be trusted."""
        entry = self._entry(name, st)
        return entry[4] if entry is not None else None

    def hash(self, path: Path, read: Any, st: os.stat_result | None = None) -> str:
        """The content hash of `path`: the index's when it may be trusted, else `read(path)`'s bytes
        hashed (OSError and ValueError from `read` pass through). `st`: its `lstat`, if taken."""
        name = self._absolute(os.fspath(path))
        if st is None:
            try:
                st = os.lstat(name)
            except (OSError, ValueError):
                st = None
        entry = self._entry(name, st) if st is not None else None
        if entry is not None:
            self.new[name] = entry
            return entry[4]  # type: ignore[no-any-return]
        digest = content_hash(read(path))  # after the stat: a change while reading shows next run
        self._record(name, file_stat(st), digest)
        return digest

    def record(self, path: Path, fstat: tuple[int, int, int, int] | None, digest: str) -> None:
        """The content hash of `path` that another reader (a worker) made of the bytes it read after `fstat`
        (`file_stat` of its `lstat`, taken during this run: the racy rule's snapshot is older) was taken: kept
        as `hash` keeps the hashes it makes."""
        self._record(self._absolute(os.fspath(path)), fstat, digest)

    def _record(self, name: str, fstat: tuple[int, int, int, int] | None, digest: str) -> None:
        self.hashed += 1
        if fstat is not None:
            self.new[name] = [*fstat, digest]
            self._real(name[:name.rfind("/")] or "/")
            self.settled += fstat[1] < self.snapshot - RACY_NS

    def save(self) -> None:
        """Write the index when its set of files changed, or a file was hashed again whose timestamp is old
        enough to be trusted with this run's snapshot. Not when the only files hashed again are racily clean
        (a file just edited, as after one edit before a warm `score`): a later run could not trust their
        entries, and would read them again either way, so the index (one entry per file of the round) is
        left as it was."""
        if not self.settled and self.new.keys() == self.old.keys():
            return
        dirs = {directory: self._real(directory)  # os.path.dirname of these normalised absolute names
                for directory in {name[:name.rfind("/")] or "/" for name in self.new}}
        self.cache.put(self.key, codec.dumps({"time": self.snapshot, "dirs": dirs, "files": self.new}), counted=False)


_OPENED: dict[Path, Cache] = {}  # a cache opened before the command ran (gapctl.scoring.warm), taken once


def opened(cache: Cache | None) -> None:
    """`cache` was just opened (and checked) for this run's command line: the command's `open_cache` of the
    same directory takes it instead of checking it again (one `git ls-files` less); None forgets it."""
    _OPENED.clear()
    if cache is not None:
        _OPENED[cache.directory] = cache


def open_cache(root: Path | None, enabled: bool = True) -> Cache | None:
    """The cache of the repository at `root`, or None when caching is off or refused.

    `GAPCTL_NO_CACHE=1` turns it off like `--no-cache`; `GAPCTL_CACHE_DIR` puts it elsewhere.
    """
    if not enabled or os.environ.get("GAPCTL_NO_CACHE") or root is None:
        return None
    directory = Path(os.environ.get("GAPCTL_CACHE_DIR") or root / CACHE_DIR)
    held = _OPENED.pop(directory, None)
    if held is not None:
        return held
    why = refusal(directory)
    if why:
        notice(why)
        return None
    secret = _secret()
    return Cache(directory, secret) if secret is not None else None
