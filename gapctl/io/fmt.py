"""`gapctl fmt`: rewrite YAML data files in one canonical layout, keeping every comment and value.

The layout: 2-space mappings, sequence items as `  - key: v` under their key, no line
wrapping, keys in the order `gapctl/data/schema.py` declares them (unknown keys after the known
ones, `assumed`/`assumed_note` last), strings plain when YAML would read them back as the
same text and double-quoted when not, block scalars and flow collections kept as written.

ruamel.yaml's round-trip mode carries the comments. Plain scalars are typed the way gapctl's
own loader types them (PyYAML's YAML 1.1 patterns), and every number, date, bool and null is
written back with its original spelling (`0.10`, `1_000`, `yes`, `~`), so the data gapctl
reads cannot change; `format_paths` still re-reads its output and refuses to write a file
whose data would differ. The round trip and the comment helpers are gapctl.data.yaml_edit's,
shared with the edits that change one value of a file and keep every other byte.

One value is written another way on purpose: the words evaluators write for a value, which
gapctl reads as an alias (gapctl.data.schema), are written as the English word they stand for. The
canonical form is the English word, and it stays so: `result:` 完成 → `done`, 未完成 →
`not-done`, 不适用 → `n/a`, 待评 / 待评估 / 未评估 → `pending`, 无佐证 / 无佐证材料 →
`no-evidence`; 是 → `true` and 否 → `false` where true or false is wanted (a result's `items`
and `findings`, an observation file's `facts`, keys such as `assumed` or `stop`). What gapctl
reads does not change (an alias is read as its word), so a file scores the same before and
after; the check before writing compares the data with aliases read as their words.

Only YAML files whose place says what they hold are formatted (`kind_of`). TOML files,
round.toml included, are left alone: they are out of scope for now.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.tokens import CommentToken

from gapctl.data import schema as S
from gapctl.data.sources import YAML_SUFFIXES, decode, display_path, read_file
from gapctl.data.writes import Original, WriteError, recover, refusal, write_atomically
from gapctl.data.yaml_edit import (  # the round trip and comment helpers fmt shares with edits
    _comment,
    _cut_tail,
    _lines,
    _put_after,
    _put_before,
    _raw,
    _strict,
    comment_texts,
    round_trip_yaml,
)
from gapctl.i18n import _
from gapctl.scheme.rules import REGISTRY
from gapctl.scoring.load import RULE_COMMON, RULE_ITEM, TIER

KINDS = ("scheme", "units", "observations", "external")


# --- where a file's kind comes from ---------------------------------------------------

def kind_of(path: Path) -> str | None:
    """The kind of data file `path` holds, from where it lives; None for files fmt leaves alone.

    schemes/*.yaml → scheme, units/*.yaml → units, rounds/*/observations/*.yaml →
    observations, rounds/*/external/*.yaml → external (`.yml` too). TOML files, round.toml
    and YAML anywhere else are not formatted (TOML is out of scope for now).
    """
    path = Path(os.path.abspath(path))
    if path.suffix.lower() not in YAML_SUFFIXES or path.name.startswith("."):
        return None
    parent = path.parent.name
    if parent == "schemes":
        return "scheme"
    if parent == "units":
        return "units"
    if parent in ("observations", "external") and path.parent.parent.parent.name == "rounds":
        return parent
    return None


def _files_under(directory: Path) -> list[Path]:
    """The data files fmt formats under a repository, rounds/, a round or a data directory."""
    def files(d: Path) -> list[Path]:
        return [p for p in d.iterdir() if p.is_file() or p.is_symlink()] if d.is_dir() else []

    def round_files(round_dir: Path) -> list[Path]:
        return files(round_dir / "observations") + files(round_dir / "external")

    def rounds(rounds_dir: Path) -> list[Path]:
        if not rounds_dir.is_dir():
            return []
        found: list[Path] = []
        for d in rounds_dir.iterdir():
            if d.is_symlink():  # not followed; format_paths reports it
                found.append(d)
            elif d.is_dir():
                found.extend(round_files(d))
        return found

    name = directory.resolve().name
    if name in ("schemes", "units", "observations", "external"):
        found = files(directory)
    elif name == "rounds":
        found = rounds(directory)
    elif directory.resolve().parent.name == "rounds":
        found = round_files(directory)
    else:  # a repository: only its data directories, never tests/, .git/ or .venv/
        found = files(directory / "schemes") + files(directory / "units") + rounds(directory / "rounds")
    places = _Places()
    return [p for p in found if places.kind(p) or p.is_symlink() and p.is_dir()]


class _Places:
    """`kind_of` and `data_root` of many files, what their directory says worked out once per directory."""

    def __init__(self) -> None:
        self.dirs: dict[Path, tuple[str | None, Path | None]] = {}

    def _dir(self, path: Path) -> tuple[str | None, Path | None]:
        parent = path.parent
        found = self.dirs.get(parent)
        if found is None:
            probe = parent / "x.yaml"
            found = self.dirs[parent] = (kind_of(probe), data_root(probe))
        return found

    def kind(self, path: Path) -> str | None:
        if path.suffix.lower() not in YAML_SUFFIXES or path.name.startswith(".") or path.name in ("", ".", ".."):
            return kind_of(path)  # as kind_of says (None, or a name that is no file's)
        return self._dir(path)[0]

    def root(self, path: Path) -> Path | None:
        return self._dir(path)[1] if self.kind(path) else data_root(path)


# --- how keys are ordered: the shapes, mapped onto the file's tree ---------------------

@dataclass(frozen=True, eq=False)
class _Map:
    """A mapping: its known keys in canonical order, the specs of its keys' values, and its shape
    (which says where an alias may stand: gapctl.data.schema.canonical)."""

    keys: tuple[str, ...]
    values: dict[str, Any] = field(default_factory=dict)
    shape: S.Shape = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class _Each:
    """A list whose items all have one spec."""

    item: Any


_RULE = object()  # a rule: its keys depend on its kind


def _map(shape: S.Shape, **values: Any) -> _Map:
    return _Map(tuple(shape), values, shape)


_SELECTOR = _map(S.SELECTOR)


_TIER = _map(TIER)


_RULE_ITEM = _map(RULE_ITEM, applies_to=_SELECTOR)


_GATE = _map(S.GATE)  # a gate written as a mapping (as text it has no keys to order)


_INDICATOR = _map(S.INDICATOR, applies_to=_SELECTOR, rule=_RULE, rules=_Each(_RULE), gate=_GATE,
                  redistribute=_map(S.REDISTRIBUTE), pass_line=_map(S.PASS_LINE))


_INDICATOR.values["children"] = _Each(_INDICATOR)


_SECTION = _map(S.SECTION, indicators=_Each(_INDICATOR), gate=_GATE)


SPECS: dict[str, _Map] = {
    "scheme": _map(
        S.SCHEME, scoring=_map(S.SCORING), measures=_Each(_map(S.MEASURE)),
        indicators=_Each(_INDICATOR), bonus=_SECTION, penalty=_SECTION,
        external=_Each(_map(S.EXTERNAL)), components=_Each(_map(S.COMPONENT)),
        grades=_Each(_map(S.GRADE)), flags=_Each(_map(S.FLAG)), vetoes=_Each(_map(S.VETO)),
        ranking=_map(S.RANKING, categories=_Each(_map(S.CATEGORY))), conversion=_map(S.CONVERSION)),
    "units": _map(S.UNIT_SET, units=_Each(_map(S.UNIT))),
    # a result's `items` and the file's `measures` are keyed by ids: their order is the author's
    "observations": _map(S.OBSERVATIONS, results=_Each(_map(S.RESULT, evidence=_Each(_map(S.EVIDENCE))))),
    "external": _map(S.EXTERNAL_FILE, deductions=_Each(_map(S.DEDUCTION))),
}


def _rule_spec(rule: Any) -> _Map:
    """`kind`, the kind's parameters in declaration order, then `when`."""
    kind = REGISTRY.get(rule.get("kind")) if isinstance(rule.get("kind"), str) else None
    values = {"tiers": _Each(_TIER), "items": _Each(_RULE_ITEM), "clauses": _Each(_map(S.CLAUSE)), "when": _SELECTOR}
    if kind is None:  # an unknown kind: only `kind` moves (first); validate reports the kind
        return _Map(("kind",), values, RULE_COMMON)
    return _Map(("kind", *kind.params, *(k for k in RULE_COMMON if k != "kind")), values,
                {**RULE_COMMON, **kind.params})


def _canonical_order(keys: list[Any], order: tuple[str, ...]) -> list[Any]:
    present = set(keys)
    known = set(order) | set(S.ASSUMPTION_KEYS)
    return ([k for k in order if k in present]
            + [k for k in keys if k not in known]
            + [k for k in S.ASSUMPTION_KEYS if k in present])


def _put_at_top(mapping: CommentedMap, where: tuple[Any, ...], text: str) -> None:
    """Add lines before the first key of `mapping`, after any already there."""
    if where[0] == "item":  # before the `- ` of the list item holding the mapping, indented as it
        dash = " " * max(0, (mapping.lc.col or 0) - 2)
        text = "".join(dash + line.lstrip(" ") + "\n" if line.strip() else "\n" for line in _lines(text))
        entry = where[1].ca.items.setdefault(where[2], [None, None, None, None])
        tokens = entry[1]
    else:  # the file's header, or the lines between a key and its mapping's first key
        if mapping.ca.comment is None:
            mapping.ca.comment = [None, None]
        entry = mapping.ca.comment
        tokens = entry[1]
        if where[0] == "key":
            # ruamel keeps these lines in the holding entry's slot 3 too, and writes that one
            holder = where[1].ca.items.setdefault(where[2], [None, None, None, None])
            tokens = holder[3] or tokens
            if not tokens:
                tokens = [_comment("")]
            holder[3] = entry[1] = tokens
    if tokens:
        tokens[-1].value = tokens[-1].value + text
    else:
        entry[1] = [_comment(text)]


def _put_at_end(mapping: CommentedMap, where: tuple[Any, ...], last: Any, text: str) -> None:
    """Add lines after the last entry of `mapping`: after its last entry if that is safe, else
    before what follows the mapping, else just above its last key, else at its top."""
    if _put_after(mapping, last, text):
        return
    if where[0] == "item":
        seq, index = where[1], where[2]
        if index + 1 < len(seq):
            entry = seq.ca.items.setdefault(index + 1, [None, None, None, None])
            entry[1] = [_comment(text), *(entry[1] or [])]
        elif seq.ca.end and isinstance(seq.ca.end[-1], CommentToken):
            seq.ca.end[-1].value = seq.ca.end[-1].value + text
        else:
            seq.ca.end = [_comment(text)]
        return
    if where[0] == "key":
        parent_keys = list(where[1])
        index = parent_keys.index(where[2])
        if index + 1 < len(parent_keys) and _put_before(where[1], parent_keys[index + 1], text):
            return
    if len(mapping) > 1 and _put_before(mapping, last, text):
        return
    _put_at_top(mapping, where, text)


def _reorder(mapping: CommentedMap, order: tuple[str, ...], where: tuple[Any, ...], shared: bool) -> None:
    keys = list(mapping)
    wanted = _canonical_order(keys, order)
    if keys == wanted:
        return
    # flow mappings hold no comments; with a collection written twice (an anchor and its
    # alias) where lines live is unclear: keys move, their comment lines stay where they are
    comments = not (mapping.fa.flow_style() or where[0] == "flow" or shared)
    before = {k: keys[i - 1] for i, k in enumerate(keys) if i}
    after = {k: wanted[i - 1] for i, k in enumerate(wanted) if i}
    leads: dict[Any, str] = {}
    tail = ""
    if comments:
        column = mapping.lc.col or 0
        leads = {k: _cut_tail(mapping, before[k], column, False) for k in keys[1:] if after.get(k) != before[k]}
        tail = _cut_tail(mapping, keys[-1], column, True) if wanted[-1] != keys[-1] else ""
    for key in wanted:
        mapping.move_to_end(key)
    if not comments:
        return
    first = mapping.ca.items.get(wanted[0])
    if wanted[0] != keys[0] and first and first[1]:  # lines above a key that is now the first
        leads[wanted[0]] = leads.get(wanted[0], "") + "".join(_raw(t) for t in first[1])
        first[1] = None
    for key, text in leads.items():
        if not text:
            continue
        if key == wanted[0]:
            _put_at_top(mapping, where, text)
        elif not _put_before(mapping, key, text) and not _put_after(mapping, after[key], text):
            _put_at_top(mapping, where, text)
    if tail:
        _put_at_end(mapping, where, wanted[-1], tail)


def _apply(spec: Any, node: Any, where: tuple[Any, ...], shared: bool) -> None:
    if spec is _RULE:
        if not isinstance(node, CommentedMap):
            return
        spec = _rule_spec(node)
    if isinstance(spec, _Each):
        if isinstance(node, CommentedSeq):
            flow = node.fa.flow_style() or where[0] == "flow"
            for i, item in enumerate(node):
                _apply(spec.item, item, ("flow",) if flow else ("item", node, i), shared)
        return
    if isinstance(node, CommentedMap) and not getattr(node, "merge", None):
        flow = node.fa.flow_style() or where[0] == "flow"
        for key, value in node.items():
            sub = spec.values.get(key) if isinstance(key, str) else None
            if sub is not None:
                _apply(sub, value, ("flow",) if flow else ("key", node, key), shared)
        _reorder(node, spec.keys, where, shared)


def canonical_words(spec: Any, node: Any) -> None:
    """Write in place, wherever `spec` reaches, the English word for each alias evaluators write
    (完成 → done, 是 → True; gapctl.data.schema.canonical). Works on ruamel.yaml's documents and on plain
    data alike; a value with an anchor (written again elsewhere as `*name`) is left as it is."""
    if spec is _RULE:
        if not isinstance(node, dict):
            return
        spec = _rule_spec(node)
    if isinstance(spec, _Each):
        if isinstance(node, list):
            for item in node:
                canonical_words(spec.item, item)
        return
    if not isinstance(node, dict):
        return
    for key in list(node):
        if not isinstance(key, str):
            continue
        sub = spec.values.get(key)
        if sub is not None:
            canonical_words(sub, node[key])
            continue
        declared = spec.shape.get(key) or S.ASSUMPTION_KEYS.get(key)
        if declared is None:
            continue
        value = node[key]
        if declared.yes_no and isinstance(value, dict):
            for entry in list(value):
                _swap(value, entry, S.canonical_entry(value[entry]))
        else:
            _swap(node, key, S.canonical(declared, value))


def _swap(container: Any, key: Any, word: Any) -> None:
    """Put `word` in place of a plain text value (not one with an anchor, a ruamel.yaml subclass); an
    end-of-line comment keeps its distance from the value (`result: done  # 已核实`)."""
    old = container[key]
    if type(old) is not str or word is old:
        return
    container[key] = word
    entry = container.ca.items.get(key) if isinstance(container, CommentedMap) else None
    token = entry[2] if entry and len(entry) > 2 else None
    mark = getattr(token, "start_mark", None)
    column = getattr(mark, "column", None)
    if isinstance(token, CommentToken) and token.value.startswith("#") and isinstance(column, int):
        written = ("true" if word else "false") if isinstance(word, bool) else str(word)
        mark.column = max(0, column + len(written) - len(old))


def _has_shared_collections(node: Any) -> bool:
    """Whether one mapping or list appears twice (an anchor and its alias)."""
    seen: set[int] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, (CommentedMap, CommentedSeq)):
            if id(item) in seen:
                return True
            seen.add(id(item))
            stack.extend(item.values() if isinstance(item, CommentedMap) else item)
    return False


_DOCUMENT_START = re.compile(r"((?:[ \t]*(?:#[^\n]*)?\n)*)(---)[ \t]*(#[^\n]*)?(?:\n|$)")


def format_text(text: str, kind: str) -> str:
    """The canonical YAML text of a data file of `kind` (scheme, units, observations, external).

    Raises ruamel.yaml's YAMLError for text that is not YAML (format_paths reports it).
    """
    if kind not in SPECS:
        raise ValueError(f"unknown kind of file {kind!r}; expected one of {', '.join(KINDS)}")
    y = round_trip_yaml()
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    start = _DOCUMENT_START.match(text)
    if start:  # ruamel.yaml drops the comments above `---`; the canonical layout has no `---`
        text = text[: start.start(2)] + (start.group(3).lstrip() + "\n" if start.group(3) else "") \
            + text[start.end():]
    data = y.load(text)
    if data is None:
        raise ValueError(_("the file holds no data"))
    if isinstance(data, CommentedMap):
        canonical_words(SPECS[kind], data)
        _apply(SPECS[kind], data, ("root",), _has_shared_collections(data))
    out = io.StringIO()
    y.dump(data, out)
    return out.getvalue().rstrip("\n") + "\n"


# --- files ----------------------------------------------------------------------------

@dataclass
class FmtResult:
    """What a run did. `changed`: files that were not canonical (rewritten unless checking)."""

    check: bool = False
    changed: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)  # every file looked at
    skipped: list[Path] = field(default_factory=list)  # named, but not a kind fmt formats

    @property
    def exit_code(self) -> int:
        """1 when a file could not be handled, or (when checking) a file is not canonical."""
        return 1 if self.problems or (self.check and self.changed) else 0


def data_root(path: Path) -> Path | None:
    """The repository a data file belongs to, from where it lives (see kind_of); None if unknown.

    Writers refuse a symbolic link anywhere between the file and this directory."""
    path = Path(os.path.abspath(path))
    kind = kind_of(path)
    if kind in ("scheme", "units"):
        return path.parent.parent
    if kind in ("observations", "external"):
        return path.parents[3]
    return None


PARALLEL_FROM = 16  # files left to format (not vouched for by the cache): from here they go to forked workers
BATCH_MAX = 16  # files a worker formats per batch at most (~1-2 s of ruamel.yaml)
CANONICAL, CHANGED = b"canonical", b"changed"  # what the cache remembers of a file's bytes (`_memo_key`)


def format_paths(paths: Iterable[Path], check: bool, parallel_from: int | None = None,
                 use_cache: bool = True) -> FmtResult:
    """Format files and directories (a repository, rounds/, a round, schemes/ …).

    With `check`, nothing is written. Files that cannot be read or parsed, symbolic links (the
    file, or a directory inside the repository), and files whose data formatting would change
    are reported and never written. A file keeps its line endings (CRLF or LF, as its first
    line) and its byte-order mark; see gapctl.data.writes for how files are written.

    Bytes the repository's cache (gapctl.data.cache; off with GAPCTL_NO_CACHE=1 or `use_cache`
    False) knows to be canonical are not formatted again (with `check`, nor bytes it knows would
    change): the entry is named by the bytes' hash, the file's kind, gapctl's code and the YAML
    libraries' versions and the read limits in force, and written only after the checks below passed.
    From `parallel_from` (PARALLEL_FROM) files left to format, forked workers (GAPCTL_JOBS, else
    every usable core) format them in batches; their results are merged in path order, so the
    output is the same as one process's.
    """
    result = FmtResult(check=check)
    files: set[Path] = set()
    for path in map(Path, paths):
        if path.is_symlink() and path.is_dir():
            files.add(path)  # reported as a link
        elif path.is_dir():
            files.update(_files_under(path))
        elif path.is_symlink() or path.is_file():
            if kind_of(path):
                files.add(path)
            else:
                result.skipped.append(path)
        else:
            result.problems.append(_("{path}: no such file or directory").format(path=display_path(path)))
    if not check:  # first finish a batch a killed gapctl left (gapctl.data.writes), so that files are read whole
        for root in sorted({r for r in map(data_root, files) if r is not None}):
            recover(root)
    ordered = sorted(files)
    result.files.extend(ordered)
    caches = _Caches(use_cache)
    done: dict[Path, _Done] = {}
    todo: list[Path] = []
    for path in ordered:
        known = caches.known(path, check)
        if known is None:
            todo.append(path)
        else:
            done[path] = known
    for path, outcome in zip(todo, _format_all(todo, check, parallel_from), strict=True):
        done[path] = outcome
        if outcome.verdict is not None:
            caches.remember(path, *outcome.verdict)
    for path in ordered:
        outcome = done[path]
        result.problems.extend(outcome.problems)
        if outcome.changed:
            result.changed.append(path)
        if outcome.written:
            result.written.append(path)
    return result


@dataclass
class _Done:
    """What formatting one file gave; `verdict`: (content hash, CANONICAL or CHANGED) for the cache, when
    the file's bytes passed every check."""

    problems: list[str] = field(default_factory=list)
    changed: bool = False
    written: bool = False
    verdict: tuple[str, bytes] | None = None


class _Caches:
    """The cache of each repository the files belong to (opened once each), and the verdicts it holds."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and not os.environ.get("GAPCTL_NO_CACHE")
        self.opened: dict[Path, Any] = {}
        self.looked: dict[str, bool] = {}  # directories looked at for links (gapctl.data.writes.refusal), once each
        self.places = _Places()
        self.hashers: dict[str | None, Any] = {}  # kind → the hash every key of that kind starts with

    def _cache(self, path: Path) -> Any:
        if not self.enabled:
            return None
        root = self.places.root(path)
        if root is None:
            return None
        if root not in self.opened:
            from gapctl.data.cache import open_cache
            self.opened[root] = open_cache(root)
        return self.opened[root]

    def _key(self, path: Path, digest: str) -> str:
        kind = self.places.kind(path)
        hasher = self.hashers.get(kind)
        if hasher is None:
            from gapctl.data.cache import key_hasher
            hasher = self.hashers[kind] = key_hasher("fmt", kind, _memo_context())
        from gapctl.data.cache import key_from
        return key_from(hasher, digest)  # key_of("fmt", kind, context, digest)

    def known(self, path: Path, check: bool) -> _Done | None:
        """The outcome of a file whose bytes the cache vouches for (canonical; with `check`, also would
        change), else None: the file is formatted."""
        cache = self._cache(path)
        if cache is None or refusal(path, self.places.root(path), self.looked):
            return None  # a refused file is reported by _format_one
        try:
            raw = path.read_bytes()
        except OSError:
            return None
        from gapctl.data.cache import content_hash
        verdict = cache.get(self._key(path, content_hash(raw)))
        if verdict == CANONICAL:
            return _Done()
        if verdict == CHANGED and check:
            return _Done(changed=True)
        return None

    def remember(self, path: Path, digest: str, verdict: bytes) -> None:
        cache = self._cache(path)
        if cache is not None:
            cache.put(self._key(path, digest), verdict)


def _memo_context() -> tuple[Any, ...]:
    """What, besides a file's bytes and kind and gapctl's own code (in every key), decides fmt's verdict on
    them: the versions of the YAML libraries that format and read them back, and the read limits in force."""
    import ruamel.yaml
    import yaml

    from gapctl.data import fast_yaml
    from gapctl.data.sources import max_file_bytes, max_values
    return (ruamel.yaml.__version__, yaml.__version__, fast_yaml.available(), max_file_bytes()[0], max_values()[0])


def _format_all(paths: list[Path], check: bool, parallel_from: int | None) -> Iterable[_Done]:
    """Each file's outcome, in the order of `paths`: here, or from forked workers when there are many."""
    threshold = PARALLEL_FROM if parallel_from is None else parallel_from
    if len(paths) < max(threshold, 2):
        return (_format_one(path, check) for path in paths)
    from gapctl.scoring.executors import in_order
    from gapctl.scoring.outcomes import jobs_wanted  # GAPCTL_JOBS, else the usable cores, as validate and score

    workers = jobs_wanted()
    if workers <= 1:
        return (_format_one(path, check) for path in paths)
    size = max(1, min(BATCH_MAX, -(-len(paths) // (workers * 4))))
    batches = [paths[n:n + size] for n in range(0, len(paths), size)]
    return in_order(_format_batch, check, batches, workers)


def _format_batch(check: bool, batch: list[Path]) -> list[_Done]:
    return [_format_one(path, check) for path in batch]


def _format_one(path: Path, check: bool) -> _Done:
    result = FmtResult(check=check)
    verdict = _format_file(path, check, result)
    return _Done(result.problems, bool(result.changed), bool(result.written), verdict)


def _format_file(path: Path, check: bool, result: FmtResult) -> tuple[str, bytes] | None:
    """Format one file into `result`; the verdict on its bytes when they passed every check."""
    shown = display_path(path)
    why = refusal(path, data_root(path))
    if why:
        result.problems.append(_("{why}; not formatted").format(why=why))
        return None
    try:
        seen = os.lstat(path)  # before reading: a change after this is caught when writing
        raw = path.read_bytes()
    except OSError as err:
        result.problems.append(_("{path}: cannot read file: {reason}").format(path=shown, reason=err.strerror))
        return None
    before = read_file(path, raw)
    if before.data is None or before.problems:  # not YAML, not UTF-8, empty, duplicate keys
        for problem in before.problems:
            result.problems.append(_("{where}: {problem}; not formatted").format(where=problem.locate(),
                                                                                  problem=problem.message))
        return None
    decoded, _hint = decode(raw)
    assert decoded is not None  # read_file decoded it
    original = Original(path, raw, decoded, seen)
    text = original.lf
    try:
        new = format_text(text, kind_of(path) or "")
    except MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"{shown}:{mark.line + 1}:{mark.column + 1}" if mark else shown
        result.problems.append(_("{where}: YAML error: {problem}; not formatted").format(
            where=where, problem=err.problem or err))
        return None
    except Exception as err:  # a file must never stop the others
        result.problems.append(_("{path}: cannot format ({error}); not formatted").format(
            path=shown, error=f"{type(err).__name__}: {err}"))
        return None
    encoded = original.encode(new)
    after = read_file(path, encoded)
    if after.data is None or after.problems or _read_as(after.data, path) != _read_as(before.data, path):
        result.problems.append(_("{path}: formatting would change the data read from it (a gapctl fmt bug; please "
                                 "report it); not formatted").format(path=shown))
        return None
    if sorted(comment_texts(new)) != sorted(comment_texts(text)):
        result.problems.append(_("{path}: formatting would lose or duplicate a comment (a gapctl fmt bug; please "
                                 "report it); not formatted").format(path=shown))
        return None
    from gapctl.data.cache import content_hash  # the hash `_Caches.known` looks the bytes up by
    digest = content_hash(raw)
    if encoded == raw:
        return digest, CANONICAL
    result.changed.append(path)
    if check:
        return digest, CHANGED
    try:
        write_atomically(path, encoded, original.seen, root=data_root(path))
    except WriteError as err:
        result.problems.append(str(err))
        return digest, CHANGED
    result.written.append(path)
    return digest, CHANGED


def _read_as(data: Any, path: Path) -> Any:
    """The data as gapctl reads it, types visible: aliases read as their words (完成 as done)."""
    spec = SPECS.get(kind_of(path) or "")
    if spec is not None:
        canonical_words(spec, data)
    return _strict(data)
