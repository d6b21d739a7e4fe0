"""What the commands share: the typer `app`, its options and formats, and the helpers that load,
score and print for more than one command.

The command line is a thin typer layer over the library. Parse, call, print, exit code.
Exit codes: 0 clean, 1 invalid data or a failed check, 2 usage error, 3 could not run (an
internal error, a git revision that cannot be read, a full disk). Each command lives in its own
module of gapctl.cli and registers itself on `app` here; the library is imported inside the
functions, never at the top of a module (start-up, tests/test_startup.py).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
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


def _echo_lines(lines: Iterable[str]) -> None:
    """Each line of `lines` (an iterator is printed as it goes) on stdout, a few hundred lines a write: one
    typer.echo a line flushed stdout 84,000 times for a follow-up of 3,000 units (the same text)."""
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) == 512:
            typer.echo("\n".join(batch))
            batch.clear()
    if batch:
        typer.echo("\n".join(batch))


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
              rev: str | None = None, provenance: list | None = None, check: Any = None):
    """`_scored` file by file, and the source that details each unit from its own files
    (gapctl.scoring.details): for the commands that show more of a unit than its totals. With `rev` the
    round is loaded whole at that revision (as `_scored` does) and the source is None: every
    unit of the scores is detailed already. `check`: called as `outcomes.check` instead of it (e.g.
    gapctl.scoring.one_pass, which keeps what a command needs of each unit while checking it)."""
    from gapctl.scoring import details
    scored, checked = _scored_with(path, final, rev is None, use_cache, warnings, rev, provenance, check)
    return scored, details.prepare(checked, scored) if checked is not None else None


def _stop_unless_scorable(result: Any, path: Path) -> None:
    """Exit 1 with the round's problems when it could not be loaded (no round.toml) or has errors: what every
    command that scores or imports refuses, in the same words."""
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


def _scored_with(path: Path, final: bool, summary: bool = False, use_cache: bool = True,
                 warnings: list | None = None, rev: str | None = None, provenance: list | None = None,
                 check: Any = None):
    """`_scored`, and what it checked file by file (a gapctl.scoring.outcomes.Checked; None when the round
    was loaded whole)."""
    tree = None
    result = None
    if rev is not None:
        result, tree = _checked_at(path, rev)
    try:
        return _scored_from(path, final, summary, use_cache, warnings, result if tree else None, provenance, check)
    finally:
        if tree is not None:
            tree.close()


def _checked_at(path: Path, rev: str) -> tuple[Any, Any]:
    """The round at `path` as committed at `rev` (a CheckResult), and the git tree it was read from."""
    import os

    from gapctl.api import CheckResult
    from gapctl.collector import paused_gc
    from gapctl.data.tree import GitError, GitTree, toplevel
    from gapctl.scoring.load import load
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
                 result: Any, provenance: list | None, check: Any = None):
    """The scores and, file by file, what was checked (else None)."""
    from gapctl.scoring import outcomes
    from gapctl.scoring.score import score_round

    known: dict[Path, str] = {}
    if result is not None:
        summary = False
    elif summary:
        result = (check or outcomes.check)(path, use_cache, progress=outcomes.print_progress(_("scoring")))
        for plan in result.plans:
            known.update(plan.hashes)
    else:
        from gapctl.api import check
        result = check(path)
    _stop_unless_scorable(result, path)
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
    return _lang_of_schemes(lang, [s.scheme for s in units])


def _lang_of_schemes(lang: Lang | None, schemes: Iterable[Any]) -> str:
    """`_lang` of units scored under these schemes."""
    if lang is not None:
        return lang.value
    if _root_lang is not None:
        return _root_lang
    from gapctl.labels import schemes_language
    return schemes_language(s.language for s in schemes)


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
    """A result of `module` as text (its `lines`, streamed, else its `text_lines`) or JSON (its `json_parts`,
    streamed, else its `json_data`)."""
    if fmt is Format.json and hasattr(module, "json_parts"):
        for part in module.json_parts(result, provenance[0] if provenance else None):
            typer.echo(part, nl=False)
    elif fmt is Format.json:
        _dump_json(module.json_data(result), provenance[0] if provenance else None)
    else:
        _echo_lines(getattr(module, "lines", module.text_lines)(result, lang))
