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

app = typer.Typer(
    name="gapctl",
    help="Government-openness assessments (政务公开考核评估) as a plain-text data repository.\n\n"
         "Examples:\n\n"
         "  gapctl validate rounds/suizhou-2021\n\n"
         "  gapctl show schemes/suizhou-2021.yaml\n\n"
         "  gapctl validate --list-codes",
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


class Lang(str, Enum):
    zh = "zh"
    en = "en"


FORMAT_OPTION = typer.Option(Format.text, "--format", "-f", help="Output format: text or json.")
LANG_OPTION = typer.Option(None, "--lang", help="Language of labels: zh or en (default: the scheme's).")
NO_CACHE_OPTION = typer.Option(False, "--no-cache", help="Read every file again; neither use nor update "
                               ".gapctl-cache/ (also: GAPCTL_NO_CACHE=1).")


def _echo(text: str = "") -> None:
    typer.echo(text)


def _dump_json(data: dict[str, Any]) -> None:
    """Every JSON output goes through gapctl.escape.json_document (`version` first)."""
    from gapctl.escape import json_document
    typer.echo(json_document(data), nl=False)


def _print_version(value: bool) -> None:
    if value:
        from gapctl import __version__
        _echo(f"gapctl {__version__}")
        raise typer.Exit(0)


def _use_lang(value: str | None) -> str | None:
    from gapctl import i18n
    if value:
        i18n.use(value)
    return value


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", "-V", callback=_print_version, is_eager=True,
                                 help="Print gapctl's version and exit."),
    lang: str | None = typer.Option(None, "--lang", callback=_use_lang, is_eager=True, metavar="zh|en",
                                    help="Language of messages: zh (default) or en; also GAPCTL_LANG."),
) -> None:
    """Government-openness assessments (政务公开考核评估) as a plain-text data repository."""


def _problem_rows(problems: list) -> list[dict[str, Any]]:
    from gapctl.problem_formats import rows
    return rows(problems)


def _problem_line(row: dict[str, Any]) -> str:
    """`path:line:col: CODE message` (see gapctl.problem_formats.text_line)."""
    from gapctl.problem_formats import text_line
    return text_line(row)


def _codes_catalogue() -> list[dict[str, str]]:
    from gapctl.problems import CATALOGUE
    return [{"code": k.code, "name": k.name, "severity": k.severity, "title": k.title,
             "description": k.description} for k in sorted(CATALOGUE.values(), key=lambda k: k.code)]


@app.command()
def validate(
    paths: list[Path] = typer.Argument(None, help="Round directories, a repository root, or files (each "
                                       "is checked with its round or repository). Default: .",
                                       show_default=False),
    strict: bool = typer.Option(False, "--strict", help="Fail (exit 1) on warnings too."),
    list_codes: bool = typer.Option(False, "--list-codes", help="Print the problem catalogue and exit."),
    fmt: ProblemFormat = typer.Option(ProblemFormat.text, "--format", "-f",
                                      help="Output format: text, json, github (workflow commands: annotations "
                                      "on a pull request) or sarif (SARIF 2.1.0, for code scanning)."),
    no_cache: bool = NO_CACHE_OPTION,
) -> None:
    """Check a round or a whole repository and list every problem at once.

    Prints `path:line:col: CODE message`, sorted by path and line, then a summary.
    Exit 1 if there is any error (or any warning with --strict).

    Examples:

      gapctl validate rounds/suizhou-2021

      gapctl validate . --strict --format json

      gapctl validate . --format github      # annotations in a GitHub workflow

      gapctl validate . --format sarif > gapctl.sarif

    Large rounds are read on every core, and what each file gave is kept in
    .gapctl-cache/ (keyed by the file's content), so a second run reads only what changed.
    """
    if list_codes:
        catalogue = _codes_catalogue()
        if fmt is ProblemFormat.json:
            _dump_json({"codes": catalogue})
        else:
            from gapctl.textwidth import table
            rows = [["code", "name", "severity", "title"]]
            rows += [[c["code"], c["name"], c["severity"], c["title"]] for c in catalogue]
            for line in table(rows):
                _echo(line)
        raise typer.Exit(0)
    from gapctl.api import check_many
    from gapctl.outcomes import print_progress
    from gapctl.problem_formats import Findings, render

    paths = paths or [Path(".")]
    result = check_many(paths, use_cache=not no_cache, progress=print_progress("validating"))
    code = result.report.exit_code(strict)
    findings = Findings(result.report.sorted(), result.files, " ".join(str(p) for p in paths), code != 0)
    typer.echo(render(findings, fmt.value), nl=False)
    raise typer.Exit(code)


