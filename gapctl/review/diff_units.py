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

from gapctl.scoring import details, outcomes
from gapctl.scoring.load import paused_gc
from gapctl.scoring.score import UnitScore


def side(directory: Path, tree: Any = None) -> details.Source | None:
    """One side checked and scored file by file, or None when it has errors (or is no round)."""
    checked = outcomes.check(directory, True, tree=tree)
    if checked.loaded.round is None or checked.report.errors or len(checked.plans) != 1:
        return None
    with paused_gc():
        return details.prepare(checked, outcomes.score(checked))


def identities(source: details.Source) -> dict[str, tuple[Any, ...]]:
    """Unit id → what its own scoring depends on: the round's context, the unit's key and its
    observation file's (the cache's keys; each file's bytes are read when the cache is off)."""
    plan = source.plan
    paths = plan.round.observation_paths + plan.round.channel_paths
    keys = dict(zip(paths, plan.keys, strict=False)) if plan.keys else {}
    out = {}
    for unit_id in plan.units:
        path = source.files.get(unit_id)
        key = None
        if path is not None:
            key = keys.get(path) or outcomes._file_key(plan, path) or ("unreadable", str(path))
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
    rows = []
    for n in new.scored.units:
        o = old_units.get(n.unit.id)
        if o is None:
            continue
        if before.get(n.unit.id) != after.get(n.unit.id) or _decided(o) != _decided(n):
            rows.append([o, n])

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
