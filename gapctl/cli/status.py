"""`gapctl status`: where a round stands against its calendar."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from gapctl.cli.common import (
    FORMAT_OPTION,
    LANG_OPTION,
    Format,
    Lang,
    _dump_json,
    _echo_lines,
    _fail,
    _print_problems,
    app,
)
from gapctl.i18n import N_, _


@app.command("status", short_help=N_("Where a round stands: stages, progress, what is overdue or due soon."),
              help=N_("""Where a round stands: stage dates in working days from today, units ×
indicators observed, self-assessed, reviewed, appealed and decided, what is overdue and what is
due in the next 5 working days (China's official calendar).

Examples:

  gapctl status rounds/shanwei-2020

  gapctl status rounds/shanwei-2020 --today 2021-10-18 --format json"""))
def status_command(
    path: Path = typer.Argument(..., help=N_("A round directory.")),
    today: str | None = typer.Option(None, "--today", help=N_("Pretend today is this date (YYYY-MM-DD).")),
    fmt: Format = FORMAT_OPTION,
    lang: Lang | None = LANG_OPTION,
) -> None:
    import datetime as dt

    from gapctl.i18n import lang as message_lang
    from gapctl.process import status as status_mod
    from gapctl.scoring import outcomes

    result = outcomes.check(path, progress=outcomes.print_progress(_("validating")))  # file by file, cached
    if result.loaded.round is None:
        _print_problems(result.report.sorted())
        raise typer.Exit(1)
    try:
        when = dt.date.fromisoformat(today) if today else dt.date.today()
    except ValueError:
        raise _fail(_("--today must be a date YYYY-MM-DD, not '{value}'").format(value=today), 2) from None
    units = result.loaded.round.unit_set.units if result.loaded.round.unit_set else []
    if len(units) > 500:
        with typer.progressbar(length=len(units), label=_("counting"), file=sys.stderr) as bar:
            def progress(items: list) -> Any:
                for item in items:
                    bar.update(1)
                    yield item
            state = status_mod.status(result.loaded.round, when, progress, outcomes.progress_of(result))
    else:
        state = status_mod.status(result.loaded.round, when, counts_of=outcomes.progress_of(result))
    if fmt is Format.json:
        from gapctl.review.provenance import of_rounds
        _dump_json(status_mod.json_data(state), of_rounds([result.loaded.round]))
    else:
        lines = status_mod.text_lines(state, lang.value if lang else message_lang())
        _echo_lines(lines)
        _keep(lines, result, _("counting") + "\n" if len(units) > 500 else "")


def _keep(lines: list[str], result: Any, err: str) -> None:
    """Keep what `gapctl status` printed for the next run of the same command line on an unchanged
    repository the same day (gapctl.scoring.warm), when `main` asked for it and stderr is no terminal;
    `err`: what the run wrote on stderr."""
    from gapctl.scoring import warm
    run = warm.pending()
    if run is None:
        return
    out = "".join(f"{line}\n" for line in lines)
    warm.keep(out, not sys.stderr.isatty() and result.cache is not None, result.loaded.repository.root, err=err,
              command="status")