@app.command()
def show(
    path: Path = typer.Argument(..., help="A scheme file, a unit-set file or a round directory."),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Print a scheme as an indented tree with points, a unit set as a table, or a round's summary.

    Examples:

      gapctl show schemes/suizhou-2021.yaml

      gapctl show units/suizhou-gxq.yaml

      gapctl show rounds/suizhou-2021 --format json
    """
    from gapctl import show as render
    from gapctl.api import read_one

    what, obj, problems = read_one(path)
    if obj is None:
        for row in _problem_rows(problems):
            typer.echo(_problem_line(row), err=True)
        if not problems:
            typer.echo(f"{path}: not a scheme, unit set or round", err=True)
        raise typer.Exit(1)
    data_fn = {"scheme": render.scheme_data, "units": render.unit_set_data, "round": render.round_data}[what]
    lines_fn = {"scheme": render.scheme_lines, "units": render.unit_set_lines, "round": render.round_lines}[what]
    if fmt is Format.json:
        _dump_json(data_fn(obj))
    else:
        for line in lines_fn(obj):
            _echo(line)


def _print_problems(problems: list) -> None:
    for row in _problem_rows(problems):
        typer.echo(_problem_line(row), err=True)


def _scored(path: Path, final: bool, summary: bool = False, use_cache: bool = True, warnings: list | None = None):
    """Load, validate and score; on invalid data print the problems and exit 1.

    `summary`: file by file, on every core and through the cache (gapctl.outcomes), with
    totals and ranks but not each indicator's detail (enough for `gapctl score`). `warnings`
    receives validate's warnings (a report marks its results provisional while there are any).
    """
    from gapctl import outcomes
    from gapctl.score import score_round

    if summary:
        result = outcomes.check(path, use_cache, progress=outcomes.print_progress("scoring"))
    else:
        from gapctl.api import check
        result = check(path)
    if result.loaded.round is None:
        problems = result.report.sorted()
        _print_problems(problems)
        if not problems:
            typer.echo(f"{path}: not a round directory (no round.toml)", err=True)
        raise typer.Exit(1)
    if result.report.errors:
        _print_problems([p for p in result.report.sorted() if p.severity == "error"])
        typer.echo(f"Not scored: {len(result.report.errors)} error(s); see `gapctl validate {path}`.", err=True)
        raise typer.Exit(1)
    if warnings is not None:
        warnings.extend(result.report.warnings)
    if result.report.warnings and not final:
        typer.echo(f"note: {len(result.report.warnings)} warning(s); the scores may be provisional "
                   f"(gapctl validate {path})", err=True)
    with outcomes.paused_gc():
        scored = outcomes.score(result, final) if summary else score_round(result.loaded.round, final=final)
    if scored.problems:
        _print_problems(scored.problems)
        typer.echo(f"Not final: {len(scored.problems)} unit(s) have indicators not yet assessed.", err=True)
        raise typer.Exit(1)
    return scored


def _lang(lang: Lang | None, scored) -> str:
    if lang is not None:
        return lang.value
    languages = {s.scheme.language for s in scored.units}
    return "en" if languages == {"en"} else "zh"


@app.command()
def score(
    path: Path = typer.Argument(..., help="A round directory."),
    by_category: bool = typer.Option(False, "--by-category", help="Group by ranking category (分类排名)."),
    unit: str | None = typer.Option(None, "--unit", help="Only this unit (id)."),
    final: bool = typer.Option(False, "--final", help="Refuse (exit 1) if any indicator is not yet assessed."),
    fmt: TableFormat = typer.Option(TableFormat.table, "--format", "-f", help="table, json or csv."),
    lang: Lang | None = LANG_OPTION,
    no_cache: bool = NO_CACHE_OPTION,
) -> None:
    """Score every unit of a round: rank, unit, category, applicable and earned points, base,
    bonus, penalty, external deductions, total, grade and flags.

    Invalid data is not scored (exit 1). Ties share a rank (1, 2, 2, 4).

    Examples:

      gapctl score rounds/yanjiang-2021

      gapctl score rounds/shanwei-2020 --by-category

      gapctl score rounds/suizhou-2021 --unit finance --format json

      gapctl score rounds/chongqing-2020 --final --format csv > scores.csv
    """
    from gapctl import scoreboard

    scored = _scored(path, final, summary=True, use_cache=not no_cache)
    if unit is not None and unit not in scored.by_unit():
        typer.echo(f"no unit '{unit}' in round {scored.round.id}", err=True)
        raise typer.Exit(1)
    scores = scoreboard.select(scored, unit, by_category)
    if fmt is TableFormat.json:
        _dump_json(scoreboard.json_data(scored, scores))
    elif fmt is TableFormat.csv:
        typer.echo(scoreboard.csv_text(scores), nl=False)
    else:
        for line in scoreboard.text_lines(scored, scores, _lang(lang, scored), by_category):
            _echo(line)


@app.command()
def explain(
    path: Path = typer.Argument(..., help="A round directory."),
    unit: str = typer.Argument(..., help="Unit id."),
    indicator: str | None = typer.Argument(None, help="Only this indicator (id)."),
    fmt: Format = FORMAT_OPTION,
    lang: Lang | None = LANG_OPTION,
    depth: int = typer.Option(0, "--depth", min=0, max=5, help="Also explain the channels, subordinate units "
                              "and periods the unit's score is built from, this many levels down."),
) -> None:
    """Why a unit got its score: per indicator the points, the rule in words, the observation,
    points earned or lost and why, the evidence; then how the total was combined, and the
    unit's problem list (扣分点, 扣分理由, 整改要求).

    Examples:

      gapctl explain rounds/suizhou-2021 finance

      gapctl explain rounds/yanjiang-2021 baohe 8

      gapctl explain rounds/chongqing-2020 wanzhou --lang en

      gapctl explain rounds/pingyuan-2024 county --depth 1
    """
    from gapctl.explain import explain_data, explain_lines

    scored = _scored(path, final=False)
    score_ = scored.by_unit().get(unit)
    if score_ is None:
        typer.echo(f"no unit '{unit}' in round {scored.round.id}", err=True)
        raise typer.Exit(1)
    if indicator is not None and indicator not in score_.leaves and score_.node(indicator) is None:
        typer.echo(f"no indicator '{indicator}' in scheme {score_.scheme.id}", err=True)
        raise typer.Exit(1)
    if fmt is Format.json:
        _dump_json(explain_data(score_))
    else:
        for line in explain_lines(score_, _lang(lang, scored), indicator, depth, scored):
            _echo(line)


@app.command()
def report(
    path: Path = typer.Argument(..., help="A round directory."),
    fmt: ReportFormat = typer.Option(ReportFormat.html, "--format", "-f", help="html or md (a directory), docx or "
                                     "pdf (one document to issue; pdf prints the HTML with Chromium)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Directory to write (default: out/<round-id>); "
                                    "for docx and pdf the file (default: out/<round-id>.docx or .pdf)."),
    compare: Path | None = typer.Option(None, "--compare", help="Last round: its totals, grades and which "
                                        "of its problems are fixed."),
    lang: Lang | None = LANG_OPTION,
    stamp: bool = typer.Option(False, "--stamp", help="Print the generation time on the overview "
                               "(off by default: same input, same bytes)."),
    office: str | None = typer.Option(None, "--office", help="Issuing office (发文机关), at the head and foot."),
    date: str | None = typer.Option(None, "--date", help="Date of issue (成文日期), YYYY-MM-DD."),
    number: str | None = typer.Option(None, "--number", help="Document number (发文字号), e.g. 某政公〔2025〕3号."),
) -> None:
    """Write the report an office publishes: an overview (grades, rankings by category,
    attainment per indicator, where points were lost, charts) and one page per unit with its
    score card and problem list (扣分点, 扣分理由, 整改要求). HTML is self-contained and prints
    on A4; report.html holds every page for printing.

    Examples:

      gapctl report rounds/shanwei-2020 --out out/shanwei

      gapctl report rounds/suizhou-2022 --compare rounds/suizhou-2021 --lang en

      gapctl report rounds/yanjiang-2021 --format md --out docs/example-report
    """
    import datetime as dt

    from gapctl.report import build
    from gapctl.report.document import Issue, standing

    try:
        issued = dt.date.fromisoformat(date) if date else None
    except ValueError:
        raise typer.BadParameter(f"{date!r} is not a date (YYYY-MM-DD)", param_hint="--date") from None
    warnings: list = []
    scored = _scored(path, final=False, warnings=warnings)
    previous = _scored(compare, final=False) if compare is not None else None
    language = _lang(lang, scored)
    if len(scored.units) > 500:
        typer.echo(f"rendering {len(scored.units) + 1} pages…", err=True)
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if stamp else None
    issue = Issue(office, issued, number)
    status = standing(scored, len(warnings))
    if fmt.value in build.DOCUMENTS:
        from gapctl.report.pdf import NoBrowser, PrintError

        target = build.document_path(out, scored.round.id, fmt.value)
        try:
            build.write_document(build.document(scored, fmt.value, language, previous, when, issue, status), target)
        except (NoBrowser, PrintError) as err:
            typer.echo(f"gapctl report: {err}", err=True)
            raise typer.Exit(3) from None
        except (build.ReportError, OSError) as err:
            typer.echo(f"gapctl report: {err}", err=True)
            raise typer.Exit(1) from None
        _echo(f"wrote {target}")
        return
    target = out or Path("out") / scored.round.id
    files = build.render(scored, fmt.value, language, previous, when, issue, status)
    try:
        build.write(files, target)
    except (build.ReportError, OSError) as err:
        typer.echo(f"gapctl report: {err}", err=True)
        raise typer.Exit(1) from None
    _echo(f"wrote {len(files)} file(s) to {target}/ (open {target / ('index.' + fmt.value)})")


@app.command("fmt")
def fmt_command(
    paths: list[Path] = typer.Argument(None, help="Files or directories (default: the repository, .).",
                                       show_default=False),
    check: bool = typer.Option(False, "--check", help="Write nothing; list files that would change, exit 1 if any."),
) -> None:
    """Rewrite scheme, unit-set, observation and external files into one canonical layout
    (key order, indentation, quoting) so that diffs stay minimal. Comments and every value
    are kept; files are written atomically; running it twice changes nothing.

    Examples:

      gapctl fmt .

      gapctl fmt --check rounds/suizhou-2021

      gapctl fmt rounds/suizhou-2021/observations/finance.yaml
    """
    from gapctl.fmt import format_paths
    from gapctl.sources import display_path

    result = format_paths(paths or [Path(".")], check)
    for message in result.problems:
        typer.echo(message, err=True)
    done = result.changed if check else result.written
    for path in done:
        _echo(("would reformat " if check else "reformatted ") + display_path(path))
    verb = "would be reformatted" if check else "reformatted"
    canonical = len(result.files) - len(result.changed) - len(result.problems)
    _echo(f"{len(done)} file(s) {verb}, {max(canonical, 0)} already canonical"
          + (f", {len(result.problems)} problem(s)" if result.problems else "") + ".")
    raise typer.Exit(result.exit_code)


@app.command()
def diff(
    path: Path = typer.Argument(..., help="A round directory (or the older of two rounds), or a repository: "
                                "every round under its rounds/."),
    new_round: Path | None = typer.Argument(None, help="A newer round to compare with PATH."),
    rev: str | None = typer.Option(None, "--rev", help="BASE or BASE..HEAD: the round at git revisions "
                                   "(BASE alone: against the working tree). Default: HEAD."),
    show_all: bool = typer.Option(False, "--all", help="List every unit, not only those that changed."),
    fmt: DiffFormat = typer.Option(DiffFormat.table, "--format", "-f", help="table, md (a PR comment) or json."),
    lang: Lang | None = LANG_OPTION,
    drops: float | None = typer.Option(None, "--fail-if-total-drops-more-than", metavar="N",
                                       help="Exit 1 if any unit's total drops by more than N."),
    rises: float | None = typer.Option(None, "--fail-if-total-rises-more-than", metavar="N",
                                       help="Exit 1 if any unit's total rises by more than N."),
    grade_change: bool = typer.Option(False, "--fail-on-grade-change", help="Exit 1 if any grade changes."),
    rank_change: bool = typer.Option(False, "--fail-on-rank-change", help="Exit 1 if any rank changes."),
    any_change: bool = typer.Option(False, "--fail-on-any-change", help="Exit 1 if any score changes "
                                    "(or, for a repository, a round is added or removed)."),
    max_chars: int | None = typer.Option(None, "--max-chars", metavar="N", min=1000,
                                         help="With --format md: leave rows out so that the output has at "
                                         "most N characters, and say how many (a PR comment: 60000)."),
    out: Path | None = typer.Option(None, "--out", metavar="DIR", help="Also write the whole diff, never "
                                    "cut, as DIR/diff.md and DIR/diff.json (a CI artifact)."),
) -> None:
    """Show how scores, grades and ranks change between two git revisions of a round, or
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

      gapctl diff . --rev origin/main --format md --max-chars 60000 --out gapctl-diff
    """
    from decimal import Decimal

    from gapctl import diff_view
    from gapctl.diff import Gates, diff_repository, diff_revisions, diff_rounds, is_repository
    from gapctl.tree import GitError

    if new_round is not None and rev is not None:
        typer.echo("give either NEW_ROUND or --rev, not both", err=True)
        raise typer.Exit(2)
    if max_chars is not None and fmt is not DiffFormat.md:
        typer.echo("--max-chars is for --format md", err=True)
        raise typer.Exit(2)
    repository = new_round is None and is_repository(path)
    try:
        if repository:
            result: Any = diff_repository(path, rev or "HEAD")
        else:
            result = diff_rounds(path, new_round) if new_round is not None else diff_revisions(path, rev or "HEAD")
    except GitError as err:
        typer.echo(f"gapctl diff: could not run: {err}", err=True)
        raise typer.Exit(3) from None
    except ValueError as err:
        typer.echo(f"gapctl diff: {err}", err=True)
        raise typer.Exit(1) from None
    gates = Gates(Decimal(str(drops)) if drops is not None else None,
                  Decimal(str(rises)) if rises is not None else None, grade_change, rank_change, any_change)
    result.gates = gates.check_repository(result) if repository else gates.check(result)
    if result.problems:
        typer.echo(f"note: {len(result.problems)} validation error(s) in the compared rounds; "
                   "run gapctl validate", err=True)
    if repository:
        units = [u for e in result.rounds for u in (e.diff.new.units if e.diff else e.scored.units if e.scored
                                                     and e.status == "added" else [])]
        markdown, text_lines, json_data = (diff_view.repository_markdown, diff_view.repository_text_lines,
                                           diff_view.repository_json)
    else:
        units = result.new.units
        markdown, text_lines, json_data = diff_view.markdown, diff_view.text_lines, diff_view.json_data
    language = lang.value if lang else ("en" if units and {s.scheme.language for s in units} == {"en"} else "zh")
    if out is not None:
        from gapctl.escape import json_document
        from gapctl.writes import Write, WriteError, write_files
        try:
            write_files([Write(out / "diff.md", markdown(result, language, show_all).encode("utf-8")),
                         Write(out / "diff.json", json_document(json_data(result, show_all)).encode("utf-8"))], out)
        except WriteError as err:
            typer.echo(f"gapctl diff: could not run: {err}", err=True)
            raise typer.Exit(3) from None
    if fmt is DiffFormat.json:
        _dump_json(json_data(result, show_all))
    elif fmt is DiffFormat.md:
        text = markdown(result, language, show_all)
        typer.echo(diff_view.fit_markdown(text, max_chars, language) if max_chars else text, nl=False)
    else:
        for line in text_lines(result, language, show_all):
            _echo(line)
    unreadable = repository and any(e.status == "unreadable" for e in result.rounds)
    raise typer.Exit(1 if result.gates or unreadable else 0)


@app.command("status")
def status_command(
    path: Path = typer.Argument(..., help="A round directory."),
    today: str | None = typer.Option(None, "--today", help="Pretend today is this date (YYYY-MM-DD)."),
    fmt: Format = FORMAT_OPTION,
    lang: Lang | None = LANG_OPTION,
) -> None:
    """Where a round stands: stage dates in working days from today, units × indicators observed,
    self-assessed, reviewed, appealed and decided, what is overdue and what is due in the next
    5 working days (China's official calendar).

    Examples:

      gapctl status rounds/shanwei-2020

      gapctl status rounds/shanwei-2020 --today 2021-10-18 --format json
    """
    import datetime as dt

    from gapctl import status as status_mod
    from gapctl.api import check

    result = check(path)
    if result.loaded.round is None:
        _print_problems(result.report.sorted())
        raise typer.Exit(1)
    try:
        when = dt.date.fromisoformat(today) if today else dt.date.today()
    except ValueError:
        typer.echo(f"--today must be a date YYYY-MM-DD, not {today!r}", err=True)
        raise typer.Exit(2) from None
    units = result.loaded.round.unit_set.units if result.loaded.round.unit_set else []
    if len(units) > 500:
        with typer.progressbar(length=len(units), label="counting", file=sys.stderr) as bar:
            def progress(items: list) -> Any:
                for item in items:
                    bar.update(1)
                    yield item
            state = status_mod.status(result.loaded.round, when, progress)
    else:
        state = status_mod.status(result.loaded.round, when)
    if fmt is Format.json:
        _dump_json(status_mod.json_data(state))
    else:
        language = lang.value if lang else "zh"
        for line in status_mod.text_lines(state, language):
            _echo(line)


evidence_app = typer.Typer(help="Evidence files kept under a round: verify and add.", no_args_is_help=True)
app.add_typer(evidence_app, name="evidence")


@evidence_app.command("verify")
def evidence_verify(path: Path = typer.Argument(..., help="A round directory.")) -> None:
    """Check every evidence file of a round: inside the round, present, and its sha256 as recorded.

    Examples:

      gapctl evidence verify rounds/suizhou-2021
    """
    from gapctl.api import check
    from gapctl.evidence import verify

    result = check(path)
    if result.loaded.round is None:
        _print_problems(result.report.sorted())
        raise typer.Exit(1)
    verified = verify(result.loaded.round)
    for row in _problem_rows(sorted(verified.problems, key=lambda p: (p.locate().path, p.locate().line))):
        _echo(_problem_line(row))
    _echo(f"{verified.checked} evidence file(s) checked, {len(verified.problems)} problem(s).")
    raise typer.Exit(1 if verified.problems else 0)


@evidence_app.command("add")
def evidence_add(
    path: Path = typer.Argument(..., help="A round directory."),
    unit: str = typer.Argument(..., help="Unit id."),
    indicator: str = typer.Argument(..., help="Indicator id."),
    file: Path = typer.Argument(..., help="The file to add (screenshot, photo, PDF)."),
    title: str | None = typer.Option(None, "--title", help="What the file shows."),
    captured: str | None = typer.Option(None, "--captured", help="When it was captured (YYYY-MM-DD)."),
    submitted: str | None = typer.Option(None, "--submitted", help="When the unit sent it (YYYY-MM-DD)."),
) -> None:
    """Copy a file into the round's evidence/<unit>/, hash it, and record it on the unit's
    observation entry for the indicator (comments and layout kept, written atomically).

    Examples:

      gapctl evidence add rounds/suizhou-2021 finance 2.1.13 zfzw.png --title 政府债务栏目截图
    """
    import datetime as dt

    from gapctl.evidence import EvidenceError, add

    try:
        dates = [dt.date.fromisoformat(d) if d else None for d in (captured, submitted)]
    except ValueError:
        typer.echo("--captured and --submitted take dates written YYYY-MM-DD", err=True)
        raise typer.Exit(2) from None
    try:
        target, digest = add(path, unit, indicator, file, title, dates[0], dates[1])
    except EvidenceError as err:  # one line per reason; nothing was written
        from gapctl.escape import plain_line
        for line in err.lines:
            typer.echo(plain_line(f"gapctl evidence add: {line}"), err=True)
        raise typer.Exit(1) from None
    _echo(f"added {target} (sha256 {digest[:12]}…) to {unit} {indicator}")


@app.command("compare-self")
def compare_self_command(
    path: Path = typer.Argument(..., help="A round directory."),
    show_all: bool = typer.Option(False, "--all", help="Every compared indicator, not only over-claims."),
    fmt: Format = FORMAT_OPTION,
    lang: Lang | None = LANG_OPTION,
) -> None:
    """Where a unit's self-assessment (自评) claims more than the evaluators found, per unit and
    indicator, with totals.

    Examples:

      gapctl compare-self rounds/shanwei-2020
    """
    from gapctl import selfcheck

    scored = _scored(path, final=False)
    result = selfcheck.compare_self(scored.round, include_all=show_all, scored=scored)
    _print_result(selfcheck, result, fmt, _lang(lang, scored))


@app.command("agreement")
def agreement_command(
    path: Path = typer.Argument(..., help="A round directory."),
    fmt: Format = FORMAT_OPTION,
    lang: Lang | None = LANG_OPTION,
) -> None:
    """How often a second evaluator's review agrees with the first evaluator, per indicator
    (percentage and Cohen's kappa); the indicators read differently come first.

    Examples:

      gapctl agreement rounds/shanwei-2020
    """
    from gapctl import agreement

    scored = _scored(path, final=False)
    _print_result(agreement, agreement.agreement(scored.round, scored=scored), fmt, _lang(lang, scored))


@app.command("followup")
def followup_command(
    old_round: Path = typer.Argument(..., help="The earlier round."),
    new_round: Path = typer.Argument(..., help="The later round."),
    fmt: Format = FORMAT_OPTION,
    lang: Lang | None = LANG_OPTION,
) -> None:
    """For every problem in the earlier round's problem lists: fixed, still failing, or no longer
    assessed in the later round (indicators matched by id or `replaces:`), per unit.

    Examples:

      gapctl followup rounds/suizhou-2021 rounds/suizhou-2022
    """
    from gapctl import followup

    old, new = _scored(old_round, final=False), _scored(new_round, final=False)
    _print_result(followup, followup.followup(old, new), fmt, _lang(lang, new))


@app.command("schema")
def schema_command(
    out: Path = typer.Option(Path("schema"), "--out", "-o", help="Directory for the *.schema.json files."),
    check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 if the files differ."),
) -> None:
    """Write JSON Schema files for every file kind (scheme, units, observations, appeals,
    external, round), so that editors with YAML support complete keys and flag errors while
    typing. Point a file at its schema with a first line such as
    `# yaml-language-server: $schema=../schema/scheme.schema.json`.

    Examples:

      gapctl schema

      gapctl schema --check
    """
    from gapctl.json_schema import render

    files = render()
    stale = [name for name, text in files.items()
             if not (out / name).is_file() or (out / name).read_text(encoding="utf-8") != text]
    if check:
        for name in stale:
            _echo(f"would write {out / name}")
        raise typer.Exit(1 if stale else 0)
    from gapctl.writes import Write, WriteError, write_files

    try:
        write_files([Write(out / name, files[name].encode("utf-8")) for name in stale], root=out)
    except WriteError as err:
        typer.echo(f"gapctl schema: {err}", err=True)
        raise typer.Exit(1) from None
    for name in stale:
        _echo(f"wrote {out / name}")
    _echo(f"{len(files)} schema file(s), {len(stale)} written.")


@app.command("export")
def export_command(
    path: Path = typer.Argument(..., help="A round directory."),
    fmt: ExportFormat = typer.Option(ExportFormat.csv, "--format", "-f", help="csv, xlsx or datapackage."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Directory to write (default: out/<round-id>-<format>)."),
    final: bool = typer.Option(False, "--final", help="Refuse (exit 1) if any indicator is not yet assessed."),
) -> None:
    """Export a scored round: scores and ranks, the unit × indicator matrix and the problem
    list, as CSV (UTF-8 with BOM for Excel), one xlsx workbook (Chinese headers, frozen header
    rows), or a Frictionless Data Package (CSV + datapackage.json) to publish as open data.

    Examples:

      gapctl export rounds/shanwei-2020 --format xlsx --out out/shanwei

      gapctl export rounds/chongqing-2020 --format datapackage
    """
    from gapctl.export import export
    from gapctl.writes import WriteError

    scored = _scored(path, final)
    target = out or Path("out") / f"{scored.round.id}-{fmt.value}"
    try:
        written = export(scored, fmt.value, target)
    except WriteError as err:
        typer.echo(f"gapctl export: {err}", err=True)
        raise typer.Exit(1) from None
    for path_written in written:
        _echo(str(path_written))


@app.command("import")
def import_command(
    path: Path = typer.Argument(..., help="A round directory."),
    file: Path = typer.Argument(..., help="An xlsx workbook or a CSV file, one row per unit × indicator."),
    mapping: Path | None = typer.Option(None, "--mapping", help="YAML mapping of other headers to fields "
                                        "(unit, indicator, result, value, note, reason, fix, observer, observed_at)."),
    sheet: str | None = typer.Option(None, "--sheet", help="Worksheet name (default: the first)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Write nothing; show the score changes it would cause."),
    force: bool = typer.Option(False, "--force", help="Replace observations that already exist."),
) -> None:
    """Import an evaluator's spreadsheet into observation files: columns 单位, 指标, 结果 (完成/
    未完成/不适用), 数值 (count, fraction, grade or notices, as the indicator's rule needs; items
    as a list of item ids or names), 说明, 扣分理由, 整改要求, 评估人员, 日期. Nothing is written if
    any row has a problem; existing observations are kept unless --force; comments survive.

    Examples:

      gapctl import rounds/shanwei-2020 评估结果.xlsx --dry-run

      gapctl import rounds/shanwei-2020 results.csv --force
    """
    import yaml as pyyaml

    from gapctl import importer
    from gapctl.writes import WriteError

    scored_before = _scored(path, final=False)
    columns = None
    if mapping is not None:
        loaded_map = pyyaml.safe_load(mapping.read_text(encoding="utf-8")) or {}
        columns = {str(k): str(v) for k, v in (loaded_map.get("columns") or loaded_map).items()}
    plan = importer.read(scored_before.round, file, columns, sheet, force)
    for note in plan.notes:
        typer.echo(f"note: {note}", err=True)
    if plan.problems:
        for problem in plan.problems:
            typer.echo(problem, err=True)
        typer.echo(f"Nothing imported: {len(plan.problems)} problem(s).", err=True)
        raise typer.Exit(1)
    if dry_run:
        from gapctl import diff_view
        from gapctl.diff import compare
        from gapctl.score import score_round

        after = score_round(importer.preview(scored_before.round, plan))
        result = compare(scored_before, after, str(path), "now", "after import")
        for line in diff_view.text_lines(result):
            _echo(line)
        _echo(f"(dry run: {plan.entries} entr(ies) in {len(plan.files)} file(s) not written)")
        return
    try:
        written = importer.write(plan)
    except WriteError as err:
        typer.echo(f"gapctl import: {err}", err=True)
        raise typer.Exit(1) from None
    _echo(f"imported {plan.entries} entr(ies) into {len(written)} file(s).")


@app.command("import-scheme")
def import_scheme_command(
    workbook: Path = typer.Argument(..., help="A workbook with an indicator table (一级指标, 二级指标, 三级指标, "
                                    "测评方式, 测评要点, 指标依据, 评估数据采集范围, 分值)."),
    scheme_id: str = typer.Option(..., "--id", help="Id of the new scheme."),
    title: str | None = typer.Option(None, "--title", help="Title (default: from the sheet)."),
    sheet: str | None = typer.Option(None, "--sheet", help="Worksheet name (default: the first with a header)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Where to write (default: schemes/<id>.yaml)."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Turn a published indicator table (merged cells and all) into a scheme skeleton that
    `gapctl validate` accepts: the tree with points, methods, checkpoints, basis and scope. Rules
    are left to fill in, each marked `assumed` so that `gapctl show` lists them.

    Examples:

      gapctl import-scheme 指标体系.xlsx --id suizhou-2022
    """
    from gapctl.import_scheme import import_scheme, write_scheme
    from gapctl.writes import WriteError

    target = out or Path("schemes") / f"{scheme_id}.yaml"
    if target.exists() and not force:
        typer.echo(f"{target} exists; use --force to overwrite", err=True)
        raise typer.Exit(1)
    text, problems = import_scheme(workbook, scheme_id, title=title, sheet=sheet)
    for problem in problems:
        typer.echo(problem, err=True)
    if not text or problems:
        typer.echo(f"Nothing written: {len(problems)} problem(s).", err=True)
        raise typer.Exit(1)
    try:
        write_scheme(text, target, force)
    except WriteError as err:
        typer.echo(f"gapctl import-scheme: {err}", err=True)
        raise typer.Exit(1) from None
    _echo(f"wrote {target}; fill in the rules marked assumed (gapctl show {target}).")


@app.command("init")
def init_command(
    directory: Path | None = typer.Argument(None, help="Where to create the repository (new or empty).",
                                            show_default=False),
    scheme: str = typer.Option("suizhou-2021", "--from", help="The shipped scheme to start from (see --list)."),
    title: str | None = typer.Option(None, "--title", help="The office's name for the README."),
    with_units: bool = typer.Option(False, "--with-units", help="Copy the example unit set the shipped rounds "
                                    "use with the scheme, instead of a one-unit template (to try gapctl out)."),
    list_only: bool = typer.Option(False, "--list", help="List the shipped schemes and exit."),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Create a new assessment repository: schemes/ (a copy of a shipped scheme), units/ (a
    template, or with --with-units the example unit set), rounds/, calendars/, schema/ for
    editors, the CI workflow, pre-commit configuration and a README for the office.

    Examples:

      gapctl init --list

      gapctl init ../zwgk-2025 --from shanwei-2020 --title 某市政务公开考核评估

      gapctl init ../try-gapctl --from suizhou-2021 --with-units
    """
    from gapctl.scaffold import ScaffoldError, init, list_schemes

    if list_only:
        rows = list_schemes()
        if fmt is Format.json:
            _dump_json({"schemes": rows})
        else:
            from gapctl.textwidth import table
            lines = [["id", "title", "year", "indicators", "units"]]
            lines += [[r["id"], r["title"] or "", "" if r["year"] is None else str(r["year"]),
                       "" if r["indicators"] is None else str(r["indicators"]), ", ".join(r["units"])] for r in rows]
            for line in table(lines, ["left", "left", "left", "right", "left"]):
                _echo(line)
        raise typer.Exit(0)
    if directory is None:
        typer.echo("gapctl init: give the directory to create (or --list to see the shipped schemes)", err=True)
        raise typer.Exit(2)
    try:
        written = init(directory, scheme, title, with_units)
    except ScaffoldError as err:
        typer.echo(f"gapctl init: {err}", err=True)
        raise typer.Exit(1) from None
    units = next((p.stem for p in written if p.parent.name == "units"), "units")
    _echo(f"created {directory} ({len(written)} files). Next: "
          + ("" if with_units else "edit units/units.yaml, then ")
          + f"`gapctl new round <id> --scheme {scheme} --units {units}` in {directory}.")


new_app = typer.Typer(help="Scaffold new things in an assessment repository.", no_args_is_help=True)
app.add_typer(new_app, name="new")


@new_app.command("round")
def new_round_command(
    round_id: str = typer.Argument(..., help="Id of the new round (its directory name)."),
    scheme: str = typer.Option(..., "--scheme", help="Scheme id."),
    units: str = typer.Option(..., "--units", help="Unit set id."),
    repo: Path = typer.Option(Path("."), "--repo", help="The repository (default: .)."),
    title: str | None = typer.Option(None, "--title", help="Round title."),
    year: int | None = typer.Option(None, "--year", help="Year assessed (default: this year)."),
) -> None:
    """Scaffold a round: round.toml and one observation file per unit listing every applicable
    indicator as not yet assessed (result: pending).

    Examples:

      gapctl new round 2025 --scheme suizhou-2021 --units units --year 2025
    """
    from gapctl.scaffold import ScaffoldError, new_round

    try:
        written = new_round(repo, round_id, scheme, units, title, year)
    except ScaffoldError as err:
        typer.echo(f"gapctl new round: {err}", err=True)
        raise typer.Exit(1) from None
    _echo(f"created rounds/{round_id} with {len(written) - 1} observation file(s).")


def _print_result(module: Any, result: Any, fmt: Format, lang: str) -> None:
    if fmt is Format.json:
        _dump_json(module.json_data(result))
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
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as err:  # not bad data (that is exit 1 with problem lines): gapctl could not run
        import os

        from gapctl.writes import DiskFull
        if isinstance(err, DiskFull):  # no space: the old files are as they were
            typer.echo(f"gapctl: could not run: {err}", err=True)
            sys.exit(3)
        if os.environ.get("GAPCTL_DEBUG"):
            raise
        typer.echo(_could_not_run(err, sys.argv[1:] if argv is None else argv), err=True)
        sys.exit(3)


def _could_not_run(err: Exception, argv: list[str]) -> str:
    """The one line `main` prints for an exception that stopped a command (writing a crash report for a bug)."""
    import errno

    from gapctl.escape import plain_line
    from gapctl.tree import GitError

    if isinstance(err, OSError) and err.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        where = f" ({err.filename})" if err.filename else ""
        return plain_line(f"gapctl: could not run: no space left on the device{where}; nothing else was changed")
    if isinstance(err, MemoryError):
        return "gapctl: could not run: out of memory"
    if isinstance(err, GitError):
        return plain_line(f"gapctl: could not run: {err}")
    report = _crash_report(err, argv)
    where = f"the crash report is {report}" if isinstance(report, Path) else \
        f"no crash report could be written ({report}); rerun with GAPCTL_DEBUG=1 for the traceback"
    return plain_line(f"gapctl: internal error ({type(err).__name__}), a bug in gapctl: {where}")


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
