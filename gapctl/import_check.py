"""The last gate of `gapctl import`: validate the round with the planned files in place.

The round is loaded by `gapctl.load` and checked by `gapctl.validate` — the very code
`gapctl validate` runs — from a file tree that is the working tree with the files the import
would write put in (`Planned`). Nothing is written to disk. Every error that the same check of
the working tree as it is does not give is the import's: it refuses the import, and is named by
the sheet, row and column of the row that made the entry (the value's column for a value that
does not fit, the date's for a date). Warnings on imported entries become notes.

This catches what the cell checks do not know: a fraction of −5, a grade above the maximum,
a count where items are expected, an observation file grown past the size limit, a second file
for a unit that has `b.yml` — whatever `validate` refuses now or will refuse later.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from gapctl.model import Round
from gapctl.tree import DiskTree, blob_id

VALUE_FIELDS = ("result", "items", "count", "fraction", "grade", "notices")


class Planned:
    """The working tree as it will be after the import: the planned files over the files on disk.

    Not a DiskTree subclass on purpose: the loader then keeps each file's text for locating
    problems, instead of reading the old file from disk again.
    """

    label = "working tree with the import's files"

    def __init__(self, files: dict[Path, bytes]):
        self.disk = DiskTree()
        self.planned = {self._key(p): data for p, data in files.items()}
        self.dir_children: dict[str, set[str]] = {}
        for key in self.planned:
            child = key
            while True:
                parent = os.path.dirname(child)
                if parent == child:
                    break
                self.dir_children.setdefault(parent, set()).add(os.path.basename(child))
                child = parent

    @staticmethod
    def _key(path: Path) -> str:
        return os.path.abspath(path)

    def is_dir(self, path: Path) -> bool:
        return self._key(path) in self.dir_children or self.disk.is_dir(path)

    def is_file(self, path: Path) -> bool:
        return self._key(path) in self.planned or self.disk.is_file(path)

    def exists(self, path: Path) -> bool:
        return self.is_file(path) or self.is_dir(path)

    def _planned_names(self, directory: Path, files: bool) -> set[str]:
        key = self._key(directory)
        return {name for name in self.dir_children.get(key, ())
                if (os.path.join(key, name) in self.planned) == files}

    def files_in(self, directory: Path, files: bool) -> list[Path]:
        on_disk = self.disk.files(directory) if files else self.disk.dirs(directory)
        names = {p.name for p in on_disk} | self._planned_names(directory, files)
        return [directory / name for name in sorted(names)]

    def files(self, directory: Path) -> list[Path]:
        return self.files_in(directory, True)

    def dirs(self, directory: Path) -> list[Path]:
        return self.files_in(directory, False)

    def read_bytes(self, path: Path) -> bytes:
        data = self.planned.get(self._key(path))
        return data if data is not None else self.disk.read_bytes(path)

    def blob(self, path: Path, data: bytes) -> str:
        return blob_id(data)

    def close(self) -> None:
        return None


def _key(problem: Any) -> tuple[str, str, str]:
    """A problem without its line and column (positions shift when a file is edited; finding them
    would re-read every file with a warning)."""
    where = problem.src.display if problem.src is not None else (problem.location.path if problem.location else "")
    return (where, problem.code, problem.message)


def check_plan(plan: Any, out: Any) -> Round | None:
    """Validate the round with `out.files` in place; report new errors on `plan`. The round after."""
    from gapctl.load import load
    from gapctl.validate import validate

    round_dir = plan.round.directory
    before = {_key(p) for p in validate(load(round_dir)).problems}
    loaded = load(round_dir, tree=Planned(out.files))
    report = validate(loaded)
    planned = {os.path.abspath(p): p for p in out.files}
    entries: dict[Path, tuple[str, list[Any]]] = {}
    for problem in report.problems:  # in validate's order: file by file, entry by entry
        if _key(problem) in before:
            continue
        path = os.path.abspath(problem.src.path) if problem.src is not None else None
        if problem.severity != "error" and path not in planned:
            continue
        row, col = _origin(plan, problem, planned.get(path or ""), out.files, entries)
        loc = problem.locate()
        if problem.severity == "error":
            if row is None:
                plan.problem(problem.code, f"after the import `gapctl validate` would report {loc}: {problem.code} "
                             f"{problem.message}")
            else:
                plan.problem(problem.code, f"{problem.message} ({problem.code}, {loc} once written)", row, col)
        elif row is not None:
            plan.note(problem.code, f"{problem.message} ({problem.code})", row, col)
    return loaded.round


def _origin(plan: Any, problem: Any, path: Path | None, files: dict[Path, bytes],
            entries: dict[Path, tuple[str, list[Any]]]) -> tuple[int | None, int | None]:
    """The sheet row and column of the entry a problem in a planned file is about."""
    at = problem.at
    if path is None or len(at) < 2 or at[0] != "results" or not isinstance(at[1], int):
        return None, None
    if path not in entries:
        entries[path] = _results(path, files[path])
    unit, results = entries[path]
    if not 0 <= at[1] < len(results) or not isinstance(results[at[1]], dict):
        return None, None
    origin = plan.origins.get((unit, str(results[at[1]].get("indicator"))))
    if origin is None:
        return None, None
    name = at[2] if len(at) > 2 else None
    if name in VALUE_FIELDS or name is None:
        name = "result" if name == "result" and "result" in origin.cols else "value"
    return origin.row, origin.cols.get(str(name), origin.cols.get("value"))


def _results(path: Path, data_bytes: bytes) -> tuple[str, list[Any]]:
    """(unit, entries) of a planned file, as read back."""
    from gapctl.sources import read_file

    data = read_file(path, data_bytes).data
    if not isinstance(data, dict):
        return "", []
    results = data.get("results")
    return str(data.get("unit")), results if isinstance(results, list) else []
