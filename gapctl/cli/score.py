"""`gapctl score` and `gapctl explain`: every unit's score, and why one unit got its score."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from gapctl.cli.common import (
    EXECUTOR_OPTION,
    FORMAT_OPTION,
    LANG_OPTION,
    NO_CACHE_OPTION,
    RANK_OPTION,
    REV_OPTION,
    SCHEDULER_OPTION,
    UNIT_HELP,
    Executor,
    Format,
    Lang,
    TableFormat,
    _detailed,
    _dump_json,
    _echo,
    _echo_lines,
    _fail,
    _indicator_id,
    _lang,
    _scored_with,
    _unit_id,
    _use_executor,
    app,
)
from gapctl.i18n import N_, _


@app.command(short_help=N_("Score every unit of a round: rank, total, grade and flags."),
              help=N_("""Score every unit of a round: rank, unit, category, applicable and earned points, base,
bonus, penalty, external deductions, total, grade and flags.

Invalid data is not scored (exit 1). Ties share a rank (1, 2, 2, 4). Ranks are shown only where
the scheme publishes a ranking (its `ranking`); --rank shows them for the others too, labelled
as not published. Units without ranks are listed in the unit set's order.

Examples:

  gapctl score rounds/yanjiang-2021

  gapctl score rounds/chongqing-2020 --rank

  gapctl score rounds/shanwei-2020 --by-category

  gapctl score rounds/suizhou-2021 --unit finance --format json

  gapctl score rounds/suizhou-2021 --unit 区财政金融局

  gapctl score rounds/chongqing-2020 --final --format csv > scores.csv

  gapctl score rounds/suizhou-2021 --rev v2022.1 --format json   # as committed, no checkout"""))
def score(
    path: Path = typer.Argument(..., help=N_("A round directory.")),
    by_category: bool = typer.Option(False, "--by-category", help=N_("Group by ranking category (分类排名).")),
    unit: str | None = typer.Option(None, "--unit", help=N_("Only this unit: its id, its name or the start "
                                                            "of its name.")),
    final: bool = typer.Option(False, "--final", help=N_("Refuse (exit 1) if any indicator is not yet assessed.")),
    fmt: TableFormat = typer.Option(TableFormat.table, "--format", "-f", help=N_("table, json or csv.")),
    lang: Lang | None = LANG_OPTION,
    no_cache: bool = NO_CACHE_OPTION,
    rev: str | None = REV_OPTION,
    rank: bool = RANK_OPTION,
    executor: Executor = EXECUTOR_OPTION,
    scheduler: str | None = SCHEDULER_OPTION,
) -> None:
    from gapctl.scoring import outcomes, scoreboard
    _use_executor(executor, scheduler)
    provenance: list = []
    # light: what this command prints of each unit, from the round's finished records where they still hold
    scored, checked = _scored_with(path, final, True, not no_cache, None, rev,
                                   provenance if fmt is TableFormat.json else None,
                                   lambda *args, **kwargs: outcomes.check(*args, light=True, **kwargs))
    scored.ranks_asked = rank
    if unit is not None:
        unit = _unit_id(unit, [s.unit for s in scored.units], scored.round.id)
    scores = scoreboard.select(scored, unit, by_category)
    if fmt is TableFormat.json:
        _dump_json(scoreboard.json_data(scored, scores), provenance[0])
    elif fmt is TableFormat.csv:
        text = scoreboard.csv_text(scores, scored)
        typer.echo(text, nl=False)
        _keep(text, checked, rev is None and executor is Executor.local and scheduler is None)
    else:  # one write: a table of thousands of rows line by line spends more in echo than in formatting
        text = "\n".join(scoreboard.text_lines(scored, scores, _lang(lang, scored.units), by_category))
        _echo(text)
        _keep(text + "\n", checked, rev is None and executor is Executor.local and scheduler is None)


def _keep(out: str, checked: Any, plain_run: bool) -> None:
    """Keep what `gapctl score` printed for the next run of the same command line on an unchanged
    repository (gapctl.scoring.warm), when `main` asked for it and the run said nothing else."""
    from gapctl.scoring import warm
    run = warm.pending()
    if run is None:
        return
    from gapctl.scoring.outcomes import round_paths
    clean = plain_run and checked is not None and not checked.report.problems \
        and len(checked.plans) == 1 and checked.plans[0].cache is not None
    if not clean:
        warm.forget()
        return
    total = len(round_paths(checked.plans[0]))
    line = _("{what} {done}/{total} files").format(what=_("scoring"), done=f"{total:,}", total=f"{total:,}")
    warm.keep(out, True, checked.loaded.repository.root, line, command="score")


@app.command(short_help=N_("Why a unit got its score, indicator by indicator, and its problem list."),
              help=N_("""Why a unit got its score: per indicator the points, the rule in words, the observation,
points earned or lost and why, the evidence; then how the total was combined, and the
unit's problem list (扣分点, 扣分理由, 整改要求).

The unit and the indicator may be given by id, by name or by the start of a name.

Examples:

  gapctl explain rounds/suizhou-2021 finance

  gapctl explain rounds/suizhou-2021 区财政金融局

  gapctl explain rounds/yanjiang-2021 baohe 8

  gapctl explain rounds/chongqing-2020 wanzhou --lang en

  gapctl explain rounds/pingyuan-2024 county --depth 1"""))
def explain(
    path: Path = typer.Argument(..., help=N_("A round directory.")),
    unit: str = typer.Argument(..., help=UNIT_HELP),
    indicator: str | None = typer.Argument(None, help=N_("Only this indicator: its id, its name or the start "
                                                         "of its name.")),
    fmt: Format = FORMAT_OPTION,
    lang: Lang | None = LANG_OPTION,
    depth: int = typer.Option(0, "--depth", min=0, max=5, help=N_("Also explain the channels, subordinate "
                                                                  "units and periods the unit's score is built "
                                                                  "from, this many levels down.")),
) -> None:
    from gapctl.scoring import details
    from gapctl.scoring.explain import explain_data, explain_lines

    provenance: list = []
    # the round's totals and ranks file by file, from the cache when unchanged; only this unit's file is read again
    scored, source = _detailed(path, provenance=provenance if fmt is Format.json else None)
    summary = scored.by_unit()[_unit_id(unit, [s.unit for s in scored.units], scored.round.id)]
    score_ = details.detail(source, summary)
    if indicator is not None:
        indicator = _indicator_id(indicator, score_.scheme)
        if indicator not in score_.leaves and score_.node(indicator) is None:
            raise _fail(_("indicator '{indicator}' of scheme {scheme} is not assessed for unit '{unit}'").format(
                indicator=indicator, scheme=score_.scheme.id, unit=score_.unit.id))
    if fmt is Format.json:
        _dump_json(explain_data(score_), provenance[0])
    else:
        around = details.DetailedRound(source) if depth else scored
        _echo_lines(explain_lines(score_, _lang(lang, scored.units), indicator, depth, around))
