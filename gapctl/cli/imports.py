"""`gapctl import` and `gapctl import-scheme`: observations and schemes in from spreadsheets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from gapctl.cli.common import (
    FORMAT_OPTION,
    Format,
    _dump_json,
    _echo,
    _echo_lines,
    _fail,
    _scored,
    _stop_unless_scorable,
    app,
)
from gapctl.i18n import N_, _


@app.command("import", short_help=N_("Import an evaluator's spreadsheet into observation files."),
              help=N_("""Import an evaluator's spreadsheet into observation files: columns 单位, 指标,
结果 (完成/未完成/不适用/待评), 数值 (count, fraction, grade or notices, as the indicator's rule needs;
items as a list of item ids or names), 说明, 扣分理由, 整改要求, 评估人员, 日期 — or the matrix
`gapctl export` writes (units as rows, indicators as columns, cells the points earned, 不适用 or 待评).
gapctl's own export workbook is recognised and its sheet 指标得分矩阵 read; another workbook with
several sheets needs --sheet. Nothing is written if any row has a problem; observations already
recorded are kept unless --force (cells edited in gapctl's own workbook since the export need no
--force); a changed value's old 扣分理由 is kept, marked 【待核实】; comments survive.

Examples:

  gapctl export rounds/shanwei-2020 --format xlsx --out out

  gapctl import rounds/shanwei-2020 out/shanwei-2020.xlsx --dry-run

  gapctl import rounds/shanwei-2020 out/shanwei-2020.xlsx --dry-run --format json

  gapctl import rounds/shanwei-2020 results.csv --force"""))
def import_command(
    path: Path = typer.Argument(..., help=N_("A round directory.")),
    file: Path = typer.Argument(..., help=N_("An xlsx workbook or a CSV file: one row per unit × indicator, or "
                                             "the matrix gapctl export writes.")),
    mapping: Path | None = typer.Option(None, "--mapping", help=N_("YAML mapping of other headers to fields "
                                                                   "(unit, indicator, result, value, note, reason, "
                                                                   "fix, observer, observed_at).")),
    sheet: str | None = typer.Option(None, "--sheet", help=N_("Worksheet name (default: the matrix of gapctl's "
                                                              "own export workbook, or the only sheet).")),
    dry_run: bool = typer.Option(False, "--dry-run", help=N_("Write nothing; show the score changes it would "
                                                             "cause, and what --force would replace.")),
    force: bool = typer.Option(False, "--force", help=N_("Replace observations that already exist.")),
    fmt: Format = FORMAT_OPTION,
) -> None:
    from gapctl import i18n
    from gapctl.data.writes import WriteError
    from gapctl.io import importer

    as_json = fmt is Format.json
    if dry_run:  # the scores before and after, every indicator: the round loaded whole
        scored_before = _scored(path, final=False)
        # a dry run shows what the import would change with --force, and says which of it needs --force
        plan = importer.read(scored_before.round, file, mapping, sheet, True)  # reads the mapping too
    else:  # checked file by file on every core (not through the cache, which an import leaves as it is)
        plan = _checked_import(path, file, mapping, sheet, force)
    if not as_json:
        for note in plan.notes:
            typer.echo(_("note: {note}").format(note=note), err=True)
    if plan.problems:
        if as_json:
            _dump_json(_import_data(plan, path, dry_run, force, written=[]))
            raise typer.Exit(1)
        for problem in plan.problems:
            typer.echo(problem, err=True)
        typer.echo(_("Nothing imported: {count} problem(s).").format(count=len(plan.problems)), err=True)
        raise typer.Exit(1)
    if dry_run:
        from gapctl.review import diff_view
        from gapctl.review.diff import compare
        from gapctl.scoring.score import score_round

        after = score_round(importer.preview(scored_before.round, plan),
                            periods={period: rounds[1] for period, rounds in plan.periods.items()})
        diffs = [compare(scored_before, after, str(path), _("now"), _("after import"))]
        for period, (period_before, period_after) in sorted(plan.periods.items()):  # rows of the round's periods
            diffs.append(compare(score_round(period_before), score_round(period_after), str(path.parent / period),
                                 _("now"), _("after import")))
        if as_json:
            data = _import_data(plan, path, dry_run, force, written=[])
            data["changes"] = [diff_view.json_data(result) for result in diffs]
            _dump_json(data)
            return
        for result in diffs:
            _echo_lines(diff_view.text_lines(result, i18n.lang()))
        if plan.replaced and not force:
            for issue in plan.replaced[:REPLACED_SHOWN]:
                _echo(_("needs --force: {place}: {message}").format(place=issue.ref, message=issue.message))
            if len(plan.replaced) > REPLACED_SHOWN:
                _echo(_("… and {count} more").format(count=len(plan.replaced) - REPLACED_SHOWN))
            _echo(_("(--force would replace {count} observation(s) already recorded; without it the import "
                    "refuses them)").format(count=len(plan.replaced)))
        _echo(_("(dry run: {entries} entr(ies) in {files} file(s) not written)").format(
            entries=plan.entries, files=len(plan.files)))
        return
    try:
        written = importer.write(plan)
    except WriteError as err:
        typer.echo(f"gapctl import: {err}", err=True)
        raise typer.Exit(1) from None
    if as_json:
        _dump_json(_import_data(plan, path, dry_run, force, written))
        return
    _echo(_("imported {entries} entr(ies) into {files} file(s).").format(entries=plan.entries, files=len(written)))


REPLACED_SHOWN = 10  # observations a dry run lists that only --force replaces


def _checked_import(path: Path, file: Path, mapping: Path | None, sheet: str | None, force: bool) -> Any:
    """The round checked file by file, as `_scored_with(path, final=False, summary=True, use_cache=False)` checks
    it (the same problems printed, the same exit), and the import planned and checked (importer.Imported): in one
    pass over the files, each edited file read once (gapctl.io.import_pass). Not scored: the import shows no score."""
    from gapctl.io.import_pass import Pass
    from gapctl.scoring import outcomes

    one = Pass(file, mapping, sheet, force, whole=lambda: _whole_round(path),
               progress=outcomes.print_progress(_("scoring")))
    result = outcomes.check(path, False, run=one.run)
    _stop_unless_scorable(result, path)
    if result.report.warnings:
        typer.echo(_("note: {warnings} warning(s); the scores may be provisional (gapctl validate {path})").format(
            warnings=len(result.report.warnings), path=path), err=True)
    return one.imported(result)


def _whole_round(path: Path) -> Any:
    """The round with every observation loaded (it validated file by file already)."""
    from gapctl.api import check

    return check(path).loaded.round


def _import_data(plan: Any, path: Path, dry_run: bool, force: bool, written: list) -> dict[str, Any]:
    """`import --format json`: what was (or would be) written, the problems and notes, each with its place."""
    from gapctl.data.sources import display_path

    def issue(item: Any) -> dict[str, Any]:
        return {"place": item.ref, "code": item.code, "message": item.message}

    return {"round": display_path(path), "dry_run": dry_run, "force": force, "ok": not plan.problems,
            "entries": plan.entries, "files": sorted(display_path(p) for p in plan.files),
            "written": sorted(display_path(Path(p)) for p in written),
            "problems": list(plan.problems), "issues": [issue(i) for i in plan.issues],
            "notes": list(plan.notes),
            "needs_force": [] if force else [issue(i) for i in plan.replaced]}


@app.command("import-scheme", short_help=N_("Turn a published indicator table into a scheme skeleton."),
              help=N_("""Turn a published indicator table (merged cells and all) into a scheme
