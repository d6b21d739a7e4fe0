"""`gapctl import` in one pass over the round's files: the check before and the edits together.

`gapctl import` checks the round file by file first (an import into a round with errors is refused,
and the errors it prints are `validate`'s), then edits each unit's file and checks the new bytes
against what the file said before (gapctl.io.import_check). Done one after the other, each edited
file is read, parsed, built and checked twice before its edit, and the round's check is scored
(which the import never shows). Here `outcomes.check` runs with its own `run` (`Pass.run`): the sheet
is read as soon as the round's definitions are loaded, and then each file is read once, by a worker
that checks it (not scored: the import prints no score) and, for a file the sheet edits, edits it
from the same bytes and the same parse, and checks its new bytes against what the check just found.

What the output is made of is the same as one after the other (tests/io/test_import_pass.py):

- the round's problems: each file's outcome as `outcomes` computes it; a worker sends back only the
  outcomes of files without problems (their file, unit, channel and evidence files), and a file
  with problems is checked again in the parent by `outcomes.compute_with`, which gives them;
- the edits: a worker finds a unit's file as the files' names say (`<unit>.yaml`); once the round is
  checked, every file a worker looked up for an edit is compared with the file the check found for
  that unit (`importer.Now.of_checked`), and a unit whose file differs is edited again here, as before;
- anything else (a mapping with problems, a sheet with problems, a matrix, 渠道 or 期次 column, several
  rounds, a batch a killed gapctl left) takes the path one after the other: the check here, without
  edits, and `importer.read` after it.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from types import MappingProxyType
from typing import Any

from gapctl.io import importer as I
from gapctl.io.sheets import LIMITS

BATCH = 16  # files a worker checks at a time


class _Whole(Exception):
    """The sheet needs the round loaded whole: the import takes the path one after the other."""


class _At:
    """Where a unit's file is, as a worker guesses it (`.path`, as importer.Now.sources gives)."""

    __slots__ = ("path",)

    def __init__(self, path: Path):
        self.path = path


class _Looked(dict):
    """importer.Now.sources as a worker guesses them, keeping what was looked up: key → the path found."""

    def __init__(self, *args: Any):
        super().__init__(*args)
        self.looked: dict[str, Path | None] = {}

    def get(self, key: Any, default: Any = None) -> Any:
        found = super().get(key, default)
        self.looked[key] = found.path if found is not None else None
        return found


