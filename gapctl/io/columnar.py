"""`export --format parquet`: scored rounds as a Parquet dataset for analysis across rounds and years.

Three tables, each partitioned by round (hive style: a directory `round=<id>`, which DuckDB,
pyarrow and Spark read back as a `round` column), so that exporting another round into the same
directory adds a partition and exporting a round again replaces only its own:

- ``leaves/round=<id>/part-<key>.parquet``: one row per unit × leaf indicator (bonus and penalty
  items included): the points it counts for, earned, lost, its state and rule kind;
- ``units/round=<id>/part-<key>.parquet``: one row per unit: type, tags, scheme, category, the
  figures `gapctl score` prints, rank, category rank, grade, flags;
- ``rounds/round=<id>/part-<key>.parquet``: one row: title, year, period, schemes, units.

Figures are exact decimals, never floats: `decimal128(28, 6)`, where 6 is the most decimal places
a figure in a data file may have (`gapctl.data.schema.MAX_PLACES`) and every published total, rounded
at its scheme's `places` (the units table's `places` column), fits exactly. A computed figure with
more places (a ratio that does not terminate) is rounded half-up at 6 places (`gapctl.figures`),
and export says how many were.

Written file by file: the leaves of each chunk of observation files (the chunks the cache stores,
`gapctl.scoring.outcomes.chunks_of`) are one part, named after a key of the chunk's members, their contents'
keys and whatever else its rows depend on (bonus items and rank bonuses, decided later). A part whose
name is already there is left as it is; parts of chunks that changed are computed by the workers
(a forked pool, or the cluster of `--executor dask`: `gapctl.scoring.executors`), each of which returns
the part's bytes; parts no longer wanted are removed once the new ones are written (a reader
during an export may see a chunk's old part beside its new one; one after it never does). The
same files give byte-identical parts.

pyarrow is an optional extra (`pip install 'gapctl[analysis]'`), imported only here.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from gapctl.data import cache as C
from gapctl.data.schema import MAX_PLACES
from gapctl.figures import figure
from gapctl.i18n import _
from gapctl.scoring import outcomes as O
from gapctl.scoring.executors import CannotRun, run
from gapctl.scoring.score import RoundScore, UnitScore

PRECISION, SCALE = 28, MAX_PLACES  # 28: Decimal's default precision, what gapctl computes in
FORMAT = 1  # the layout's version, part of every part's key
FILES_A_BATCH = 32  # parts written in one all-or-none batch (gapctl.data.writes)


def pyarrow() -> Any:
    """The pyarrow module, or CannotRun saying how to install it."""
    try:
        import pyarrow as pa
        import pyarrow.parquet  # noqa: F401  (the writer, imported with the module)
    except ImportError:
        raise CannotRun(_("Parquet needs pyarrow, which is not installed: pip install 'gapctl[analysis]'")) from None
    return pa


# --- the tables' shapes -----------------------------------------------------------------------

def _schemas(pa: Any) -> dict[str, Any]:
    number = pa.decimal128(PRECISION, SCALE)
    text, words = pa.string(), pa.list_(pa.string())
    return {
        "leaves": pa.schema([
            ("unit", text), ("scheme", text), ("indicator", text), ("indicator_name", text), ("parent", text),
            ("depth", pa.int8()), ("section", text), ("rule", text), ("state", text),
            ("points", number), ("earned", number), ("lost", number)]),
        "units": pa.schema([
            ("unit", text), ("name", text), ("type", text), ("parent", text), ("tags", words), ("scheme", text),
            ("category", text), ("category_name", text), ("places", pa.int8()), ("applicable", number),
            ("earned", number), ("base", number), ("bonus", number), ("penalty", number), ("external", number),
            ("total", number), ("grade", text), ("rank", pa.int32()), ("category_rank", pa.int32()),
            ("flags", words), ("vetoes", words), ("pending", pa.int32())]),
        "rounds": pa.schema([
            ("title", text), ("title_en", text), ("example", pa.bool_()), ("year", pa.int16()),
            ("period_start", pa.date32()), ("period_end", pa.date32()), ("schemes", words), ("units", pa.int32())]),
    }


class Exact:
    """Decimals as the tables hold them: exact at SCALE places, or rounded half-up there and counted."""

    def __init__(self) -> None:
        self.rounded = 0

    def __call__(self, value: Decimal | None) -> Decimal | None:
        if value is None:
            return None
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent >= -SCALE:
            return value
        shown = Decimal(figure(value, SCALE))
        if shown != value:
            self.rounded += 1
        return shown


def _part(pa: Any, schema: Any, rows: list[tuple[Any, ...]]) -> bytes:
    """Rows as one Parquet file's bytes: the same rows give the same bytes."""
    import pyarrow.parquet as pq

    columns = list(zip(*rows, strict=True)) if rows else [()] * len(schema)
    table = pa.Table.from_arrays([pa.array(list(c), type=f.type) for c, f in zip(columns, schema, strict=True)],
                                 schema=schema)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd", write_statistics=True)
    return buffer.getvalue()


