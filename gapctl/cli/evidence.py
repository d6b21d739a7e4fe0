"""`gapctl evidence verify|add`: the evidence files kept under a round."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from gapctl.cli.common import (
    FORMAT_OPTION,
    INDICATOR_HELP,
    UNIT_HELP,
    Format,
    _dump_json,
    _echo,
    _fail,
    _plain,
    _print_problems,
    _problem_line,
    _problem_rows,
    _where_round,
    _where_scheme,
    app,
)
from gapctl.cli.help import App
from gapctl.i18n import N_, _

evidence_app = App(help=N_("""Evidence files kept under a round: verify and add.

Examples:

  gapctl evidence verify rounds/suizhou-2021

  gapctl evidence add rounds/suizhou-2021 区财政金融局 2.1.13 zfzw.png --title 政府债务栏目截图"""),
                   no_args_is_help=True)


app.add_typer(evidence_app, name="evidence")


@evidence_app.command("verify", help=N_("""Check every evidence file of a round: inside the round, present, and
its sha256 as recorded.

Examples:

  gapctl evidence verify rounds/suizhou-2021

  gapctl evidence verify rounds/suizhou-2021 --format json"""))
def evidence_verify(
    path: Path = typer.Argument(..., help=N_("A round directory.")),
    fmt: Format = FORMAT_OPTION,
) -> None:
    from gapctl.api import check
    from gapctl.process.evidence import verify

    result = check(path)
    if result.loaded.round is None:
        _print_problems(result.report.sorted())
        raise typer.Exit(1)
    verified = verify(result.loaded.round)
    rows = _problem_rows(sorted(verified.problems, key=lambda p: (p.locate().path, p.locate().line)))
    if fmt is Format.json:
        from gapctl.review.provenance import of_rounds
        _dump_json({"path": str(path), "ok": not verified.problems, "checked": verified.checked, "problems": rows},
                   of_rounds([result.loaded.round]))
    else:
        for row in rows:
            _echo(_problem_line(row))
        _echo(_("{checked} evidence file(s) checked, {problems} problem(s).").format(
            checked=verified.checked, problems=len(verified.problems)))
    raise typer.Exit(1 if verified.problems else 0)


def _evidence_ids(path: Path, unit: str, indicator: str) -> tuple[str, str]:
    """The ids that a unit and an indicator given by name stand for (gapctl.names), read from the
    round's unit set and schemes (not its observations). A name that fits several things, or a
    would-be id that names nothing but resembles some, is refused here in one line; anything else
    that names nothing (not an id at all, a unit outside the unit set …) is passed on as given, for
    gapctl.process.evidence.add to refuse with every reason at once."""
    from gapctl import names
    from gapctl.data import schema as S
    from gapctl.scoring.load import load

    round_ = load(path, observations=False).round
    if round_ is None or round_.unit_set is None:
        return unit, indicator

    def resolved(text: str, find: Any, things: list, where: str) -> str:
        try:
            return find(text, things, where)
        except names.Unknown as err:
            if err.ambiguous or (err.candidates and not S.id_problem(text)):
                raise _fail(_plain(f"gapctl evidence add: {err.line}")) from None
            return text

    unit = resolved(unit, names.unit, round_.unit_set.units, _where_round(round_.id))
    member = round_.unit_set.by_id().get(unit)
    scheme = round_.scheme_for(member) if member is not None else None
    if scheme is not None:
        indicator = resolved(indicator, names.indicator, scheme.all_indicators(), _where_scheme(scheme.id))
    return unit, indicator


@evidence_app.command("add", short_help=N_("Copy a file into the round's evidence and record it on the observation."),
                       help=N_("""Copy a file into the round's evidence/<unit>/, hash it, and record it
on the unit's observation entry for the indicator (comments and layout kept, written
atomically). The unit and the indicator may be given by id, by name or by the start of a name.

Examples:

  gapctl evidence add rounds/suizhou-2021 finance 2.1.13 zfzw.png --title 政府债务栏目截图

  gapctl evidence add rounds/suizhou-2021 区财政金融局 政府债务 zfzw.png --format json"""))
def evidence_add(
    path: Path = typer.Argument(..., help=N_("A round directory.")),
    unit: str = typer.Argument(..., help=UNIT_HELP),
    indicator: str = typer.Argument(..., help=INDICATOR_HELP),
    file: Path = typer.Argument(..., help=N_("The file to add (screenshot, photo, PDF).")),
    title: str | None = typer.Option(None, "--title", help=N_("What the file shows.")),
    captured: str | None = typer.Option(None, "--captured", help=N_("When it was captured (YYYY-MM-DD).")),
    submitted: str | None = typer.Option(None, "--submitted", help=N_("When the unit sent it (YYYY-MM-DD).")),
    fmt: Format = FORMAT_OPTION,
) -> None:
    import datetime as dt

    from gapctl.process.evidence import EvidenceError, add

    try:
        dates = [dt.date.fromisoformat(d) if d else None for d in (captured, submitted)]
    except ValueError:
        raise _fail(_("--captured and --submitted take dates written YYYY-MM-DD"), 2) from None
    unit, indicator = _evidence_ids(path, unit, indicator)
    try:
        target, digest = add(path, unit, indicator, file, title, dates[0], dates[1])
    except EvidenceError as err:  # one line per reason; nothing was written
        for line in err.lines:
            typer.echo(_plain(f"gapctl evidence add: {line}"), err=True)
        raise typer.Exit(1) from None
    if fmt is Format.json:
        _dump_json({"file": str(target), "sha256": digest, "unit": unit, "indicator": indicator})
    else:
        _echo(_("added {file} (sha256 {digest}…) to {unit} {indicator}").format(
            file=target, digest=digest[:12], unit=unit, indicator=indicator))
