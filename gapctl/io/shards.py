"""`gapctl rank --from PARQUET…`: one ranking over the units of several rounds (shards), e.g. a
national ranking of per-province rounds, from their Parquet exports (`gapctl.io.columnar`).

The ranking is `gapctl score`'s own: `gapctl.scoring.score.rank_entries` ranks units among those scored
by the same scheme and, within it, the same category; ties share a rank (1, 2, 2, 4); a total
withheld by a veto is not ranked. Totals are compared as exported — exact decimals, already
rounded half-up at the scheme's places by `score` — and printed with `gapctl.scoring.scoreboard.fixed`
at those places. So ranking shards together gives what one round holding all their units would
give, except where a unit's points depend on the other units of its round (rank bonuses).

A unit is named by its round and id, since two shards may use the same unit id.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from gapctl.i18n import _, in_lang
from gapctl.scoring.score import rank_entries

COLUMNS = ("round", "unit", "name", "type", "scheme", "category", "category_name", "places", "total", "grade")


@dataclass
class Ranked:
    """One unit of one shard, with its rank among all the shards' units."""

    round: str
    unit: str
    name: str
    type: str
    scheme: str
    category: str | None
    category_name: str | None
    places: int
    total: Decimal | None
    grade: str | None
    rank: int | None = None
    category_rank: int | None = None


class ShardError(Exception):
    """Input that cannot be ranked (no units table, the same unit twice); one line, exit 1."""


def unit_files(path: Path) -> list[Path]:
    """The units tables under `path`: an export directory (its `units/`), a directory of partitions or
    one partition, or a Parquet file."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise ShardError(_("{path}: no such file or directory").format(path=path))
    if (path / "units").is_dir():
        path = path / "units"
    found = sorted(Path(root) / name for root, _dirs, names in os.walk(path) for name in names
                   if name.endswith(".parquet"))
    if not found:
        raise ShardError(_("{path}: no units table (*.parquet) found; export rounds with gapctl export "
                           "--format parquet").format(path=path))
    return found


def _round_of(path: Path) -> str | None:
    """The round a part belongs to: its hive partition directory `round=<id>`."""
    for parent in path.parents:
        if parent.name.startswith("round="):
            return unquote(parent.name[len("round="):])
    return None


def read(paths: list[Path]) -> list[Ranked]:
    """Every unit of the units tables under `paths`, each (round, unit) once. Raises ShardError,
    CannotRun (no pyarrow)."""
    from gapctl.io.columnar import pyarrow

    pyarrow()
    import pyarrow.parquet as pq

    files: list[Path] = []
    for path in paths:
        for found in unit_files(path):
            if found.resolve() not in {f.resolve() for f in files}:
                files.append(found)
    seen: dict[tuple[str, str], Path] = {}
    out = []
    for path in files:
        try:
            table = pq.read_table(path)
        except Exception as err:  # pyarrow's errors for a file that is not Parquet have no common base
            raise ShardError(_("{path}: not a readable Parquet file ({error})").format(path=path, error=err)) from None
        names = set(table.column_names)
        missing = [c for c in COLUMNS if c not in names and not (c == "round" and _round_of(path))]
        if missing:
            raise ShardError(_("{path}: not a units table of gapctl export (no {columns})").format(
                path=path, columns=", ".join(missing)))
        partition = _round_of(path)
        for row in table.to_pylist():
            round_id = row.get("round") or partition
            key = (round_id, row["unit"])
            if key in seen:
                raise ShardError(_("unit {unit} of round {round} is in {first} and in {second}; give each round "
                                   "once").format(unit=row["unit"], round=round_id, first=seen[key], second=path))
            seen[key] = path
            out.append(Ranked(round_id, row["unit"], row["name"], row["type"], row["scheme"], row["category"],
                              row["category_name"], row["places"], row["total"], row["grade"]))
    return out


def rank(units: list[Ranked], by_category: bool = False) -> list[Ranked]:
    """The units ranked together (`gapctl.scoring.score.rank_entries`), in the order they are printed: by
    scheme, then rank (by category first with `by_category`), round and unit."""
    ranked = rank_entries([((u.round, u.unit), u.scheme, u.category, u.total) for u in units])
    for u in units:
        u.rank, u.category_rank = ranked[(u.round, u.unit)]
    last = 1 << 30

    def key(u: Ranked) -> tuple[Any, ...]:
        if by_category:
            return (u.scheme, u.category or "\uffff", u.category_rank or last, u.round, u.unit)
        return (u.scheme, u.rank or last, u.round, u.unit)
    return sorted(units, key=key)


def _total(u: Ranked) -> str | None:
    from gapctl.scoring.scoreboard import fixed
    return fixed(u.total, u.places) if u.total is not None else None


def json_data(units: list[Ranked], sources: list[Path]) -> dict[str, Any]:
    return {
        "from": [str(p) for p in sources],
        "rounds": sorted({u.round for u in units}),
        "units": [{"scheme": u.scheme, "rank": u.rank, "category_rank": u.category_rank, "round": u.round,
                   "unit": u.unit, "name": u.name, "type": u.type, "category": u.category,
                   "category_name": u.category_name, "total": _total(u), "grade": u.grade} for u in units],
    }


def csv_text(units: list[Ranked]) -> str:
    import csv
    import io

    from gapctl.escape import csv_cell

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["scheme", "rank", "category_rank", "round", "unit", "name", "type", "category", "total",
                     "grade"])
    for u in units:
        writer.writerow([csv_cell(u.scheme), u.rank, u.category_rank, csv_cell(u.round), csv_cell(u.unit),
                         csv_cell(u.name), csv_cell(u.type), csv_cell(u.category or ""), _total(u),
                         csv_cell(u.grade or "")])
    return buffer.getvalue()


def text_lines(units: list[Ranked], lang: str) -> list[str]:
    """One aligned table per scheme, like `gapctl score`."""
    from gapctl.labels import label
    from gapctl.textwidth import table

    lines = [in_lang("{units} units of {rounds} rounds, ranked together", lang).format(
        units=len(units), rounds=len({u.round for u in units}))]
    for scheme in dict.fromkeys(u.scheme for u in units):
        group = [u for u in units if u.scheme == scheme]
        has_category = any(u.category for u in group)
        columns = ["rank"] + (["category_rank"] if has_category else []) + ["round", "unit"] + \
            (["category"] if has_category else []) + ["total", "grade"]
        heads = {"round": in_lang("Round", lang)}
        rows = [[heads.get(c) or label(c, lang) for c in columns]]
        for u in group:
            cells = {"rank": str(u.rank or ""), "category_rank": str(u.category_rank or ""), "round": u.round,
                     "unit": u.name, "category": u.category_name or u.category or "", "total": _total(u) or "—",
                     "grade": u.grade or ""}
            rows.append([cells[c] for c in columns])
        lines += ["", in_lang("Scheme: {scheme}", lang).format(scheme=scheme)]
        lines += table(rows, ["right" if c in ("rank", "category_rank", "total") else "left" for c in columns])
    return lines


__all__ = ["Ranked", "ShardError", "csv_text", "json_data", "rank", "read", "text_lines", "unit_files"]