# --- rows ---------------------------------------------------------------------------------------

def leaf_rows(score: UnitScore, exact: Exact, overrides: dict[str, Decimal] | None = None) -> list[tuple[Any, ...]]:
    """A unit's leaves in scheme order; `overrides`: earned points decided after the unit's tree
    (`_late_points`), by leaf id."""
    rows = []
    for ind in score.scheme.all_indicators():
        leaf = score.leaves.get(ind.id)
        if leaf is None or not ind.is_leaf:
            continue
        if overrides and ind.id in overrides:
            leaf.earned = overrides[ind.id]  # this score is the worker's own copy
        rows.append((score.unit.id, score.scheme.id, ind.id, ind.name, ind.parent_id, ind.depth, ind.section,
                     leaf.rule.kind if leaf.rule else None, leaf.state, exact(leaf.points), exact(leaf.earned),
                     exact(leaf.lost)))
    return rows


def unit_rows(scored: RoundScore, exact: Exact) -> list[tuple[Any, ...]]:
    rows = []
    for s in scored.units:
        unit, category = s.unit, s.category
        rows.append((unit.id, unit.name, unit.type, unit.parent, list(unit.tags), s.scheme.id,
                     category.id if category else None, category.name if category else None,
                     s.scheme.scoring.places, exact(s.applicable), exact(s.earned), exact(s.base), exact(s.bonus),
                     exact(s.penalty), exact(s.external), exact(s.total), s.grade, s.rank, s.category_rank,
                     list(s.flags), [v.id for v in s.vetoed], len(s.pending)))
    return rows


def round_rows(scored: RoundScore) -> list[tuple[Any, ...]]:
    round_ = scored.round
    start, end = round_.period if round_.period else (None, None)
    return [(round_.title, round_.title_en, round_.example, start.year if start else None, start, end,
             [a.scheme for a in round_.assignments], len(scored.units))]


def leaf_part(plan: Any, items: list[tuple[int, Path, bytes | None]],
              overrides: dict[str, dict[str, Decimal]]) -> tuple[bytes | None, int]:
    """In a worker: the leaves of a chunk's observation files as one Parquet part (None: no rows),
    and how many figures had to be rounded."""
    from gapctl.data.reads import read_bytes
    from gapctl.scoring.pipeline import unit_score

    pa = pyarrow()
    exact = Exact()
    rows: list[tuple[Any, ...]] = []
    for _index, path, data in items:
        score = unit_score(plan, path, data if data is not None else read_bytes(path))
        if score is not None:
            rows += leaf_rows(score, exact, overrides.get(score.unit.id))
    return (_part(pa, _schemas(pa)["leaves"], rows) if rows else None), exact.rounded


# --- a round ------------------------------------------------------------------------------------

@dataclass
class Exported:
    """What `export_round` did: files written, parts left as they were, parts removed."""

    written: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    rounded: int = 0


def _late_points(scored: RoundScore) -> dict[str, dict[str, Decimal]]:
    """Unit → leaf → earned points of the leaves decided after the unit's own tree: bonus and penalty
    items (thresholds on the base, gates) and rank bonuses, which depend on other units. The summaries
    `score` ranks keep exactly these leaves, final (`gapctl.scoring.score.summarise`)."""
    out: dict[str, dict[str, Decimal]] = {}
    for s in scored.units:
        if s.leaves:
            out[s.unit.id] = {key: leaf.earned for key, leaf in s.leaves.items()}
    return out


def _name(key: str) -> str:
    return f"part-{key[:24]}.parquet"


