"""One unit's full score on the file-by-file path: its own files read again, finished by the round's summary.

Who calls it: the commands that show more of a unit than its totals (`explain`, `report`,
`export`, `diff`, `followup`, `agreement`), after `gapctl.scoring.outcomes` has checked and scored the
round file by file (from the cache when nothing changed). What they get is what
`score.score_round` would have given for that unit, built without loading the round whole:

- `detail(source, summary)` reads only that unit's observation file, scores it
  (`score.score_unit`: leaves, tree, base) and takes everything that depends on other units —
  rank bonuses, section items decided after ranking, totals, grade, ranks, groups — from the
  finished summary (`graft`). Nothing of another unit's files is read, so `explain` of one unit
  costs its own file plus the summary, which a warm cache holds.
- `each(sources, units, work)` runs `work(details of one unit)` for every unit, in a pool of
  forked workers for large rounds (`GAPCTL_JOBS`), and yields what `work` returns, in the order
  of `units`. `work` returns what the command needs (a rendered page, table rows, a few
  figures), never the parsed documents, so the parent holds one unit's result at a time.

What it refuses: a round whose check had errors has no summary to finish from; the commands
that accept such a round (diff) keep the whole-round path for it.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gapctl.collector import paused_gc
from gapctl.data.model import Observations
from gapctl.data.sources import read_file
from gapctl.scoring.load import build_observations
from gapctl.scoring.outcomes import planned_score
from gapctl.scoring.score import RoundScore, UnitScore, score_channel

PARALLEL_FROM = 200  # units; below this one process is faster than starting a pool
BATCH = 16  # units a worker takes at a time: results come back in order, a batch at a time


@dataclass
class Source:
    """What rebuilding a unit's detail needs: the round's plan (schemes, units, external shares),
    its finished summary, and which file holds each unit's observations and channels."""

    plan: Any  # gapctl.scoring.outcomes.RoundPlan
    scored: RoundScore
    files: dict[str, Path] = field(default_factory=dict)  # unit id → its observation file
    channel_files: dict[str, dict[str, Path]] = field(default_factory=dict)  # unit id → channel → file

    @property
    def round(self) -> Any:
        return self.plan.round


def prepare(checked: Any, scored: RoundScore, index: int = 0) -> Source:
    """The source of a checked round (`gapctl.scoring.outcomes.check`) and its summary (`outcomes.score`)."""
    plan = checked.plans[index]
    files: dict[str, Path] = {}
    channel_files: dict[str, dict[str, Path]] = {}
    for outcome in plan.outcomes:  # those `outcomes.merge_outcomes` kept: the first file of each unit, every channel
        if outcome.unit is None:
            continue
        if outcome.channel is not None:
            channel_files.setdefault(outcome.unit, {})[outcome.channel] = outcome.src.path
        else:
            files.setdefault(outcome.unit, outcome.src.path)
    return Source(plan, scored, files, channel_files)


def observations(source: Source, path: Path) -> Observations | None:
    """One observation file read and built again (from the round's tree: disk or a git revision)."""
    from gapctl.data.tree import DiskTree

    tree = source.round.tree or DiskTree()
    data = tree.read_bytes(path)
    parsed = read_file(path, data, keep_text=not isinstance(tree, DiskTree))
    if parsed.data is None:
        return None
    return build_observations(parsed.src, parsed.data, list(parsed.problems))


def detail(source: Source, summary: UnitScore) -> UnitScore:
    """The unit's full score: its leaves and tree from its own file, the rest from its summary."""
    return detail_and_observations(source, summary)[0]


def detail_and_observations(source: Source, summary: UnitScore) -> tuple[UnitScore, Observations | None]:
    """`detail`, and the unit's observation file as read (None when it has none)."""
    path = source.files.get(summary.unit.id)
    obs = observations(source, path) if path is not None else None
    full = planned_score(source.plan, summary.scheme, summary.unit, obs)
    return graft(summary, full), obs


def detail_from(source: Source, summary: UnitScore, obs: Observations | None) -> UnitScore:
    """`detail` of the unit whose observation file, as read, is `obs` (kept from an earlier reading of it,
    e.g. by gapctl.scoring.one_pass): scored and finished from its summary without reading the file again."""
    full = planned_score(source.plan, summary.scheme, summary.unit, obs)
    return graft(summary, full)


def channel_details(source: Source, unit_id: str) -> list[UnitScore]:
    """The full scores of a unit's channels, in the order of the summary's."""
    out = []
    paths = source.channel_files.get(unit_id, {})
    for summary in source.scored.channels.get(unit_id, []):
        channel = summary.unit.id.partition("/")[2]
        obs = observations(source, paths[channel]) if channel in paths else None
        full = score_channel(source.round, unit_id, obs) if obs is not None else None
        out.append(graft(summary, full) if full is not None else summary)
    return out


