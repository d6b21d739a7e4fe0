"""The command line: a thin typer layer over the library. Parse, call, print, exit code.

Exit codes: 0 clean, 1 invalid data or a failed check, 2 usage error, 3 could not run (an
internal error, a git revision that cannot be read, a full disk).
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Any

import typer

from gapctl.cli.help import App
from gapctl.i18n import N_, _

app = App(
    name="gapctl",
    help=N_("""Government-openness assessments (政务公开考核评估) as a plain-text data repository.

Examples:

  gapctl validate rounds/suizhou-2021

  gapctl show schemes/suizhou-2021.yaml

  gapctl explain rounds/suizhou-2021 区财政金融局

  gapctl --lang en score rounds/suizhou-2021"""),
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class Format(str, Enum):
    text = "text"
    json = "json"


class ProblemFormat(str, Enum):
    text = "text"
    json = "json"
    github = "github"
    sarif = "sarif"


class TableFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


class DiffFormat(str, Enum):
    table = "table"
    md = "md"
    json = "json"


class ReportFormat(str, Enum):
    html = "html"
    md = "md"
    docx = "docx"
    pdf = "pdf"


class ExportFormat(str, Enum):
    csv = "csv"
    xlsx = "xlsx"
    datapackage = "datapackage"
    parquet = "parquet"


class Executor(str, Enum):
    local = "local"
    dask = "dask"


class Lang(str, Enum):
    zh = "zh"
    en = "en"


_root_lang: str | None = None  # the root --lang of this run: labels follow it too (see _lang)


def _use_lang(value: Any) -> Any:
    """--lang (the root's or a command's): the language of messages from here on."""
    from gapctl import i18n
    chosen = getattr(value, "value", value)
    if chosen:
        i18n.use(chosen)
    return value


def _use_root_lang(value: str | None) -> str | None:
    global _root_lang
    _root_lang = value if value in ("zh", "en") else None
    return _use_lang(value)


FORMAT_OPTION = typer.Option(Format.text, "--format", "-f", help=N_("Output format: text or json."))
LANG_OPTION = typer.Option(None, "--lang", callback=_use_lang, is_eager=True,
                           help=N_("Language of labels and messages: zh or en (default: labels in the "
                                   "scheme's language, messages as gapctl --lang says)."))
NO_CACHE_OPTION = typer.Option(False, "--no-cache", help=N_("Read every file again; neither use nor update "
                                                             ".gapctl-cache/ (also: GAPCTL_NO_CACHE=1)."))
RANK_OPTION = typer.Option(False, "--rank", help=N_("Rank the units of schemes that publish no ranking too, "
                                                     "labelled as not published."))
REV_OPTION = typer.Option(None, "--rev", metavar="REV", help=N_(
    "Read the round as committed at this git revision (a commit, tag or branch), without a checkout."))
EXECUTOR_OPTION = typer.Option(Executor.local, "--executor", help=N_(
    "Where the per-file work runs: local (this machine's cores) or dask (a dask.distributed cluster, see "
    "--scheduler; needs gapctl's cluster extra)."))
SCHEDULER_OPTION = typer.Option(None, "--scheduler", metavar="ADDRESS", help=N_(
    "The Dask scheduler's address for --executor dask, e.g. tcp://10.0.0.5:8786 (also: DASK_SCHEDULER_ADDRESS)."))
UNIT_HELP = N_("Unit: its id, its name or the start of its name.")
INDICATOR_HELP = N_("Indicator: its id, its name or the start of its name.")


def _echo(text: str = "") -> None:
    typer.echo(text)


def _fail(text: str, code: int = 1) -> typer.Exit:
    """Print one line on stderr; the Exit to raise with `code`."""
    typer.echo(text, err=True)
    return typer.Exit(code)


def _dump_json(data: dict[str, Any], provenance: Any = None) -> None:
    """Every JSON output goes through gapctl.escape.json_document (`version` first, then `provenance`
    for outputs computed from a repository's files)."""
    from gapctl.escape import json_document
    typer.echo(json_document(data, provenance), nl=False)


def _use_executor(executor: Executor, scheduler: str | None) -> None:
    """--executor/--scheduler: where the per-file work runs from here on (gapctl.scoring.executors)."""
    from gapctl.scoring import executors
    try:
        executors.use(executor.value, scheduler)
    except ValueError as err:
        raise _fail(str(err), 2) from None
    except executors.CannotRun as err:
        raise _fail(_("gapctl: could not run: {error}").format(error=err), 3) from None


def _print_version(value: bool) -> None:
    if value:
        from gapctl import __version__
        _echo(f"gapctl {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", "-V", callback=_print_version, is_eager=True,
                                 help=N_("Print gapctl's version and exit.")),
    lang: str | None = typer.Option(None, "--lang", callback=_use_root_lang, is_eager=True, metavar="zh|en",
                                    help=N_("Language of messages and labels: zh (default) or en; also "
                                            "GAPCTL_LANG.")),
) -> None:
    """The options every command shares (typer's root callback)."""


def _problem_rows(problems: list) -> list[dict[str, Any]]:
    from gapctl.problem_formats import rows
    return rows(problems)


def _problem_line(row: dict[str, Any]) -> str:
    """`path:line:col: CODE message` (see gapctl.problem_formats.text_line)."""
    from gapctl.problem_formats import text_line
    return text_line(row)


def _codes_catalogue() -> list[dict[str, str]]:
    """The problem catalogue, titles and descriptions in the current language (codes never change)."""
    from gapctl.i18n import lang
    from gapctl.problems import CATALOGUE
    return [{"code": k.code, "name": k.name, "severity": k.severity, "title": k.title_in(lang()),
             "description": k.description_in(lang())} for k in sorted(CATALOGUE.values(), key=lambda k: k.code)]


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
            for line in table(rows):
                _echo(line)
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