skeleton that `gapctl validate` accepts: the tree with points, methods, checkpoints, basis and
scope. Rules are left to fill in, each marked `assumed` so that `gapctl show` lists them.

Examples:

  gapctl import-scheme 指标体系.xlsx --id suizhou-2022

  gapctl import-scheme 指标体系.xlsx --id suizhou-2022 --format json"""))
def import_scheme_command(
    workbook: Path = typer.Argument(..., help=N_("A workbook with an indicator table (一级指标, 二级指标, 三级指标, "
                                                 "测评方式, 测评要点, 指标依据, 评估数据采集范围, 分值).")),
    scheme_id: str = typer.Option(..., "--id", help=N_("Id of the new scheme.")),
    title: str | None = typer.Option(None, "--title", help=N_("Title (default: from the sheet).")),
    sheet: str | None = typer.Option(None, "--sheet", help=N_("Worksheet name (default: the first with a "
                                                              "header).")),
    out: Path | None = typer.Option(None, "--out", "-o", help=N_("Where to write (default: "
                                                                 "schemes/<id>.yaml).")),
    force: bool = typer.Option(False, "--force", help=N_("Overwrite an existing file.")),
    fmt: Format = FORMAT_OPTION,
) -> None:
    from gapctl.data.writes import WriteError
    from gapctl.io.import_scheme import import_scheme, write_scheme

    target = out or Path("schemes") / f"{scheme_id}.yaml"
    if target.exists() and not force:
        raise _fail(_("{path} exists; use --force to overwrite").format(path=target))
    text, problems = import_scheme(workbook, scheme_id, title=title, sheet=sheet)
    for problem in problems:
        typer.echo(problem, err=True)
    if not text or problems:
        raise _fail(_("Nothing written: {problems} problem(s).").format(problems=len(problems)))
    try:
        write_scheme(text, target, force)
    except WriteError as err:
        raise _fail(f"gapctl import-scheme: {err}") from None
    if fmt is Format.json:
        _dump_json({"scheme": scheme_id, "written": str(target)})
    else:
        _echo(_("wrote {path}; fill in the rules marked assumed (gapctl show {path}).").format(path=target))
