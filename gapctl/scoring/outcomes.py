"""Validate and score a round file by file: on every core for large rounds, from the cache when unchanged.

`check` gives the problems `api.check` gives, and `score` the numbers `score.score_round`
gives, without holding every observation in memory: each observation file becomes a
`FileOutcome` (its problems and a summary of its unit's score, see `score.summarise`),
computed in a process pool when the round has `PARALLEL_FROM` files or more (on a Dask
cluster with `--executor dask`: gapctl.scoring.executors, gapctl.scoring.pipeline), and kept in
the content-addressed cache (`gapctl.data.cache`) under a key made of the file's bytes and
everything else its outcome depends on. Only the cross-unit work (rank bonuses, totals,
ranks) and the checks that touch other files (evidence files, appeals, units without a
file) run on every call. `validate` and `score` use this path; `explain`, `report` and
`diff`, which need every observation, load the round whole.
"""

from __future__ import annotations

import os
import stat
import struct
import sys
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from gapctl import codec, i18n
from gapctl.collector import paused_gc
from gapctl.data import cache as C
from gapctl.data.journal import pending
from gapctl.data.model import Evidence, Round, Unit
from gapctl.data.reads import ci_mode, read_bytes
from gapctl.data.sources import SourceFile, display_path, max_file_bytes, over_limit, read_file
from gapctl.data.tree import DiskTree
from gapctl.problems import ERROR, Report
from gapctl.scoring import compact
from gapctl.scoring.executors import chosen, forked_pool
from gapctl.scoring.load import Loaded, build_observations, load, second_file, unreadable_problem
from gapctl.scoring.score import (
    ExternalShare,
    RoundScore,
    UnitScore,
    external_shares,
    imported_losses,
    period_scores,
    rank_round,
    ranking_inputs,
    score_channel,
    score_unit,
    summarise,
)
from gapctl.scoring.validate import (
    check_appeals,
    check_definitions,
    check_evidence_file,
    check_missing_observations,
    check_observation_file,
    check_round_context,
)

PARALLEL_FROM = 200  # observation files; below this one process is faster than starting a pool
Progress = Callable[[int, int], None]


@dataclass(slots=True)  # one per observation file, all kept: no __dict__ each
class FileOutcome:
    """What reading, checking and scoring one observation file gave."""

    src: SourceFile
    unit: str | None  # the file's `unit:`; None when it could not be read
    load_problems: list[Any] = field(default_factory=list)
    check_problems: list[Any] = field(default_factory=list)
    evidence_files: list[Evidence] = field(default_factory=list)  # checked on every run
    measures: dict[str, Decimal] = field(default_factory=dict)
    score: UnitScore | None = None  # a summary; None when the file or its context has errors
    channel: str | None = None  # a channel's file (rounds/<r>/channels/<unit>/<channel>.yaml)
    progress: tuple[int, int, int] | None = None  # what `gapctl status` counts (see `progress_counts`)
    deferred: Any = None  # a score read lazily and not built yet (`compact.materialise`; `score` builds it)


@dataclass
class RoundPlan:
    """A round's observation files and what each file's outcome depends on besides its bytes."""

    round: Round
    units: dict[str, Unit]
    can_score: bool
    context: str
    unit_keys: dict[str, str]
    externals: dict[str, list[ExternalShare]]
    keep_nodes: dict[str, set[str]]
    references: dict[int, str]  # id() of a live object → the name an outcome refers to it by
    objects: dict[str, Any]     # and back (problem kinds included)
    cache: C.Cache | None = None
    outcomes: list[FileOutcome] = field(default_factory=list)
    displays: dict[str, str] = field(default_factory=dict)  # a directory (its str) → how it is shown
    keys: list[str | None] = field(default_factory=list)  # each file's cache key (None: not cached)
    computed: int = 0  # files read and checked this time (the others came from the cache)
    hashes: dict[Path, str] = field(default_factory=dict)  # sha256 of the files read here (gapctl.review.provenance)
    keyed: tuple[str, Any] | None = None  # (context, C.key_hasher(context)) for `_key_of_hash`
    links: set[Path] | None = None  # files `run_plan` found to be symbolic links (None: not looked at)
    all_paths: Any = field(default=None, repr=False, compare=False)  # `round_paths`, made once
    records: dict[str, bytes] | None = None  # finished records kept in memory (`score(keep_records=True)`)
    recorded: set[str] = field(default_factory=set)  # units `score` finished from records (`_light_scores`)
    vouching: Any = None  # an earlier plan whose tree vouches for files on disk (`share_plan`, `_vouch`)


@dataclass
class Checked:
    """`check`'s result: like api.CheckResult, plus the plans that `score` continues from."""

    loaded: Loaded
    report: Report
    files: int
    plans: list[RoundPlan]
    cache: C.Cache | None = None
    light: bool = False  # `check(light=True)`: `score` gives what `gapctl score` prints (see `_light_scores`)


def jobs_wanted() -> int:
    """Worker processes: GAPCTL_JOBS, else the cores this process may use."""
    try:
        return max(1, int(os.environ["GAPCTL_JOBS"]))
    except (KeyError, ValueError):
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def check(path: Path | str, use_cache: bool = True, progress: Progress | None = None, tree: Any = None,
          run: Callable[[RoundPlan, bool], None] | None = None, light: bool = False,
          memo: dict[Any, Any] | None = None) -> Checked:
    """Load, validate and summarise-score a round (or every round of a repository); `tree`: read the
    files of a git revision (gapctl.data.tree.GitTree) instead of the disk's; `run(plan, only_round)`:
    compute each round's outcomes another way (gapctl.scoring.one_pass) instead of `run_plan`. `light`:
    `score` then gives only what `gapctl score` prints of each unit (totals, grades, flags, ranks), from
    the round's finished records in the cache where they still hold (`_light_scores`). `memo`: shared
    between the checks of two sides (gapctl.review.diff_units), so that a scheme or unit set with the same
    bytes is built once and is the same object on both sides (`load`'s memo)."""
    from gapctl.scoring.load import find_repository_root

    path = Path(path)
    with paused_gc():
        start = path if path.is_dir() else path.parent
        root = find_repository_root(start.resolve())
        for line in pending(root) if root is not None else []:  # a batch a killed gapctl left unfinished
            C.notice(line)
        cache = C.open_cache(root, use_cache)
        loaded = load(path, observations=False, cache=cache, tree=tree, memo=memo)
        repo = loaded.repository
        report = Report(list(loaded.problems) + check_definitions(repo))
        rounds = [loaded.round] if loaded.round else list(repo.rounds.values())
        plans = []
        files = loaded.files_read
        for round_ in rounds:
            if round_ is None:
                continue
            context_problems = check_round_context(round_)
            report.extend(context_problems)
            earlier = _earlier_plan(memo, round_)
            plan = plan_round(round_, cache, can_score=not any(p.severity == ERROR for p in report.problems))
            if earlier is not None:
                share_plan(plan, earlier)
            if run is None:
                run_plan(plan, progress, lazy=light and cache is not None)
            else:
                run(plan, len(rounds) == 1)
            if earlier is not None:
                share_keys(plan, earlier)
            if memo is not None:
                memo[_PLAN_MEMO] = (plan, [])
            report.extend(merge_outcomes(plan))
            files += len(round_.observation_paths) + len(round_.channel_paths)
            plans.append(plan)
    return Checked(loaded, report, files, plans, cache, light)