@app.command(help=N_("""Print a scheme as an indented tree with points, a unit set as a table, or a round's summary.

Examples:

  gapctl show schemes/suizhou-2021.yaml

  gapctl show units/suizhou-gxq.yaml

  gapctl show rounds/suizhou-2021 --format json"""))
def show(
    path: Path = typer.Argument(..., help=N_("A scheme file, a unit-set file or a round directory.")),
    fmt: Format = FORMAT_OPTION,
) -> None:
    from gapctl.api import read_one
    from gapctl.scoring import show as render

    what, obj, problems = read_one(path)
    if obj is None:
        _print_problems(problems)
        if not problems:
            typer.echo(_("{path}: not a scheme, unit set or round").format(path=path), err=True)
        raise typer.Exit(1)
    data_fn = {"scheme": render.scheme_data, "units": render.unit_set_data, "round": render.round_data}[what]
    lines_fn = {"scheme": render.scheme_lines, "units": render.unit_set_lines, "round": render.round_lines}[what]
    if fmt is Format.json:
        from gapctl.review import provenance
        if what == "round":
            source = provenance.of_rounds([obj])
        else:
            source = provenance.of_files([path], provenance.root_of(path))
        _dump_json(data_fn(obj), source)
    else:
        for line in lines_fn(obj):
            _echo(line)


def _print_problems(problems: list) -> None:
    for row in _problem_rows(problems):
        typer.echo(_problem_line(row), err=True)


def _scored(path: Path, final: bool, summary: bool = False, use_cache: bool = True, warnings: list | None = None,
            rev: str | None = None, provenance: list | None = None):
    """Load, validate and score; on invalid data print the problems and exit 1.

    `summary`: file by file, on every core and through the cache (gapctl.scoring.outcomes), with
    totals and ranks but not each indicator's detail (enough for `gapctl score`). `warnings`
    receives validate's warnings (a report marks its results provisional while there are any).
    `rev`: the round as committed at this git revision, read from git's objects (no checkout);
    a revision that cannot be read exits 3. `provenance` receives what the scores were computed
    from (gapctl.review.provenance).
    """
    return _scored_with(path, final, summary, use_cache, warnings, rev, provenance)[0]


def _detailed(path: Path, final: bool = False, use_cache: bool = True, warnings: list | None = None,
              rev: str | None = None, provenance: list | None = None):
    """`_scored` file by file, and the source that details each unit from its own files
    (gapctl.scoring.details): for the commands that show more of a unit than its totals. With `rev` the
    round is loaded whole at that revision (as `_scored` does) and the source is None: every
    unit of the scores is detailed already."""
    from gapctl.scoring import details
    scored, checked = _scored_with(path, final, rev is None, use_cache, warnings, rev, provenance)
    return scored, details.prepare(checked, scored) if checked is not None else None


def _scored_with(path: Path, final: bool, summary: bool = False, use_cache: bool = True,
                 warnings: list | None = None, rev: str | None = None, provenance: list | None = None):
    """`_scored`, and what it checked file by file (a gapctl.scoring.outcomes.Checked; None when the round
    was loaded whole)."""
    tree = None
    result = None
    if rev is not None:
        result, tree = _checked_at(path, rev)
    try:
        return _scored_from(path, final, summary, use_cache, warnings, result if tree else None, provenance)
    finally:
        if tree is not None:
            tree.close()


def _checked_at(path: Path, rev: str) -> tuple[Any, Any]:
    """The round at `path` as committed at `rev` (a CheckResult), and the git tree it was read from."""
    import os

    from gapctl.api import CheckResult
    from gapctl.data.tree import GitError, GitTree, toplevel
    from gapctl.scoring.load import load, paused_gc
    from gapctl.scoring.validate import validate

    absolute = Path(os.path.abspath(path))
    existing = next((p for p in [absolute, *absolute.parents] if p.is_dir()), absolute.anchor)
    try:
        tree = GitTree(toplevel(Path(existing)), rev)
    except GitError as err:
        raise _fail(_("gapctl: could not run: {error}").format(error=err), 3) from None
    loaded = load(absolute, tree=tree)
    with paused_gc():
        report = validate(loaded)
    return CheckResult(loaded, report, loaded.files_read), tree


def _scored_from(path: Path, final: bool, summary: bool, use_cache: bool, warnings: list | None,
                 result: Any, provenance: list | None):
    """The scores and, file by file, what was checked (else None)."""
    from gapctl.scoring import outcomes
    from gapctl.scoring.score import score_round

    known: dict[Path, str] = {}
    if result is not None:
        summary = False
    elif summary:
        result = outcomes.check(path, use_cache, progress=outcomes.print_progress(_("scoring")))
        for plan in result.plans:
            known.update(plan.hashes)
    else:
        from gapctl.api import check
        result = check(path)
    if result.loaded.round is None:
        problems = result.report.sorted()
        _print_problems(problems)
        if not problems:
            typer.echo(_("{path}: not a round directory (no round.toml)").format(path=path), err=True)
        raise typer.Exit(1)
    if result.report.errors:
        _print_problems([p for p in result.report.sorted() if p.severity == "error"])
        raise _fail(_("Not scored: {errors} error(s); see `gapctl validate {path}`.").format(
            errors=len(result.report.errors), path=path))
    if warnings is not None:
        warnings.extend(result.report.warnings)
    if result.report.warnings and not final:
        typer.echo(_("note: {warnings} warning(s); the scores may be provisional (gapctl validate {path})").format(
            warnings=len(result.report.warnings), path=path), err=True)
    with outcomes.paused_gc():
        scored = outcomes.score(result, final) if summary else score_round(result.loaded.round, final=final)
    if scored.problems:
        _print_problems(scored.problems)
        raise _fail(_("Not final: {units} unit(s) have indicators not yet assessed.").format(
            units=len(scored.problems)))
    if provenance is not None:
        from gapctl.review.provenance import of_rounds
        provenance.append(of_rounds([scored.round], known))
    return scored, result if summary else None


