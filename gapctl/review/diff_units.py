"""Both sides of a diff file by file: summaries from gapctl.scoring.outcomes, details only where a unit can differ.

Who calls it: `gapctl.review.diff` for every pair of rounds it compares (two revisions of a round, two
rounds, every round of a repository). Each side is checked and scored file by file
(`outcomes.check` with the revision's `GitTree`, through the cache: a file with the same
content has the same entry on both sides, so an unchanged round costs a warm score twice).
A unit whose observation file, unit record, scheme, appeals, external shares and round file
are the same on both sides (the same cache identity) scored its indicators the same, so only
what ranking decided can differ, and that is in the summaries: such a unit is compared without
reading its file. The others are detailed (gapctl.scoring.details) on both sides, in a pool when there
are many, and the workers hand back the indicator changes. The result is what
`diff.compare` gives for the whole rounds.

What it refuses: a side that cannot be loaded or has validation errors (`sides` gives None);
the caller keeps the whole-round path for those, which also scores an invalid round.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from gapctl.collector import paused_gc
from gapctl.data.sources import SourceFile
from gapctl.data.spool import Spool
from gapctl.scoring import details, executors, outcomes
from gapctl.scoring.score import UnitScore


def side(directory: Path, tree: Any = None, memo: dict[Any, Any] | None = None,
         earlier: details.Source | None = None, keep_records: bool = False) -> details.Source | None:
    """One side checked and scored file by file, or None when it has errors (or is no round). `memo` (by
    default that of the `sides` call under way): shared with the other side's check, so that a scheme or
    unit set of the same bytes on both sides is built once and held once (the same objects: loading never
    changes them; at 30,000 units a unit set is some 40 MB). `earlier`: the other side, whose file tables
    this side takes where they are equal (`_share_files`), and whose finished records (`keep_records`: kept
    by the older side) finish this side's units whose files are the same (`outcomes.score`): those units
    are held as the few figures a record gives (`RoundPlan.recorded`), not as summaries."""
    if memo is None and _MEMO is not None:  # one of the sides of the `sides` call under way
        memo, earlier = _MEMO, _EARLIER if earlier is None else earlier
        keep_records = keep_records or earlier is None  # the older side keeps them for the newer
    checked = outcomes.check(directory, True, tree=tree, memo=memo, light=earlier is not None)
    if earlier is not None:
        _vouching_done(earlier)
    return _finished(checked, earlier, keep_records=keep_records)


def _vouching_done(earlier: details.Source) -> None:
    """The older side's revision forgets which files it found on disk to be its blobs, once the newer side
    has taken their hashes (`outcomes.share_plan`, `_vouch`): some 6 MB at 30,000 files, let go before the
    newer side is scored. A file of it read again later (to detail a changed unit) is checked against its
    blob id again, as any file not vouched for is."""
    vouched = getattr(earlier.plan.round.tree, "vouched", None)
    if isinstance(vouched, dict):
        vouched.clear()


_MEMO: dict[Any, Any] | None = None  # `load`'s memo while `sides` computes both sides
_EARLIER: details.Source | None = None  # and the older side, while it computes the newer


def _finished(checked: outcomes.Checked, earlier: details.Source | None = None,
              keep_records: bool = False) -> details.Source | None:
    if checked.loaded.round is None or checked.report.errors or len(checked.plans) != 1:
        return None
    with paused_gc():
        source = details.prepare(checked, None)  # type: ignore[arg-type]  # each unit's file, from the outcomes
        records = None
        if earlier is not None:
            _share_files(earlier, source)
            same = earlier.plan.records is not None and earlier.plan.context == source.plan.context
            records = earlier.plan.records if same else {}  # {}: no records (a round file of other bytes)
        # the outcomes let go before ranking
        source.scored = outcomes.score(checked, release=True, keep_records=keep_records, records=records)
        if earlier is not None:
            if isinstance(earlier.plan.records, Records):
                earlier.plan.records.file.close()
            earlier.plan.records = None
        if keep_records and source.plan.records is not None:
            source.plan.records = Records(source.plan.records)
    return source


class Records(Spool):
    """The older side's finished records (unit id → its record's bytes), as `outcomes.score` reads the
    `records` it is given (`get`, `len`), kept in a temporary file and read back one at a time: 30,000 bytes
    objects of ~250 bytes each took ~10 MB (and one buffer of them ~8 MB) while the newer side was computed."""


def _share_files(old: details.Source, new: details.Source) -> None:
    """The newer side's file tables as the older side's when they are equal (the same file of each unit;
    compared only when both sides list their files in the same list, so that paths compare by identity)."""
    if old.round.observation_paths is new.round.observation_paths and old.files == new.files:
        new.files = old.files
    if old.round.channel_paths is new.round.channel_paths and old.channel_files == new.channel_files:
        new.channel_files = old.channel_files


def sides(old_directory: Path, old_tree: Any, new_directory: Path, new_tree: Any, memo: dict[Any, Any] | None = None
          ) -> tuple[details.Source | None, details.Source | None]:
    """Both sides (`side`; the newer None when the older is). With the cache on, a file the same on both
    sides is computed once and found in the cache for the other; with it off (`--no-cache`,
    GAPCTL_NO_CACHE), the older side's outcomes are kept encoded (in a temporary file) by path with their
    keys, and the newer side takes each file whose key is the same from there (`Shared`): only the files
    that differ are read, checked and scored twice."""
    from gapctl.scoring import one_pass
    from gapctl.scoring.executors import chosen

    global _MEMO, _EARLIER
    memo = {} if memo is None else memo  # the schemes and unit sets both sides share, read and built once
    if not one_pass.cache_off(True) or chosen() is not None:
        primed_unit_sets([(old_directory, old_tree), (new_directory, new_tree)])
        _MEMO = memo
        try:
            old = side(old_directory, old_tree)
            if old is None:
                return None, None
            slimmed_when_large(old)
            _EARLIER = old
            return old, side(new_directory, new_tree)
        finally:
            _MEMO = _EARLIER = None
    shared = Shared()
    try:
        old = _finished(outcomes.check(old_directory, False, tree=old_tree, run=shared.keeping, memo=memo),
                        keep_records=True)
        if old is None:
            return None, None
        slimmed_when_large(old)
        checked = outcomes.check(new_directory, False, tree=new_tree, run=shared.reusing, memo=memo, light=True)
        _vouching_done(old)
        return old, _finished(checked, old)
    finally:
        shared.close()


PRIME_FROM = 1_000_000
"""Bytes of a unit-set file from which `primed_unit_sets` builds it in a forked process (~10,000 units)."""


def primed_unit_sets(pairs: list[tuple[Path, Any]]) -> int:
    """The large unit sets of these sides (directory, tree) that the cache lacks, built into it by a forked
    process, so that the sides' `load` reads them back from the cache instead of parsing them; how many.

    Parsing a unit-set file leaves the parser's garbage behind as free blocks among the objects kept (pymalloc
    gives an arena back only once all of it is free): at 30,000 units a process that had loaded the round with
    its unit set parsed held ~160 MB, with it read back from the cache ~60 MB, and every worker forked later
    shares, then copies, those pages. The child parses it (what this process would have done), the cache keeps
    it (as it would have), and this process reads it back compactly. Nothing is forked when the cache already
    has them (a warm diff), when no unit set is that large (GAPCTL_DIFF_PRIME_FROM overrides PRIME_FROM), with
    the cache off, or without `fork`; a child that fails leaves them to be parsed here as before."""
    import os

    from gapctl.data import cache as C
    from gapctl.data.tree import DiskTree, GitError
    from gapctl.scoring.load import data_files, file_cache_key, find_repository_root

    try:
        limit = int(os.environ.get("GAPCTL_DIFF_PRIME_FROM", PRIME_FROM))
    except ValueError:
        limit = PRIME_FROM
    if not hasattr(os, "fork") or not pairs:
        return 0
    found: dict[str, tuple[Path, Any]] = {}  # cache key → (path, tree): a set the same on both sides once
    for directory, tree in pairs:
        tree = tree if tree is not None else DiskTree()
        root = find_repository_root(Path(directory).parent, tree) or Path(directory).parent
        for listed in data_files(root / "units", tree):
            path = root / "units" / listed.name  # as `load` names it (`_find_by_id`)
            try:
                data = tree.read_bytes(path)
            except (OSError, ValueError, GitError):  # `load` reports it
                continue
            if len(data) >= limit:
                found.setdefault(file_cache_key(path, "units", data), (path, tree))
    if not found:
        return 0
    start = Path(pairs[0][0])
    cache = C.open_cache(find_repository_root(start.resolve()), True)  # the cache `outcomes.check` opens
    if cache is None:
        return 0
    C.opened(cache)  # and takes from here instead of checking the directory again
    missing = [(path, tree) for key, (path, tree) in found.items() if not cache.path(key).is_file()]
    if not missing:
        return 0
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child (its coverage is not collected)
        code = 1
        try:
            _build_into_cache(cache, missing)
            code = 0
        finally:
            os._exit(code)
    os.waitpid(pid, 0)
    return len(missing)


def _build_into_cache(cache: Any, missing: list[tuple[Path, Any]]) -> None:  # pragma: no cover - in the child
    """In the forked child: each unit set built and kept in the cache, as `load` does with a cache; its output
    silenced (what it would say, the parent's own load says)."""
    import os

    from gapctl.data.model import Repository
    from gapctl.scoring.load import Loaded, build_unit_set, find_repository_root

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    for path, tree in missing:
        root = find_repository_root(path.parent.parent, tree) or path.parent.parent
        Loaded(Repository(root), tree=tree, cache=cache).build(path, "units", build_unit_set)
    for _path, tree in missing:
        tree.close()


class Slim:
    """An older side's unit as the diff keeps it while the newer side is computed and compared: what the
    comparison, the gates and the views read of it (its unit, scheme, total, grade, ranks, groups), a digest
    of what ranking decided of its leaves (`_decided`), and where its whole summary waits, pickled, for
    the few units whose indicators are compared (`Slimmed.summary`). Some 200 bytes a unit instead of a
    summary's few kilobytes: a 30,000-unit diff no longer holds both sides' summaries at once."""

    __slots__ = ("unit", "scheme", "total", "grade", "grade_en", "rank", "category_rank", "groups", "source",
                 "period", "decided", "_place")

    def __init__(self, score: UnitScore, place: tuple[int, int] | None) -> None:
        self.unit, self.scheme = score.unit, score.scheme
        self.total, self.grade = _same(score.total), _text(score.grade)
        self.grade_en, self.rank, self.category_rank = _text(score.grade_en), score.rank, score.category_rank
        self.groups, self.source, self.period = score.groups or _NO_GROUPS, score.source, score.period
        self.decided = _digest(score)
        self._place = None if place is None else place[0] << 32 | place[1]  # one int, not a tuple of two

    @property
    def place(self) -> tuple[int, int] | None:
        """Where its summary is in the store (offset, length); None when it kept its summary."""
        return None if self._place is None else (self._place >> 32, self._place & 0xFFFFFFFF)


_NO_GROUPS: dict[str, Any] = {}  # shared by the units that have none; never written to
_FIGURES: dict[tuple[type, str], Any] = {}  # each total once: 30,000 units share a few hundred figures


def _same(value: Any) -> Any:
    """The one object kept for a figure equal to `value` and written the same (Decimals are immutable;
    `Decimal('1.0') == Decimal('1.00')` but they print differently, so the text is part of the key)."""
    if value is None:
        return None
    key = (type(value), str(value))
    found = _FIGURES.get(key)
    if found is None:
        if len(_FIGURES) >= 65536:  # a round of that many distinct totals: kept as they are
            return value
        found = _FIGURES[key] = value
    return found


def _text(value: Any) -> Any:
    import sys
    return sys.intern(value) if type(value) is str else value


def _digest(score: Any) -> bytes:
    """`_decided(score)` as 16 bytes (the whole list written exactly, then hashed)."""
    import hashlib
    if isinstance(score, Slim):
        return score.decided
    return hashlib.blake2b(repr(_decided(score)).encode(), digest_size=16).digest()


class Slimmed:
    """An older side's summaries, pickled into a temporary file by reference to the round's objects (its
    schemes, indicators and units by the names `outcomes` gives them, each unit's own file as `OWN`, the
    files a scheme's parts point at by the object): what is read back is the summary itself, its parts the
    round's own objects.

    A reference is written as a call of `_named(name)` (`Pickler.reducer_override`, which pickle asks only
    about objects that are not plain strings, numbers or containers: a few dozen a summary, where
    `persistent_id` was asked about each of its hundreds of objects), and one pickler serves every unit
    (its memo cleared between units, so that each reads back on its own). The plan's reference tables are
    used as they are, not copied (at 30,000 units each is a few MB), and a unit's own file is its `Slim`'s."""

    def __init__(self, source: details.Source) -> None:
        import io
        import pickle
        import tempfile

        self.file = tempfile.TemporaryFile()
        self.objects = source.plan.objects  # never written to here
        self.files: dict[str, Any] = {}  # the files a scheme's parts point at, by the names given them here
        refs = source.plan.references
        own_refs: dict[int, str] = {}
        files = self.files

        class Pickler(pickle.Pickler):
            own = -1  # id() of the unit's own file, the one being written

            def reducer_override(self, obj: Any) -> Any:
                key = id(obj)
                if key == self.own:
                    return _named, (OWN,)
                name = refs.get(key) or own_refs.get(key)
                if name is None:
                    if type(obj) is not SourceFile:
                        return NotImplemented
                    name = own_refs[key] = f"file\x1f{key}"  # a scheme's file, which its parts point at
                    files[name] = obj
                return _named, (name,)
        self.buffer = io.BytesIO()
        self.pickler = Pickler(self.buffer, pickle.HIGHEST_PROTOCOL)
        self.end = 0

    def put(self, score: UnitScore) -> tuple[int, int] | None:
        self.buffer.seek(0)
        self.buffer.truncate()
        self.pickler.clear_memo()
        self.pickler.own = id(score.source) if score.source is not None else -1  # type: ignore[attr-defined]
        try:
            self.pickler.dump(score)
        except Exception:  # something that does not pickle: the unit keeps its summary
            return None
        data = self.buffer.getvalue()
        self.file.seek(self.end)
        self.file.write(data)
        place = (self.end, len(data))
        self.end += len(data)
        return place

    def summary(self, slim: Slim) -> UnitScore:
        import pickle
        assert slim.place is not None
        self.file.seek(slim.place[0])
        objects, files, own = self.objects, self.files, slim.source

        def named(name: str) -> Any:
            if name == OWN:
                return own
            found = files.get(name)
            return found if found is not None else objects[name]

        class Unpickler(pickle.Unpickler):
            def find_class(self, module: str, name: str) -> Any:
                if module == __name__ and name == "_named":
                    return named
                return super().find_class(module, name)
        return Unpickler(io_bytes(self.file.read(slim.place[1]))).load()


OWN = "own\x1f"  # the name `Slimmed` gives a unit's own file (the plan's names are JSON: never this)


def _named(name: str) -> Any:
    """What a slim store's pickle calls for a reference; `Slimmed.summary` reads it as a look-up of its objects."""
    raise RuntimeError(f"{name}: a reference read back outside Slimmed.summary")


def io_bytes(data: bytes) -> Any:
    import io
    return io.BytesIO(data)


SLIM_FROM = 10_000
"""Units from which the older side is made slim (`slimmed`) before the newer is computed. Pickling a summary
away costs ~0.13 ms a unit (~0.3 ms before `Slimmed` pickled references through `reducer_override`; then a
third of a warm 3,000-unit diff) and saves ~3 KB: worth it where memory is the limit (482 → 390 MB at 30,000
units), not for a round of a few thousand units (~10 MB)."""


def slimmed_when_large(source: details.Source) -> None:
    """`slimmed(source)` when the side has SLIM_FROM units or more (GAPCTL_DIFF_SLIM_FROM overrides it)."""
    import os
    try:
        limit = int(os.environ.get("GAPCTL_DIFF_SLIM_FROM", SLIM_FROM))
    except ValueError:
        limit = SLIM_FROM
    if len(source.scored.units) >= limit:
        slimmed(source)
        executors.trim_heap()  # what the older side's scoring freed is not held while the newer side is computed


def slimmed(source: details.Source) -> None:
    """The older side made slim in place: its identities taken now, each unit's summary pickled away and
    replaced by a `Slim` (its unit scores as `compare` reads them), its file outcomes dropped. A unit
    whose summary cannot be pickled keeps it."""
    source.identities = identities(source)  # type: ignore[attr-defined]
    store = Slimmed(source)
    units = []
    for score in source.scored.units:
        place = store.put(score)
        units.append(Slim(score, place) if place is not None else score)
    source.scored.units = units
    source.slimmed = store  # type: ignore[attr-defined]


def full_summary(source: details.Source, score: Any) -> UnitScore:
    """A unit's whole summary: itself, or for a `Slim` its pickled summary read back."""
    if isinstance(score, Slim):
        return source.slimmed.summary(score)  # type: ignore[attr-defined]
    return score


class Shared:
    """The older side's outcomes, encoded as `outcomes` caches them, by path with their cache keys, in a
    temporary file: what the newer side of a diff without a cache reuses where a file's key is the same."""

    def __init__(self) -> None:
        import tempfile
        self.file = tempfile.TemporaryFile()
        self.places: dict[Path, tuple[str, int, int]] = {}  # path → (key, offset, length)
        self.end = 0
        self.context: tuple[Any, ...] | None = None
        self.reused = 0

    def close(self) -> None:
        self.file.close()

    def keeping(self, plan: Any, only_round: bool) -> None:
        """`outcomes.check`'s `run` for the older side: every file computed, each outcome kept with its key."""
        from gapctl.scoring import one_pass
        keys: list[str | None] = [None] * len(outcomes.round_paths(plan))

        def keep(index: int, path: Path, outcome: Any, payload: bytes | None, key: str | None, _kept: Any) -> None:
            keys[index] = key
            if key is not None and payload is not None:
                self.file.seek(self.end)
                self.file.write(payload)
                self.places[path] = (key, self.end, len(payload))
                self.end += len(payload)
        one_pass._run(plan, None, {}, None, keep=keep)
        plan.keys = keys  # what `identities` compares, without hashing each file again
        self.context = (plan.context, plan.round.directory)

    def reusing(self, plan: Any, only_round: bool) -> None:
        """`outcomes.check`'s `run` for the newer side: a file whose key is the older side's takes its outcome."""
        from gapctl.scoring import one_pass
        keys: list[str | None] = [None] * len(outcomes.round_paths(plan))
        same = self.context == (plan.context, plan.round.directory)

        def reuse(index: int, path: Path) -> Any:
            found = self.places.get(path) if same else None
            if found is None:
                return None
            key = keys[index] = outcomes.file_key(plan, path)
            if key != found[0]:
                return None
            self.file.seek(found[1])
            try:
                # its score left packed: built only if the older side's record of it does not hold
                outcome = outcomes.load_outcome(plan, path, self.file.read(found[2]), lazy=True)
            except Exception:  # cannot be read back here: computed instead
                return None
            self.reused += 1
            return outcome

        def keep(index: int, path: Path, outcome: Any, payload: bytes | None, key: str | None, _kept: Any) -> None:
            keys[index] = key
        one_pass._run(plan, None, {}, None, reuse=reuse, keep=keep)
        plan.keys = keys


def identities(source: details.Source) -> dict[str, tuple[Any, ...]]:
    """Unit id → what its own scoring depends on: the round's context, the unit's key and its
    observation file's (the cache's keys; each file's bytes are read when the cache is off)."""
    kept = getattr(source, "identities", None)
    if kept is not None:  # taken when the side was made slim
        return kept
    plan = source.plan
    paths = plan.round.observation_paths + plan.round.channel_paths
    keys = dict(zip(paths, plan.keys, strict=False)) if plan.keys else {}
    out = {}
    for unit_id in plan.units:
        path = source.files.get(unit_id)
        key = None
        if path is not None:
            key = keys.get(path) or outcomes.file_key(plan, path) or ("unreadable", str(path))
        out[unit_id] = (plan.context, plan.unit_keys.get(unit_id), key)
    return out


def _decided(score: UnitScore) -> list[tuple[Any, ...]]:
    """What ranking and the later phases decided of a unit's indicators (its summary's leaves)."""
    return [(key, leaf.state, leaf.points, leaf.earned) for key, leaf in score.leaves.items()]


def indicator_changes(old: details.Source, new: details.Source,
                      progress: Callable[[int, int], None] | None = None) -> dict[str, list[Any]]:
    """Unit id → its indicator changes, for the units on both sides that can differ; the others have none."""
    from gapctl.review.diff import _indicator_changes

    before, after = identities(old), identities(new)
    old_units = old.scored.by_unit()
    recorded = new.plan.recorded  # finished from the older side's record: the same leaves, by construction
    rows = []
    for n in new.scored.units:
        o = old_units.get(n.unit.id)
        if o is None:
            continue
        same = before.get(n.unit.id) == after.get(n.unit.id)
        if same and n.unit.id in recorded:
            continue
        if not same or _digest(o) != _digest(n):
            rows.append([full_summary(old, o), full_summary(new, n)])

    def work(found: list[Any]) -> tuple[str, list[Any]]:
        return found[1].unit.id, _indicator_changes(found[0], found[1])
    return dict(details.each([old, new], rows, work, progress))


class Channels:
    """Unit id → its channels' scores: summaries, detailed on first use (a channel whose total moved
    shows its own indicator changes)."""

    def __init__(self, source: details.Source) -> None:
        self.source = source
        self.summaries = source.scored.channels
        self.done: dict[str, list[UnitScore]] = {}

    def get(self, unit_id: str, default: Any = None) -> Any:
        if unit_id not in self.summaries:
            return default
        if unit_id not in self.done:
            self.done[unit_id] = details.channel_details(self.source, unit_id)
        return self.done[unit_id]


def observations_of(source: details.Source, unit_ids: list[str]) -> dict[str, Any]:
    """The observation files of these units, read again (for attribution: which lines changed)."""
    out = {}
    for unit_id in unit_ids:
        path = source.files.get(unit_id)
        if path is not None:
            obs = details.observations(source, path)
            if obs is not None:
                out[unit_id] = obs
    return out