_PLAN_MEMO = ("", "outcomes.plan")  # in `load`'s memo: the last plan `check` made with it, (plan, [])


def _earlier_plan(memo: dict[Any, Any] | None, round_: Round) -> RoundPlan | None:
    """The plan an earlier `check` with the same memo made for a round in the same directory (the other
    side of a diff), whose objects this round's plan may share (`share_plan`)."""
    found = memo.get(_PLAN_MEMO) if memo is not None else None
    plan = found[0] if found is not None else None
    if plan is None or plan.round is round_ or str(plan.round.directory) != str(round_.directory):
        return None
    return plan


def _same_paths(a: list[Path], b: list[Path]) -> bool:
    return len(a) == len(b) and all(os.fspath(x) == os.fspath(y) for x, y in zip(a, b, strict=True))


def share_plan(plan: RoundPlan, earlier: RoundPlan) -> None:
    """Take the earlier plan's objects where this plan's are equal: its round's file lists, its units' keys,
    external shares and reference tables. The two sides of a diff of one round plan the same units with the
    same unit set and schemes (`load`'s memo makes them the same objects): at 30,000 units these are some
    30 MB a side, held once instead of twice. Nothing here is changed after planning."""
    round_, before = plan.round, earlier.round
    if _same_paths(round_.observation_paths, before.observation_paths) \
            and _same_paths(round_.channel_paths, before.channel_paths):
        round_.observation_paths, round_.channel_paths = before.observation_paths, before.channel_paths
        if earlier.all_paths is not None:
            plan.all_paths = earlier.all_paths  # `round_paths` checks that it is made of these very lists
    if plan.unit_keys == earlier.unit_keys:
        plan.unit_keys = earlier.unit_keys
    if plan.externals == earlier.externals:
        plan.externals = earlier.externals
    if plan.references == earlier.references and len(plan.objects) == len(earlier.objects) \
            and all(earlier.objects.get(name) is obj for name, obj in plan.objects.items()):
        plan.references, plan.objects = earlier.references, earlier.objects
    if _on_disk(round_.tree) and hasattr(before.tree, "vouched_for"):
        plan.vouching = earlier


def _vouch(plan: RoundPlan, index: C.StatIndex) -> None:
    """The stat index trusts, for this run, the content hash the earlier plan took of each file its tree
    read from disk and found to be the revision's blob (gapctl.review.blobs.CheckedOutTree): the working
    tree's side of a diff does not read and hash again the files the revision's side read moments ago."""
    earlier, plan.vouching = plan.vouching, None
    tree, hashes = earlier.round.tree, earlier.hashes
    for path in round_paths(earlier):
        digest = hashes.get(path)
        found = tree.vouched_for(path) if digest is not None else None
        if found is not None:
            index.vouch(path, found[0], digest, found[2], found[1])


def share_keys(plan: RoundPlan, earlier: RoundPlan) -> None:
    """This plan's file keys and content hashes as the earlier plan's strings where they are equal (the
    files the same on both sides of a diff: nearly all of them)."""
    if len(plan.keys) == len(earlier.keys) and round_paths(plan) is round_paths(earlier):
        keys, before = plan.keys, earlier.keys
        for index, key in enumerate(keys):
            if key is not None and key == before[index]:
                keys[index] = before[index]
    hashes, before_hashes = plan.hashes, earlier.hashes
    for path, digest in hashes.items():
        found = before_hashes.get(path)
        if found is not None and found == digest:
            hashes[path] = found


def score(checked: Checked, final: bool = False, release: bool = False, keep_records: bool = False,
          records: dict[str, bytes] | None = None) -> RoundScore:
    """The round's scores from a `check` without errors (one round). `release`: the plan's outcomes are
    let go before the units are ranked (`plan.outcomes` is then empty; what is kept of them is in the
    scores): a caller that took what it needs of them first (gapctl.review.diff_units) does not hold
    30,000 of them while ranking.

    The two sides of a diff (gapctl.review.diff_units): `keep_records` (the older side, not light) keeps each
    finished unit's record in memory (`plan.records`, as `_write_finished` would write them); `records`
    (the newer side, checked `light`) are those records: a unit whose file has the key its record was
    made with is finished from it (`_light_scores`, `plan.recorded`) instead of from its summary, and
    nothing is written to the cache."""
    plan = checked.plans[0]
    round_ = plan.round
    by_unit = {o.unit: o for o in plan.outcomes if o.unit is not None and o.channel is None}
    channels: dict[str, list[UnitScore]] = {}
    for outcome in plan.outcomes:
        if outcome.channel is not None and outcome.unit is not None and _score_of(plan, outcome) is not None:
            channels.setdefault(outcome.unit, []).append(outcome.score)
    scores: list[UnitScore] = []
    light = checked.light and (plan.cache is not None or records is not None)
    memo = (_read_finished(plan) if records is None else records) if light else {}
    file_keys = dict(zip(round_paths(plan), plan.keys, strict=True)) if light or keep_records else {}
    recorded: dict[int, tuple[FileOutcome, tuple[Any, bytes]]] = {}  # id() of a score read from a record
    with paused_gc():
        for unit in round_.unit_set.units if round_.unit_set else []:
            scheme = round_.scheme_for(unit)
            if scheme is None:
                continue
            outcome = by_unit.get(unit.id)
            if outcome is not None:
                found = _from_record(plan, outcome, memo.get(unit.id), file_keys) if memo else None
                if found is not None:
                    recorded[id(found[0])] = (outcome, found[1])
                    if release:  # its packed summary let go too: read again from its file if ever needed
                        outcome.deferred = None
                    scores.append(found[0])
                    continue
                assert _score_of(plan, outcome) is not None, "score() needs a check without errors"
                scores.append(outcome.score)
            else:
                scores.append(summarise(planned_score(plan, scheme, unit, None), plan.keep_nodes[scheme.id]))
        measures = {o.unit: o.measures for o in by_unit.values() if o.unit is not None}
        if release:
            plan.outcomes = []
            by_unit.clear()
        if keep_records and not light:
            return _kept_records(plan, scores, measures, final, channels, file_keys)
        if not light:
            return rank_round(round_, scores, measures, final, channels, period_scores(round_))
        return _light_scores(plan, scores, measures, final, channels, recorded, memo, file_keys,
                             write=records is None)