def _lang(lang: Lang | None, units: list) -> str:
    """The language of labels: the command's --lang, else the root's (`gapctl --lang en …`), else
    the schemes' of these unit scores (English when every one is written in English), else Chinese."""
    if lang is not None:
        return lang.value
    if _root_lang is not None:
        return _root_lang
    return "en" if units and {s.scheme.language for s in units} == {"en"} else "zh"


def _where_round(round_id: str) -> str:
    return _("round {round}").format(round=round_id)


def _where_scheme(scheme_id: str) -> str:
    return _("scheme {scheme}").format(scheme=scheme_id)


def _unit_id(text: str, units: list, round_id: str) -> str:
    """The id of the unit `text` names (gapctl.names); a miss prints one line and exits 1."""
    from gapctl import names
    try:
        return names.unit(text, units, _where_round(round_id))
    except names.Unknown as err:
        raise _fail(_plain(err.line)) from None


def _indicator_id(text: str, scheme: Any) -> str:
    """The id of the indicator of `scheme` that `text` names (gapctl.names); a miss exits 1."""
    from gapctl import names
    try:
        return names.indicator(text, scheme.all_indicators(), _where_scheme(scheme.id))
    except names.Unknown as err:
        raise _fail(_plain(err.line)) from None


def _plain(text: str) -> str:
    from gapctl.escape import plain_line
    return plain_line(text)


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
    from gapctl.scoring import scoreboard
    _use_executor(executor, scheduler)
    provenance: list = []
    scored = _scored(path, final, summary=True, use_cache=not no_cache, rev=rev,
                     provenance=provenance if fmt is TableFormat.json else None)
    scored.ranks_asked = rank
    if unit is not None:
        unit = _unit_id(unit, [s.unit for s in scored.units], scored.round.id)
    scores = scoreboard.select(scored, unit, by_category)
    if fmt is TableFormat.json:
        _dump_json(scoreboard.json_data(scored, scores), provenance[0])
    elif fmt is TableFormat.csv:
        typer.echo(scoreboard.csv_text(scores, scored), nl=False)
    else:
        for line in scoreboard.text_lines(scored, scores, _lang(lang, scored.units), by_category):
            _echo(line)


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
        for line in explain_lines(score_, _lang(lang, scored.units), indicator, depth, around):
            _echo(line)


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
    previous_source = None
    # a revision, and every indicator of every unit (--history's rounds, --robustness's draws): rounds loaded whole
    if rev is not None or history or robust:
        scored, source = _scored(path, final=False, warnings=warnings, rev=rev), None
        previous = _scored(compare, final=False, rev=rev) if compare is not None else None
    else:  # totals and ranks file by file (the cache when unchanged); each unit page from that unit's files
        scored, source = _detailed(path, warnings=warnings)
        previous, previous_source = _detailed(compare) if compare is not None else (None, None)
    scored.ranks_asked = rank
    language = _lang(lang, scored.units)
    past = _history(history, scored, rev) if history else None
    provenance = [_sources_of([scored, *([previous] if previous else []), *(past.rounds[:-1] if past else [])])]
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
                                                provenance[0])
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
                                      provenance=provenance[0])
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


@app.command("fmt", short_help=N_("Rewrite data files into one canonical layout; comments and values are kept."),
              help=N_("""Rewrite scheme, unit-set, observation and external files into one canonical layout
(key order, indentation, quoting) so that diffs stay minimal. Comments and every value
are kept; files are written atomically; running it twice changes nothing.

With --format json: the files changed (or, with --check, that would change) and the problems.

Examples:

  gapctl fmt .

  gapctl fmt --check rounds/suizhou-2021

  gapctl fmt --check . --format json

  gapctl fmt rounds/suizhou-2021/observations/finance.yaml"""))
def fmt_command(
    paths: list[Path] = typer.Argument(None, help=N_("Files or directories (default: the repository, .)."),
                                       show_default=False),
    check: bool = typer.Option(False, "--check", help=N_("Write nothing; list files that would change, exit 1 "
                                                         "if any.")),
    fmt: Format = FORMAT_OPTION,
) -> None:
    from gapctl.data.sources import display_path
    from gapctl.io.fmt import format_paths

    result = format_paths(paths or [Path(".")], check)
    done = result.changed if check else result.written
    canonical = max(len(result.files) - len(result.changed) - len(result.problems), 0)
    if fmt is Format.json:
        _dump_json({"check": check, "files": len(result.files), "canonical": canonical,
                    "changed": [display_path(p) for p in result.changed],
                    "written": [display_path(p) for p in result.written], "problems": list(result.problems)})
        raise typer.Exit(result.exit_code)
    for message in result.problems:
        typer.echo(message, err=True)
    for path in done:
        _echo((_("would reformat {path}") if check else _("reformatted {path}")).format(path=display_path(path)))
    if check:
        summary = (_("{files} file(s) would be reformatted, {canonical} already canonical, {problems} problem(s).")
                   if result.problems else _("{files} file(s) would be reformatted, {canonical} already canonical."))
    else:
        summary = (_("{files} file(s) reformatted, {canonical} already canonical, {problems} problem(s).")
                   if result.problems else _("{files} file(s) reformatted, {canonical} already canonical."))
    _echo(summary.format(files=len(done), canonical=canonical, problems=len(result.problems)))
    raise typer.Exit(result.exit_code)


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
        for line in text_lines(result, language, show_all):
            _echo(line)
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
        for line in status_mod.text_lines(state, lang.value if lang else message_lang()):
            _echo(line)


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
    provenance: list = []
    scored, source = _detailed(path, provenance=provenance if fmt is Format.json else None)  # pairs unit by unit
    _print_result(agreement, agreement.agreement(scored.round, scored, source), fmt, _lang(lang, scored.units),
                  provenance)


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
    (old, old_source), (new, new_source) = _detailed(old_round), _detailed(new_round)  # unit by unit in workers
    _print_result(followup, followup.followup(old, new, old_source, new_source), fmt, _lang(lang, new.units),
                  _sources([old, new], fmt))


