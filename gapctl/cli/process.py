"""`gapctl compare-self`, `agreement` and `followup`: the assessment's process around the scores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from gapctl.cli.common import (
    FORMAT_OPTION,
    LANG_OPTION,
    Format,
    Lang,
    _detailed,
    _lang,
    _lang_of_schemes,
    _print_result,
    _scored,
    _sources,
    app,
)
from gapctl.i18n import N_


@app.command("compare-self", help=N_("""Where a unit's self-assessment (自评) claims more than the evaluators
found, per unit and indicator, with totals.

Examples:

  gapctl compare-self rounds/shanwei-2020

  gapctl compare-self rounds/shanwei-2020 --all --format json"""))
def compare_self_command(
    path: Path = typer.Argument(..., help=N_("A round directory.")),
    show_all: bool = typer.Option(False, "--all", help=N_("Every compared indicator, not only over-claims.")),
    fmt: Format = FORMAT_OPTION,
    lang: Lang | None = LANG_OPTION,
) -> None:
    from gapctl.process import selfcheck
    provenance: list = []
    scored = _scored(path, final=False, provenance=provenance if fmt is Format.json else None)
    result = selfcheck.compare_self(scored.round, include_all=show_all, scored=scored)
    _print_result(selfcheck, result, fmt, _lang(lang, scored.units), provenance)


@app.command("agreement", short_help=N_("How often a second evaluator agrees with the first, per indicator."),
              help=N_("""How often a second evaluator's review agrees with the first evaluator, per
indicator (percentage and Cohen's kappa); the indicators read differently come first.

Examples:

  gapctl agreement rounds/shanwei-2020

  gapctl agreement rounds/shanwei-2020 --format json"""))
def agreement_command(
    path: Path = typer.Argument(..., help=N_("A round directory.")),
    fmt: Format = FORMAT_OPTION,
    lang: Lang | None = LANG_OPTION,
) -> None:
    from gapctl.process import agreement
    from gapctl.scoring import one_pass
    provenance: list = []
    kept: dict = {}  # each unit file's pairs, made as it is checked (kept in the cache beside its outcome)
    scored, source = _detailed(path, provenance=provenance if fmt is Format.json else None,
                               check=one_pass.checker(agreement.PairKeeper(), kept, always=True))
    _print_result(agreement, agreement.agreement(scored.round, scored, source, kept), fmt,
                  _lang(lang, scored.units), provenance)


@app.command("followup", short_help=N_("Whether the earlier round's problems are fixed in the later round."),
              help=N_("""For every problem in the earlier round's problem lists: fixed, still
failing, or no longer assessed in the later round (indicators matched by id or `replaces:`),
per unit.

Examples:

  gapctl followup rounds/suizhou-2021 rounds/suizhou-2022

  gapctl followup rounds/suizhou-2021 rounds/suizhou-2022 --format json"""))
def followup_command(
    old_round: Path = typer.Argument(..., help=N_("The earlier round.")),
    new_round: Path = typer.Argument(..., help=N_("The later round.")),
    fmt: Format = FORMAT_OPTION,
    lang: Lang | None = LANG_OPTION,
) -> None:
    from gapctl.process import followup
    from gapctl.scoring.executors import trim_heap

    old = _followup_side(old_round)
    trim_heap()  # what checking the earlier round freed is not held while the later one is checked (as diff's sides)
    new = _followup_side(new_round)
    result = followup.followup_sides(old, new)
    try:
        _print_result(followup, result, fmt, _lang_of_schemes(lang, [scheme for _unit, scheme in new.units.values()]),
                      _sources([old.scored, new.scored], fmt))
    finally:  # their temporary files
        for done in (old, new, result.problems):
            done.close()


def _followup_side(path: Path) -> Any:
    """A round of `followup` checked and cut down to what follow-up reads of it (gapctl.process.followup.Side)
    before the next one is checked: its summaries and source are let go when this returns."""
    from gapctl.io.export import PieceSpool
    from gapctl.process import followup
    from gapctl.scoring import one_pass

    kept = PieceSpool()  # each unit file's leaf facts, made as it is checked (kept in the cache too); on disk
    scored, source = _detailed(path, check=one_pass.checker(followup.FactKeeper(), kept, always=True))
    try:
        return followup.settle(scored, source, kept)
    finally:
        kept.close()