# --- `gapctl score` from finished records ------------------------------------------------

def _score_of(plan: RoundPlan, outcome: FileOutcome) -> UnitScore | None:
    """The outcome's score, built now if it was read lazily (computed again if it cannot be read)."""
    if outcome.deferred is not None:
        objects = plan.objects
        own = outcome.src

        def resolve(name: str) -> Any:
            return own if name == OWN else objects[name]
        try:
            compact.materialise(outcome, resolve)
        except codec.CodecError:  # signed by this user but unreadable with this code: computed again
            outcome.score, outcome.deferred = compute_outcome(plan, outcome.src.path)[0].score, None
    return outcome.score


def finished_key(plan: RoundPlan) -> str:
    return C.key_of("finished", plan.context, compact.FINISHED)


def _read_finished(plan: RoundPlan) -> dict[str, bytes]:
    """The round's finished records by unit id (`compact.finished_record`, each in its own MessagePack
    bytes), as the last `gapctl score` of the same round context wrote them; {} when there are none or
    they cannot be read."""
    assert plan.cache is not None
    payload = plan.cache.get(finished_key(plan))
    if payload is None:
        return {}
    try:
        import msgpack
        value = msgpack.unpackb(payload, raw=False, use_list=True)
    except Exception:  # not this code's records: every unit is finished again and the records rewritten
        return {}
    if not isinstance(value, dict):
        return {}
    return value


def _from_record(plan: RoundPlan, outcome: FileOutcome, blob: Any,
                 file_keys: dict[Path, str | None]) -> tuple[UnitScore, tuple[Any, bytes]] | None:
    """The unit's score from its finished record (`blob`), when the record was made from this very file
    (the same cache key: its bytes, its unit's record, the scheme, the round) and its scheme has no
    groups (a unit built from others' scores is finished on every run); else None. With the score: the
    rank leaves' earned points the record was made with, and its bytes."""
    if not isinstance(blob, bytes) or outcome.score is not None and outcome.deferred is None:
        return None  # (an outcome computed this run, not read from the cache, is finished as computed)
    try:
        import msgpack
        record = msgpack.unpackb(blob, raw=False, use_list=True)
    except Exception:  # not a record of this code's: the unit is finished again
        return None
    if not isinstance(record, list) or len(record) < 5:
        return None
    key = file_keys.get(outcome.src.path)
    if key is None or record[1] != key or not isinstance(record[4], list):
        return None
    scheme = plan.round.scheme_for(plan.units[outcome.unit]) if outcome.unit in plan.units else None
    if scheme is None or scheme.groups:
        return None
    objects = plan.objects
    own = outcome.src

    def resolve(name: str) -> Any:
        return own if name == OWN else objects[name]
    try:
        found = compact.finished_score(record, own, resolve)
    except (codec.CodecError, KeyError):
        return None
    if found.unit is not plan.units.get(outcome.unit) or found.scheme is not scheme:
        return None
    return found, (record[4], blob)


def _kept_records(plan: RoundPlan, scores: list[UnitScore], measures: dict[str, dict[str, Decimal]], final: bool,
                  channels: dict[str, list[UnitScore]], file_keys: dict[Path, str | None]) -> RoundScore:
    """`rank_round` (rank bonuses first, then every unit finished: the same steps), and each finished unit's
    record kept in `plan.records` (not written to the cache)."""
    from gapctl.scoring.score import rank_bonuses

    rank_bonuses(scores, measures)
    earned = {s.unit.id: compact.rank_earned(s) for s in scores}
    result = rank_round(plan.round, scores, measures, final, channels, period_scores(plan.round), finished=set())
    plan.records = _records(plan, result.units, earned, file_keys)
    return result


def _light_scores(plan: RoundPlan, scores: list[UnitScore], measures: dict[str, dict[str, Decimal]], final: bool,
                  channels: dict[str, list[UnitScore]], recorded: dict[int, tuple[FileOutcome, tuple[Any, bytes]]],
                  memo: dict[str, bytes], file_keys: dict[Path, str | None], write: bool = True) -> RoundScore:
    """`rank_round` over scores some of which come from finished records: ranking (rank bonuses) runs over
    all of them first; a record holds only while its unit's rank leaves earned what they earned when the
    record was made (else the unit's summary is built and finished as usual). Then the records of the
    units finished this time are written (one cache entry for the round)."""
    from gapctl.scoring.score import rank_bonuses

    round_ = plan.round
    rank_bonuses(scores, measures)
    earned = {s.unit.id: compact.rank_earned(s) for s in scores}
    done: set[int] = set()
    for n, score_ in enumerate(scores):
        entry = recorded.get(id(score_))
        if entry is None:
            continue
        outcome, (was_earned, _blob) = entry
        if was_earned == earned[score_.unit.id]:
            done.add(id(score_))
            continue
        full = _score_of(plan, outcome)  # another unit's measure moved this one's rank bonus: finish it again
        if full is None:  # its packed summary was let go (`score(release=True)`): computed again from its file
            full = compute_outcome(plan, outcome.src.path)[0].score
        assert full is not None
        full.category = score_.category
        for lid, leaf in score_.leaves.items():
            full.leaves[lid].earned = leaf.earned
        scores[n] = full
    result = rank_round(round_, scores, measures, final, channels, period_scores(round_), finished=done)
    plan.recorded = {s.unit.id for s in scores if id(s) in done}
    if write and (len(done) != len(scores) or len(memo) != len(done)):
        kept = {s.unit.id: recorded[id(s)][1][1] for s in scores if id(s) in done}
        _write_finished(plan, result.units, earned, file_keys, kept)
    return result


def _write_finished(plan: RoundPlan, scores: list[UnitScore], earned: dict[str, list[str]],
                    file_keys: dict[Path, str | None], kept: dict[str, bytes] | None = None) -> None:
    """The round's finished records (one cache entry): every unit with an observation file whose score a
    record can hold (`compact.finished_record`); those in `kept` (unit id → the record its score was
    read from this run, still true) as they are."""
    import io

    import msgpack

    assert plan.cache is not None
    records = _records(plan, scores, earned, file_keys, kept)
    # msgpack.packb(records) packed a record at a time, each let go once packed: the records and the payload are
    # never both whole (at 30,000 units ~10 MB each, at the end of a cold score's run, its peak)
    packer = msgpack.Packer(use_bin_type=True, strict_types=True)
    out = io.BytesIO()
    try:
        out.write(packer.pack_map_header(len(records)))
        for uid in list(records):
            out.write(packer.pack(uid))
            out.write(packer.pack(records.pop(uid)))
    except (TypeError, ValueError, OverflowError):
        return
    del records
    plan.cache.put(finished_key(plan), out.getvalue())