@app.command("trend", short_help=N_("Each unit's total, rank and grade round by round, and the problems that recur."),
              help=N_("""Each unit's total, rank and grade round by round (rounds in the order of their
periods), the change from the first to the last, and how many problems recur: points lost on
the same indicator in the unit's last two rounds, indicators matched by id or `replaces:` as
`diff` matches them. With --unit: that unit's indicators round by round, and each recurring
problem with what the earlier round asked to fix (整改要求).

Rounds named one by one are compared with each other; a directory (a repository or its
rounds/) gives every round in it, grouped by unit set (the units assessed year after year).

Examples:

  gapctl trend rounds/suizhou-2021 rounds/suizhou-2022

  gapctl trend rounds/

  gapctl trend rounds/ --unit 区财政金融局 --lang en

  gapctl trend rounds/ --format json"""))
def trend_command(
    paths: list[Path] = typer.Argument(..., help=N_("Rounds, or directories of rounds (a repository or its "
                                                    "rounds/).")),
    unit: str | None = typer.Option(None, "--unit", help=N_("Only this unit, with its indicators round by round: "
                                                            "its id, its name or the start of its name.")),
    fmt: Format = FORMAT_OPTION,
    lang: Lang | None = LANG_OPTION,
) -> None:
    from gapctl.report import trend as T
    groups, alone = _trend_groups(paths)
    results = []
    for group in groups:
        scored = [_scored(p, final=False) for p in group]
        in_order = T.order([s.round for s in scored])
        results.append(T.trend(sorted(scored, key=lambda s: in_order.index(s.round))))
    everyone = [u.unit for t in results for u in t.units]
    if unit is not None:
        unit = _unit_id(unit, list({u.id: u for u in everyone}.values()),
                        ", ".join(s.round.id for t in results for s in t.rounds))
        results = [t for t in results if t.unit(unit) is not None]
    language = _lang(lang, [s for t in results for r in t.rounds for s in r.units])
    if fmt is Format.json:
        from gapctl.review.provenance import of_rounds
        _dump_json({"families": [T.json_data(t, unit) for t in results], "alone": alone},
                   of_rounds([s.round for t in results for s in t.rounds]))
        return
    for n, result in enumerate(results):
        if n:
            _echo()
        for line in T.text_lines(result, language, unit):
            _echo(line)
    if alone and unit is None:
        _echo()
        _echo(T.alone_line(alone, language))


def _trend_groups(paths: list[Path]) -> tuple[list[list[Path]], list[str]]:
    """The rounds `trend` compares, family by family (paths named one by one: one family; a directory:
    its rounds grouped by unit set), and the ids of rounds left alone in their family."""
    from gapctl.report import trend as T
    from gapctl.scoring.load import load, round_file

    named: list[Path] = []
    found: list[Path] = []
    for path in paths:
        if path.is_dir() and round_file(path):
            named.append(path)
        elif path.is_dir():
            base = path / "rounds" if (path / "rounds").is_dir() else path
            found += [d for d in sorted(base.iterdir()) if d.is_dir() and not d.name.startswith(".") and round_file(d)]
        else:
            raise _fail(_("{path}: not a round directory nor a directory of rounds").format(path=path))
    seen = {p.resolve() for p in named}
    found = [p for p in found if p.resolve() not in seen and not seen.add(p.resolve())]  # type: ignore[func-returns-value]
    groups = [named] if named else []
    read = {}
    for directory in found:
        round_ = load(directory, observations=False).round
        if round_ is not None:
            read[id(round_)] = (round_, directory)
    by_family = T.families([r for r, _d in read.values()])
    paths_of = {id(r): d for r, d in read.values()}
    several = [[paths_of[id(r)] for r in rounds] for rounds in by_family.values() if len(rounds) > 1]
    single = [rounds[0].id for rounds in by_family.values() if len(rounds) == 1]
    if not groups and not several:  # nothing to compare anywhere: show what there is
        return [[paths_of[id(rounds[0])]] for rounds in by_family.values()], []
    return groups + several, single


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


@app.command("export", short_help=N_("Export scored rounds as CSV, an xlsx workbook, a Data Package or Parquet."),
              help=N_("""Export a scored round: scores and ranks, the unit × indicator matrix and the problem
list, as CSV (UTF-8 with BOM for Excel), one xlsx workbook (Chinese headers, frozen header
rows), or a Frictionless Data Package (CSV + datapackage.json) to publish as open data.

--format parquet takes one or more rounds and writes a dataset for analysis across rounds
(DuckDB, pandas, Spark): one row per unit × leaf indicator × round, a units table and a rounds
table, exact decimals, partitioned by round; exporting again rewrites only the parts whose
files changed (needs gapctl's analysis extra, pyarrow; see docs/analysis.md).

Examples:

  gapctl export rounds/shanwei-2020 --format xlsx --out out/shanwei

  gapctl export rounds/chongqing-2020 --format datapackage

  gapctl export rounds/suizhou-2021 rounds/suizhou-2022 --format parquet --out out/parquet"""))
