"""`gapctl score` and `status` run again on an unchanged repository: the last output, without loading anything.

A warm `score` still loads the round's definitions, stats every observation file, reads the cache's
chunk entries and the round's finished records, ranks and formats the table: about half a second at
3,000 units. When nothing in the repository changed since a `score` with the same command line, its
output is the same bytes, so `gapctl score` (through `main`, before typer is even imported) keeps that
output in the cache under a key made of the command line, the working directory, the environment
variables gapctl reads and the repository root, and checks it still holds like git's index: every
file and directory under the repository root (`.git` and the cache excepted) with the `lstat` it had
when the output was made — type, size, modification and change times (ns) and inode — and no more or
fewer of them. An output is kept only when nothing about it could differ on a later run:

- the run exited 0 and wrote nothing on stderr (no warnings, no cache notices, no problems);
- its format is the table or CSV (JSON carries provenance), without `--rev`, `--no-cache` or a
  cluster, and the round is scored from the working tree;
- no entry under the root is a symbolic link (its target could change behind an unchanged link);
- no entry's modification time is within `RACY_NS` of the moment the stats were taken (git's "racily
  clean" rule: a file written in the same timestamp could change again without showing it).

`gapctl status` is kept the same way in text, with today's date in the key (unless `--today` gives it)
and the "counting" line it writes on stderr when that is not a terminal (at a terminal it draws a
progress bar, so it runs as usual).

The walk costs one `lstat` per file (~10 ms at 3,000 files); any difference, and any output not kept,
runs the command as usual. Tests that run the command in-process (typer's CliRunner) never see this
path: only `main` replays and records.
"""

from __future__ import annotations

import os
import stat
import sys
import time
from typing import Any

SKIPPED = frozenset({".git", ".gapctl-cache"})  # never part of what a score reads
ENV_PREFIXES = ("GAPCTL_", "DASK_", "LC_", "PYTHON")
ENV_NAMES = frozenset({"CI", "LANG", "LANGUAGE", "XDG_CACHE_HOME", "HOME", "TZ"})
ENV_SECRET = "GAPCTL_CACHE_KEY"  # the entry is signed under it; never part of a name
# what each command a kept output may answer accepts: options with a value, flags, and the formats kept
COMMANDS: dict[str, tuple[frozenset[str], frozenset[str], frozenset[str]]] = {
    "score": (frozenset({"--unit", "--format", "-f", "--lang"}), frozenset({"--by-category", "--final", "--rank"}),
              frozenset({"table", "csv"})),
    "status": (frozenset({"--today", "--format", "-f", "--lang"}), frozenset(), frozenset({"text"})),
}


class Pending:
    """A run that may keep its output: its command, where its entry goes and the stats taken before it ran."""

    def __init__(self, command: str, cache: Any, key: str, tree: tuple[str, int], snapshot: int, root: str) -> None:
        self.command = command
        self.cache = cache
        self.key = key
        self.tree = tree
        self.snapshot = snapshot
        self.root = root


_PENDING: Pending | None = None
_SEEN: tuple[int, dict[str, os.stat_result]] | None = None  # `looked`


def score_arguments(args: list[str]) -> str | None:
    """The round path of a `gapctl score` command line a kept output may answer (`arguments`), else None."""
    found = arguments(args)
    return found[1] if found is not None and found[0] == "score" else None


def arguments(args: list[str]) -> tuple[str, str] | None:
    """The command (`COMMANDS`) and round path of a command line a kept output may answer, or None: only a
    round and the options a kept output can stand for (no help, no JSON, no --no-cache, --rev, ...)."""
    n = 0
    while n < len(args) and args[n] not in COMMANDS:  # root options: only --lang
        if args[n] == "--lang" and n + 1 < len(args):
            n += 2
        elif args[n].startswith("--lang="):
            n += 1
        else:
            return None
    if n >= len(args):
        return None
    command = args[n]
    takes_value, flags, formats = COMMANDS[command]
    n += 1
    path = None
    while n < len(args):
        arg = args[n]
        name, eq, value = arg.partition("=")
        if arg in flags:
            n += 1
            continue
        if name in takes_value and name.startswith("--") and eq:
            if name == "--format" and value not in formats:
                return None
            n += 1
            continue
        if arg in takes_value:
            if n + 1 >= len(args):
                return None
            if arg in ("--format", "-f") and args[n + 1] not in formats:
                return None
            n += 2
            continue
        if arg.startswith("-") or path is not None:
            return None
        path = arg
        n += 1
    return (command, path) if path is not None else None


def repository_root(path: str) -> str | None:
    """The root gapctl.scoring.load.find_repository_root finds for a round directory, absolute (os.path only)."""
    start = os.path.realpath(path)
    if not os.path.isdir(start):
        return None
    candidate = start
    while True:
        if any(os.path.isdir(os.path.join(candidate, name)) for name in ("schemes", "units", "rounds")):
            return candidate
        parent = os.path.dirname(candidate)
        if parent == candidate:
            return None
        candidate = parent


