"""`outcomes.check` in one pass for commands that also need each unit's detail, when the cache is off.

Who calls it: `gapctl export` (CSV and Data Package) with `--no-cache` / `GAPCTL_NO_CACHE=1`;
`gapctl report` (each unit's page tail kept, cache on or off; with --compare its observations, cache
off); `gapctl agreement` and `gapctl followup` (each unit's pairs, or its leaf facts, cache on or off). On the
usual path a command that shows more of a unit than its totals checks the round file by file
(`gapctl.scoring.outcomes`) and then reads every unit's file a second time to detail it
(`gapctl.scoring.details`); with a warm cache the first pass costs nothing, but with the cache off
every file is parsed twice. Here each worker reads, checks and scores a file once and, besides the
file's outcome, hands `extra(plan, full score, observations)` back: what the command needs of the
unit's full score *before* ranking (e.g. its rows, with the few figures that ranking decides left
for the parent to fill in from the finished summary, see `gapctl.scoring.details.graft`).

What it guarantees: the `Checked` it returns is the one `outcomes.check` returns (the same
outcomes, in the same order, the same problems): `file_outcome` is `outcomes.outcome_of` with the extra, and
tests/scoring/test_one_pass.py compares the two on every shipped round. With the cache on (unless `always`:
report, agreement and followup, whose extras cost more to make again than the outcomes the cache holds), a
cluster chosen, or a round that is not one round, it is `outcomes.check` and no extras.
"""

from __future__ import annotations

import os
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

from gapctl.collector import paused_gc
from gapctl.scoring import outcomes
from gapctl.scoring.executors import chosen, forked_pool

Extra = Callable[[Any, Any, Any], Any]  # (plan, a unit's full score before ranking, its observations) → kept
# An extra may have a `prepare(plan)` attribute: called once in the parent before the workers fork, for what the
# extra works out once per round (a worker that walks the round's 30,000 units copies the pages they live on).
# An extra that gives bytes may have a `cache_form(plan)` attribute: (a tag: what its bytes depend on besides the
# file's outcome, e.g. the report's language and format; the extra to run instead, whose bytes are safe to read back
# from disk: gapctl.codec's, never a pickle). With the cache on, each file's extra is then kept in the cache beside
# its outcome (`_run_cached`), compressed, and the mapping of extras holds it compressed (`unpacked`).
BATCH = 16  # files a worker takes at a time

_JOB: tuple[Any, Extra, Any] | None = None  # what forked workers inherit: plan, extra, the spool they write extras to


class Written:
    """An extra's bytes a worker wrote into the parent's spool (`gapctl.data.spool.Spool.write_here`): their place,
    sent instead of them."""

    __slots__ = ("place",)

    def __init__(self, place: tuple[int, int]) -> None:
        self.place = place

    def __reduce__(self) -> tuple[Any, ...]:
        return Written, (self.place,)


def cache_off(use_cache: bool) -> bool:
    return not use_cache or bool(os.environ.get("GAPCTL_NO_CACHE"))


def check(path: Path | str, use_cache: bool, extra: Extra, progress: outcomes.Progress | None = None,
          extras: MutableMapping[Path, Any] | None = None,
          always: bool = False) -> tuple[outcomes.Checked, MutableMapping[Path, Any]]:
    """`outcomes.check(path, use_cache, progress)`, and each unit file's `extra` by its path, put in `extras`
    (a dict by default; a command may give a mapping that keeps them on disk) as they come; none when
    the cache is on or a cluster is chosen (then every file's outcome may come from elsewhere).
    `always`: the one pass with the cache on too, for a command whose extras cost more to make again than
    the files' outcomes the cache would give (gapctl report: each unit's page); the cache then serves the
    loading of the round (schemes, unit set), and no file's outcome is read from it or written to it."""
    path = Path(path)
    if extras is None:
        extras = {}
    if chosen() is not None or (not always and not cache_off(use_cache)):
        return outcomes.check(path, use_cache, progress), extras

    def run(plan: Any, only_round: bool) -> None:
        if only_round and hasattr(extra, "cache_form") and plan.cache is not None:
            _run_cached(plan, extra, extras, progress)
        else:
            _run(plan, extra if only_round else None, extras, progress)

    return outcomes.check(path, use_cache and always, progress, run=run), extras