def export_command(
    paths: list[Path] = typer.Argument(..., help=N_("A round directory (several with --format parquet).")),
    fmt: ExportFormat = typer.Option(ExportFormat.csv, "--format", "-f", help=N_("csv, xlsx, datapackage or "
                                                                                 "parquet.")),
    out: Path | None = typer.Option(None, "--out", "-o", help=N_("Directory to write (default: "
                                                                 "out/<round-id>-<format>; out/parquet for "
                                                                 "parquet).")),
    final: bool = typer.Option(False, "--final", help=N_("Refuse (exit 1) if any indicator is not yet assessed.")),
    rev: str | None = REV_OPTION,
    no_cache: bool = NO_CACHE_OPTION,
    executor: Executor = EXECUTOR_OPTION,
    scheduler: str | None = SCHEDULER_OPTION,
) -> None:
    from gapctl.data.writes import WriteError

    if fmt is ExportFormat.parquet:
        return _export_parquet(paths, out, final, not no_cache, executor, scheduler)
    if len(paths) > 1:
        raise typer.BadParameter(_("{format} takes one round; only --format parquet takes several").format(
            format=fmt.value), param_hint="PATHS")
    from gapctl.io.export import export

    _use_executor(executor, scheduler)
    provenance: list = []
    # each unit's rows from its own files, in a pool for large rounds (the round loaded whole at a revision)
    scored, source = _detailed(paths[0], final, use_cache=not no_cache, rev=rev, provenance=provenance)
    target = out or Path("out") / f"{scored.round.id}-{fmt.value}"
    try:
        written = export(scored, fmt.value, target, provenance[0], source)
    except WriteError as err:
        typer.echo(f"gapctl export: {err}", err=True)
        raise typer.Exit(1) from None
    for path_written in written:
        _echo(str(path_written))


def _export_parquet(paths: list[Path], out: Path | None, final: bool, use_cache: bool, executor: Executor,
                    scheduler: str | None) -> None:
    """export --format parquet: each round's partitions, file by file (gapctl.io.columnar)."""
    from gapctl.data.writes import WriteError
    from gapctl.io import columnar
    from gapctl.scoring.executors import CannotRun

    try:
        columnar.pyarrow()
    except CannotRun as err:
        raise _fail(_("gapctl: could not run: {error}").format(error=err), 3) from None
    _use_executor(executor, scheduler)
    target = out or Path("out") / "parquet"
    for path in paths:
        # the round's plan, file by file: what the partitions continue from
        scored, checked = _scored_with(path, final, summary=True, use_cache=use_cache)
        try:
            done = columnar.export_round(scored, checked.plans[0], target)
        except WriteError as err:
            raise _fail(f"gapctl export: {err}") from None
        for path_written in done.written:
            _echo(str(path_written))
        if done.rounded:
            typer.echo(_("note: {count} figure(s) of {round} have more than {places} decimal places and were "
                         "rounded half-up there").format(count=done.rounded, round=scored.round.id,
                                                         places=columnar.SCALE), err=True)


@app.command("rank", short_help=N_("Rank the units of several rounds together, from their Parquet exports."),
              help=N_("""Rank the units of several rounds together — a national ranking of per-province
rounds — from their Parquet exports (gapctl export --format parquet), with the rules of gapctl
score: units of the same scheme ranked by total, within their category too, ties sharing a
rank (1, 2, 2, 4), totals at the scheme's decimal places.

Examples:

  gapctl export rounds/province-a rounds/province-b --format parquet --out out/parquet

  gapctl rank --from out/parquet

  gapctl rank --from a/parquet --from b/parquet --by-category --format csv"""))
def rank_command(
    sources: list[Path] = typer.Option(..., "--from", metavar="PARQUET", help=N_(
        "An export directory, a partition directory or a units Parquet file; repeat for several.")),
    by_category: bool = typer.Option(False, "--by-category", help=N_("Group by ranking category (分类排名).")),
    fmt: TableFormat = typer.Option(TableFormat.table, "--format", "-f", help=N_("table, json or csv.")),
    lang: Lang | None = LANG_OPTION,
) -> None:
    from gapctl.io import shards
    from gapctl.scoring.executors import CannotRun

    try:
        units = shards.rank(shards.read(sources), by_category)
    except CannotRun as err:
        raise _fail(_("gapctl: could not run: {error}").format(error=err), 3) from None
    except shards.ShardError as err:
        raise _fail(_plain(f"gapctl rank: {err}")) from None
    if fmt is TableFormat.json:
        _dump_json(shards.json_data(units, sources))
    elif fmt is TableFormat.csv:
        typer.echo(shards.csv_text(units), nl=False)
    else:
        from gapctl.i18n import lang as current_lang
        for line in shards.text_lines(units, lang.value if lang is not None else current_lang()):
            _echo(line)


@app.command("import", short_help=N_("Import an evaluator's spreadsheet into observation files."),
              help=N_("""Import an evaluator's spreadsheet into observation files: columns 单位, 指标,
结果 (完成/未完成/不适用/待评), 数值 (count, fraction, grade or notices, as the indicator's rule needs;
items as a list of item ids or names), 说明, 扣分理由, 整改要求, 评估人员, 日期 — or the matrix
`gapctl export` writes (units as rows, indicators as columns, cells the points earned, 不适用 or 待评).
gapctl's own export workbook is recognised and its sheet 指标得分矩阵 read; another workbook with
several sheets needs --sheet. Nothing is written if any row has a problem; observations already
recorded are kept unless --force (cells edited in gapctl's own workbook since the export need no
--force); a changed value's old 扣分理由 is kept, marked 【待核实】; comments survive.

Examples:

  gapctl export rounds/shanwei-2020 --format xlsx --out out

  gapctl import rounds/shanwei-2020 out/shanwei-2020.xlsx --dry-run

  gapctl import rounds/shanwei-2020 out/shanwei-2020.xlsx --dry-run --format json

  gapctl import rounds/shanwei-2020 results.csv --force"""))
