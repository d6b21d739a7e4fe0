"""`gapctl robustness`: how far ranks and grades move when weights and expert grades move."""

from __future__ import annotations

from pathlib import Path

import typer

from gapctl.cli.common import (
    FORMAT_OPTION,
    LANG_OPTION,
    Format,
    Lang,
    _dump_json,
    _echo_lines,
    _lang,
    _robustness,
    _scored,
    app,
)
from gapctl.i18n import N_


@app.command("robustness", short_help=N_("How far ranks and grades move when weights and expert grades move."),
              help=N_("""How far each unit's rank and grade move when the judgement calls move (the
OECD/JRC method for composite indicators): Monte Carlo over the top-level weights (each within
± the range, renormalised), over expert grades (one step down, none or up) and, where a panel
scored an indicator, over which assessor counts. Per unit: the computed rank, the median rank,
the 5th–95th percentile interval, how often the grade changes and the unit it swaps with most;
then which weight moves the ranking most, one at a time. The same seed gives the same output;
draws are shared among the cores (GAPCTL_JOBS to choose).

Exit 0 (robust or not: the figures are the result); 1 when the round is invalid.

Examples:

  gapctl robustness rounds/shanwei-2020

  gapctl robustness rounds/shanwei-2020 --draws 5000 --seed 7 --weights 10

  gapctl robustness rounds/suizhou-2021 --no-grades --format json"""))
def robustness_command(
    path: Path = typer.Argument(..., help=N_("A round directory.")),
    draws: int = typer.Option(1000, "--draws", min=1, max=1_000_000, help=N_("Number of draws.")),
    seed: int = typer.Option(1, "--seed", help=N_("Seed of the draws: the same seed, the same figures.")),
    weights: int = typer.Option(20, "--weights", min=0, max=100, metavar="PERCENT",
                                help=N_("Move each top-level weight by up to ± this many per cent (0: weights "
                                        "fixed).")),
    grades: bool = typer.Option(True, "--grades/--no-grades", help=N_("Move expert grades by one step down, none "
                                                                       "or up.")),
    fmt: Format = FORMAT_OPTION,
    lang: Lang | None = LANG_OPTION,
) -> None:
    from gapctl.scoring import robustness
    provenance: list = []
    scored = _scored(path, final=False, provenance=provenance if fmt is Format.json else None)
    language = _lang(lang, scored.units)
    results = _robustness(scored, draws, seed, weights, grades)
    if fmt is Format.json:
        _dump_json(robustness.round_data(scored, results), provenance[0])
    else:
        _echo_lines(robustness.round_lines(scored, results, language))
