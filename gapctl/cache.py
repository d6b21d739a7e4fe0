"""A content-addressed cache of per-file work, under `.gapctl-cache/` at the repository root.

An entry is named by a hash of everything its value depends on: the file's bytes, the
hash of gapctl's own code (so an edited checkout never reads entries an older build
wrote), and a context the caller gives (the scheme's hash, the unit's record, ...). A
value is pickled and signed with HMAC-SHA256 under a key that lives outside the
repository (`$XDG_CACHE_HOME/gapctl/key`, created on first use, mode 0600): an entry
that is truncated, corrupt, copied from another machine or committed by someone else
fails the check and is recomputed, never unpickled. Entries are written to a temporary
file in the same directory and renamed, so concurrent runs see either the old entry,
the new one or none.

Objects that a value must not copy (the scheme, the unit, indicators, problem kinds)
are written as references (`persistent_id`) and resolved against the live objects of
the reading run; see `dumps` and `loads`.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import pickle
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

CACHE_DIR = ".gapctl-cache"
MAGIC = b"GAPCTL-CACHE-1\n"
SIGNATURE_BYTES = 32
_FINGERPRINT: str | None = None


def code_fingerprint() -> str:
    """A hash of gapctl's own source files: any edit to the code changes every key."""
    global _FINGERPRINT
    if _FINGERPRINT is None:
        package = Path(__file__).resolve().parent
        digest = hashlib.sha256()
        for path in sorted(package.rglob("*.py")):
            digest.update(str(path.relative_to(package)).encode() + b"\0")
            digest.update(path.read_bytes())
        from gapctl import __version__
        digest.update(__version__.encode())
        _FINGERPRINT = digest.hexdigest()
    return _FINGERPRINT


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()  # SHA-NI makes it the fastest in hashlib here


def key_of(*parts: Any) -> str:
    """The entry name for these parts (strings, bytes, numbers, tuples of them)."""
    digest = hashlib.sha256(code_fingerprint().encode())
    for part in parts:
        digest.update(b"\x1f" + (part if isinstance(part, bytes) else repr(part).encode()))
    return digest.hexdigest()


def _secret() -> bytes | None:
    """This user's signing key, created on first use; None when there is nowhere to keep it."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = Path(base) / "gapctl" / "key"
    try:
        data = path.read_bytes()
        if len(data) >= 32:
            return data
    except OSError:
        pass
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".key.")
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_bytes(32))
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)  # fails if another run made the key first: use theirs
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
        return path.read_bytes()
    except OSError:
        return None


class Cache:
    """Signed, content-addressed pickles in `directory` (two-level fan-out by key prefix)."""

    def __init__(self, directory: Path, secret: bytes) -> None:
        self.directory = directory
        self.secret = secret
        self.hits = self.misses = self.rejected = self.written = 0

    def path(self, key: str) -> Path:
        return self.directory / key[:2] / key[2:]

    def get(self, key: str) -> bytes | None:
        """The payload stored under `key`, or None (missing, corrupt, foreign or unreadable)."""
        from gapctl.reads import read_bytes

        try:
            blob = read_bytes(self.path(key), self.directory)  # a regular file inside the cache, never a FIFO
        except OSError:
            self.misses += 1
            return None
        head = len(MAGIC) + SIGNATURE_BYTES
        payload = blob[head:]
        expected = hmac.new(self.secret, key.encode() + payload, hashlib.sha256).digest()
        if not blob.startswith(MAGIC) or not hmac.compare_digest(blob[len(MAGIC):head], expected):
            self.rejected += 1
            return None
        self.hits += 1
        return payload

    def put(self, key: str, payload: bytes) -> None:
        """Store `payload` under `key`; a cache that cannot be written is silently skipped."""
        signature = hmac.new(self.secret, key.encode() + payload, hashlib.sha256).digest()
        target = self.path(key)
        try:
            if not self.directory.is_dir():
                self.directory.mkdir(parents=True, exist_ok=True)
                (self.directory / ".gitignore").write_text("# made by gapctl: never commit the cache\n*\n")
            target.parent.mkdir(exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp.")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(MAGIC + signature + payload)
                os.replace(tmp, target)
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError:
            return
        self.written += 1


def problem_kind_ids() -> dict[int, tuple[str, str]]:
    """id() of every problem kind → its reference, for `dumps`."""
    from gapctl.problems import CATALOGUE
    return {id(kind): ("K", code) for code, kind in CATALOGUE.items()}


def dumps(value: Any, persistent_id: Callable[[Any], Any] | None = None) -> bytes:
    """Pickle `value`, writing objects for which `persistent_id` returns a tuple as that tuple.

    Without one, problem kinds are written by code, so that `problem.kind is SOME_KIND` holds
    for problems read back; a caller's `persistent_id` must do the same (`problem_kind_ids`).
    It is called for every object pickled: keep it to a dict lookup.
    """
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    if persistent_id is None:
        kinds = problem_kind_ids()
        persistent_id = lambda obj: kinds.get(id(obj))  # noqa: E731
    pickler.persistent_id = persistent_id  # type: ignore[method-assign]
    pickler.dump(value)
    return buffer.getvalue()


def loads(payload: bytes, resolve: Callable[[Any], Any] | None = None) -> Any:
    """Unpickle a payload `dumps` made; references are turned back into objects by `resolve`."""
    from gapctl.problems import CATALOGUE

    def persistent_load(ref: tuple[Any, ...]) -> Any:
        if ref[0] == "K":
            return CATALOGUE[ref[1]]
        if resolve is None:
            raise pickle.UnpicklingError(f"unknown reference {ref!r}")
        return resolve(ref)
    unpickler = pickle.Unpickler(io.BytesIO(payload))
    unpickler.persistent_load = persistent_load  # type: ignore[method-assign]
    return unpickler.load()


def open_cache(root: Path | None, enabled: bool = True) -> Cache | None:
    """The cache of the repository at `root`, or None when caching is off.

    `GAPCTL_NO_CACHE=1` turns it off like `--no-cache`; `GAPCTL_CACHE_DIR` puts it elsewhere.
    """
    if not enabled or os.environ.get("GAPCTL_NO_CACHE") or root is None:
        return None
    directory = Path(os.environ.get("GAPCTL_CACHE_DIR") or root / CACHE_DIR)
    secret = _secret()
    return Cache(directory, secret) if secret is not None else None