def import_command(
    path: Path = typer.Argument(..., help=N_("A round directory.")),
    file: Path = typer.Argument(..., help=N_("An xlsx workbook or a CSV file: one row per unit × indicator, or "
                                             "the matrix gapctl export writes.")),
    mapping: Path | None = typer.Option(None, "--mapping", help=N_("YAML mapping of other headers to fields "
                                                                   "(unit, indicator, result, value, note, reason, "
                                                                   "fix, observer, observed_at).")),
    sheet: str | None = typer.Option(None, "--sheet", help=N_("Worksheet name (default: the matrix of gapctl's "
                                                              "own export workbook, or the only sheet).")),
    dry_run: bool = typer.Option(False, "--dry-run", help=N_("Write nothing; show the score changes it would "
                                                             "cause, and what --force would replace.")),
    force: bool = typer.Option(False, "--force", help=N_("Replace observations that already exist.")),
    fmt: Format = FORMAT_OPTION,
) -> None:
    from gapctl import i18n
    from gapctl.data.writes import WriteError
    from gapctl.io import importer

    as_json = fmt is Format.json
    scored_before = _scored(path, final=False)
    # a dry run shows what the import would change with --force, and says which of it needs --force
    plan = importer.read(scored_before.round, file, mapping, sheet, force or dry_run)  # reads the mapping too
    if not as_json:
        for note in plan.notes:
            typer.echo(_("note: {note}").format(note=note), err=True)
    if plan.problems:
        if as_json:
            _dump_json(_import_data(plan, path, dry_run, force, written=[]))
            raise typer.Exit(1)
        for problem in plan.problems:
            typer.echo(problem, err=True)
        typer.echo(_("Nothing imported: {count} problem(s).").format(count=len(plan.problems)), err=True)
        raise typer.Exit(1)
    if dry_run:
        from gapctl.review import diff_view
        from gapctl.review.diff import compare
        from gapctl.scoring.score import score_round

        after = score_round(importer.preview(scored_before.round, plan),
                            periods={period: rounds[1] for period, rounds in plan.periods.items()})
        diffs = [compare(scored_before, after, str(path), _("now"), _("after import"))]
        for period, (period_before, period_after) in sorted(plan.periods.items()):  # rows of the round's periods
            diffs.append(compare(score_round(period_before), score_round(period_after), str(path.parent / period),
                                 _("now"), _("after import")))
        if as_json:
            data = _import_data(plan, path, dry_run, force, written=[])
            data["changes"] = [diff_view.json_data(result) for result in diffs]
            _dump_json(data)
            return
        for result in diffs:
            for line in diff_view.text_lines(result, i18n.lang()):
                _echo(line)
        if plan.replaced and not force:
            for issue in plan.replaced[:REPLACED_SHOWN]:
                _echo(_("needs --force: {place}: {message}").format(place=issue.ref, message=issue.message))
            if len(plan.replaced) > REPLACED_SHOWN:
                _echo(_("… and {count} more").format(count=len(plan.replaced) - REPLACED_SHOWN))
            _echo(_("(--force would replace {count} observation(s) already recorded; without it the import "
                    "refuses them)").format(count=len(plan.replaced)))
        _echo(_("(dry run: {entries} entr(ies) in {files} file(s) not written)").format(
            entries=plan.entries, files=len(plan.files)))
        return
    try:
        written = importer.write(plan)
    except WriteError as err:
        typer.echo(f"gapctl import: {err}", err=True)
        raise typer.Exit(1) from None
    if as_json:
        _dump_json(_import_data(plan, path, dry_run, force, written))
        return
    _echo(_("imported {entries} entr(ies) into {files} file(s).").format(entries=plan.entries, files=len(written)))


REPLACED_SHOWN = 10  # observations a dry run lists that only --force replaces


def _import_data(plan: Any, path: Path, dry_run: bool, force: bool, written: list) -> dict[str, Any]:
    """`import --format json`: what was (or would be) written, the problems and notes, each with its place."""
    from gapctl.data.sources import display_path

    def issue(item: Any) -> dict[str, Any]:
        return {"place": item.ref, "code": item.code, "message": item.message}

    return {"round": display_path(path), "dry_run": dry_run, "force": force, "ok": not plan.problems,
            "entries": plan.entries, "files": sorted(display_path(p) for p in plan.files),
            "written": sorted(display_path(Path(p)) for p in written),
            "problems": list(plan.problems), "issues": [issue(i) for i in plan.issues],
            "notes": list(plan.notes),
            "needs_force": [] if force else [issue(i) for i in plan.replaced]}


@app.command("import-scheme", short_help=N_("Turn a published indicator table into a scheme skeleton."),
              help=N_("""Turn a published indicator table (merged cells and all) into a scheme
skeleton that `gapctl validate` accepts: the tree with points, methods, checkpoints, basis and
scope. Rules are left to fill in, each marked `assumed` so that `gapctl show` lists them.

Examples:

  gapctl import-scheme 指标体系.xlsx --id suizhou-2022

  gapctl import-scheme 指标体系.xlsx --id suizhou-2022 --format json"""))
def import_scheme_command(
    workbook: Path = typer.Argument(..., help=N_("A workbook with an indicator table (一级指标, 二级指标, 三级指标, "
                                                 "测评方式, 测评要点, 指标依据, 评估数据采集范围, 分值).")),
    scheme_id: str = typer.Option(..., "--id", help=N_("Id of the new scheme.")),
    title: str | None = typer.Option(None, "--title", help=N_("Title (default: from the sheet).")),
    sheet: str | None = typer.Option(None, "--sheet", help=N_("Worksheet name (default: the first with a "
                                                              "header).")),
    out: Path | None = typer.Option(None, "--out", "-o", help=N_("Where to write (default: "
                                                                 "schemes/<id>.yaml).")),
    force: bool = typer.Option(False, "--force", help=N_("Overwrite an existing file.")),
    fmt: Format = FORMAT_OPTION,
) -> None:
    from gapctl.data.writes import WriteError
    from gapctl.io.import_scheme import import_scheme, write_scheme

    target = out or Path("schemes") / f"{scheme_id}.yaml"
    if target.exists() and not force:
        raise _fail(_("{path} exists; use --force to overwrite").format(path=target))
    text, problems = import_scheme(workbook, scheme_id, title=title, sheet=sheet)
    for problem in problems:
        typer.echo(problem, err=True)
    if not text or problems:
        raise _fail(_("Nothing written: {problems} problem(s).").format(problems=len(problems)))
    try:
        write_scheme(text, target, force)
    except WriteError as err:
        raise _fail(f"gapctl import-scheme: {err}") from None
    if fmt is Format.json:
        _dump_json({"scheme": scheme_id, "written": str(target)})
    else:
        _echo(_("wrote {path}; fill in the rules marked assumed (gapctl show {path}).").format(path=target))


