"""`gapctl export` and `gapctl rank`: scored rounds out as CSV, xlsx, a Data Package or Parquet, and
ranks across them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from gapctl.cli.common import (
    EXECUTOR_OPTION,
    LANG_OPTION,
    NO_CACHE_OPTION,
    REV_OPTION,
    SCHEDULER_OPTION,
    Executor,
    ExportFormat,
    Lang,
    TableFormat,
    _detailed,
    _dump_json,
    _echo,
    _echo_lines,
    _fail,
    _plain,
    _scored_with,
    _use_executor,
    app,
)
from gapctl.i18n import N_, _


@app.command("export", short_help=N_("Export scored rounds as CSV, an xlsx workbook, a Data Package or Parquet."),
              help=N_("""Export a scored round: scores and ranks, the unit × indicator matrix and the problem
list, as CSV (UTF-8 with BOM for Excel), one xlsx workbook (Chinese headers, frozen header
rows), or a Frictionless Data Package (CSV + datapackage.json) to publish as open data.

--format parquet takes one or more rounds and writes a dataset for analysis across rounds
(DuckDB, pandas, Spark): one row per unit × leaf indicator × round, a units table and a rounds
table, exact decimals, partitioned by round; exporting again rewrites only the parts whose
files changed (needs gapctl's analysis extra, pyarrow; see docs/analysis.md).

Examples:

  gapctl export rounds/shanwei-2020 --format xlsx --out out/shanwei

  gapctl export rounds/chongqing-2020 --format datapackage

  gapctl export rounds/suizhou-2021 rounds/suizhou-2022 --format parquet --out out/parquet"""))
def export_command(
    paths: list[Path] = typer.Argument(..., help=N_("A round directory (several with --format parquet).")),
    fmt: ExportFormat = typer.Option(ExportFormat.csv, "--format", "-f", help=N_("csv, xlsx, datapackage or "
                                                                                 "parquet.")),
    out: Path | None = typer.Option(None, "--out", "-o", help=N_("Directory to write (default: "
                                                                 "out/<round-id>-<format>; out/parquet for "
                                                                 "parquet).")),
    final: bool = typer.Option(False, "--final", help=N_("Refuse (exit 1) if any indicator is not yet assessed.")),
    rev: str | None = REV_OPTION,
    no_cache: bool = NO_CACHE_OPTION,
    executor: Executor = EXECUTOR_OPTION,
    scheduler: str | None = SCHEDULER_OPTION,
) -> None:
    from gapctl.data.writes import WriteError

    if fmt is ExportFormat.parquet:
        return _export_parquet(paths, out, final, not no_cache, executor, scheduler)
    if len(paths) > 1:
        raise typer.BadParameter(_("{format} takes one round; only --format parquet takes several").format(
            format=fmt.value), param_hint="PATHS")
    from gapctl.io.export import export

    _use_executor(executor, scheduler)
    provenance: list = []
    pieces: Any = None
    check = None
    if rev is None and fmt is not ExportFormat.xlsx:
        from gapctl.io.export import PieceSpool, early_run, spooled_run
        from gapctl.io.export import pieces as unit_pieces
        from gapctl.scoring import one_pass

        pieces = PieceSpool()

        def check(path: Path, use_cache: bool, progress: Any = None) -> Any:
            """With the cache off, each unit's rows made as its file is checked: no file read twice
            (`spooled_run`). With the cache on, each unit's rows made before the outcomes are read from the
            cache (`early_run`)."""
            from gapctl.scoring import outcomes
            from gapctl.scoring.executors import chosen

            if chosen() is not None:
                return one_pass.check(path, use_cache, unit_pieces, progress, pieces)[0]
            if one_pass.cache_off(use_cache):
                return outcomes.check(path, False, progress, run=spooled_run(pieces, progress))
            return outcomes.check(path, use_cache, progress, run=early_run(pieces, progress))
    # each unit's rows from its own files, in a pool for large rounds (the round loaded whole at a revision)
    scored, source = _detailed(paths[0], final, use_cache=not no_cache, rev=rev, provenance=provenance,
                               check=check)
    if source is not None and pieces is not None:
        # the files' outcomes are done with (the source knows each unit's file; the summaries are in `scored`):
        # let go before the rows are finished, where a 30,000-unit export peaks
        source.plan.outcomes = []
    target = out or Path("out") / f"{scored.round.id}-{fmt.value}"
    try:
        written = export(scored, fmt.value, target, provenance[0], source, pieces)
    except WriteError as err:
        typer.echo(f"gapctl export: {err}", err=True)
        raise typer.Exit(1) from None
    finally:
        if pieces is not None:
            pieces.close()
    for path_written in written:
        _echo(str(path_written))


def _export_parquet(paths: list[Path], out: Path | None, final: bool, use_cache: bool, executor: Executor,
                    scheduler: str | None) -> None:
    """export --format parquet: each round's partitions, file by file (gapctl.io.columnar)."""
    from gapctl.data.writes import WriteError
    from gapctl.io import columnar
    from gapctl.scoring.executors import CannotRun

    try:
        columnar.pyarrow()
    except CannotRun as err:
        raise _fail(_("gapctl: could not run: {error}").format(error=err), 3) from None
    _use_executor(executor, scheduler)
    target = out or Path("out") / "parquet"
    for path in paths:
        # the round's plan, file by file: what the partitions continue from
        scored, checked = _scored_with(path, final, summary=True, use_cache=use_cache)
        try:
            done = columnar.export_round(scored, checked.plans[0], target)
        except WriteError as err:
            raise _fail(f"gapctl export: {err}") from None
        for path_written in done.written:
            _echo(str(path_written))
        if done.rounded:
            typer.echo(_("note: {count} figure(s) of {round} have more than {places} decimal places and were "
                         "rounded half-up there").format(count=done.rounded, round=scored.round.id,
                                                         places=columnar.SCALE), err=True)


@app.command("rank", short_help=N_("Rank the units of several rounds together, from their Parquet exports."),
              help=N_("""Rank the units of several rounds together — a national ranking of per-province
rounds — from their Parquet exports (gapctl export --format parquet), with the rules of gapctl
score: units of the same scheme ranked by total, within their category too, ties sharing a
rank (1, 2, 2, 4), totals at the scheme's decimal places.

Examples:

  gapctl export rounds/province-a rounds/province-b --format parquet --out out/parquet

  gapctl rank --from out/parquet

  gapctl rank --from a/parquet --from b/parquet --by-category --format csv"""))
def rank_command(
    sources: list[Path] = typer.Option(..., "--from", metavar="PARQUET", help=N_(
        "An export directory, a partition directory or a units Parquet file; repeat for several.")),
    by_category: bool = typer.Option(False, "--by-category", help=N_("Group by ranking category (分类排名).")),
    fmt: TableFormat = typer.Option(TableFormat.table, "--format", "-f", help=N_("table, json or csv.")),
    lang: Lang | None = LANG_OPTION,
) -> None:
    from gapctl.io import shards
    from gapctl.scoring.executors import CannotRun

    try:
        units = shards.rank(shards.read(sources), by_category)
    except CannotRun as err:
        raise _fail(_("gapctl: could not run: {error}").format(error=err), 3) from None
    except shards.ShardError as err:
        raise _fail(_plain(f"gapctl rank: {err}")) from None
    if fmt is TableFormat.json:
        _dump_json(shards.json_data(units, sources))
    elif fmt is TableFormat.csv:
        typer.echo(shards.csv_text(units), nl=False)
    else:
        from gapctl.i18n import lang as current_lang
        _echo_lines(shards.text_lines(units, lang.value if lang is not None else current_lang()))
