"""Provenance: what an output was computed from, so that anyone can rebuild it and get the same bytes.

Contract. `of_rounds(rounds)` says, for the rounds a command scored or checked (all read from one
tree: the working tree, or a git revision for `--rev`):

- `commit`: the git commit of the repository the rounds are in (`None` outside git, or when git
  is missing: not an error), the commit's own date (`committed`, the only time an output may
  carry), and whether any file used differs from that commit (`dirty`, with the paths in
  `uncommitted`; always false for a revision);
- `gapctl`: the version that computed it; `requirements_lock`: the sha256 of the repository's
  `requirements.lock` when there is one (the exact dependencies);
- `files`: the sha256 of every scheme, unit-set and round file used (round.toml, observations,
  channels, appeals, external files; the rounds a round imports from or combines, too), paths
  relative to the repository root with `/`, sorted; `digest`: the sha256 of that list written
  as `sha256sum` writes it (`<hash>  <path>\\n` per file), one figure to compare.

Cheap: only the files the command read are hashed, each once; a hash the caller already has
(gapctl.scoring.outcomes computes one per observation file for its cache keys) is reused. No absolute
path, host name, user or time of the run goes in, so the same revision gives the same block in
any directory on any machine. Every JSON output (gapctl.escape.json_document), report and export
carries `data()`; reports show `lines()` in their language.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gapctl.i18n import N_, in_lang

LOCK_FILE = "requirements.lock"


@dataclass(frozen=True)
class Provenance:
    commit: str | None
    committed: str | None  # the commit's date (ISO 8601, as git gives it)
    dirty: bool | None  # None outside git
    uncommitted: tuple[str, ...]
    gapctl: str
    requirements_lock: str | None
    files: tuple[tuple[str, str], ...]  # (path relative to the repository root, sha256), sorted

    @functools.cached_property
    def digest(self) -> str:
        """The sha256 of the file list as `manifest` writes it: hashed a line at a time (at 30,000 units the whole
        list was a 12 MB string), once (a report reads it for every page's footer and its provenance block)."""
        found = hashlib.sha256()
        for path, digest in self.files:
            found.update(f"{digest}  {path}\n".encode())
        return found.hexdigest()

    def data(self) -> dict[str, Any]:
        """The `provenance` object of JSON outputs and export descriptors."""
        return {"commit": self.commit, "committed": self.committed, "dirty": self.dirty,
                "uncommitted": list(self.uncommitted), "gapctl": self.gapctl,
                "requirements_lock": self.requirements_lock, "digest": self.digest,
                "files": [{"path": path, "sha256": digest} for path, digest in self.files]}

    def lines(self, lang: str) -> list[tuple[str, str]]:
        """(label, value) pairs a report shows, in `lang`; the file list is `files`."""
        if self.commit is None:
            commit = in_lang("none (not in a git repository)", lang)
        else:
            commit = self.commit + (f" ({self.committed})" if self.committed else "")
        out = [(in_lang("Git commit", lang), commit)]
        if self.dirty:
            out.append((in_lang("Uncommitted changes", lang), in_lang(
                "{count} file(s) used differ from the commit: {paths}", lang).format(
                count=len(self.uncommitted), paths=", ".join(self.uncommitted))))
        elif self.dirty is False:
            out.append((in_lang("Uncommitted changes", lang), in_lang("none in the files used", lang)))
        out.append((in_lang("gapctl version", lang), self.gapctl))
        out.append(("requirements.lock sha256", self.requirements_lock or in_lang("none", lang)))
        out.append((in_lang("Files used", lang), in_lang("{count} file(s), manifest sha256 {digest}", lang).format(
            count=len(self.files), digest=self.digest)))
        return out


HEADING = N_("Provenance")
NOTE = N_("The files below, at the commit above, give these results again with the same gapctl version; "
          "sha256sum -c checks a checkout against the list.")


def manifest(files: Iterable[tuple[str, str]]) -> str:
    """The file list as `sha256sum` writes it, so `sha256sum -c` checks a checkout against it."""
    return "".join(f"{digest}  {path}\n" for path, digest in files)


# --- which files -------------------------------------------------------------------------

def round_files(round_: Any, seen: set[str] | None = None) -> list[Path]:
    """Every scheme, unit-set and round file a loaded round was built from, and those of the rounds it
    imports deductions from or combines (periods), as paths of its tree."""
    from gapctl.scoring.load import load

    seen = seen if seen is not None else set()
    directory = Path(round_.directory)
    key = os.path.abspath(directory)
    if key in seen:
        return []
    seen.add(key)
    out: list[Path] = []

    def add(src: Any) -> None:
        if src is not None and getattr(src, "path", None) is not None:
            out.append(Path(src.path))

    add(round_.src)
    for scheme in round_.schemes.values():
        add(scheme.src)
    if round_.unit_set is not None:
        add(round_.unit_set.src)
    for obs in round_.observations.values():
        add(obs.src)
    out += round_.observation_paths + round_.channel_paths
    for files in round_.channels.values():
        for obs in files.values():
            add(obs.src)
    for appeals in round_.appeals.values():
        for appeal in appeals:
            add(appeal.src)
    for data in round_.external.values():
        add(data.src)
    others = [ref.round for ref in round_.external_refs if ref.round] + list(round_.periods)
    for other in others:
        other_dir = directory.parent / other
        if os.path.abspath(other_dir) in seen:
            continue
        loaded = load(other_dir, tree=round_.tree, observations=False)
        if loaded.round is not None:
            out += round_files(loaded.round, seen)
    return out


def _absolute(path: Path | str, memo: dict[str, str] | None = None) -> str:
    """The path with its directories resolved and its own name kept (a link is named as itself);
    `memo` resolves each directory once, not once per file in it (30,000 observation files). Plain
    strings: pathlib costs more than the hashing here."""
    absolute = os.path.abspath(path)
    parent, _sep, name = absolute.rpartition(os.sep)
    parent = parent or os.sep
    found = memo.get(parent) if memo is not None else None
    if found is None:
        found = os.path.realpath(parent)
        if memo is not None:
            memo[parent] = found
    return os.path.join(found, name) if name else found


def _relative(absolute: str, root: str) -> str:
    """`absolute` relative to `root`, with `/` on every system."""
    rel = absolute[len(root) + 1:] if absolute.startswith(root + os.sep) else os.path.relpath(absolute, root)
    return rel.replace(os.sep, "/")


# --- git ---------------------------------------------------------------------------------

@dataclass
class _Git:
    commit: str | None = None
    committed: str | None = None
    dirty: bool | None = None
    uncommitted: list[str] = field(default_factory=list)


def _commit_of(root: Path, rev: str) -> tuple[str, str] | None:
    from gapctl.data.tree import GitError, git
    try:
        out = git(["log", "-1", "--format=%H%x1f%cI", rev, "--"], root).decode().strip()
    except GitError:
        return None
    commit, _sep, date = out.partition("\x1f")
    return (commit, date) if commit else None


def _disk_git(root: Path, used: list[str]) -> _Git:
    """The working tree's HEAD and which of the files used (relative to `root`) differ from it."""
    from gapctl.data.tree import GitError, git
    try:
        top = Path(git(["rev-parse", "--show-toplevel"], root).decode().strip()).resolve()
    except GitError:
        return _Git()
    found = _commit_of(root, "HEAD")
    if found is None:  # a repository without a commit yet: every file is uncommitted
        return _Git(None, None, True, sorted(used))
    prefix = root.relative_to(top).as_posix() if root != top and top in root.parents else ""
    in_top = {(f"{prefix}/{rel}" if prefix else rel): rel for rel in used}
    directories = sorted({p.rpartition("/")[0] or "." for p in in_top})
    try:
        out = git(["status", "--porcelain=v1", "-z", "--untracked-files=all", "--ignored=matching", "--",
                   *[f":(top,literal){d}" if d != "." else ":(top)." for d in directories]], top)
    except GitError:
        return _Git(*found, None, [])
    changed: set[str] = set()
    entries = out.split(b"\0")
    i = 0
    while i < len(entries):
        entry = entries[i].decode("utf-8", "surrogateescape")
        i += 1
        if len(entry) < 4:
            continue
        changed.add(entry[3:])
        if entry[0] in "RC":  # a rename's or copy's source follows
            i += 1
    within = tuple(p for p in changed if p.endswith("/"))  # an ignored or untracked directory, whole
    dirty = sorted(in_top[p] for p in in_top if p in changed or p.startswith(within))
    return _Git(found[0], found[1], bool(dirty), dirty)


# --- the block ---------------------------------------------------------------------------

def of_rounds(rounds: Iterable[Any], known: dict[Path, str] | None = None) -> Provenance:
    """The provenance of outputs computed from these loaded rounds (one tree, one repository)."""
    rounds = list(rounds)
    paths: list[Path] = []
    seen: set[str] = set()
    for round_ in rounds:
        paths += round_files(round_, seen)
    tree = rounds[0].tree if rounds and rounds[0].tree is not None else None
    root = _root(Path(rounds[0].directory).parent if rounds else Path("."), tree)
    return of_files(paths, root, tree, known)


def of_targets(paths: Iterable[Path]) -> Provenance:
    """The provenance of `gapctl validate`'s targets: each round, or every scheme, unit set and round
    of a repository (read again without observations; their files are listed, not parsed)."""
    from gapctl.api import targets
    from gapctl.scoring.load import load

    files: list[Path] = []
    seen: set[str] = set()
    root: Path | None = None
    for target in targets(list(paths)):
        loaded = load(target, observations=False)
        repo = loaded.repository
        root = root or _root(Path(loaded.round.directory).parent if loaded.round else repo.root, None)
        for item in [*repo.schemes.values(), *repo.unit_sets.values()]:
            if item.src is not None:
                files.append(Path(item.src.path))
        for round_ in [loaded.round] if loaded.round else list(repo.rounds.values()):
            files += round_files(round_, seen)
    return of_files(files, root or Path(_absolute(Path("."))))


def root_of(path: Path) -> Path:
    """The repository root a file or directory on disk belongs to (else its directory)."""
    path = Path(path)
    return _root(path if path.is_dir() else path.parent, None)


def _root(start: Path, tree: Any) -> Path:
    """The repository root at or above the directory `start` (else `start`): paths are relative to it."""
    from gapctl.scoring.load import DISK, find_repository_root
    start = Path(_absolute(start))
    found = find_repository_root(start, tree or DISK)
    return Path(_absolute(found)) if found is not None else start


def of_files(paths: Iterable[Path], root: Path, tree: Any = None, known: dict[Path, str] | None = None) -> Provenance:
    """The provenance of these files of the repository at `root`, read from `tree` (default: disk)."""
    from gapctl import __version__
    from gapctl.data.tree import GitTree
    from gapctl.scoring.load import DISK

    tree = tree or DISK
    memo: dict[str, str] = {}
    top = str(root)
    known_at = {_absolute(p, memo): h for p, h in (known or {}).items()} if not isinstance(tree, GitTree) else {}
    hashes: dict[str, str] = {}
    for path in paths:
        absolute = _absolute(path, memo)
        rel = _relative(absolute, top)
        if rel in hashes:
            continue
        digest = known_at.get(absolute)
        if digest is None:
            try:
                digest = hashlib.sha256(tree.read_bytes(Path(absolute))).hexdigest()
            except OSError:
                continue  # a file that cannot be read was not used (validate says why)
        hashes[rel] = digest
    lock = root / LOCK_FILE
    lock_hash = None
    if tree.is_file(lock):
        try:
            lock_hash = hashlib.sha256(tree.read_bytes(lock)).hexdigest()
        except OSError:
            lock_hash = None
    if isinstance(tree, GitTree):
        found = _commit_of(tree.root, tree.commit)
        git_state = _Git(tree.commit, found[1] if found else None, False, [])
    else:
        git_state = _disk_git(root, sorted(hashes) + ([LOCK_FILE] if lock_hash else []))
    return Provenance(git_state.commit, git_state.committed, git_state.dirty, tuple(git_state.uncommitted),
                      __version__, lock_hash, tuple(sorted(hashes.items())))