@app.command("init", short_help=N_("Create a new assessment repository."),
              help=N_("""Create a new assessment repository: schemes/ (a copy of a shipped scheme), units/ (a
template, or with --with-units the example unit set), rounds/, calendars/, schema/ for
editors, the CI workflow, pre-commit configuration and a README for the office.

Examples:

  gapctl init --list

  gapctl init ../zwgk-2025 --from shanwei-2020 --title 某市政务公开考核评估

  gapctl init ../try-gapctl --from suizhou-2021 --with-units"""))
def init_command(
    directory: Path | None = typer.Argument(None, help=N_("Where to create the repository (new or empty)."),
                                            show_default=False),
    scheme: str = typer.Option("suizhou-2021", "--from", help=N_("The shipped scheme to start from (see "
                                                                 "--list).")),
    title: str | None = typer.Option(None, "--title", help=N_("The office's name for the README.")),
    with_units: bool = typer.Option(False, "--with-units", help=N_("Copy the example unit set the shipped rounds "
                                                                   "use with the scheme, instead of a one-unit "
                                                                   "template (to try gapctl out).")),
    list_only: bool = typer.Option(False, "--list", help=N_("List the shipped schemes and exit.")),
    fmt: Format = FORMAT_OPTION,
) -> None:
    from gapctl.io.scaffold import ScaffoldError, init, list_schemes

    if list_only:
        rows = list_schemes()
        if fmt is Format.json:
            _dump_json({"schemes": rows})
        else:
            from gapctl.textwidth import table
            lines = [["id", _("title"), _("year"), _("indicators"), _("units")]]
            lines += [[r["id"], r["title"] or "", "" if r["year"] is None else str(r["year"]),
                       "" if r["indicators"] is None else str(r["indicators"]), ", ".join(r["units"])] for r in rows]
            for line in table(lines, ["left", "left", "left", "right", "left"]):
                _echo(line)
        raise typer.Exit(0)
    if directory is None:
        raise _fail(_("gapctl init: give the directory to create (or --list to see the shipped schemes)"), 2)
    try:
        written = init(directory, scheme, title, with_units)
    except ScaffoldError as err:
        raise _fail(f"gapctl init: {err}") from None
    units = next((p.stem for p in written if p.parent.name == "units"), "units")
    if fmt is Format.json:
        _dump_json({"directory": str(directory), "scheme": scheme, "units": units,
                    "files": [p.relative_to(directory).as_posix() for p in written]})
    elif with_units:
        _echo(_("created {directory} ({files} files). Next: `gapctl new round <id> --scheme {scheme} --units "
                "{units}` in {directory}.").format(directory=directory, files=len(written), scheme=scheme,
                                                   units=units))
    else:
        _echo(_("created {directory} ({files} files). Next: edit units/units.yaml, then `gapctl new round <id> "
                "--scheme {scheme} --units {units}` in {directory}.").format(
                    directory=directory, files=len(written), scheme=scheme, units=units))


new_app = App(help=N_("""Scaffold new things in an assessment repository.

Examples:

  gapctl new round 2025 --scheme suizhou-2021 --units units"""), no_args_is_help=True)
app.add_typer(new_app, name="new")


@new_app.command("round", short_help=N_("Scaffold a round, every applicable indicator not yet assessed."),
                  help=N_("""Scaffold a round: round.toml and one observation file per unit listing
every applicable indicator as not yet assessed (result: pending). The year, the title and the
period come from the scheme's `year:` unless --year is given (this year when the scheme has
none).

Examples:

  gapctl new round 2025 --scheme suizhou-2021 --units units

  gapctl new round 2025 --scheme suizhou-2021 --units units --year 2025 --format json"""))
def new_round_command(
    round_id: str = typer.Argument(..., help=N_("Id of the new round (its directory name).")),
    scheme: str = typer.Option(..., "--scheme", help=N_("Scheme id.")),
    units: str = typer.Option(..., "--units", help=N_("Unit set id.")),
    repo: Path = typer.Option(Path("."), "--repo", help=N_("The repository (default: .).")),
    title: str | None = typer.Option(None, "--title", help=N_("Round title.")),
    year: int | None = typer.Option(None, "--year", help=N_("Year assessed (default: the scheme's year:, else "
                                                            "this year).")),
    fmt: Format = FORMAT_OPTION,
) -> None:
    from gapctl.io.scaffold import ScaffoldError, new_round

    try:
        written = new_round(repo, round_id, scheme, units, title, year)
    except ScaffoldError as err:
        raise _fail(f"gapctl new round: {err}") from None
    if fmt is Format.json:
        _dump_json({"round": round_id, "directory": str(written[0].parent),
                    "files": [p.relative_to(written[0].parent).as_posix() for p in written]})
    else:
        _echo(_("created rounds/{round} with {files} observation file(s).").format(round=round_id,
                                                                                   files=len(written) - 1))


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
        for line in robustness.round_lines(scored, results, language):
            _echo(line)


def _robustness(scored: Any, draws: int, seed: int, weights: int = 20, grades: bool = True) -> list:
    """gapctl.scoring.robustness over every scheme of the round, with progress for a long run on a terminal."""
    from decimal import Decimal

    from gapctl.scoring import robustness
    settings = robustness.Settings(draws=draws, seed=seed, weights=Decimal(weights) / 100, grades=grades)
    results = []
    for scheme_id in dict.fromkeys(s.scheme.id for s in scored.units):
        count = sum(1 for s in scored.units if s.scheme.id == scheme_id)
        progress = _draw_progress(_("drawing ({scheme})").format(scheme=scheme_id), draws * count)
        results.append(robustness.analyse(scored, settings, scheme_id, progress))
    return results