def walk(root: str, skip: str | None = None, seen: dict[str, os.stat_result] | None = None
         ) -> tuple[str, int] | None:
    """A digest of every entry under `root` (`SKIPPED` and the directory `skip` excepted) with its lstat, in
    a fixed order, and the newest modification time among them (ns); None when an entry is a symbolic link
    or cannot be read. A digest, not the list: at 30,000 files the list and its copy in the cache entry
    were ~10 MB held to the end of the run. `seen`: each regular file's lstat put there by its path."""
    import hashlib

    digest = hashlib.sha256()
    newest = 0
    stack = [root]
    while stack:
        directory = stack.pop()
        try:
            with os.scandir(directory) as entries:
                found = sorted(entries, key=lambda e: e.name)
        except OSError:
            return None
        digest.update(os.fsencode(directory) + b"\0")
        for entry in found:
            if entry.name in SKIPPED or entry.path == skip:
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                return None
            if stat.S_ISLNK(st.st_mode):
                return None
            if seen is not None and stat.S_ISREG(st.st_mode):
                seen[entry.path] = st
            digest.update(b"%s\0%d %d %d %d %d\n" % (os.fsencode(entry.name), st.st_mode, st.st_size,
                                                     st.st_mtime_ns, st.st_ctime_ns, st.st_ino))
            newest = max(newest, st.st_mtime_ns)
            if stat.S_ISDIR(st.st_mode):
                stack.append(entry.path)
    return digest.hexdigest(), newest


def _environment() -> list[tuple[str, str]]:
    return sorted((k, v) for k, v in os.environ.items()
                  if k != ENV_SECRET and (k in ENV_NAMES or k.startswith(ENV_PREFIXES)))


def replayed(args: list[str]) -> bool:
    """Write the kept output of this command line and return True when it still holds; else False, leaving
    what a run needs to keep its output (`pending`)."""
    global _PENDING, _SEEN
    _PENDING = _SEEN = None
    found = arguments(args)
    if found is None or os.environ.get("GAPCTL_NO_CACHE"):
        return False
    command, path = found
    if command == "status" and sys.stderr.isatty():  # its progress bar is drawn, not replayed
        return False
    root = repository_root(path)
    if root is None:
        return False
    from gapctl.data import cache as C
    try:
        cache = C.open_cache(__import__("pathlib").Path(root))
    except Exception:  # noqa: BLE001  (the command runs as usual and says what is wrong)
        return False
    if cache is None:
        return False
    C.opened(cache)  # the command's own open_cache takes it, if it runs
    snapshot = time.time_ns()
    seen: dict[str, os.stat_result] = {}
    tree = walk(root, os.path.abspath(cache.directory), seen)
    if tree is None:
        return False
    try:
        key = C.key_of("output", args, os.getcwd(), root, _environment(), sys.version, *_also(command))
    except Exception:  # noqa: BLE001  (what cannot name an entry runs as usual)
        return False
    _PENDING = Pending(command, cache, key, tree, snapshot, root)
    _SEEN = (snapshot, seen)
    payload = cache.get(key)
    if payload is None:
        return False
    try:
        from gapctl import codec
        kept = codec.loads(payload)
    except Exception:  # noqa: BLE001  (an entry this code cannot read: run as usual)
        return False
    if not isinstance(kept, dict) or kept.get("tree") != tree[0] or not isinstance(kept.get("out"), str) \
            or not isinstance(kept.get("err"), str):
        return False
    _PENDING = _SEEN = None
    if sys.stderr.isatty() and isinstance(kept.get("progress"), str):  # where a run shows its progress
        sys.stderr.write(f"\r{kept['progress']}\n")
        sys.stderr.flush()
    elif kept["err"]:
        sys.stderr.write(kept["err"])
        sys.stderr.flush()
    sys.stdout.write(kept["out"])
    sys.stdout.flush()
    return True


def _also(command: str) -> list[Any]:
    """What else a command's output depends on: for `status`, today's date (unless --today says it, in the
    command line) and the official calendar's package."""
    if command != "status":
        return []
    import datetime
    import importlib.util
    spec = importlib.util.find_spec("chinese_calendar")
    origin = spec.origin if spec is not None else None
    try:
        st = os.stat(origin) if origin else None
    except OSError:
        st = None
    return [datetime.date.today().isoformat(), origin, st and (st.st_size, st.st_mtime_ns, st.st_ino)]


def looked() -> tuple[int, dict[str, os.stat_result]] | None:
    """The lstat `replayed`'s walk took of each regular file of the repository (by its real path: the walk
    stops at a link), with the time before it, for the run it could not answer: given once, None after (the
    run's own first look at its files, `gapctl.scoring.outcomes.FileDigests`, takes them instead of an lstat
    of each)."""
    global _SEEN
    found, _SEEN = _SEEN, None
    return found


def pending() -> Pending | None:
    """The run `replayed` could not answer, if its output may be kept."""
    return _PENDING


def forget() -> None:
    """The command line `replayed` saw has run: what it left is not for another command."""
    global _PENDING, _SEEN
    _PENDING = _SEEN = None
    held = sys.modules.get("gapctl.data.cache")
    if held is not None:
        held.opened(None)


def keep(out: str, clean: bool, root: Any, progress: str = "", err: str = "", command: str = "score") -> None:
    """Keep `out`, all the command wrote on stdout, for the command line `replayed` could not answer; `clean`:
    the run exits 0 and wrote nothing on stderr but `err` (when stderr is not a terminal) or its progress line
    (`progress`, the last one, shown again when stderr is a terminal); `root`: the repository it read. Not kept
    when the cache said something, the output has terminal escapes, the root is another than `replayed` found,
    an entry is racily clean, or the command is another than the one `replayed` saw."""
    global _PENDING
    run, _PENDING = _PENDING, None
    if run is None or not clean or run.command != command:
        return
    from gapctl.data import cache as C
    if C.said() or "\x1b" in out + err or os.path.realpath(root) != run.root \
            or run.tree[1] >= run.snapshot - C.RACY_NS:
        return
    from gapctl import codec
    try:
        payload = codec.dumps({"tree": run.tree[0], "out": out, "err": err, "progress": progress})
    except Exception:  # noqa: BLE001  (a name msgpack cannot carry, e.g. undecodable bytes: not kept)
        return
    run.cache.put(run.key, payload)
