"""`gapctl validate`: check a round or a whole repository and list every problem at once."""

from __future__ import annotations

from pathlib import Path

import typer

from gapctl.cli.common import (
    EXECUTOR_OPTION,
    NO_CACHE_OPTION,
    SCHEDULER_OPTION,
    Executor,
    ProblemFormat,
    _codes_catalogue,
    _dump_json,
    _echo_lines,
    _use_executor,
    app,
)
from gapctl.i18n import N_, _


@app.command(help=N_("""Check a round or a whole repository and list every problem at once.

Prints `path:line:col: CODE message`, sorted by path and line, then a summary.
Exit 1 if there is any error (or any warning with --strict).

Examples:

  gapctl validate rounds/suizhou-2021

  gapctl validate . --strict --format json

  gapctl validate . --format github      # annotations in a GitHub workflow

  gapctl validate . --format sarif > gapctl.sarif

Large rounds are read on every core, and what each file gave is kept in
.gapctl-cache/ (keyed by the file's content), so a second run reads only what changed."""))
def validate(
    paths: list[Path] = typer.Argument(None, help=N_("Round directories, a repository root, or files (each "
                                                     "is checked with its round or repository). Default: ."),
                                       show_default=False),
    strict: bool = typer.Option(False, "--strict", help=N_("Fail (exit 1) on warnings too.")),
    list_codes: bool = typer.Option(False, "--list-codes", help=N_("Print the problem catalogue and exit.")),
    fmt: ProblemFormat = typer.Option(ProblemFormat.text, "--format", "-f",
                                      help=N_("Output format: text, json, github (workflow commands: "
                                              "annotations on a pull request) or sarif (SARIF 2.1.0, for code "
                                              "scanning).")),
    no_cache: bool = NO_CACHE_OPTION,
    executor: Executor = EXECUTOR_OPTION,
    scheduler: str | None = SCHEDULER_OPTION,
) -> None:
    if list_codes:
        catalogue = _codes_catalogue()
        if fmt is ProblemFormat.json:
            _dump_json({"codes": catalogue})
        else:
            from gapctl.textwidth import table
            severities = {"error": _("error"), "warning": _("warning")}
            rows = [[_("code"), _("name"), _("severity"), _("title")]]
            rows += [[c["code"], c["name"], severities.get(c["severity"], c["severity"]), c["title"]]
                     for c in catalogue]
            _echo_lines(table(rows))
        raise typer.Exit(0)
    from gapctl.api import check_many
    from gapctl.problem_formats import Findings, render
    from gapctl.scoring.outcomes import print_progress

    paths = paths or [Path(".")]
    _use_executor(executor, scheduler)
    result = check_many(paths, use_cache=not no_cache, progress=print_progress(_("validating")))
    code = result.report.exit_code(strict)
    findings = Findings(result.report.sorted(), result.files, " ".join(str(p) for p in paths), code != 0)
    provenance = None
    if fmt in (ProblemFormat.json, ProblemFormat.sarif):
        from gapctl.review.provenance import of_targets
        provenance = of_targets(paths)
    typer.echo(render(findings, fmt.value, provenance), nl=False)
    raise typer.Exit(code)