def _records(plan: RoundPlan, scores: list[UnitScore], earned: dict[str, list[str]],
             file_keys: dict[Path, str | None], kept: dict[str, bytes] | None = None) -> dict[str, bytes]:
    """Unit id → its finished record's bytes (`_write_finished`)."""
    import msgpack

    # each unit's first observation file (as `merge_outcomes` kept it), or once the outcomes were let go
    # (`score(release=True)`) its score's, which is that file
    outcomes = {o.unit: o.src for o in plan.outcomes if o.unit is not None and o.channel is None} \
        if plan.outcomes else None
    references = plan.references
    records: dict[str, bytes] = {}
    kept = kept or {}
    for score_ in scores:
        uid = score_.unit.id
        if uid in kept:
            records[uid] = kept[uid]
            continue
        src = outcomes.get(uid) if outcomes is not None else score_.source
        if src is None or score_.source is None:
            continue
        key = file_keys.get(src.path)
        if key is None:
            continue
        own = id(score_.source)
        record = compact.finished_record(score_, key, earned.get(uid, []),
                                         lambda obj, own=own: OWN if id(obj) == own else references.get(id(obj)))
        if record is not None:
            try:
                records[uid] = msgpack.packb(record, use_bin_type=True, strict_types=True)
            except (TypeError, ValueError, OverflowError):
                continue
    return records


# --- planning -------------------------------------------------------------------------

def _file_hash(path: Path, tree: Any = None) -> str:
    try:
        return C.content_hash(_read(tree, path))
    except OSError:
        return "unreadable"


def _read(tree: Any, path: Path) -> bytes:
    """A file's bytes from the round's tree (a git revision), or from the disk (gapctl.data.reads)."""
    return read_bytes(path) if _on_disk(tree) else tree.read_bytes(path)


def _on_disk(tree: Any) -> bool:
    return tree is None or isinstance(tree, DiskTree)


def _too_large(tree: Any, path: Path) -> bool:
    """over_limit for a file on disk (a revision's file is refused by read_file once read)."""
    return _on_disk(tree) and over_limit(path)


def plan_round(round_: Round, cache: C.Cache | None, can_score: bool) -> RoundPlan:
    units = round_.unit_set.by_id() if round_.unit_set else {}
    imported = imported_losses(round_, 0) if can_score else {}
    externals: dict[str, list[ExternalShare]] = {}
    unit_keys: dict[str, str] = {}
    scheme_hashes = {sid: _file_hash(s.src.path, round_.tree) for sid, s in round_.schemes.items() if s.src}
    appeal_hashes = {uid: sorted({_file_hash(a.src.path, round_.tree) for a in appeals if a.src})
                     for uid, appeals in round_.appeals.items()}
    base = C.key_hasher()  # C.key_of(*parts) for each unit, from the hash of what every key starts with
    for unit in units.values():
        scheme = round_.scheme_for(unit)
        if scheme is not None and can_score:
            externals[unit.id] = external_shares(round_, scheme, unit, imported)
        unit_keys[unit.id] = C.key_from(
            base, (unit.id, unit.name, unit.name_en, unit.type, unit.parent, unit.tags, unit.note),
            scheme.id if scheme else None, scheme_hashes.get(scheme.id) if scheme else None,
            appeal_hashes.get(unit.id), externals.get(unit.id))
    context = C.key_of("observations", _file_hash(round_.src.path, round_.tree) if round_.src else None,
                       str(round_.directory),
                       os.getcwd(), os.environ.get("GAPCTL_MAX_FILE_MB"), os.environ.get("GAPCTL_MAX_VALUES"),
                       ci_mode(), can_score, i18n.lang())  # problem messages are in the current language
    references: dict[int, str] = {}
    objects: dict[str, Any] = {}

    def refer(obj: Any, ref: tuple[Any, ...]) -> None:
        name = C.reference_name(ref)
        references[id(obj)] = name
        objects[name] = obj

    for scheme in round_.schemes.values():
        refer(scheme, ("S", scheme.id))
        for ind in scheme.all_indicators():
            refer(ind, ("I", scheme.id, ind.id))
            for i, rule in enumerate(ind.rules):
                refer(rule, ("R", scheme.id, ind.id, i))
            if ind.gate is not None:
                refer(ind.gate.when, ("G", scheme.id, ind.id))
        for i, veto in enumerate(scheme.vetoes):  # what a unit's decisions point at travels by name
            refer(veto, ("V", scheme.id, i))
            refer(veto.when, ("W", scheme.id, i))
    for unit in units.values():
        refer(unit, ("U", unit.id))
    references.update(C.problem_kind_ids())
    objects.update(C.problem_kinds())
    keep = {sid: ranking_inputs(s) for sid, s in round_.schemes.items()}
    plan = RoundPlan(round_, units, can_score, context, unit_keys, externals, keep, references, objects, cache)
    plan.hashes.update({s.src.path: scheme_hashes[sid] for sid, s in round_.schemes.items()
                        if s.src and scheme_hashes.get(sid) not in (None, "unreadable")})
    return plan


def _unit_of(path: Path) -> str:
    """The unit a file of the round is about: its name, or for a channel its directory's (the
    strings of Path.parent.name / Path.stem, without building the parents: this runs per file)."""
    parts = os.fspath(path).rsplit("/", 3)
    if len(parts) >= 3 and parts[-3] == "channels":
        return parts[-2]
    return path.stem


def round_paths(plan: RoundPlan) -> list[Path]:
    """The round's observation files, then its channels' files (one list, made once: this is asked for
    once per chunk, ~2,000 times at 30,000 units, and joining the lists each time was quadratic). Not to
    be changed by callers."""
    obs, channels = plan.round.observation_paths, plan.round.channel_paths
    held = plan.all_paths
    if held is None or held[0] is not obs or held[1] != len(obs) or held[2] is not channels \
            or held[3] != len(channels):
        held = plan.all_paths = (obs, len(obs), channels, len(channels), obs + channels)
    return held[4]


def outcome_key(plan: RoundPlan, path: Path, data: bytes) -> str:
    return _key_of_hash(plan, path, C.content_hash(data))