LONG_RUN = 20_000  # unit-draws: from here a terminal is told how far the draws are


def _stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


def _draw_progress(what: str, work: int) -> Any:
    """`drawing (scheme) 400/1,000` on stderr, for a long run on a terminal; else None."""
    if work < LONG_RUN or not _stderr_is_terminal():
        return None

    def show(done: int, total: int) -> None:
        end = "\n" if done >= total else ""
        sys.stderr.write("\r" + _("{what} {done}/{total} draws").format(what=what, done=f"{done:,}",
                                                                         total=f"{total:,}") + end)
        sys.stderr.flush()
    return show


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


def _sources(scored: list, fmt: Format) -> list:
    """[the provenance of these scored rounds] for a JSON output, else []."""
    return [_sources_of(scored)] if fmt is Format.json else []


def _sources_of(scored: list) -> Any:
    """The provenance of these scored rounds (gapctl.review.provenance); git revisions read are closed after."""
    from gapctl.data.tree import GitTree
    from gapctl.review.provenance import of_rounds

    try:
        return of_rounds([s.round for s in scored])
    finally:
        for s in scored:
            if isinstance(s.round.tree, GitTree):
                s.round.tree.close()


def _print_result(module: Any, result: Any, fmt: Format, lang: str, provenance: list | None = None) -> None:
    if fmt is Format.json:
        _dump_json(module.json_data(result), provenance[0] if provenance else None)
    else:
        for line in module.text_lines(result, lang):
            _echo(line)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app; what stops it from running becomes one line and exit code 3.

    A full disk, a failed memory allocation or git that cannot read a revision is said as such.
    Anything else is a bug: the traceback, gapctl's and Python's versions and the command line go
    to a crash report under the user's cache directory (never the repository) and the line says
    where. GAPCTL_DEBUG=1 lets the exception through instead, traceback and all.
    """
    from gapctl import i18n
    args = sys.argv[1:] if argv is None else argv
    for n, arg in enumerate(args):  # --lang before anything is printed, even help
        if arg == "--lang" and n + 1 < len(args):
            i18n.use(args[n + 1])
        elif arg.startswith("--lang="):
            i18n.use(arg.split("=", 1)[1])
    try:
        app(args=argv, prog_name="gapctl")
    except SystemExit:
        raise
    except KeyboardInterrupt:
        typer.echo(_("interrupted"), err=True)
        sys.exit(130)
    except Exception as err:  # not bad data (that is exit 1 with problem lines): gapctl could not run
        import os

        from gapctl.data.writes import DiskFull
        from gapctl.scoring.executors import CannotRun
        if isinstance(err, DiskFull | CannotRun):  # no space (the old files are as they were); a cluster failed
            typer.echo(_("gapctl: could not run: {error}").format(error=err), err=True)
            sys.exit(3)
        if os.environ.get("GAPCTL_DEBUG"):
            raise
        typer.echo(_could_not_run(err, sys.argv[1:] if argv is None else argv), err=True)
        sys.exit(3)


def _could_not_run(err: Exception, argv: list[str]) -> str:
    """The one line `main` prints for an exception that stopped a command (writing a crash report for a bug)."""
    import errno

    from gapctl.data.tree import GitError
    from gapctl.escape import plain_line

    if isinstance(err, OSError) and err.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        if err.filename:
            return plain_line(_("gapctl: could not run: no space left on the device ({path}); nothing else was "
                                "changed").format(path=err.filename))
        return _("gapctl: could not run: no space left on the device; nothing else was changed")
    if isinstance(err, MemoryError):
        return _("gapctl: could not run: out of memory")
    if isinstance(err, GitError):
        return plain_line(_("gapctl: could not run: {error}").format(error=err))
    report = _crash_report(err, argv)
    where = _("the crash report is {path}").format(path=report) if isinstance(report, Path) else \
        _("no crash report could be written ({reason}); rerun with GAPCTL_DEBUG=1 for the traceback").format(
            reason=report)
    return plain_line(_("gapctl: internal error ({error}), a bug in gapctl: {where}").format(
        error=type(err).__name__, where=where))


def _crash_directory() -> Path:
    """$XDG_CACHE_HOME/gapctl (else ~/.cache/gapctl), or the system's temporary directory when that
    is inside the working directory's repository: a crash report is never committed by mistake."""
    import os
    import tempfile

    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").absolute() / "gapctl"
    cwd = Path.cwd().resolve()
    for top in [cwd, *cwd.parents]:
        if any((top / name).exists() for name in (".git", "schemes", "units", "rounds")):
            if base.resolve() == top or top in base.resolve().parents:
                return Path(tempfile.gettempdir()).resolve() / "gapctl"
            break
    return base


def _crash_report(err: Exception, argv: list[str]) -> Path | str:
    """Write the traceback and what it ran on to crash-<time>.txt; its path, or why it could not be written."""
    import datetime as dt
    import os
    import platform
    import traceback

    from gapctl import __version__

    now = dt.datetime.now(dt.UTC)
    text = "\n".join([
        f"gapctl {__version__} crashed at {now.isoformat(timespec='seconds')}",
        f"command line: gapctl {' '.join(argv)}",
        f"python: {sys.version.split()[0]} ({sys.executable}) on {platform.platform()}",
        f"working directory: {os.getcwd()}",
        "",
        "".join(traceback.format_exception(err)),
        "Please send this file with a bug report to gapctl's maintainers; it holds the command line and",
        "the traceback, which may name files of your repository, and nothing of their content.",
        ""])
    try:
        directory = _crash_directory()
        directory.mkdir(parents=True, exist_ok=True)
        stamp = now.strftime("%Y%m%dT%H%M%SZ")
        for n in range(100):
            path = directory / f"crash-{stamp}{f'-{n}' if n else ''}.txt"
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
            except FileExistsError:
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
            return path
        return "too many crash reports this second"
    except OSError as error:
        return error.strerror or str(error)
