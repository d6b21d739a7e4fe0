"""The last gate of `gapctl import`: the files it would write, read and checked as `validate` would.

Each planned observation file is read from its new bytes by `gapctl.data.sources.read_file`, built by
`gapctl.scoring.load.build_observations` and checked by `gapctl.scoring.validate.check_observation_file` against
the round — the very functions `gapctl validate` runs on that file (the rest of the round does
not depend on it: a unit's observations are checked file by file). Nothing is written to disk.
Every error that the file as it is now does not give is the import's: it refuses the import, and
is named by the sheet, row and column of the row that made the entry (the value's column for a
value that does not fit, the date's for a date). Warnings on imported entries become notes.

This catches what the cell checks do not know: a fraction of −5, a grade above the maximum, a
count where items are expected, a file grown past the size limit — whatever `validate` refuses.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from gapctl.data.model import Observations, Round
from gapctl.i18n import _

VALUE_FIELDS = ("result", "items", "count", "fraction", "grade", "notices")


def _key(problem: Any) -> tuple[str, str]:
    """A problem without its position (lines shift when a file is edited)."""
    return (problem.code, problem.message)


def file_problems(round_: Round, path: Path, data: bytes, sources: dict[str, Any] | None = None,
                  parsed: Any = None, units: dict[str, Any] | None = None, old: tuple[Any, Any] | None = None
                  ) -> tuple[list[Any], Observations | None, Any]:
    """What `gapctl validate` says of an observation file holding `data`: (problems, the built file,
    its parsed data). `sources`: the file the round reads for each unit (importer.Now), by default the
    round's own; `parsed`: `data` as gapctl.data.sources.read_file read it (with its text kept), if it was;
    `units`: the round's units by id, when the caller has them (`units_of`); `old`: (the data, the built
    observations) of the file before an edit that gave `parsed`, when the caller checked it: then the entries
    the edit left as they were (`known_entries`) are not checked again, and what they say of themselves — what
    the file before said of them, which the import leaves out (check_file) — is not among the problems."""
    from gapctl.data.sources import read_file
    from gapctl.scoring.load import build_observations, second_file
    from gapctl.scoring.validate import check_observation_file

    if parsed is None:
        parsed = read_file(path, data, keep_text=True)
    problems = list(parsed.problems)
    known, obs = _built(parsed, problems, old) if old is not None else (None, None)
    if known is None:
        obs = build_observations(parsed.src, parsed.data, problems) if parsed.data is not None else None
    if obs is not None:
        if units is None:
            units = round_.unit_set.by_id() if round_.unit_set else {}
        if obs.channel:  # a channel's file (channels/<unit>/<channel>.yaml): checked as validate checks one
            from gapctl.scoring.check_rollups import check_channel_file

            problems.extend(check_channel_file(round_, units, obs))
            return problems, obs, parsed.data
        if sources is not None:
            other = sources.get(obs.unit)
        else:
            found = round_.observations.get(obs.unit)
            other = found.src if found is not None else None
        if other is not None and Path(other.path) != Path(path):
            problems.append(second_file(obs.unit, parsed.src, other))
        problems.extend(check_observation_file(round_, units, obs, known=known))
    return problems, obs, parsed.data


def _built(parsed: Any, problems: list[Any], old: tuple[Any, Any]) -> tuple[set[int] | None, Any]:
    """(the entries left out — `known_entries` —, the file built with the rest read here and those as they were
    built before, their problems added to `problems` without what the left-out entries say of themselves);
    (None, None) when no entry is left out (the caller builds the file whole)."""
    from gapctl.data.schema import Reader
    from gapctl.scoring.load import build_observations, result_of

    known = known_entries(old, parsed)
    if not known:
        return None, None
    entries = parsed.data["results"]
    said: list[Any] = []
    obs = build_observations(parsed.src, {**parsed.data, "results": []}, said)  # the file without its entries
    old_obs = old[1]
    if obs is None or obs.channel is not None:
        return None, None
    kept = {r.at[1]: r for r in old_obs.results if r.at[1] in known}
    reader = Reader(parsed.src, said)
    for n, entry in enumerate(entries):  # then each entry, in order, as build_observations reads them
        result = kept.get(n) if n in known else result_of(reader, obs, entry, n)
        if result is not None:
            obs.results.append(result)
    for built in (old_obs, obs):  # an indicator observed twice: its entries' problems look across entries
        evaluated = [r.indicator for r in built.results if r.source == "evaluator"]
        if len(set(evaluated)) != len(evaluated):
            return None, None
    problems.extend(said)
    return known, obs


def known_entries(old: tuple[Any, Any], parsed: Any) -> set[int] | None:
    """The entries (index in `results`) of an edited file that are the file's before, untouched: the same
    object as read before the edit (gapctl.data.entry_edits keeps an entry it does not edit), at the same
    index, in a file whose other keys are the same objects too, and read without problems (an edit the check
    of every entry must see). None when none can be: a file read with problems before, a channel's file.
    `_built` checks every entry of a file with an indicator observed twice; check_observations every entry of a
    scheme with a panel: there an entry's problems depend on the others'."""
    old_data, old_obs = old
    data = parsed.data
    if old_obs is None or old_obs.channel is not None or parsed.problems or not isinstance(old_data, dict) \
            or not isinstance(data, dict) or list(old_data) != list(data):
        return None
    if any(data[key] is not old_data[key] for key in data if key != "results"):
        return None
    before, after = old_data.get("results"), data.get("results")
    if not isinstance(before, list) or not isinstance(after, list) or len(after) < len(before):
        return None
    return {n for n, entry in enumerate(before) if after[n] is entry}


def check_plan(plan: Any, out: Any) -> Round:
    """Check `out.files` as validate would; report the new errors on `plan`. The round after."""
    round_ = plan.round
    after = copy.copy(round_)
    after.observations = dict(round_.observations)
    after.channels = {unit: dict(found) for unit, found in round_.channels.items()}
    for path, data in sorted((p, d) for p, d in out.files.items() if p in plan.paths):
        # checked where the file was edited (a worker, for a large import), else here
        obs, said = out.checked.pop(path, None) or check_file(plan, path, data, out.seen.get(path) is not None)
        if obs is not None and obs.channel:
            after.channels.setdefault(obs.unit, {})[obs.channel] = obs
        elif obs is not None:
            after.observations[obs.unit] = obs
        for kind, issue in said:
            (plan.problems if kind == "problem" else plan.notes).add(issue)
    return after


def check_file(plan: Any, path: Path, data: bytes, existed: bool, parsed: Any = None, now: list[Any] | None = None,
               old: tuple[Any, Any] | None = None) -> tuple[Observations | None, list[tuple[str, Any]]]:
    """One planned file checked: (the file built — None when the plan keeps no preview —, what the check says
    on the plan, in order: ("problem" | "note", issue)). Errors the file as it is now (`existed`) does not
    give are the import's. `parsed`: `data` as read back by the edit, if it was (read_file, text kept);
    `now`: what validate says of the file as it is now, when the caller checked it (else found here); `old`:
    (its data, its observations) as that check built them (file_problems), with `now` only."""
    from gapctl.io.importer import telling

    round_ = plan.round
    with telling(plan) as said:
        problems, obs, parsed = file_problems(round_, path, data, plan.now.sources, parsed, units_of(plan),
                                              old if existed and now is not None and not plan.preview else None)
        before: set[tuple[str, str]] = set()
        if existed:  # an existing file, as it is now: as the round's check found it, else read again
            if now is None:
                now = plan.now.problems(path)
            if now is None:
                now = file_problems(round_, path, Path(path).read_bytes(), plan.now.sources)[0]
            before = {_key(p) for p in now}
        unit, results = _results(parsed)
        for problem in problems:
            if _key(problem) in before:
                continue
            row, col = _origin(plan, problem, unit, results)
            if problem.severity == "error":
                loc = problem.locate()  # finding a position reads the file again: only for what is shown
                if row is None:
                    plan.problem(problem.code, _("after the import `gapctl validate` would report {place}: {code} "
                                                 "{message}").format(place=loc, code=problem.code,
                                                                     message=problem.message))
                else:
                    plan.problem(problem.code, _("{message} ({code}, {place} once written)").format(
                        message=problem.message, code=problem.code, place=loc), row, col)
            elif row is not None:
                plan.note(problem.code, _("{message} ({code})").format(message=problem.message, code=problem.code),
                          row, col)
    return (obs if plan.preview else None), said


def units_of(plan: Any) -> dict[str, Any]:
    """The plan's round's units by id, made once a round (not once a file: 30,000 units × 30,000 files)."""
    round_ = plan.round
    kept = plan.__dict__.get("_units")
    if kept is None or kept[0] is not round_:
        kept = plan._units = (round_, round_.unit_set.by_id() if round_.unit_set else {})
    return kept[1]


def _results(data: Any) -> tuple[str, list[Any]]:
    """(the file's target — its unit, or `<unit>/<channel>` —, its results)."""
    if not isinstance(data, dict):
        return "", []
    results = data.get("results")
    target = f"{data.get('unit')}/{data.get('channel')}" if data.get("channel") else str(data.get("unit"))
    return target, results if isinstance(results, list) else []


def _origin(plan: Any, problem: Any, unit: str, results: list[Any]) -> tuple[int | None, int | None]:
    """The sheet row and column of the entry a problem is about."""
    at = problem.at
    if len(at) < 2 or at[0] != "results" or not isinstance(at[1], int):
        return None, None
    if not 0 <= at[1] < len(results) or not isinstance(results[at[1]], dict):
        return None, None
    origin = plan.origins.get((unit, str(results[at[1]].get("indicator"))))
    if origin is None:
        return None, None
    name = at[2] if len(at) > 2 else None
    if name in VALUE_FIELDS or name is None:
        name = "result" if name == "result" and "result" in origin.cols else "value"
    return origin.row, origin.cols.get(str(name), origin.cols.get("value"))