def checker(extra: Extra, extras: MutableMapping[Path, Any], always: bool = False) -> Callable[..., outcomes.Checked]:
    """`check` as a command hands it to gapctl.cli.common._detailed (called as `outcomes.check` is): each unit
    file's `extra` put in `extras` as the round is checked."""
    def checked(path: Path | str, use_cache: bool, progress: outcomes.Progress | None = None) -> outcomes.Checked:
        return check(path, use_cache, extra, progress, extras, always)[0]
    return checked


def file_outcome(plan: Any, path: Path, data: bytes, extra: Extra | None = None) -> tuple[outcomes.FileOutcome, Any]:
    """`outcomes.outcome_of(plan, path, data)`, and `extra` of the unit's full score before it is summarised
    (None for a channel's file, a file with errors, or no `extra`)."""
    return outcomes.outcome_with(plan, path, data, extra)


def _compute(plan: Any, path: Path, extra: Extra | None) -> tuple[outcomes.FileOutcome, Any]:
    """`outcomes.compute_outcome` with the file's extra (its key, if cacheable, kept in plan.hashes for provenance)."""
    outcome, _key, kept = outcomes.compute_with(plan, path, extra)
    return outcome, kept


def _work(batch: list[int]) -> list[tuple[int, bytes | None, Any, str | None, str | None, Any]]:
    """In a worker: each file's outcome encoded, its extra, its cache key, its content hash (which the
    parent's plan.hashes keeps for gapctl.review.provenance, as when it hashes the files itself) and what the
    round's tree noted of its read (`outcomes.read_note`)."""
    assert _JOB is not None
    plan, extra, spool = _JOB
    paths = outcomes.round_paths(plan)
    out = []
    with paused_gc():
        for index in batch:
            outcome, key, kept = outcomes.compute_with(plan, paths[index], extra)
            if spool is not None and isinstance(kept, bytes):
                kept = Written(spool.write_here(kept))
            out.append((index, outcomes.dump_outcome(plan, outcome), kept, key, plan.hashes.pop(paths[index], None),
                        outcomes.read_note(plan.round.tree, paths[index])))
    return out


Reuse = Callable[[int, Path], Any]  # (index, path) → the file's outcome made elsewhere, or None to compute it
Keep = Callable[[int, Path, Any, "bytes | None", "str | None", Any], None]  # (index, path, outcome, payload, key, kept)


