"""`gapctl schema`: JSON Schema files for editors."""

from __future__ import annotations

from pathlib import Path

import typer

from gapctl.cli.common import FORMAT_OPTION, Format, _dump_json, _echo, _fail, app
from gapctl.i18n import N_, _


@app.command("schema", short_help=N_("Write JSON Schema files, for editors to check data files while typing."),
              help=N_("""Write JSON Schema files for every file kind (scheme, units, observations, appeals,
external, round), so that editors with YAML support complete keys and flag errors while
typing. Point a file at its schema with a first line such as
`# yaml-language-server: $schema=../schema/scheme.schema.json`.

Examples:

  gapctl schema

  gapctl schema --check

  gapctl schema --check --format json"""))
def schema_command(
    out: Path = typer.Option(Path("schema"), "--out", "-o", help=N_("Directory for the *.schema.json files.")),
    check: bool = typer.Option(False, "--check", help=N_("Write nothing; exit 1 if the files differ.")),
    fmt: Format = FORMAT_OPTION,
) -> None:
    from gapctl.io.json_schema import render

    files = render()
    stale = [name for name, text in files.items()
             if not (out / name).is_file() or (out / name).read_text(encoding="utf-8") != text]
    if not check:
        from gapctl.data.writes import Write, WriteError, write_files

        try:
            write_files([Write(out / name, files[name].encode("utf-8")) for name in stale], root=out)
        except WriteError as err:
            raise _fail(f"gapctl schema: {err}") from None
    if fmt is Format.json:
        _dump_json({"check": check, "files": [str(out / name) for name in files],
                    "stale" if check else "written": [str(out / name) for name in stale]})
    else:
        for name in stale:
            _echo((_("would write {path}") if check else _("wrote {path}")).format(path=out / name))
        if not check:
            _echo(_("{files} schema file(s), {written} written.").format(files=len(files), written=len(stale)))
    raise typer.Exit(1 if check and stale else 0)