class Pass:
    """One import: `run` is given to `outcomes.check`; `imported(checked)` is the plan (importer.Imported)."""

    def __init__(self, file: Path, mapping: Path | None, sheet: str | None, force: bool, whole: Any,
                 progress: Any = None):
        self.file, self.mapping, self.sheet, self.force, self.whole = file, mapping, sheet, force, whole
        self.progress, self.checked_files = progress, 0  # outcomes.print_progress, as `outcomes.check` shows it
        self.ready: tuple[I.Imported, I.Plan] | None = None  # the sheet, read into a plan (None: one after other)
        self.done: dict[str, tuple[Any, ...]] = {}  # unit → its `_plan_one` and lookups, packed (`_pack`)
        self.guessed: dict[str, Any] = {}  # target → where the workers guessed its file (`_At`)
        self.paths: list[Path] = []  # the round's files, as `run` numbered them

    # --- in outcomes.check -------------------------------------------------------------------------

    def run(self, rp: Any, only_round: bool) -> None:
        """Every file's outcome (unscored) in rp.outcomes, in path order; the sheet's edits made on the way."""
        edits: dict[int, tuple[str, list[dict[str, Any]]]] = {}
        paths = rp.round.observation_paths + rp.round.channel_paths
        plan = self._prepare(rp, paths) if only_round else None
        if plan is not None:
            index = {path: n for n, path in enumerate(paths)}
            for unit_id, entries in plan.planned.items():
                path = I._observation_path(plan, unit_id)
                if path in index:  # else a new file: made after the check
                    edits[index[path]] = (unit_id, entries)
            # let go here, before the workers are forked: a worker that let go of what the parent holds would touch
            # (and so copy) every page of it — these lookups of every unit, ~70 MB a worker at 30,000 units
            self.guessed.looked = {}
            # the round's units by id (import_check.units_of), the check's own (RoundPlan.units): a worker making them
            # would touch every unit, and so copy the pages they are on, ~70 MB a worker at 30,000 units
            plan._units = (plan.round, rp.units)
        unscored = dataclasses.replace(rp, can_score=False)  # the import shows no score
        self.paths = paths
        results: list[Any] = [None] * len(paths)
        root = None
        if plan is not None:
            from gapctl.data.writes import round_root

            root = round_root(plan.round.directory)
        job = (unscored, plan, root, edits, paths)
        from gapctl.scoring.outcomes import PARALLEL_FROM, jobs_wanted

        workers = min(jobs_wanted(), len(paths) // (PARALLEL_FROM // 2) or 1)
        batches = [(n, min(n + BATCH, len(paths))) for n in range(0, len(paths), BATCH)]
        global _JOB
        spool = None
        if edits and self.ready is not None:
            import shutil
            import tempfile
            import weakref

            # the edited files' new bytes, kept out of memory until written: outside the repository (the system's
            # temporary directory), so a killed import leaves the tree as it was; removed once the import is
            # written (or dropped)
            spool = tempfile.mkdtemp(prefix="gapctl-import-")
            weakref.finalize(self.ready[0], shutil.rmtree, spool, ignore_errors=True)
        _JOB = (*job, spool)
        try:
            if len(paths) >= PARALLEL_FROM and workers > 1 and hasattr(os, "fork"):
                from gapctl.scoring.executors import forked_pool

                with forked_pool(workers, files=len(paths)) as pool:
                    for done in pool.imap_unordered(_batch, batches):
                        self._take(unscored, paths, done, results)
            else:
                for span in batches:
                    self._take(unscored, paths, _batch(span), results)
        finally:
            _JOB = None
        if self.progress:
            self.progress(len(paths), len(paths))
        rp.outcomes = results

    def _prepare(self, rp: Any, paths: list[Path]) -> I.Plan | None:
        """The sheet read into a plan over the round's definitions, when the one pass can make its edits."""
        from gapctl.data.journal import journals
        from gapctl.data.tree import DiskTree
        from gapctl.data.writes import round_root

        if rp.round.tree is not None and not isinstance(rp.round.tree, DiskTree):
            return None  # a git revision's files: not what an import edits
        if journals(round_root(rp.round.directory)):
            return None  # a killed batch is completed when the first file is read for an edit: the files change

        def whole() -> Any:
            raise _Whole

        guessed = _Looked()
        for path in paths:  # a unit's first file, as `outcomes` merges them, if each file is named after its unit
            guessed.setdefault(_target(path), _At(path))
        now = I.Now(guessed)
        try:
            out, plan, plans = I._prepare(rp.round, self.file, self.mapping, self.sheet, self.force, LIMITS, now,
                                          whole, False)
        except _Whole:
            return None
        except Exception:  # whatever reading the sheet raises, it raises where it did: after the round's check
            return None
        if plan is None or plan.problems or len(plans) != 1 or plan.round is not rp.round:
            return None
        del plan.sheet.rows[1:]  # read into the plan's entries: let go before the workers are forked (see `run`)
        self.ready, self.guessed = (out, plan), guessed
        return plan

    def _take(self, unscored: Any, paths: list[Path], done: list[tuple[Any, ...]], results: list[Any]) -> None:
        from gapctl.data.sources import SourceFile
        from gapctl.scoring.outcomes import FileOutcome, compute_with

        for index, light, edited in done:
            if light is None:  # problems: computed again here, where they are kept
                results[index] = compute_with(unscored, paths[index])[0]
            elif isinstance(light, str):  # the common case, kept small: 30,000 of them at once
                unit, display = light.split("\0", 1)
                results[index] = FileOutcome(SourceFile(paths[index], display), unit, _NONE, _NONE, _NONE, _NO_MEASURES)
            else:
                src, unit, channel, evidence = light
                results[index] = FileOutcome(src, unit, evidence_files=evidence, channel=channel)
            if edited is not None:
                self.done[edited[0]] = edited
        before, self.checked_files = self.checked_files, self.checked_files + len(done)
        if self.progress and self.checked_files // 100 > before // 100:
            self.progress(self.checked_files, len(paths))

    # --- after the check ---------------------------------------------------------------------------

    def imported(self, checked: Any) -> I.Imported:
        """The import planned and checked (importer.Imported), as `importer.read` after the check gives it."""
        now = I.Now.of_checked(checked)
        if self.ready is None:
            return I.read(checked.plans[0].round, self.file, self.mapping, self.sheet, self.force, now=now,
                          whole=self.whole, preview=False)
        from gapctl.data.writes import round_root

        out, plan = self.ready
        plan.now = now
        out.root = round_root(plan.round.directory)
        real = now.sources
        slots: list[Any] = [None] * len(plan.planned)
        again: list[tuple[int, tuple[str, list[dict[str, Any]]]]] = []
        for n, (unit_id, entries) in enumerate(sorted(plan.planned.items())):
            found = self.done.pop(unit_id, None)
            if found is not None and all((real[k].path if k in real else None) == self._guess(k)
                                         for k in found[7] or (unit_id,)):
                slots[n] = found
            else:  # a new file, or one the guess did not find: edited here, as one after the other
                again.append((n, (unit_id, entries)))
        if again:
            made = I._files_planned(plan, out, [item for _n, item in again])
            for (n, _item), result in zip(again, made, strict=True):
                slots[n] = result
        self.guessed = {}
        I._plan_files(plan, out, self._unpacked(slots, plan.sheet.name))
        return I._finish(out, plan, [plan])

    def _guess(self, key: str) -> Path | None:
        """Where a worker found `key`'s file (`_Looked.get`)."""
        found = self.guessed.get(key)
        return found.path if found is not None else None

    def _unpacked(self, slots: list[Any], sheet: str) -> Any:
        """Each unit's `_plan_one` in turn (importer._plan_files), from `_pack`'s form; each let go once given."""
        for n, item in enumerate(slots):
            slots[n] = None
            if len(item) == 5:  # made here
                yield item
                continue
            _unit, index, path, data, seen, said, checked, _looked = item
            yield (self.paths[index] if path is None else path, data, None if seen is None else I.Seen(*seen),
                   _said_of(said, sheet), checked if checked is None else (checked[0], _said_of(checked[1], sheet)))


_NONE: tuple[Any, ...] = ()  # the problems and evidence files of every file without problems: one shared, read only
_NO_MEASURES: Any = MappingProxyType({})  # and their measures: one empty mapping, read only


def _packed_said(said: list[tuple[str, Any]], sheet: str) -> tuple[Any, ...]:
    """What an edit said ((kind, sheets.Issue) in order), as plain tuples: fewer, smaller objects to send and keep
    (a worker's 30,000 files' worth of them are kept until the round is checked); `_said_of` makes them again."""
    from gapctl.io.sheets import Issue

    return tuple((kind, None if issue.sheet == sheet else issue.sheet, issue.row, issue.col, issue.code,
                  issue.message, issue.at) if type(issue) is Issue else (kind, issue) for kind, issue in said)


def _said_of(packed: tuple[Any, ...], sheet: str) -> list[tuple[str, Any]]:
    from gapctl.io.sheets import Issue

    return [(item[0], Issue(sheet if item[1] is None else item[1], *item[2:])) if len(item) == 7 else item
            for item in packed]


def _pack(index: int, path: Path, sheet: str, edited: tuple[str, tuple[Any, ...], dict[str, Path | None]]
          ) -> tuple[Any, ...]:
    """A worker's edit of the file `index` as it is sent and kept until the import is planned: (unit, index, its
    path or None when it is the file's, new bytes, (st_dev, st_ino, st_size, st_mtime_ns) or None, what the edit
    said, its check, the targets looked up or None when only the unit's own)."""
    unit_id, (at, data, seen, said, checked), looked = edited
    keys = tuple(looked)
    return (unit_id, index, None if at == path else at, data,
            None if seen is None else (seen.st_dev, seen.st_ino, seen.st_size, seen.st_mtime_ns),
            _packed_said(said, sheet), checked if checked is None else (checked[0], _packed_said(checked[1], sheet)),
            None if keys == (unit_id,) else keys)


def _target(path: Path) -> str:
    """The unit (or `<unit>/<channel>`) a file of the round is named for."""
    if path.parent.parent.name == "channels":
        return f"{path.parent.name}/{path.stem}"
    return path.stem


_JOB: tuple[Any, ...] | None = None  # what forked workers inherit


def _batch(span: tuple[int, int]) -> list[tuple[Any, ...]]:
    """In a worker: `_files`, the edited files' new bytes put in a spool file (importer.Spooled)."""
    job = _JOB
    assert job is not None
    *rest, spool = job
    done = _files(tuple(rest), span)
    plan, paths = rest[1], rest[4]
    if spool is None:
        return [(index, light, edited if edited is None else _pack(index, paths[index], plan.sheet.name, edited))
                for index, light, edited in done]
    name, offset = os.path.join(spool, str(span[0])), 0
    with open(name, "wb") as out:  # not fsynced: the writing copies it into fsynced temporary files
        for n, (index, light, edited) in enumerate(done):
            if edited is None:
                continue
            if edited[1][1] is not None:
                unit_id, (path, data, seen, said, checked), looked = edited
                out.write(data)
                edited = (unit_id, (path, I.Spooled(name, offset, len(data)), seen, said, checked), looked)
                offset += len(data)
            done[n] = (index, light, _pack(index, paths[index], plan.sheet.name, edited))
    return done


def _files(job: tuple[Any, ...], span: tuple[int, int]) -> list[tuple[Any, ...]]:
    """Files span[0]..span[1]: (index, its outcome without problems as (src, unit, channel, evidence files) or
    None when it has problems, (unit, `_plan_one`, the sources looked up) for an edited file or None)."""
    unscored, plan, root, edits, paths = job
    out = []
    for index in range(*span):
        path = paths[index]
        edit = edits.get(index)
        outcome = None
        edited = None
        if edit is not None:
            outcome, edited = _edit(unscored, plan, root, path, *edit)
        if outcome is None:
            from gapctl.scoring.outcomes import compute_with

            outcome = compute_with(unscored, path)[0]
        out.append((index, _light(outcome, path), edited))
    return out


def _light(outcome: Any, path: Path) -> Any:
    """A file's outcome as a worker sends it: None when it has problems (the parent checks it again); for the
    common file (its own path, no channel, no evidence file, nothing kept of its text) one string, its unit and how
    its path is shown; else (src, unit, channel, evidence files)."""
    if outcome.load_problems or outcome.check_problems:
        return None
    src = outcome.src
    if src.path == path and src.text is None and src._positions is None and outcome.channel is None \
            and not outcome.evidence_files and isinstance(outcome.unit, str) and "\0" not in outcome.unit \
            and type(src.display) is str:
        return f"{outcome.unit}\0{src.display}"
    return src, outcome.unit, outcome.channel, outcome.evidence_files


def _edit(unscored: Any, plan: I.Plan, root: Path | None, path: Path, unit_id: str,
          entries: list[dict[str, Any]]) -> tuple[Any, tuple[str, tuple[Any, ...], dict[str, Path | None]]]:
    """One unit's file read once: its outcome (None when it was not read here) and its edit (`_plan_one`)."""
    from gapctl.data.sources import over_limit
    from gapctl.data.writes import read_original
    from gapctl.scoring.validate import check_evidence_file

    kept: list[Any] = []
    built: list[tuple[Any, Any]] = []  # the file's data and observations, as its check built them

    def opened(at: Path, root_: Path | None) -> tuple[Any, Any]:
        original = read_original(at, root_)
        if at != path or over_limit(at):
            return original, None
        from gapctl.scoring.outcomes import checked_file

        outcome, parsed, obs = checked_file(unscored, at, original.raw)
        kept.append(outcome)
        built.append((parsed.data, obs))
        return original, parsed

    def before() -> list[Any] | None:
        if not kept:
            return None
        outcome = kept[0]
        round_ = unscored.round
        evidence = [p for ev in outcome.evidence_files for p in check_evidence_file(round_.directory, ev, round_.tree)]
        return [*outcome.load_problems, *outcome.check_problems, *evidence]

    sources = plan.now.sources
    sources.looked = {}
    result = I._plan_one(plan, root, unit_id, entries, opened, before, lambda: built[0] if built else None)
    return (kept[0] if kept else None), (unit_id, result, dict(sources.looked))


def outcome_parsed(rp: Any, path: Path, data: bytes) -> tuple[Any, Any]:
    """`outcomes.outcome_with(rp, path, data)` of an unscored plan (`can_score` False), and the file as
    read_file parsed it (for its edit): the outcome's problems, unit, channel and evidence files are the same
    (tests/io/test_import_pass.py)."""
    from gapctl.scoring.outcomes import checked_file

    outcome, parsed, _observations = checked_file(rp, path, data)
    return outcome, parsed