def _key_of_hash(plan: RoundPlan, path: Path, digest: str) -> str:
    """C.key_of(plan.context, the unit's key, str(path), digest), from a hash of the first part made once."""
    plan.hashes[path] = digest  # kept for gapctl.review.provenance (from the stat index when the file is unchanged)
    keyed = plan.keyed
    if keyed is None or keyed[0] != plan.context:
        keyed = plan.keyed = (plan.context, C.key_hasher(plan.context))
    return C.key_from(keyed[1], plan.unit_keys.get(_unit_of(path), "no such unit"), str(path), digest)


# --- one file -------------------------------------------------------------------------

def outcome_of(plan: RoundPlan, path: Path, data: bytes) -> FileOutcome:
    """Read, check and summarise-score one observation file (in a worker or here)."""
    return outcome_with(plan, path, data)[0]


def outcome_with(plan: RoundPlan, path: Path, data: bytes,
                 extra: Callable[[Any, Any, Any], Any] | None = None) -> tuple[FileOutcome, Any]:
    """`outcome_of`, and `extra(plan, the unit's full score before it is summarised, its observations)`
    (None for a channel's file, a file with errors, or no `extra`): what gapctl.scoring.one_pass keeps."""
    round_ = plan.round
    outcome, _parsed, obs = checked_file(plan, path, data)
    if obs is None:
        return outcome, None
    load_problems = outcome.load_problems
    if obs.channel is not None:
        if plan.can_score and not any(p.severity == ERROR for p in load_problems + outcome.check_problems):
            channel = score_channel(round_, obs.unit, obs)
            outcome.score = summarise(channel, set()) if channel is not None else None
        return outcome, None
    unit = plan.units.get(obs.unit)
    scheme = round_.scheme_for(unit) if unit else None
    if unit is not None and scheme is not None:
        outcome.progress = progress_counts(scheme, unit, obs)
    kept = None
    if plan.can_score and unit and scheme and not any(
            p.severity == ERROR for p in load_problems + outcome.check_problems):
        full = planned_score(plan, scheme, unit, obs)
        kept = extra(plan, full, obs) if extra is not None else None
        outcome.score = summarise(full, plan.keep_nodes[scheme.id])
    return outcome, kept


def checked_file(plan: RoundPlan, path: Path, data: bytes) -> tuple[FileOutcome, Any, Any]:
    """One observation file read and checked, not scored: its outcome (problems, unit, measures, channel), the
    file as `read_file` parsed it, and its observations (None when they could not be built or the round has no
    unit set, and then nothing was checked). What `outcome_with` scores, and what an import edits."""
    round_ = plan.round
    parsed = read_file(path, data, keep_text=not _on_disk(round_.tree))
    load_problems = list(parsed.problems)
    obs = build_observations(parsed.src, parsed.data, load_problems) if parsed.data is not None else None
    outcome = FileOutcome(parsed.src, obs.unit if obs else None, load_problems)
    if obs is None or round_.unit_set is None:
        return outcome, parsed, None
    outcome.measures = obs.measures
    if obs.channel is not None:
        from gapctl.scoring.check_rollups import check_channel_file
        outcome.channel = obs.channel
        outcome.check_problems = check_channel_file(round_, plan.units, obs, outcome.evidence_files)
    else:
        outcome.check_problems = check_observation_file(round_, plan.units, obs, outcome.evidence_files)
    return outcome, parsed, obs


def progress_counts(scheme: Any, unit: Unit, obs: Any) -> tuple[int, int, int]:
    """How many of the unit's applicable leaves its file records as observed by an evaluator, as
    self-assessed and as reviewed (entries not pending): what `gapctl status` adds up."""
    leaves = {i.id for i in scheme.leaves() if i.section == "main" and i.applies(unit)}
    entries = obs.results if obs else []
    observed, self_, reviewed = (len({r.indicator for r in entries if r.source == source and r.indicator in leaves
                                      and r.state != "pending"}) for source in ("evaluator", "self", "review"))
    return observed, self_, reviewed


def progress_of(checked: Checked) -> dict[str, tuple[int, int, int]]:
    """Unit id → `progress_counts` of its observation file (the first, as loading keeps)."""
    out: dict[str, tuple[int, int, int]] = {}
    for plan in checked.plans:
        for outcome in plan.outcomes:
            if outcome.unit is not None and outcome.channel is None and outcome.progress is not None:
                out.setdefault(outcome.unit, outcome.progress)
    return out


OWN = "F"  # the name an outcome gives its own observation file (a reference name is JSON: never "F")


def dump_outcome(plan: RoundPlan, outcome: FileOutcome) -> bytes | None:
    """The outcome as the bytes a cache entry holds (gapctl.codec, MessagePack): the scheme, its
    indicators and rules, the unit, problem kinds and the file itself by name. None when it
    holds a value the format cannot carry (a gapctl bug, which tests/data/test_codec.py catches):
    such an outcome is neither cached nor sent back by a worker."""
    own, references = id(outcome.src), plan.references
    try:
        return compact.dumps(outcome, lambda obj: OWN if id(obj) == own else references.get(id(obj)))
    except codec.CodecError:
        return None


def _display(plan: RoundPlan, path: Path) -> str:
    """display_path(path), resolving each directory once instead of each file."""
    if (plan.links and path in plan.links) if plan.links is not None else path.is_symlink():
        return display_path(path)
    directory, _, name = os.fspath(path).rpartition("/")  # strings, not Path.parent: this runs per file
    base = plan.displays.get(directory)
    if base is None:
        base = plan.displays[directory] = display_path(path.parent)
    return name if base == "." else os.path.join(base, name)


def load_outcome(plan: RoundPlan, path: Path, payload: bytes, lazy: bool = False) -> FileOutcome:
    own = SourceFile(path, _display(plan, path))  # fresh: positions are found when printed
    objects = plan.objects

    def resolve(name: str) -> Any:
        return own if name == OWN else objects[name]
    return compact.loads(payload, FileOutcome, own, resolve, lazy)


_PLAN: RoundPlan | None = None  # the plan a forked worker inherits
CHUNK_BOUNDARY = 16  # a chunk ends after a file whose key ≡ 0 (mod this): ~16 files a chunk


def file_key(plan: RoundPlan, path: Path, index: C.StatIndex | None = None, limit: int | None = None) -> str | None:
    """The file's cache key, or None when it cannot be read (or is over the size limit `limit`, by
    default the one in force); its hash from `index` when the file's stat shows it unchanged since
    it was hashed. A git revision's file (the round's tree) is read from git: no stat to trust."""
    digest = _file_digest(plan, path, index, limit)
    return None if digest is None else _key_of_hash(plan, path, digest)