def graft(summary: UnitScore, full: UnitScore) -> UnitScore:
    """`full` (a unit scored on its own, before ranking) finished as `summary` was: the leaves that
    ranking and the later phases decide (section items, rank bonuses) take the summary's figures,
    and every figure of the unit as a whole is the summary's. The summary itself is not changed."""
    for key, kept in summary.leaves.items():
        leaf = full.leaves.get(key)
        if leaf is not None:
            leaf.earned, leaf.gated, leaf.state = kept.earned, kept.gated, kept.state
    return dataclasses.replace(summary, tree=full.tree, leaves=full.leaves, observed=full.observed,
                               source=full.source, detailed=True)


# --- every unit -------------------------------------------------------------------------

Work = Callable[[list[Any]], Any]  # one unit's details (one per source) → what the command keeps
_JOB: tuple[list[Source], list[list[UnitScore | None]], Work, bool] | None = None  # what forked workers inherit


def _one(sources: list[Source], summaries: list[UnitScore | None], work: Work, files: bool = False) -> Any:
    """`work` of one unit: its details in each source where it has a summary (None where it has none);
    with `files`, each as (detail, its observation file)."""
    found: list[Any] = []
    for source, summary in zip(sources, summaries, strict=True):
        if summary is None:
            found.append(None)
        else:
            pair = detail_and_observations(source, summary)
            found.append(pair if files else pair[0])
    return work(found)


def _batch(indices: list[int]) -> list[Any]:
    assert _JOB is not None
    sources, rows, work, files = _JOB
    with paused_gc():
        return [_one(sources, rows[i], work, files) for i in indices]


def jobs_wanted() -> int:
    from gapctl.scoring.outcomes import jobs_wanted as wanted
    return wanted()


def each(sources: list[Source], rows: list[list[UnitScore | None]], work: Work,
         progress: Callable[[int, int], None] | None = None, files: bool = False) -> Iterator[Any]:
    """`work(details)` for each row of summaries (one per source, None where a unit has none), in
    order; large rounds in a pool of forked workers that inherit the sources (never pickled).
    `files`: each detail comes with the unit's observation file, `(detail, observations)`."""
    global _JOB
    total = len(rows)
    workers = min(jobs_wanted(), max(1, total // (PARALLEL_FROM // 2)))
    if total < PARALLEL_FROM or workers < 2 or not hasattr(os, "fork"):
        with paused_gc():
            for n, row in enumerate(rows, start=1):
                yield _one(sources, row, work, files)
                if progress and (n % 100 == 0 or n == total):
                    progress(n, total)
        return
    from gapctl.scoring.executors import forked_pool

    batches = [list(range(n, min(n + BATCH, total))) for n in range(0, total, BATCH)]
    _JOB = (sources, rows, work, files)
    done = 0
    try:
        with forked_pool(workers, renewed=False) as pool:
            for results in pool.imap(_batch, batches):
                yield from results
                done += len(results)
                if progress:
                    progress(done, total)
    finally:
        _JOB = None


def units_of(*sources: Source, order: Iterable[UnitScore] | None = None) -> list[list[UnitScore | None]]:
    """Rows for `each`: every unit of the first source (or `order`), with its summary in each source."""
    by_unit = [s.scored.by_unit() for s in sources]
    first = list(order) if order is not None else sources[0].scored.units
    return [[found.get(u.unit.id) for found in by_unit] for u in first]


class DetailedRound:
    """A finished round whose units and channels are detailed when asked for (`explain --depth`):
    `by_unit()` and `channels` as on a RoundScore, each unit read and scored on first use."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.round = source.scored.round
        self.units = source.scored.units
        self.periods = source.scored.periods
        self.channels = _Channels(source)
        self._units = _Units(source)

    def by_unit(self) -> _Units:
        return self._units


class _Units:
    def __init__(self, source: Source) -> None:
        self.source, self.summaries, self.done = source, source.scored.by_unit(), {}  # type: ignore[var-annotated]

    def get(self, unit_id: str, default: Any = None) -> Any:
        if unit_id not in self.done:
            summary = self.summaries.get(unit_id)
            if summary is None:
                return default
            self.done[unit_id] = detail(self.source, summary)
        return self.done[unit_id]

    def __getitem__(self, unit_id: str) -> UnitScore:
        found = self.get(unit_id)
        if found is None:
            raise KeyError(unit_id)
        return found


class _Channels:
    def __init__(self, source: Source) -> None:
        self.source, self.done = source, {}  # type: ignore[var-annotated]

    def get(self, unit_id: str, default: Any = None) -> Any:
        if unit_id not in self.source.scored.channels:
            return default
        if unit_id not in self.done:
            self.done[unit_id] = channel_details(self.source, unit_id)
        return self.done[unit_id]
