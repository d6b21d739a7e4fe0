"""`gapctl report`: the report an office publishes (HTML, Markdown, PDF, Word)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from gapctl.cli.common import (
    LANG_OPTION,
    RANK_OPTION,
    REV_OPTION,
    Lang,
    ReportFormat,
    _detailed,
    _echo,
    _fail,
    _lang,
    _robustness,
    _scored,
    _sources_of,
    app,
)
from gapctl.i18n import N_, _


@app.command(short_help=N_("Write the report an office publishes (HTML or Markdown)."),
              help=N_("""Write the report an office publishes: an overview (grades, rankings by category,
attainment per indicator, where points were lost, charts) and one page per unit with its
score card and problem list (扣分点, 扣分理由, 整改要求). HTML is self-contained and prints
on A4; report.html holds every page for printing.

Examples:

  gapctl report rounds/shanwei-2020 --out out/shanwei

  gapctl report rounds/suizhou-2022 --compare rounds/suizhou-2021 --lang en

  gapctl report rounds/yanjiang-2021 --format md --out docs/example-report"""))
def report(
    path: Path = typer.Argument(..., help=N_("A round directory.")),
    fmt: ReportFormat = typer.Option(ReportFormat.html, "--format", "-f", help=N_(
        "html or md (a directory), docx or pdf (one document to issue; pdf prints the HTML with Chromium).")),
    out: Path | None = typer.Option(None, "--out", "-o", help=N_(
        "Directory to write (default: out/<round-id>); for docx and pdf the file (default: "
        "out/<round-id>.docx or .pdf).")),
    compare: Path | None = typer.Option(None, "--compare", help=N_("Last round: its totals, grades and which "
                                                                   "of its problems are fixed.")),
    history: list[Path] = typer.Option(None, "--history", help=N_(
        "An earlier round (repeat for several, or give a directory of rounds): each unit's page shows its "
        "totals round by round and the problems found again, with what the earlier round asked to fix.")),
    lang: Lang | None = LANG_OPTION,
    stamp: bool = typer.Option(False, "--stamp", help=N_("Print the generation time on the overview "
                                                         "(off by default: same input, same bytes).")),
    office: str | None = typer.Option(None, "--office", help=N_("Issuing office (发文机关), at the head and foot.")),
    date: str | None = typer.Option(None, "--date", help=N_("Date of issue (成文日期), YYYY-MM-DD.")),
    number: str | None = typer.Option(None, "--number", help=N_("Document number (发文字号), e.g. 某政公〔2025〕3号.")),
    robust: bool = typer.Option(False, "--robustness", help=N_(
        "Add how far ranks and grades move when weights (±20%) and expert grades (±1 step) move: a rank-interval "
        "chart and a sentence per unit that is not robust (as `gapctl robustness`; html, md and pdf).")),
    draws: int | None = typer.Option(None, "--draws", min=1, max=1_000_000, help=N_(
        "With --robustness: number of draws (default 1000).")),
    seed: int | None = typer.Option(None, "--seed", help=N_("With --robustness: seed of the draws (default 1).")),
    rev: str | None = REV_OPTION,
    rank: bool = RANK_OPTION,
) -> None:
    import datetime as dt

    from gapctl.report import build
    from gapctl.report.document import Issue, standing

    try:
        issued = dt.date.fromisoformat(date) if date else None
    except ValueError:
        raise typer.BadParameter(_("{date!r} is not a date (YYYY-MM-DD)").format(date=date),
                                 param_hint="--date") from None
    if not robust and (draws is not None or seed is not None):
        raise _fail(_("--draws and --seed are for --robustness"), 2)
    if robust and fmt is ReportFormat.docx:
        raise _fail(_("--robustness is for html, md and pdf, not docx"), 2)
    warnings: list = []
    previous_source = spool = None
    # a revision, and every indicator of every unit (--history's rounds, --robustness's draws): rounds loaded whole
    if rev is not None or history or robust:
        scored, source = _scored(path, final=False, warnings=warnings, rev=rev), None
        previous = _scored(compare, final=False, rev=rev) if compare is not None else None
    else:  # totals and ranks file by file (the cache when unchanged); each unit page from that unit's files
        from gapctl.io.export import PieceSpool
        from gapctl.scoring import one_pass

        spool = PieceSpool() if fmt is not ReportFormat.docx else None
        if compare is None:  # each unit's tail made as it is scored (build.keep_tail), the cache on or off
            from gapctl.cli import common

            keep = build.keep_tail(lang.value if lang is not None else common._root_lang, fmt is not ReportFormat.md)
        else:  # last round's problems fixed are told from the unit's leaves: each unit scored again for its page
            keep = build.kept_observations

        # each unit's page tail (or, with the cache off and --compare, its observations) kept as its file is
        # checked: no file read twice
        check = one_pass.checker(keep, spool, always=compare is None) if spool is not None else None
        scored, source = _detailed(path, warnings=warnings, check=check)
        previous, previous_source = _detailed(compare) if compare is not None else (None, None)
    scored.ranks_asked = rank
    language = _lang(lang, scored.units)
    past = _history(history, scored, rev) if history else None
    if source is not None:  # the files' hashes as checking them found them (the cache's stat index): not read again
        from gapctl.review.provenance import of_rounds

        known = {**(previous_source.plan.hashes if previous_source is not None else {}), **source.plan.hashes}
        provenance = [of_rounds([scored.round, *([previous.round] if previous else [])], known)]
    else:
        provenance = [_sources_of([scored, *([previous] if previous else []), *(past.rounds[:-1] if past else [])])]
    if source is not None:
        build.lean(source)
    robustness = _robustness(scored, draws or 1000, 1 if seed is None else seed) if robust else None
    if len(scored.units) > 500:
        typer.echo(_("rendering {pages} pages…").format(pages=len(scored.units) + 1), err=True)
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if stamp else None
    issue = Issue(office, issued, number)
    status = standing(scored, len(warnings))
    if fmt.value in build.DOCUMENTS:
        from gapctl.report.pdf import NoBrowser, PrintError

        target = build.document_path(out, scored.round.id, fmt.value)
        try:
            if source is not None:
                document = build.document_units(source, fmt.value, language, previous_source, when, issue, status,
                                                provenance[0], spool=spool)
            else:
                document = build.document(scored, fmt.value, language, previous, when, issue, status, provenance[0],
                                          past, robustness)
            build.write_document(document, target)
        except (NoBrowser, PrintError) as err:
            raise _fail(f"gapctl report: {err}", 3) from None
        except (build.ReportError, OSError) as err:
            raise _fail(f"gapctl report: {err}") from None
        _echo(_("wrote {target}").format(target=target))
        return
    target = out or Path("out") / scored.round.id
    try:
        if source is not None:
            count = build.write_units(source, fmt.value, target, language, previous_source, when, issue, status,
                                      provenance=provenance[0], spool=spool)
        else:
            files = build.render(scored, fmt.value, language, previous, when, issue, status, provenance[0], past,
                                 robustness)
            build.write(files, target)
            count = len(files)
    except (build.ReportError, OSError) as err:
        raise _fail(f"gapctl report: {err}") from None
    _echo(_("wrote {files} file(s) to {directory}/ (open {index})").format(
        files=count, directory=target, index=target / ("index." + fmt.value)))


def _history(paths: list[Path], scored: Any, rev: str | None = None) -> Any:
    """The trend (gapctl.report.trend) of the earlier rounds `paths` (rounds, or directories of rounds of the
    same unit set) and this scored round, last."""
    from gapctl.report import trend as T
    from gapctl.scoring.load import round_file

    found: list[Path] = []
    for path in paths:
        if path.is_dir() and round_file(path):
            found.append(path)
        elif path.is_dir():
            base = path / "rounds" if (path / "rounds").is_dir() else path
            found += [d for d in sorted(base.iterdir()) if d.is_dir() and round_file(d)]
        else:
            raise _fail(_("{path}: not a round directory nor a directory of rounds").format(path=path))
    here = Path(scored.round.directory).resolve()
    earlier = [_scored(p, final=False, rev=rev) for p in found if p.resolve() != here]
    earlier = [s for s in earlier if s.round.units_id == scored.round.units_id or len(found) == 1]
    in_order = T.order([s.round for s in earlier] + [scored.round])  # rounds after this one are left out
    now = in_order.index(scored.round)
    return T.trend([*sorted((s for s in earlier if in_order.index(s.round) < now),
                            key=lambda s: in_order.index(s.round)), scored])
