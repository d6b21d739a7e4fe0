"""`gapctl verify`: a published results table checked against the round."""

from __future__ import annotations

from pathlib import Path

import typer

from gapctl.cli.common import FORMAT_OPTION, LANG_OPTION, Format, Lang, _lang, _print_result, _scored, app
from gapctl.i18n import N_


@app.command("verify", short_help=N_("Check a published results table against the round: totals, grades, ranks."),
              help=N_("""Check a published results table (a 通报's ranking: unit, total, grade, rank) against
what the round's files give. Headers are read in Chinese or English (单位/单位名称, 总分/得分,
等次/等级, 排名/名次, 分类排名); units by id or name. Every difference is listed with the lines of
`gapctl explain` that would have to change for the published figure to hold; units of the round
missing from the table, and rows that name no unit, are differences too.

Exit 0 when every row matches; 1 on any difference beyond the tolerance, an unreadable table or
an invalid round.

Examples:

  gapctl verify rounds/shanwei-2020 docs/examples/shanwei-2020-published.csv

  gapctl verify rounds/shanwei-2020 通报附件.xlsx --sheet 排名 --tolerance 0.05

  gapctl verify rounds/shanwei-2020 docs/examples/shanwei-2020-published.csv --format json"""))
def verify_command(
    path: Path = typer.Argument(..., help=N_("A round directory.")),
    table: Path = typer.Argument(..., exists=True, dir_okay=False,
                                 help=N_("The published table: an xlsx workbook or a CSV file, one row per unit.")),
    tolerance: float = typer.Option(0.0, "--tolerance", min=0, help=N_(
        "Largest difference of a total still counted as equal (default 0: the same at the scheme's places).")),
    sheet: str | None = typer.Option(None, "--sheet", help=N_("Worksheet name (default: the first).")),
    fmt: Format = FORMAT_OPTION,
    lang: Lang | None = LANG_OPTION,
) -> None:
    from decimal import Decimal

    from gapctl.process import verify
    provenance: list = []
    scored = _scored(path, final=False, provenance=provenance if fmt is Format.json else None)
    result = verify.verify(scored, table, Decimal(str(tolerance)), sheet, _lang(lang, scored.units))
    _print_result(verify, result, fmt, _lang(lang, scored.units), provenance)
    raise typer.Exit(0 if result.ok else 1)
