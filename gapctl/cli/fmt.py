"""`gapctl fmt`: rewrite data files into one canonical layout (gapctl.io.fmt)."""

from __future__ import annotations

from pathlib import Path

import typer

from gapctl.cli.common import FORMAT_OPTION, NO_CACHE_OPTION, Format, _dump_json, _echo, app
from gapctl.i18n import N_, _


@app.command("fmt", short_help=N_("Rewrite data files into one canonical layout; comments and values are kept."),
              help=N_("""Rewrite scheme, unit-set, observation and external files into one canonical layout
(key order, indentation, quoting) so that diffs stay minimal. Comments and every value
are kept; files are written atomically; running it twice changes nothing.

With --format json: the files changed (or, with --check, that would change) and the problems.

Examples:

  gapctl fmt .

  gapctl fmt --check rounds/suizhou-2021

  gapctl fmt --check . --format json

  gapctl fmt rounds/suizhou-2021/observations/finance.yaml"""))
def fmt_command(
    paths: list[Path] = typer.Argument(None, help=N_("Files or directories (default: the repository, .)."),
                                       show_default=False),
    check: bool = typer.Option(False, "--check", help=N_("Write nothing; list files that would change, exit 1 "
                                                         "if any.")),
    fmt: Format = FORMAT_OPTION,
    no_cache: bool = NO_CACHE_OPTION,
) -> None:
    from gapctl.data.sources import display_path
    from gapctl.io.fmt import format_paths

    result = format_paths(paths or [Path(".")], check, use_cache=not no_cache)
    done = result.changed if check else result.written
    canonical = max(len(result.files) - len(result.changed) - len(result.problems), 0)
    if fmt is Format.json:
        _dump_json({"check": check, "files": len(result.files), "canonical": canonical,
                    "changed": [display_path(p) for p in result.changed],
                    "written": [display_path(p) for p in result.written], "problems": list(result.problems)})
        raise typer.Exit(result.exit_code)
    for message in result.problems:
        typer.echo(message, err=True)
    for path in done:
        _echo((_("would reformat {path}") if check else _("reformatted {path}")).format(path=display_path(path)))
    if check:
        summary = (_("{files} file(s) would be reformatted, {canonical} already canonical, {problems} problem(s).")
                   if result.problems else _("{files} file(s) would be reformatted, {canonical} already canonical."))
    else:
        summary = (_("{files} file(s) reformatted, {canonical} already canonical, {problems} problem(s).")
                   if result.problems else _("{files} file(s) reformatted, {canonical} already canonical."))
    _echo(summary.format(files=len(done), canonical=canonical, problems=len(result.problems)))
    raise typer.Exit(result.exit_code)