def _run(plan: Any, extra: Extra | None, extras: MutableMapping[Path, Any], progress: outcomes.Progress | None,
         reuse: Reuse | None = None, keep: Keep | None = None) -> None:
    """`outcomes.run_plan` with the cache off: every file read once, here or in a pool of forked workers.
    `reuse(index, path)`: a file's outcome made elsewhere (gapctl.review.diff_units: the other side of a
    diff, same key), or None to compute it; `keep(index, path, outcome, payload, key, kept)`: told of each file
    computed, with its outcome encoded (None when it cannot be), its cache key (None: not cacheable) and its
    extra (None: none)."""
    global _JOB
    paths = outcomes.round_paths(plan)
    results: list[Any] = [None] * len(paths)
    total = len(paths)
    todo = list(range(total))
    if reuse is not None:
        todo = []
        for index, path in enumerate(paths):
            results[index] = reuse(index, path)
            if results[index] is None:
                todo.append(index)
    workers = min(outcomes.jobs_wanted(), len(todo) // (outcomes.PARALLEL_FROM // 2) or 1)
    done = total - len(todo)
    prepare = getattr(extra, "prepare", None)
    if prepare is not None:  # what the extra works out once per round, here before the fork rather than in each worker
        prepare(plan)
    if len(todo) >= outcomes.PARALLEL_FROM and workers > 1 and hasattr(os, "fork"):

        batches = [todo[n:n + BATCH] for n in range(0, len(todo), BATCH)]
        # extras kept in a spool are written into it by the workers, unless a `keep` is told of their bytes: 15 KB a
        # unit's page tail, not sent through a pipe to be written here (3,000 units: ~0.25 s of this process's time)
        share = getattr(extras, "share", None)
        _JOB = (plan, extra, extras if keep is None and share is not None and share() else None)
        try:  # re-forked as outcomes' pool is: a long-lived worker ends up with a private copy of the round
            with forked_pool(workers, files=len(paths)) as pool:
                for computed in pool.imap_unordered(_work, batches):
                    for index, payload, kept, key, digest, note in computed:
                        if digest is not None:
                            plan.hashes[paths[index]] = digest
                        outcomes.take_note(plan.round.tree, paths[index], note)
                        if payload is not None:
                            results[index] = outcomes.load_outcome(plan, paths[index], payload)
                        else:  # cannot travel: computed again here
                            results[index], key, kept = outcomes.compute_with(plan, paths[index], extra)
                        if isinstance(kept, Written):
                            extras.adopt(paths[index], kept.place)  # type: ignore[attr-defined]
                        elif kept is not None:
                            extras[paths[index]] = kept
                        if keep is not None:
                            keep(index, paths[index], results[index], payload, key, kept)
                    if progress and (done + len(computed)) // 100 > done // 100:
                        progress(done + len(computed), total)
                    done += len(computed)
        finally:
            _JOB = None
    else:
        for index in todo:
            path = paths[index]
            results[index], key, kept = outcomes.compute_with(plan, path, extra)
            if kept is not None:
                extras[path] = kept
            if keep is not None:
                keep(index, path, results[index], outcomes.dump_outcome(plan, results[index]), key, kept)
    if progress:
        progress(total, total)
    plan.computed = len(todo)
    plan.outcomes = [r for r in results if r is not None]


# --- extras kept in the cache ------------------------------------------------------------------------
# A command whose extras cost more to make than the outcomes (report's page tails, agreement's pairs, followup's
# leaf facts) keeps them in the cache as outcomes are kept: one entry a chunk of files (outcomes.chunks_of), each
# member with the key of the outcome it was made with, so that a file whose outcome comes from the cache and whose
# extra does too is neither read nor scored. The extras travel and wait in `extras` compressed (zlib, level 1: a
# unit's page tail of ~22 KB is ~4.6 KB), as the cache holds them; `unpacked` gives the extra's bytes back. What
# the cache keeps is the extra's `cache_form`, never a pickle: nothing read from the cache can run code
# (gapctl.codec).

PACKED = b"\x78"  # the first byte of a zlib stream (a pickle's is b"\x80")


def unpacked(blob: bytes) -> bytes | None:
    """The bytes of an extra kept compressed (`_run_cached`: its `cache_form`), or None for one kept as it was made."""
    import zlib

    return zlib.decompress(blob) if blob[:1] == PACKED else None


def kept_bytes(blob: bytes) -> bytes:
    """The bytes an extra with a `cache_form` made: decompressed when they went through the cache (or were made to
    be kept there), else as they were made."""
    found = unpacked(blob)
    return blob if found is None else found


def _packing(extra: Extra) -> Extra:
    """`extra`, its bytes compressed (in the worker that makes them)."""
    import zlib

    def packed(plan: Any, full: Any, obs: Any) -> Any:
        kept = extra(plan, full, obs)
        return None if kept is None else zlib.compress(kept, 1)
    return packed


def extras_key(plan: Any, chunk: list[int], tag: str) -> str:
    """A chunk's entry of extras is named by the extra's tag, the round's context and its members' paths."""
    from gapctl.data import cache as C

    paths = outcomes.round_paths(plan)
    return C.key_of("extras1", tag, plan.context, *(str(paths[i]) for i in chunk))


def _cached_extras(plan: Any, chunk: list[int], tag: str) -> dict[int, bytes | None]:
    """The members of a chunk's entry of extras made from the outcome each file has now (its key), by index: the
    extra's bytes (compressed), or None for a file that has none (a channel's, one with errors)."""
    from gapctl import codec

    payload = plan.cache.get(extras_key(plan, chunk, tag))
    try:
        members = codec.loads(payload) if payload is not None else None
    except Exception:  # an entry this code cannot read: made again
        members = None
    if not isinstance(members, list) or len(members) != len(chunk):
        return {}
    out: dict[int, bytes | None] = {}
    for index, member in zip(chunk, members, strict=True):
        if isinstance(member, list) and len(member) == 2 and member[0] is not None and member[0] == plan.keys[index] \
                and (member[1] is None or isinstance(member[1], bytes)):
            out[index] = member[1]
    return out


def _run_cached(plan: Any, extra: Extra, extras: MutableMapping[Path, Any],
                progress: outcomes.Progress | None) -> None:
    """`_run` with the cache on, for an extra with a `cache_form`: a file whose outcome and extra the cache holds for
    its key is taken from there; the others are read, checked and scored once (here or in forked workers), and the
    entries of their chunks, outcomes and extras, are written again as soon as each chunk is done."""
    from gapctl import codec

    prepare = getattr(extra, "prepare", None)
    if prepare is not None:
        prepare(plan)
    tag, extra = extra.cache_form(plan)  # type: ignore[attr-defined]
    paths = outcomes.round_paths(plan)
    digests = outcomes.FileDigests(plan)
    waiting = outcomes.Waiting(outcomes.chunks_of(paths))
    found: dict[int, Any] = {}  # index → its outcome from the cache
    held: dict[int, tuple[bytes | None, bytes | None]] = {}  # (outcome payload, extra) of the members of those chunks
    whole: set[int] = set()  # the first index of each chunk whose outcome entry held every member under its key now
    keys: dict[int, str | None] = {}  # a computed file's key (None: its outcome may not be kept)
    for number, chunk in enumerate(waiting.chunks):
        reused = outcomes.reused_members(plan, chunk, digests)
        cached = _cached_extras(plan, chunk, tag) if reused else {}
        if len(reused) == len(chunk):
            whole.add(chunk[0])
        mine: dict[int, tuple[bytes | None, bytes | None]] = {}
        for index in chunk:
            if index in reused and index in cached:
                try:
                    found[index] = outcomes.load_outcome(plan, paths[index], reused[index])
                except Exception:  # signed by this user but unreadable with this code: computed again
                    pass
                else:
                    if cached[index] is not None:
                        extras[paths[index]] = cached[index]
                    mine[index] = (reused[index], cached[index])
                    continue
            waiting.add(number, index)
        if number in waiting:
            held.update(mine)

    def keep(index: int, path: Path, outcome: Any, payload: bytes | None, key: str | None, kept: Any) -> None:
        """One file computed: its chunk's entries are written once the chunk has no file left to compute."""
        digests.computed(index, plan.hashes.get(path))
        keys[index] = key
        held[index] = (payload, kept)
        chunk = waiting.done(index)
        if chunk is None:
            return
        computed = {i for i in chunk if i in keys}
        members = {i: held[i][0] for i in chunk if held[i][0] is not None}
        if chunk[0] not in whole or len(members) != len(chunk) or any(keys[i] != plan.keys[i] for i in computed):
            outcomes.store_chunk(plan, chunk, computed, keys, members)
        # else the entry already holds every member's outcome under the same key (the file's bytes and context: the
        # same outcome), as a score left it before the extras were first made: not written again
        entry = []
        for i in chunk:
            kept_key = plan.keys[i] if i not in computed or keys[i] == plan.keys[i] else None
            entry.append([kept_key, held[i][1]] if kept_key is not None and i in members else [None, None])
        plan.cache.put(extras_key(plan, chunk, tag), codec.dumps(entry))
        for i in chunk:
            held.pop(i, None)
    _run(plan, _packing(extra), extras, progress, reuse=lambda index, path: found.pop(index, None), keep=keep)
    digests.save()