def export_round(scored: RoundScore, round_plan: O.RoundPlan, out: Path) -> Exported:
    """Write (or bring up to date) the round's partitions of the dataset at `out`. Raises WriteError,
    DiskFull, CannotRun."""
    from gapctl.data.writes import Write, write_files
    from gapctl.scoring.pipeline import Plan

    pa = pyarrow()
    schemas = _schemas(pa)
    round_id = scored.round.id
    partition = f"round={round_id}"
    result = Exported()
    pending: list[Write] = []

    def flush() -> None:
        result.written.extend(write_files(pending, root=out.parent))
        pending.clear()

    def put(table: str, key: str, data: bytes | None) -> str:
        name = _name(key)
        path = out / table / partition / name
        if data is not None:
            pending.append(Write(path, data))
            if len(pending) >= FILES_A_BATCH:
                flush()
        return name

    # the leaves: one part a chunk of observation files, computed only where its name is new
    overrides = _late_points(scored)
    paths = O.round_paths(round_plan)
    unit_of = {o.src.path: o.unit for o in round_plan.outcomes if o.unit is not None and o.channel is None}
    observed = set(round_plan.round.observation_paths)
    keys = round_plan.keys if len(round_plan.keys) == len(paths) else [None] * len(paths)
    existing = _parts(out / "leaves" / partition)
    wanted: set[str] = set()
    jobs = []
    for chunk in O.chunks_of(paths):
        members = [i for i in chunk if paths[i] in observed and paths[i] in unit_of]
        if not members:
            continue
        units = [unit_of[paths[i]] for i in members]
        extra = {u: overrides[u] for u in units if u in overrides}
        key = C.key_of("parquet-leaves", FORMAT, O.chunk_key(round_plan, chunk),
                       [keys[i] or O.file_key(round_plan, paths[i]) for i in members],
                       sorted((u, sorted(v.items())) for u, v in extra.items()))
        name = _name(key)
        wanted.add(name)
        if name in existing:
            result.kept.append(out / "leaves" / partition / name)
        else:
            jobs.append(([(i, paths[i], None) for i in members], (key, extra)))
    workers = min(O.jobs_wanted(), max(1, sum(len(items) for items, _extra in jobs) // (O.PARALLEL_FROM // 2)))
    for _items, (key, data, rounded) in run(_leaf_job, Plan.of(round_plan), jobs, workers):
        result.rounded += rounded
        put("leaves", key, data)
    # units without an observation file: scored here, one part for all of them
    with_file = set(unit_of.values())
    missing = [s for s in scored.units if s.unit.id not in with_file]
    if missing:
        key = C.key_of("parquet-leaves-nofile", FORMAT, round_plan.context,
                       [round_plan.unit_keys.get(s.unit.id) for s in missing],
                       sorted((s.unit.id, sorted(overrides.get(s.unit.id, {}).items())) for s in missing))
        wanted.add(_name(key))
        if _name(key) in existing:
            result.kept.append(out / "leaves" / partition / _name(key))
        else:
            exact = Exact()
            rows = [row for s in missing for row in leaf_rows(_whole(round_plan, s), exact, overrides.get(s.unit.id))]
            put("leaves", key, _part(pa, schemas["leaves"], rows) if rows else None)
            result.rounded += exact.rounded
    # the units and the round: small, named after their content
    exact = Exact()
    stale: list[tuple[Path, set[str]]] = [(out / "leaves" / partition, existing - wanted)]
    for table, rows in (("units", unit_rows(scored, exact)), ("rounds", round_rows(scored))):
        data = _part(pa, schemas[table], rows)
        key = C.content_hash(data)
        name = _name(key)
        here = _parts(out / table / partition)
        if name in here:
            result.kept.append(out / table / partition / name)
        else:
            put(table, key, data)
        stale.append((out / table / partition, here - {name}))
    result.rounded += exact.rounded
    flush()
    for directory, names in stale:  # only once the new parts are there: a failed write keeps the old ones
        result.removed += _remove(directory, names)
    return result


def _leaf_job(plan: Any, items: list[tuple[int, Path, bytes | None]], extra: tuple[str, dict[str, Any]]
              ) -> tuple[str, bytes | None, int]:
    """What a worker runs for one chunk: (the part's key, its bytes, figures rounded)."""
    key, overrides = extra
    data, rounded = leaf_part(plan, items, overrides)
    return key, data, rounded


def _whole(round_plan: O.RoundPlan, summary: UnitScore) -> UnitScore:
    """The whole score (every leaf) of a unit without an observation file, from the plan."""
    return O.planned_score(round_plan, summary.scheme, summary.unit, None)


def _parts(directory: Path) -> set[str]:
    try:
        return {e.name for e in os.scandir(directory) if e.name.startswith("part-") and e.name.endswith(".parquet")
                and e.is_file(follow_symlinks=False)}
    except (FileNotFoundError, NotADirectoryError):
        return set()


def _remove(directory: Path, names: set[str]) -> list[Path]:
    """Remove parts no longer wanted (regular files named part-*.parquet only, never through a link)."""
    removed = []
    if os.path.islink(directory):
        return removed
    for name in sorted(names):
        path = directory / name
        try:
            os.unlink(path)
            removed.append(path)
        except FileNotFoundError:
            pass
    return removed


__all__ = ["PRECISION", "SCALE", "Exact", "Exported", "export_round", "leaf_part", "leaf_rows", "pyarrow",
           "round_rows", "unit_rows"]
