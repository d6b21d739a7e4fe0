"""`gapctl show`: a scheme as an indented tree, a unit set as a table, or a round's summary."""

from __future__ import annotations

from pathlib import Path

import typer

from gapctl.cli.common import FORMAT_OPTION, Format, _dump_json, _echo_lines, _print_problems, app
from gapctl.i18n import N_, _


@app.command(help=N_("""Print a scheme as an indented tree with points, a unit set as a table, or a round's summary.

Examples:

  gapctl show schemes/suizhou-2021.yaml

  gapctl show units/suizhou-gxq.yaml

  gapctl show rounds/suizhou-2021 --format json"""))
def show(
    path: Path = typer.Argument(..., help=N_("A scheme file, a unit-set file or a round directory.")),
    fmt: Format = FORMAT_OPTION,
) -> None:
    from gapctl.api import read_one
    from gapctl.scoring import show as render

    what, obj, problems = read_one(path)
    if obj is None:
        _print_problems(problems)
        if not problems:
            typer.echo(_("{path}: not a scheme, unit set or round").format(path=path), err=True)
        raise typer.Exit(1)
    data_fn = {"scheme": render.scheme_data, "units": render.unit_set_data, "round": render.round_data}[what]
    lines_fn = {"scheme": render.scheme_lines, "units": render.unit_set_lines, "round": render.round_lines}[what]
    if fmt is Format.json:
        from gapctl.review import provenance
        if what == "round":
            source = provenance.of_rounds([obj])
        else:
            source = provenance.of_files([path], provenance.root_of(path))
        _dump_json(data_fn(obj), source)
    else:
        _echo_lines(lines_fn(obj))
