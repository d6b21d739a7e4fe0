"""`gapctl diff`: how scores, grades and ranks change between revisions or rounds, and why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from gapctl.cli.common import LANG_OPTION, DiffFormat, Lang, _dump_json, _echo_lines, _fail, _lang, app
from gapctl.i18n import N_, _


@app.command(short_help=N_("How scores, grades and ranks change between revisions or rounds, and why."),
              help=N_("""Show how scores, grades and ranks change between two git revisions of a round, or
between two rounds, and which observations (and commits) explain each change. Given a
repository, every round under rounds/ is compared; a round on one side only is shown as
new (its units' totals, grades and ranks) or removed.

Exit 0 when nothing tripped; 1 when a --fail-* gate trips or a side cannot be loaded
(invalid data); 2 on a usage error; 3 when it could not run (a git revision that does not
exist, git failing, a file that cannot be written).

Examples:

  gapctl diff rounds/yanjiang-2021                 # working tree against HEAD

  gapctl diff rounds/yanjiang-2021 --rev origin/main --format md

  gapctl diff rounds/yanjiang-2021 --rev HEAD~3..HEAD --fail-if-total-drops-more-than 5

  gapctl diff rounds/suizhou-2021 rounds/suizhou-2022

  gapctl diff . --rev origin/main --format md --max-chars 60000 --out gapctl-diff"""))
def diff(
    path: Path = typer.Argument(..., help=N_("A round directory (or the older of two rounds), or a repository: "
                                             "every round under its rounds/.")),
    new_round: Path | None = typer.Argument(None, help=N_("A newer round to compare with PATH.")),
    rev: str | None = typer.Option(None, "--rev", help=N_("BASE or BASE..HEAD: the round at git revisions "
                                                          "(BASE alone: against the working tree). Default: "
                                                          "HEAD.")),
    show_all: bool = typer.Option(False, "--all", help=N_("List every unit, not only those that changed.")),
    fmt: DiffFormat = typer.Option(DiffFormat.table, "--format", "-f", help=N_("table, md (a PR comment) or "
                                                                               "json.")),
    lang: Lang | None = LANG_OPTION,
    drops: float | None = typer.Option(None, "--fail-if-total-drops-more-than", metavar="N",
                                       help=N_("Exit 1 if any unit's total drops by more than N.")),
    rises: float | None = typer.Option(None, "--fail-if-total-rises-more-than", metavar="N",
                                       help=N_("Exit 1 if any unit's total rises by more than N.")),
    grade_change: bool = typer.Option(False, "--fail-on-grade-change", help=N_("Exit 1 if any grade changes.")),
    rank_change: bool = typer.Option(False, "--fail-on-rank-change", help=N_("Exit 1 if any rank changes.")),
    any_change: bool = typer.Option(False, "--fail-on-any-change", help=N_("Exit 1 if any score changes "
                                                                           "(or, for a repository, a round is "
                                                                           "added or removed).")),
    max_chars: int | None = typer.Option(None, "--max-chars", metavar="N", min=1000,
                                         help=N_("With --format md: leave rows out so that the output has at "
                                                 "most N characters, and say how many (a PR comment: 60000).")),
    out: Path | None = typer.Option(None, "--out", metavar="DIR", help=N_("Also write the whole diff, never "
                                                                          "cut, as DIR/diff.md and DIR/diff.json "
                                                                          "(a CI artifact).")),
) -> None:
    from decimal import Decimal

    from gapctl.data.tree import GitError
    from gapctl.review import diff_view
    from gapctl.review.diff import Gates, diff_repository, diff_revisions, diff_rounds, is_repository

    if new_round is not None and rev is not None:
        raise _fail(_("give either NEW_ROUND or --rev, not both"), 2)
    if max_chars is not None and fmt is not DiffFormat.md:
        raise _fail(_("--max-chars is for --format md"), 2)
    repository = new_round is None and is_repository(path)
    try:
        if repository:
            result: Any = diff_repository(path, rev or "HEAD")
        else:
            result = diff_rounds(path, new_round) if new_round is not None else diff_revisions(path, rev or "HEAD")
    except GitError as err:
        raise _fail(_("gapctl diff: could not run: {error}").format(error=err), 3) from None
    except ValueError as err:
        raise _fail(f"gapctl diff: {err}") from None
    gates = Gates(Decimal(str(drops)) if drops is not None else None,
                  Decimal(str(rises)) if rises is not None else None, grade_change, rank_change, any_change)
    result.gates = gates.check_repository(result) if repository else gates.check(result)
    if result.problems:
        typer.echo(_("note: {errors} validation error(s) in the compared rounds; run gapctl validate").format(
            errors=len(result.problems)), err=True)
    if repository:
        units = [u for e in result.rounds for u in (e.diff.new.units if e.diff else e.scored.units if e.scored
                                                     and e.status == "added" else [])]
        markdown, text_lines, json_data = (diff_view.repository_markdown, diff_view.repository_text_lines,
                                           diff_view.repository_json)
    else:
        units = result.new.units
        markdown, text_lines, json_data = diff_view.markdown, diff_view.text_lines, diff_view.json_data
    language = _lang(lang, units)
    source = _diff_sources(result, repository, new_round is not None) \
        if out is not None or fmt is DiffFormat.json else None
    if out is not None:
        from gapctl.data.writes import Write, WriteError, write_files
        from gapctl.escape import json_document
        try:
            write_files([Write(out / "diff.md", markdown(result, language, show_all).encode("utf-8")),
                         Write(out / "diff.json", json_document(json_data(result, show_all), source).encode("utf-8"))],
                        out)
        except WriteError as err:
            raise _fail(_("gapctl diff: could not run: {error}").format(error=err), 3) from None
    if fmt is DiffFormat.json:
        _dump_json(json_data(result, show_all), source)
    elif fmt is DiffFormat.md:
        text = markdown(result, language, show_all)
        typer.echo(diff_view.fit_markdown(text, max_chars, language) if max_chars else text, nl=False)
    else:
        _echo_lines(text_lines(result, language, show_all))
    unreadable = repository and any(e.status == "unreadable" for e in result.rounds)
    raise typer.Exit(1 if result.gates or unreadable else 0)


def _diff_sources(result: Any, repository: bool, two_rounds: bool) -> Any:
    """The provenance of a diff's newer side (both rounds when two rounds are compared; the older
    side of a revision diff is named by its commit in the output already)."""
    from gapctl.data.tree import GitTree
    from gapctl.review.provenance import of_rounds

    if repository:
        rounds = [e.diff.new.round if e.diff else e.scored.round for e in result.rounds
                  if e.status != "removed" and (e.diff or e.scored)]
    else:
        rounds = ([result.old.round] if two_rounds else []) + [result.new.round]
    try:
        return of_rounds(rounds)
    finally:
        for round_ in rounds:
            if isinstance(round_.tree, GitTree):
                round_.tree.close()