def _file_digest(plan: RoundPlan, path: Path, index: C.StatIndex | None = None, limit: int | None = None,
                 looked: Callable[[Path], os.stat_result | None] | None = None) -> str | None:
    """The content hash `file_key` makes the file's key from (None: as for `file_key`); `looked`: what takes the
    file's lstat (`_looked_at` by default)."""
    if not _on_disk(plan.round.tree):
        return _hashed(plan, path, None, None)
    st = None
    if index is not None and limit is not None:
        st = looked(path) if looked is not None else _looked_at(plan, path)
    return None if _over(path, st, limit) else _hashed(plan, path, index, st)


def _looked_at(plan: RoundPlan, path: Path) -> os.stat_result | None:
    """The file's `lstat` (None: it has none), a link noted in `plan.links`."""
    try:
        st = os.lstat(path)
    except (OSError, ValueError):
        return None
    if stat.S_ISLNK(st.st_mode) and plan.links is not None:
        plan.links.add(path)
    return st


def _over(path: Path, st: os.stat_result | None, limit: int | None) -> bool:
    """Whether the file is over the size limit (a regular file's lstat says its size)."""
    if st is not None and limit is not None and stat.S_ISREG(st.st_mode):
        return st.st_size > limit
    return over_limit(path)


def _hashed(plan: RoundPlan, path: Path, index: C.StatIndex | None, st: os.stat_result | None) -> str | None:
    """The file's content hash: from the stat index when it vouches for it, else its bytes read and hashed (from
    the round's tree when it is not the disk); None when it cannot be read."""
    try:
        if not _on_disk(plan.round.tree):
            return C.content_hash(plan.round.tree.read_bytes(path))
        if index is not None:
            return index.hash(path, read_bytes, st)
        return C.content_hash(read_bytes(path))
    except (OSError, ValueError):
        return None


def chunks_of(paths: list[Path]) -> list[list[int]]:
    """Files grouped into chunks whose ends depend on the files' own paths (as rsync cuts by
    content, here by name): editing a file never moves a cut, and adding or removing one changes
    only its chunk.

    The cache stores one entry a chunk, not a file: creating a file costs ~0.6 ms of system
    time here, and 3,000 of them cost a cold run more than a fifth of its time. An entry keeps
    each member's own key, so a chunk with one edited file reuses the others and reads only that one.
    """
    chunks: list[list[int]] = []
    current: list[int] = []
    for index, path in enumerate(paths):
        current.append(index)
        if zlib.crc32(os.fsencode(path.name)) % CHUNK_BOUNDARY == 0:  # no size cap: it would shift cuts
            chunks.append(current)
            current = []
    if current:
        chunks.append(current)
    return chunks


def chunk_key(plan: RoundPlan, chunk: list[int]) -> str:
    """A chunk's entry is named by its members' paths; their contents are checked member by member."""
    paths = round_paths(plan)
    return C.key_of("chunk2", plan.context, *(str(paths[i]) for i in chunk))  # 2: [key, outcome, unit key, hash]


Computed = tuple[int, "bytes | None", "str | None", "str | None", Any]  # (index, payload, key, digest, note)


def _work(chunk: list[int]) -> list[Computed]:
    """In a worker: the outcomes of these files, encoded to travel back (None: cannot be encoded, so it
    is computed again in the parent), each with its key when its outcome may be cached, its content hash
    (None: not read) and what the round's tree noted of its read (`read_note`)."""
    plan = _PLAN
    assert plan is not None
    paths = round_paths(plan)
    out = []
    for index in chunk:
        path = paths[index]
        outcome, key = compute_outcome(plan, path)
        out.append((index, dump_outcome(plan, outcome), key, plan.hashes.pop(path, None),
                    read_note(plan.round.tree, path)))
    return out


def read_note(tree: Any, path: Path) -> Any:
    """What a tree noted of reading a file that its parent's copy should know too (`take_note`): a git
    revision's tree notes which files it found on disk to be the revision's (gapctl.review.blobs)."""
    noted = getattr(tree, "read_note", None)
    return noted(path) if noted is not None else None


def take_note(tree: Any, path: Path, note: Any) -> None:
    if note is not None:
        tree.take_note(path, note)


def compute_outcome(plan: RoundPlan, path: Path) -> tuple[FileOutcome, str | None]:
    """One file's outcome, and its key if the outcome may be cached."""
    outcome, key, _kept = compute_with(plan, path)
    return outcome, key


def planned_score(plan: RoundPlan, scheme: Any, unit: Unit, obs: Any) -> UnitScore:
    """`score_unit` of one of the plan's units: its external shares from the plan, its appeals and the
    round's evidence due date from the round (what every whole score of a unit is made with)."""
    round_ = plan.round
    return score_unit(scheme, unit, obs, plan.externals.get(unit.id), round_.appeals.get(unit.id),
                      round_.stages.get("evidence_due"))


def file_score(plan: RoundPlan, path: Path, data: bytes, keep_text: bool = False,
               without_errors: bool = False) -> tuple[UnitScore, Any] | None:
    """A unit's whole score (every leaf, the tree, before ranking) and its observations, from its observation
    file's bytes alone; None for a file that cannot be parsed or built, a channel's, one of no known unit or
    scheme, or (`without_errors`) one whose reading found an error."""
    parsed = read_file(path, data, keep_text=keep_text)
    if parsed.data is None:
        return None
    problems = list(parsed.problems)
    obs = build_observations(parsed.src, parsed.data, problems)
    if obs is None or obs.channel is not None or without_errors and any(p.severity == ERROR for p in problems):
        return None
    unit = plan.units.get(obs.unit)
    scheme = plan.round.scheme_for(unit) if unit is not None else None
    if unit is None or scheme is None:
        return None
    return planned_score(plan, scheme, unit, obs), obs


def compute_with(plan: RoundPlan, path: Path, extra: Callable[[Any, Any, Any], Any] | None = None
                 ) -> tuple[FileOutcome, str | None, Any]:
    """`compute_outcome`, and the file's `extra` (`outcome_with`): what gapctl.scoring.one_pass keeps."""
    if _too_large(plan.round.tree, path):  # refused without reading it all
        parsed = read_file(path)
        return FileOutcome(parsed.src, None, list(parsed.problems)), None, None
    try:
        data = _read(plan.round.tree, path)
    except OSError as err:
        return FileOutcome(SourceFile(path, display_path(path)), None,
                           [unreadable_problem(path, f"cannot read file: {err.strerror or err}")]), None, None
    outcome, kept = outcome_with(plan, path, data, extra)
    digest = plan.hashes[path] = C.content_hash(data)  # what the parent's plan keeps of a file read in a worker
    return outcome, _key_of_hash(plan, path, digest) if cacheable(plan, path, outcome) else None, kept


def cacheable(plan: RoundPlan, path: Path, outcome: FileOutcome) -> bool:
    """Whether an outcome may be kept under its file's key: the file is the one its unit's name says."""
    return outcome.unit == _unit_of(path) and outcome.unit in plan.units \
        and (outcome.channel is None or outcome.channel == path.stem)


