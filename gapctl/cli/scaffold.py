"""`gapctl init` and `gapctl new round`: new repositories and rounds."""

from __future__ import annotations

from pathlib import Path

import typer

from gapctl.cli.common import FORMAT_OPTION, Format, _dump_json, _echo, _echo_lines, _fail, app
from gapctl.cli.help import App
from gapctl.i18n import N_, _


@app.command("init", short_help=N_("Create a new assessment repository."),
              help=N_("""Create a new assessment repository: schemes/ (a copy of a shipped scheme), units/ (a
template, or with --with-units the example unit set), rounds/, calendars/, schema/ for
editors, the CI workflow, pre-commit configuration and a README for the office.

Examples:

  gapctl init --list

  gapctl init ../zwgk-2025 --from shanwei-2020 --title 某市政务公开考核评估

  gapctl init ../try-gapctl --from suizhou-2021 --with-units"""))
def init_command(
    directory: Path | None = typer.Argument(None, help=N_("Where to create the repository (new or empty)."),
                                            show_default=False),
    scheme: str = typer.Option("suizhou-2021", "--from", help=N_("The shipped scheme to start from (see "
                                                                 "--list).")),
    title: str | None = typer.Option(None, "--title", help=N_("The office's name for the README.")),
    with_units: bool = typer.Option(False, "--with-units", help=N_("Copy the example unit set the shipped rounds "
                                                                   "use with the scheme, instead of a one-unit "
                                                                   "template (to try gapctl out).")),
    list_only: bool = typer.Option(False, "--list", help=N_("List the shipped schemes and exit.")),
    fmt: Format = FORMAT_OPTION,
) -> None:
    from gapctl.io.scaffold import ScaffoldError, init, list_schemes

    if list_only:
        rows = list_schemes()
        if fmt is Format.json:
            _dump_json({"schemes": rows})
        else:
            from gapctl.textwidth import table
            lines = [["id", _("title"), _("year"), _("indicators"), _("units")]]
            lines += [[r["id"], r["title"] or "", "" if r["year"] is None else str(r["year"]),
                       "" if r["indicators"] is None else str(r["indicators"]), ", ".join(r["units"])] for r in rows]
            _echo_lines(table(lines, ["left", "left", "left", "right", "left"]))
        raise typer.Exit(0)
    if directory is None:
        raise _fail(_("gapctl init: give the directory to create (or --list to see the shipped schemes)"), 2)
    try:
        written = init(directory, scheme, title, with_units)
    except ScaffoldError as err:
        raise _fail(f"gapctl init: {err}") from None
    units = next((p.stem for p in written if p.parent.name == "units"), "units")
    if fmt is Format.json:
        _dump_json({"directory": str(directory), "scheme": scheme, "units": units,
                    "files": [p.relative_to(directory).as_posix() for p in written]})
    elif with_units:
        _echo(_("created {directory} ({files} files). Next: `gapctl new round <id> --scheme {scheme} --units "
                "{units}` in {directory}.").format(directory=directory, files=len(written), scheme=scheme,
                                                   units=units))
    else:
        _echo(_("created {directory} ({files} files). Next: edit units/units.yaml, then `gapctl new round <id> "
                "--scheme {scheme} --units {units}` in {directory}.").format(
                    directory=directory, files=len(written), scheme=scheme, units=units))


new_app = App(help=N_("""Scaffold new things in an assessment repository.

Examples:

  gapctl new round 2025 --scheme suizhou-2021 --units units"""), no_args_is_help=True)


app.add_typer(new_app, name="new")


@new_app.command("round", short_help=N_("Scaffold a round, every applicable indicator not yet assessed."),
                  help=N_("""Scaffold a round: round.toml and one observation file per unit listing
every applicable indicator as not yet assessed (result: pending). The year, the title and the
period come from the scheme's `year:` unless --year is given (this year when the scheme has
none).

Examples:

  gapctl new round 2025 --scheme suizhou-2021 --units units

  gapctl new round 2025 --scheme suizhou-2021 --units units --year 2025 --format json"""))
def new_round_command(
    round_id: str = typer.Argument(..., help=N_("Id of the new round (its directory name).")),
    scheme: str = typer.Option(..., "--scheme", help=N_("Scheme id.")),
    units: str = typer.Option(..., "--units", help=N_("Unit set id.")),
    repo: Path = typer.Option(Path("."), "--repo", help=N_("The repository (default: .).")),
    title: str | None = typer.Option(None, "--title", help=N_("Round title.")),
    year: int | None = typer.Option(None, "--year", help=N_("Year assessed (default: the scheme's year:, else "
                                                            "this year).")),
    fmt: Format = FORMAT_OPTION,
) -> None:
    from gapctl.io.scaffold import ScaffoldError, new_round

    try:
        written = new_round(repo, round_id, scheme, units, title, year)
    except ScaffoldError as err:
        raise _fail(f"gapctl new round: {err}") from None
    if fmt is Format.json:
        _dump_json({"round": round_id, "directory": str(written[0].parent),
                    "files": [p.relative_to(written[0].parent).as_posix() for p in written]})
    else:
        _echo(_("created rounds/{round} with {files} observation file(s).").format(round=round_id,
                                                                                   files=len(written) - 1))