# --- a round --------------------------------------------------------------------------

def run_plan(plan: RoundPlan, progress: Progress | None, lazy: bool = False) -> None:
    """Every observation file's outcome, in path order: from the cache, a pool of workers (or a cluster), or here.
    `lazy`: the scores of outcomes read from the cache are built only when asked for (`_score_of`)."""
    paths = round_paths(plan)
    results: list[FileOutcome | None] = [None] * len(paths)
    digests = FileDigests(plan)
    stored: dict[int, bytes] = {}  # payloads to keep in the cache (reused or computed)
    chunks = chunks_of(paths)
    todo: list[int] = []
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        if progress and (done + n) // 100 > done // 100:
            progress(done + n, len(paths))
        done += n

    waiting = Waiting(chunks)
    for number, chunk in enumerate(chunks):
        reused = reused_members(plan, chunk, digests) if plan.cache is not None else {}
        kept: dict[int, bytes] = {}
        before = len(todo)
        for index in chunk:
            payload = reused.get(index)
            if payload is not None:
                try:
                    results[index] = load_outcome(plan, paths[index], payload, lazy)
                    kept[index] = payload
                    continue
                except Exception:  # signed by this user but unreadable with this code: recompute
                    pass
            todo.append(index)
            waiting.add(number, index)
        if number in waiting:
            stored.update(kept)
        advance(len(chunk) - (len(todo) - before))
    plan.computed = len(todo)
    keys: dict[int, str | None] = {}
    computed_set = set(todo)

    def finished(index: int) -> None:
        """One file computed: its chunk's entry is written once the chunk has no file left to compute."""
        chunk = waiting.done(index)
        if chunk is not None:
            if plan.cache is not None:
                store_chunk(plan, chunk, computed_set, keys, stored)
            for member in chunk:
                stored.pop(member, None)
    workers = min(jobs_wanted(), len(todo) // (PARALLEL_FROM // 2) or 1)
    batches = [todo[n:n + CHUNK_BOUNDARY] for n in range(0, len(todo), CHUNK_BOUNDARY)]
    remote = chosen() if todo else None  # `--executor dask`: a cluster computes them (gapctl.scoring.executors)
    if remote is not None or (len(todo) >= PARALLEL_FROM and workers > 1 and hasattr(os, "fork")):
        for computed in remote.outcomes(plan, batches) if remote is not None else _pooled(plan, batches, workers):
            for index, payload, key, digest, note in computed:
                if payload is not None:
                    results[index] = load_outcome(plan, paths[index], payload)
                else:
                    results[index], key = compute_outcome(plan, paths[index])
                    digest = plan.hashes.get(paths[index])
                digests.computed(index, digest, note)
                keys[index] = key
                if payload is not None and plan.cache is not None:
                    stored[index] = payload
                finished(index)
            advance(len(computed))
    else:
        for index in todo:
            outcome, key = compute_outcome(plan, paths[index])
            results[index], keys[index] = outcome, key
            digests.computed(index, plan.hashes.get(paths[index]))
            if plan.cache is not None and key is not None and key == plan.keys[index]:
                payload = dump_outcome(plan, outcome)
                if payload is not None:
                    stored[index] = payload
            finished(index)
            advance(1)
    digests.save()
    if progress:
        progress(len(paths), len(paths))
    plan.outcomes = [r for r in results if r is not None]


class Waiting:
    """The chunks with files left to compute, and how many each: a chunk's entry is rewritten as soon as its last
    such file is done (`done` gives its members then), and its members' payloads are kept only until then, so a
    large round never holds every payload (nor any, when nothing changed)."""

    def __init__(self, chunks: list[list[int]]) -> None:
        self.chunks = chunks
        self.chunk_of: dict[int, int] = {}  # a file to compute → its chunk's number
        self.left: dict[int, int] = {}  # a chunk's number → its members not yet computed

    def add(self, number: int, index: int) -> None:
        self.chunk_of[index] = number
        self.left[number] = self.left.get(number, 0) + 1

    def __contains__(self, number: object) -> bool:
        return number in self.left

    def done(self, index: int) -> list[int] | None:
        """One file computed: its chunk's members when it was the chunk's last to compute, else None."""
        number = self.chunk_of[index]
        self.left[number] -= 1
        if self.left[number]:
            return None
        del self.left[number]
        return self.chunks[number]


class FileDigests:
    """The plan's files' content hashes, made chunk by chunk as `reused_members` needs them: only for the files
    of a chunk whose cache entry exists (to compare with the hashes it holds). The files of a chunk with no entry
    (`defer`) are read by whoever computes them (a worker), who hands back their hash (`computed`): with an empty
    cache the parent reads no file before its workers start (it read and hashed every one, serially, before).

    A file on disk is looked at first (`lstat`: links noted for `_display`, the size limit, the stat the stat index
    keeps with the hash); the stat index vouches for a file whose stat shows it unchanged since it was hashed, and
    keeps the hashes made this run (`save`, once every file is done). `plan.keys` is emptied, for `reused_members`
    and `computed` to set."""

    def __init__(self, plan: RoundPlan) -> None:
        self.plan = plan
        plan.keys = [None] * len(round_paths(plan))
        self.index: C.StatIndex | None = None
        # each file's state (0: not deferred; 1: left to its reader, no stat to keep; 2: with its stat, packed
        # after it): 33 bytes a file, not a tuple of four ints (~200 bytes at 30,000 files read cold)
        self.deferred = bytearray()
        self.on_disk = _on_disk(plan.round.tree)
        self.limit = max_file_bytes()[0]
        if plan.cache is None:
            plan.links = None
            return
        # the stat index vouches for files on disk only (a git revision's files are read from git)
        index = self.index = C.StatIndex(plan.cache, str(plan.round.directory.resolve())) if self.on_disk else None
        plan.links = set() if self.on_disk else None  # filled by the lstat, for _display
        if index is not None and plan.vouching is not None:
            _vouch(plan, index)
        if index is not None:
            from gapctl.scoring import warm

            found = warm.looked()
            if found is not None:  # stats taken before this index's snapshot: the racy rule's reference is theirs
                index.snapshot = min(index.snapshot, found[0])
                self.seen, self.real_dirs = found[1], {}

    seen: dict[str, os.stat_result] = {}  # real path → the lstat the warm walk took of it (`warm.looked`)
    real_dirs: dict[str, str] = {}

    def _stat(self, path: Path) -> os.stat_result | None:
        """The file's lstat (None: it has none): the one the warm walk took, else taken now."""
        if self.seen:
            directory, _, name = os.fspath(path).rpartition("/")
            real = self.real_dirs.get(directory)
            if real is None:
                real = self.real_dirs[directory] = os.path.realpath(directory or ".")
            st = self.seen.pop(real + "/" + name if real != "/" else "/" + name, None)
            if st is not None:
                return st
        return _looked_at(self.plan, path)

    def of(self, index: int) -> str | None:
        """The file's content hash (None: unreadable, or over the size limit)."""
        return _file_digest(self.plan, round_paths(self.plan)[index], self.index, self.limit, self._stat)

    def defer(self, chunk: list[int]) -> None:
        """The chunk's files left to whoever reads them (`computed`), each looked at now (its stat taken before
        that read, for the stat index)."""
        paths = round_paths(self.plan)
        if not self.deferred:
            self.deferred = bytearray(_DEFERRED.size * len(paths))
        for index in chunk:
            fstat = C.file_stat(self._stat(paths[index])) if self.on_disk else None
            _DEFERRED.pack_into(self.deferred, _DEFERRED.size * index, 1 if fstat is None else 2, *(fstat or (0,) * 4))

    def computed(self, index: int, digest: str | None, note: Any = None) -> None:
        """A file read and hashed by whoever computed it (`digest`; None: it could not be read), with what the
        tree noted of the read (`take_note`, taken into this process's tree). A file deferred gets its key from
        that hash, and the stat index keeps the hash with the stat taken before the read."""
        plan = self.plan
        path = round_paths(plan)[index]
        take_note(plan.round.tree, path, note)
        if not self.deferred:
            return
        state, *fields = _DEFERRED.unpack_from(self.deferred, _DEFERRED.size * index)
        if not state:
            return
        self.deferred[_DEFERRED.size * index] = 0
        fstat = tuple(fields) if state == 2 else None
        if digest is None or fstat is not None and fstat[0] > self.limit:
            return
        plan.keys[index] = _key_of_hash(plan, path, digest)
        if self.index is not None:
            self.index.record(path, fstat, digest)

    def save(self) -> None:
        self.seen = self.real_dirs = {}
        if self.index is not None:
            self.index.save()


_DEFERRED = struct.Struct("<BqqqQ")  # FileDigests.deferred: state, size, modification and change times (ns), inode


def _pooled(plan: RoundPlan, batches: list[list[int]], workers: int) -> Iterator[list[Computed]]:
    """The batches' results from a pool of forked workers, as each batch is done."""
    global _PLAN
    _PLAN = plan
    try:
        with forked_pool(workers, files=len(round_paths(plan))) as pool:  # the round's size: what workers copy
            yield from pool.imap_unordered(_work, batches)
    finally:
        _PLAN = None


def reused_members(plan: RoundPlan, chunk: list[int], digests: FileDigests | None = None) -> dict[int, bytes]:
    """The members of a chunk's cache entry whose file is unchanged (same key), by index. With `digests`,
    the chunk's keys (`plan.keys`) are set here: a member's from the entry when its content hash and unit
    key are those the entry holds (the entry's name holds the context and the paths: the rest of the
    key), else made from the hash; for a chunk with no entry, not at all (nothing to reuse: whoever
    computes its files hands back their hashes, `FileDigests.computed`)."""
    assert plan.cache is not None
    paths = round_paths(plan)
    payload = plan.cache.get(chunk_key(plan, chunk))
    if payload is None and digests is not None:
        digests.defer(chunk)
        return {}
    members: Any = None
    if payload is not None:
        try:
            members = codec.loads(payload)
        except Exception:  # an older entry, or one this code cannot read: computed again
            members = None
    if not isinstance(members, list) or len(members) != len(chunk):
        members = [None] * len(chunk)
    out: dict[int, bytes] = {}
    for index, member in zip(chunk, members, strict=True):
        held = member if isinstance(member, list) and len(member) == 4 and isinstance(member[0], str) else None
        if digests is not None:
            digest = digests.of(index)
            if digest is None:
                continue
            path = paths[index]
            if held is not None and held[3] == digest and held[2] == plan.unit_keys.get(_unit_of(path), "no such unit"):
                plan.keys[index] = held[0]
                plan.hashes[path] = digest
            else:
                plan.keys[index] = _key_of_hash(plan, path, digest)
        if held is not None and held[0] == plan.keys[index] and isinstance(held[1], bytes):
            out[index] = held[1]
    return out


def store_chunk(plan: RoundPlan, chunk: list[int], computed: set[int], keys: dict[int, str | None],
                 stored: dict[int, bytes]) -> None:
    """Rewrite a chunk's entry: every member with its key (None for one whose outcome may not be kept)."""
    assert plan.cache is not None
    members = []
    paths = round_paths(plan)
    for index in chunk:
        key = plan.keys[index] if index not in computed or keys.get(index) == plan.keys[index] else None
        path = paths[index]
        digest = plan.hashes.get(path)
        members.append([key, stored.get(index), plan.unit_keys.get(_unit_of(path), "no such unit"), digest]
                       if key is not None and index in stored and digest is not None else [None, None, None, None])
    plan.cache.put(chunk_key(plan, chunk), codec.dumps(members))


def merge_outcomes(plan: RoundPlan) -> list[Any]:
    """The problems of a round's outcomes, as `load` + `check_round` would report them."""
    round_ = plan.round
    out: list[Any] = []
    first: dict[str, SourceFile] = {}
    kept = []
    for outcome in plan.outcomes:
        out.extend(outcome.load_problems)
        if outcome.unit is None:
            continue
        if outcome.channel is not None:  # a channel's file: its path is its identity
            kept.append(outcome)
            out.extend(outcome.check_problems)
            for ev in outcome.evidence_files:
                out.extend(check_evidence_file(round_.directory, ev, round_.tree))
            continue
        round_.observation_files.add(outcome.unit)
        if outcome.unit in first:
            out.append(second_file(outcome.unit, outcome.src, first[outcome.unit]))
            continue
        first[outcome.unit] = outcome.src
        kept.append(outcome)
        out.extend(outcome.check_problems)
        for ev in outcome.evidence_files:
            out.extend(check_evidence_file(round_.directory, ev, round_.tree))
    plan.outcomes = kept
    if round_.unit_set is not None:
        out.extend(check_appeals(round_, plan.units))
        out.extend(check_missing_observations(round_))
    return out


def print_progress(what: str) -> Progress | None:
    """A progress line on stderr when it is a terminal (`validating 1,200/3,000 files`); `what` is
    already in the current language."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        end = "\n" if done >= total else ""
        line = i18n._("{what} {done}/{total} files").format(what=what, done=f"{done:,}", total=f"{total:,}")
        sys.stderr.write(f"\r{line}{end}")
        sys.stderr.flush()
    return show
