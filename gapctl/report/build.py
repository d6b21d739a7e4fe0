"""Write a report: a directory (index and one page per unit, as Markdown with SVG charts, or HTML),
or one document to issue (Word, or PDF printed from the HTML by Chromium).

The whole directory is built beside its destination and exchanged with the old one in one
rename (gapctl.data.writes.write_directory), so a reader never sees half a report or none, and a
run killed at any moment leaves the previous report or the new one. A document is one file,
written atomically (gapctl.data.writes.write_atomically).
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from gapctl.data.writes import write_all
from gapctl.i18n import _
from gapctl.report import html as html_render
from gapctl.report.document import Issue, Standing, header_text, issued_on, mark, notices, page_of
from gapctl.report.markdown import pages
from gapctl.scoring.score import RoundScore

FORMATS = ("html", "md", "docx", "pdf")
DOCUMENTS = ("docx", "pdf")  # one file each, not a directory


class ReportError(Exception):
    """The destination cannot be written (a symbolic link, or not a directory)."""


def render(scored: RoundScore, fmt: str = "html", lang: str = "zh", previous: RoundScore | None = None,
           stamp: str | None = None, issue: Issue | None = None, standing: Standing | None = None,
           provenance: Any = None, history: Any = None, robustness: list | None = None) -> dict[str, str]:
    """Relative path → file content for every file of the report (deterministic unless `stamp`).

    `issue`: the office, date and number the overview names; `standing`: whether the results are
    provisional (every page says so); `provenance` (gapctl.review.provenance): what the results were
    computed from, a section of the overview and a line at the end of each unit's page; `history`
    (a gapctl.report.trend.Trend ending with this round): each unit's page gains its totals round by round
    (a table and a chart) and its recurring problems with the earlier round's 整改要求; `robustness`:
    gapctl.scoring.robustness results (one per scheme) for the overview's robustness section (none by default)."""
    ext = ".html" if fmt == "html" else ".md"
    issue, standing = issue or Issue(), standing or Standing()
    out: dict[str, str] = {}
    if fmt == "md":
        units = [None, *scored.in_rank_order()]  # as `pages` orders them
        for n, page in enumerate(pages(scored, lang, ext, previous, stamp, standing, issue if issue else None,
                                       robustness)):
            page = _with_provenance(_with_history(page, units[n], history, lang), provenance, lang)
            out[page.path] = page.markdown + "\n"
            for name, chart in page.charts.items():  # the overview's, and a unit's history (all in charts/)
                out[f"charts/{name}"] = chart + "\n"
        return out
    rendered = _render_html(scored, lang, previous, stamp, standing, provenance, history, robustness)
    around = frame(scored, lang, issue, standing)
    unit_frame = dataclasses.replace(around, head=False)
    for n, (path, title, body) in enumerate(rendered):
        out[path] = html_render.document(title, lang, [body], around if n == 0 else unit_frame)
    out["report.html"] = html_render.document(scored.round.title, lang,
                                              [_flatten_links(body) for *_, body in rendered], around)
    return out


def frame(scored: RoundScore, lang: str, issue: Issue, standing: Standing) -> html_render.Frame:
    """What the HTML pages carry around their text (the masthead and closing only on the overview)."""
    return html_render.Frame(header=header_text(scored, issue, lang), page=page_of(lang), number=issue.number or "",
                             notices=tuple(notices(scored, standing, lang, short=True)),
                             mark=mark(lang) if standing.provisional else "", office=issue.office or "",
                             date=issued_on(issue.date, lang) if issue.date else "")


def _with_history(page: Any, unit: Any, history: Any, lang: str) -> Any:
    """A unit's page with its history (gapctl.report.markdown.history_block) at its end."""
    if history is None or unit is None:
        return page
    from gapctl.report.markdown import history_block

    found = history.unit(unit.unit.id)
    if found is None:
        return page
    lines, charts = history_block(found, history, lang)
    return dataclasses.replace(_with_lines(page, lines), charts={**page.charts, **charts})


def _with_lines(page: Any, lines: list[str]) -> Any:
    """The page with `lines` at its end, after a blank line."""
    return dataclasses.replace(page, markdown=page.markdown.rstrip("\n") + "\n\n" + "\n".join(lines))


def _with_provenance(page: Any, provenance: Any, lang: str) -> Any:
    """The page with the provenance at its end: the whole block on the overview, a line on a unit's page."""
    if provenance is None:
        return page
    return _with_lines(page, _provenance_lines(page, provenance, lang))


def _provenance_lines(page: Any, provenance: Any, lang: str) -> list[str]:
    """What `_with_provenance` adds to the page: the whole block on the overview, a line on a unit's page."""
    if page.path.startswith("index"):
        from gapctl.report.markdown import provenance_block

        return provenance_block(provenance, lang)
    return _unit_footer(provenance, lang)  # the same line on every unit's page: made once (the manifest's hash
    # covers every file of the round)


def _unit_footer(provenance: Any, lang: str) -> list[str]:
    """The provenance line at the end of each unit's page, made once per provenance and language."""
    from gapctl.report.markdown import provenance_footer

    key = (id(provenance), lang)
    if _FOOTER.get(key, (None,))[0] is not provenance:
        _FOOTER.clear()
        _FOOTER[key] = (provenance, provenance_footer(provenance, lang))
    return _FOOTER[key][1]


_FOOTER: dict[tuple[int, str], tuple[Any, list[str]]] = {}  # (id of a provenance, language) → it, its footer


PARALLEL_FROM = 200  # pages; below this a process pool costs more than it saves
_JOB: tuple[Any, ...] | None = None  # what forked workers render from (inherited, never pickled)


def _render_range(span: tuple[int, int]) -> list[tuple[str, str, str]]:
    """(path, title, HTML body) of pages start..end: page 0 is the overview, then one per unit."""
    from gapctl.collector import paused_gc
    from gapctl.report.markdown import overview, unit_page

    assert _JOB is not None
    scored, lang, previous, stamp, standing, provenance, history, robustness = _JOB
    before = previous.by_unit() if previous else {}
    ordered = scored.in_rank_order()  # as `pages` orders them
    out = []
    with paused_gc():  # markdown-it makes many small objects; collections only slow it down
        for i in range(*span):
            if i == 0:
                page = overview(scored, lang, ".html", stamp, standing, robustness=robustness)
            else:
                unit = ordered[i - 1]
                page = unit_page(scored, unit, lang, ".html", before.get(unit.unit.id), standing)
                page = _with_history(page, unit, history, lang)
            page = _with_provenance(page, provenance, lang)
            out.append((page.path, page.title, html_render.body(page.markdown, page.charts)))
    return out


def _render_html(scored: RoundScore, lang: str, previous: RoundScore | None,
                 stamp: str | None, standing: Standing | None = None,
                 provenance: Any = None, history: Any = None,
                 robustness: list | None = None) -> list[tuple[str, str, str]]:
    """Every page rendered, in order; large rounds across the machine's cores (forked workers)."""
    global _JOB
    from gapctl.scoring.outcomes import jobs_wanted

    count = len(scored.units) + 1
    workers = min(jobs_wanted(), 8)  # GAPCTL_JOBS, else the usable cores, as validate and score
    _JOB = (scored, lang, previous, stamp, standing, provenance, history, robustness)
    try:
        if count < PARALLEL_FROM or workers < 2 or not hasattr(os, "fork"):
            return _render_range((0, count))
        import multiprocessing as mp  # only here: a report that forks no worker never pays for importing it
        from concurrent.futures import ProcessPoolExecutor

        size = max(1, count // (workers * 4))
        spans = [(i, min(i + size, count)) for i in range(0, count, size)]
        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork")) as pool:
            return [page for chunk in pool.map(_render_range, spans) for page in chunk]
    finally:
        _JOB = None


def document(scored: RoundScore, fmt: str, lang: str = "zh", previous: RoundScore | None = None,
             stamp: str | None = None, issue: Issue | None = None, standing: Standing | None = None,
             provenance: Any = None, history: Any = None, robustness: list | None = None) -> bytes:
    """The one file an office issues: Word (`docx`), or `pdf`, the one-file HTML report printed by
    Chromium (raises gapctl.report.pdf.NoBrowser without one, PrintError if it fails). The Word
    document has no robustness section (the command line refuses the combination)."""
    if fmt == "docx":
        from gapctl.report.word import docx_bytes
        return docx_bytes(scored, lang, issue, standing, provenance)
    if fmt == "pdf":
        from gapctl.report.pdf import print_pdf
        return print_pdf(render(scored, "html", lang, previous, stamp, issue, standing,
                                provenance, history, robustness)["report.html"])
    raise ValueError(f"{fmt!r} is not a document format; expected one of {', '.join(DOCUMENTS)}")


# --- unit by unit (gapctl.scoring.details) ----------------------------------------------------------
# A large round's report without holding it: each unit page is rendered by a worker from that
# unit's own files and the round's summary, and written as it comes; the overview, which adds up
# every unit's indicators (markdown.Tally), comes last. The files are those `render` gives.

def write_units(source: Any, fmt: str, out_dir: Path, lang: str = "zh", previous: Any = None,
                stamp: str | None = None, issue: Issue | None = None, standing: Standing | None = None,
                progress: Any = None, provenance: Any = None, spool: Any = None) -> int:
    """Write the html or md report of `source` (a gapctl.scoring.details.Source; `previous`, the last
    round's, for --compare) to `out_dir` as `render` + `write` would; the number of files. `spool`: the
    units' `kept observations made while the round was checked (`_report_files`)."""
    from gapctl.data.writes import Staging, WriteError, write_directory

    out_dir = Path(out_dir)
    _check_target(out_dir)
    count = 0

    def fill(stage: Staging) -> None:
        nonlocal count
        files = _report_files(source, fmt, lang, previous, stamp, issue, standing, progress, provenance, spool,
                              into=(stage.directory, out_dir))
        try:
            for rel, data in files:
                if data is None:  # a unit's page, written into the new directory by the worker that made it
                    stage.names.append(rel)
                    continue
                _check_rel(rel, out_dir)
                if isinstance(data, bytes):
                    stage.put(rel, data)
                else:  # the overview and report.html, in parts: the pages before them made durable meanwhile (not
                    # while the pages are made: the flushes' kernel time slowed the page phase more than they saved)
                    stage.sync_ahead()
                    with stage.open(rel) as out:
                        for part in data:
                            out.write(part)
        finally:  # a failure here stops the page workers before the new directory is removed
            files.close()
        count = len(stage.names)
    try:
        write_directory(out_dir, fill)
    except WriteError as err:
        raise ReportError(str(err)) from None
    return count


def lean(source: Any) -> None:
    """Let go of what the pages never read once `source` (a gapctl.scoring.details.Source) is ranked and its
    provenance known: every file's outcome (the summaries stay, in `source.scored`; the unit files' paths in
    `source.files`) and each summary's decisions (how its gates and thresholds went: explain's, not the report's).
    At 30,000 units tens of MB of the parent, which the page workers share."""
    source.plan.outcomes = []
    for summary in source.scored.units:
        summary.decisions = []


@dataclasses.dataclass
class PageJob:
    """What making a unit's page needs besides the unit (`_page`): the round's summary, the report's language and
    extension, the standing, the provenance line each unit page ends with (None: none), the frame of a unit's HTML
    page (None: Markdown), and where pages are written (the new directory with a separator at its end, and the
    report's directory; None: their bytes given back)."""

    scored: Any
    lang: str
    ext: str
    standing: Standing
    footer: list[str] | None
    frame: html_render.Frame | None
    into: tuple[str, Path] | None

    @functools.cached_property
    def html_ends(self) -> tuple[bytes, bytes, bytes, bytes] | None:
        """What every unit's HTML page joined as bytes (`_joined_html`) has around its title and its head and tail:
        the document's head before the title, from after the title to the section's opening tag, from the end of the
        tail (the footer's HTML, the section's end, the document's end), and the same in report.html's section;
        None where the footer's HTML is not made alone (`html_render.blocks_after`)."""
        more = "" if self.footer is None else html_render.blocks_after("\n".join(self.footer))
        if more is None or self.frame is None:
            return None
        before, after = html_render.document_head_around(self.lang, self.frame)
        return (before.encode("utf-8"), (after + _SECTION_OPEN).encode("utf-8"),
                (more + _SECTION_CLOSE + html_render.DOCUMENT_TAIL).encode("utf-8"),
                (_flatten_links(more) + _SECTION_CLOSE).encode("utf-8"))


_MADE_DIRS: set[str] = set()  # the directories (relative) a page worker has made (or found) in the new one


def _page(job: PageJob, found: list[Any]) -> tuple[str, bytes | None, bytes, dict[str, str], Any]:
    """In a worker: the unit's page as written (None once written into `job.into`), its section of report.html
    (html), its charts (md), its tally. A unit whose tail was made as it was scored (`Tailed`, `keep_tail`) has its
    head made from its summary."""
    from gapctl.report.markdown import HtmlTail, Tally, unit_page

    s, before = found[0], found[1] if len(found) > 1 else None
    lang, ext = job.lang, job.ext
    if isinstance(s, Tailed):
        tail, tally = s.piece.tail(s.summary)
        if tail is None or isinstance(tail, HtmlTail):  # an HTML page's tail kept as HTML alone
            joined = None if tail is None else _joined_html(job, s.summary, tail.html, tally)
            if joined is not None:
                return joined
            s = s.detailed()  # what only the whole page's Markdown renders: the unit scored again from its file
            page = unit_page(job.scored, s, lang, ext, None, job.standing)
        else:
            page = unit_page(job.scored, s.summary, lang, ext, None, job.standing, tail)
    else:
        page, tally = unit_page(job.scored, s, lang, ext, before, job.standing), Tally.of(s, lang)
    if job.footer is not None:  # `_with_provenance` of a unit's page
        page = _with_lines(page, job.footer)
    if job.frame is None:
        return page.path, _written(job, page.path, (page.markdown + "\n").encode("utf-8")), b"", page.charts, tally
    return _html_page(job, page.path, page.title, html_render.body(page.markdown, page.charts), tally)


def _html_page(job: PageJob, path: str, title: str, text: str, tally: Any) -> tuple[str, bytes | None, bytes,
                                                                                     dict[str, str], Any]:
    """`_page`'s result for a unit's HTML page whose body is `text`."""
    data = html_render.document(title, job.lang, [text], job.frame).encode("utf-8")
    return path, _written(job, path, data), html_render.section(_flatten_links(text)).encode("utf-8"), {}, tally


def _joined_html(job: PageJob, summary: Any, tail: bytes, tally: Any) -> Any:
    """`_page`'s result for a unit's HTML page joined from its head, made from `summary`, and the HTML of its tail
    (`markdown.HtmlTail`), as bytes: what `html_render.body` gives the page's Markdown (`unit_page`, its footer added
    as `_page` adds it); or None where that is the whole page rendered from its Markdown (the head's lines or the
    footer hold what `html_render.made` leaves to it). The tail holds no link to the overview (`TailKeeper`), so
    report.html's section (`_flatten_links`) has it as it is."""
    from gapctl.report.markdown import head_html

    ends = job.html_ends
    title, head = head_html(job.scored, summary, job.lang, job.standing)
    if head is None or ends is None:
        return None
    before, opening, after, after_flat = ends
    page_head, flat_head = head.encode("utf-8"), _flatten_links(head).encode("utf-8")
    path = f"units/{summary.unit.id}{job.ext}"
    data = b"".join((before, html_render.escape(title).encode("utf-8"), opening, page_head, tail, after))
    return path, _written(job, path, data), b"".join((_SECTION_BYTES, flat_head, tail, after_flat)), {}, tally


_SECTION_OPEN, _SECTION_CLOSE = html_render.section("\x00").split("\x00")  # a section's tags around its text
_SECTION_BYTES = _SECTION_OPEN.encode("utf-8")


def _written(job: PageJob, rel: str, data: bytes) -> bytes | None:
    """A unit's page: written into the new directory here (in the worker), or its bytes for the parent. One
    os.open (a new file: O_EXCL), os.write and os.close: no file object, no Path (3,000 pages' io.open, Path
    joins and checks were a tenth of the page workers' time)."""
    if job.into is None:
        return data
    stage, target = job.into
    _check_rel(rel, target)
    folder = rel.rpartition("/")[0]
    if folder not in _MADE_DIRS:
        os.makedirs(stage + folder, exist_ok=True)
        _MADE_DIRS.add(folder)
    _write_new(stage + rel, data)
    return None


def _report_files(source: Any, fmt: str, lang: str, previous: Any, stamp: str | None, issue: Issue | None,
                  standing: Standing | None, progress: Any, provenance: Any = None, spool: Any = None,
                  into: tuple[Path, Path] | None = None) -> Any:
    """(relative path, bytes) of every file of the report, unit pages first; the overview and report.html
    (which holds every page behind the overview) come last, each as an iterator of its bytes in parts, to be
    written before the next file is asked for.

    Units are taken in the unit set's order, the order in which the overview adds up their indicators
    (markdown.Tally, merged as each unit comes, so no unit's tally is kept); each worker renders a unit's
    page to the bytes written and its section of report.html, which waits in a temporary file until the
    overview is known and is then copied in the pages' order (ranking order). `spool`: each unit's full
    observations as its file was checked (`kept_observations`, gapctl.scoring.one_pass): no file read again.
    `into`: (the new directory being filled, the report's directory): each unit's page is written there by the
    worker that made it, and given here as (its path, None) once written; the parent writes only the overview,
    report.html and the charts (3,000 pages' open, write and close in the parent took a second)."""
    import array
    import itertools
    import tempfile
    from contextlib import closing

    from gapctl.report.markdown import Tally, _round_facts, overview, rankings_ahead
    from gapctl.scoring import details

    html = fmt == "html"
    ext = ".html" if html else ".md"
    issue, standing = issue or Issue(), standing or Standing()
    scored = source.scored
    sources = [source] + ([previous] if previous is not None else [])
    around = frame(scored, lang, issue, standing)
    unit_frame = dataclasses.replace(around, head=False)

    footer = None if provenance is None else _unit_footer(provenance, lang)  # made before the workers fork
    job = PageJob(scored, lang, ext, standing, footer, unit_frame if html else None,
                  None if into is None else (str(into[0]) + os.sep, into[1]))
    work = functools.partial(_page, job)

    tally = Tally()
    # where each unit's section is in `sections` (its offset and length), in the units' order: two arrays of
    # machine integers, not 30,000 tuples and 60,000 ints made while the page workers run, each put in a free slot of
    # a page the parent shares with them (which is then copied into it)
    starts, lengths = array.array("q"), array.array("q")
    _MADE_DIRS.clear()
    _round_facts(scored)  # counted here, before the workers fork: each would walk every unit (and copy its pages)
    rows = details.units_of(*sources, order=scored.units)
    def fold(results: list[Any]) -> list[Any]:
        """A batch's tallies merged in the worker, in the units' order, given with its last unit: the parent merges
        one tally a batch (Decimal sums are exact: the same figures as merging unit by unit)."""
        batch = Tally()
        for *_rest, unit_tally in results:
            batch.merge(unit_tally)
        return [(*result[:4], None) for result in results[:-1]] + [(*results[-1][:4], batch)]

    made = (details.each(sources, rows, work, progress) if spool is None
            else _each_spooled(sources, rows, work, progress, spool, lang, fold))
    if into is not None:  # before the workers fork: made once, not by each of them
        _MADE_DIRS.add("units")
        (into[0] / "units").mkdir(exist_ok=True)
    if len(scored.units) >= RANKINGS_FIRST:  # before the page workers fork (see RANKINGS_FIRST)
        rankings_ahead(scored, lang, ext)
    units = len(scored.units)
    # report.html's unit sections, until the overview; the overview as report.html has it
    with tempfile.TemporaryFile() as sections, tempfile.TemporaryFile() as flat_overview, closing(made):
        # by place, not by unit: while the page workers run the parent touches no summary (nor its unit's id), whose
        # pages it shares with them (a reference count written copies the page: ~30 MB at 30,000 units)
        made_pages = 0
        for path, data, part, charts, unit_tally in made:
            if not made_pages and details.PARALLEL_FROM <= units < RANKINGS_FIRST:  # the workers busy: the
                rankings_ahead(scored, lang, ext)  # overview's rankings
            made_pages += 1
            if unit_tally is not None:
                tally.merge(unit_tally)
            yield path, data
            if html:
                starts.append(sections.tell())
                lengths.append(len(part))
                sections.write(part)
            for name, chart in charts.items():
                yield f"charts/{name}", (chart + "\n").encode("utf-8")
        if made_pages != units:  # (as zip(strict=True) said it when the pages were zipped with the summaries)
            raise ValueError(f"{made_pages} pages made for {units} units")
        if spool is not None:  # its pieces all read: not to be flushed to the disk with the report
            spool.clear()
        page = overview(scored, lang, ext, stamp, standing, None if html else (issue if issue else None), tally=tally)
        if not html:
            page = _with_provenance(page, provenance, lang)
            yield page.path, itertools.chain(_text_parts(page.markdown), [b"\n"])
            for name, chart in page.charts.items():
                yield f"charts/{name}", (chart + "\n").encode("utf-8")
            return
        after = None if provenance is None else _provenance_lines(page, provenance, lang)  # (not added to a copy)
        path, title, markdown, charts = page.path, page.title, page.markdown, page.charts
        del page
        # the overview's HTML made a part at a time, never whole (at 30,000 units the HTML kept for index.html and
        # report.html took ~28 MB of the parent), written into index.html and, as report.html has it, into a
        # temporary file that report.html copies (made again for it: 0.3 s at 30,000 units)
        yield path, _framed(html_render.document_head(title, lang, around), _overview_parts(markdown, charts, after),
                            around, copy=flat_overview)

        yield "report.html", _report_html(_frame_ends(html_render.document_head(scored.round.title, lang, around),
                                                      around, False), flat_overview, scored, sections, starts, lengths)


def _report_html(ends: tuple[bytes, bytes], overview: Any, scored: RoundScore, sections: Any, starts: Any,
                 lengths: Any) -> Iterator[bytes]:
    """report.html in parts: its head, the overview as `_framed` copied it (`overview`, a file), and each unit's
    section in ranking order (as `pages` orders them) read from `sections` by its place (`starts`, `lengths`, in
    the units' order)."""
    yield ends[0]
    overview.seek(0)
    yield from iter(functools.partial(overview.read, 1 << 20), b"")
    yield ends[1]
    place = {id(s): n for n, s in enumerate(scored.units)}
    for s in scored.in_rank_order():
        n = place[id(s)]
        sections.seek(starts[n])
        yield sections.read(lengths[n])
    yield html_render.DOCUMENT_TAIL.encode("utf-8")


RANKINGS_FIRST = 10_000  # units from which the overview's rankings are made before the page workers fork, not while
# they run: making them touches every unit's summary (reference counts), so the parent copied each page of summaries
# it shared with the page workers (~95 MB at 30,000 units); below it, made while they run (0.3 s at 3,000 units)


_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def _write_new(path: str, data: bytes) -> None:
    """`data` as the new file `path` (never an existing one: O_EXCL, as open(path, "xb")), the mode as open gives."""
    fd = os.open(path, _NEW_FILE, 0o666)
    try:
        write_all(fd, data)
    finally:
        os.close(fd)


TABLE_CELLS = 3_000  # cells of a table rendered at a time by `_overview_parts` (500 rows of six columns; markdown-it's
# tokens for 60,000 cells took ~110 MB and, at 30,000 units, 4 s against 0.6-0.8 s for the same HTML in parts)


def _overview_parts(markdown: str, charts: dict[str, str], after: list[str] | None = None) -> Iterator[str]:
    """`html_render.body(markdown, charts)` of the overview, in parts made as they are asked for, its long tables
    (the rankings: a row a unit) rendered a part of their rows at a time, so that markdown-it, whose tokens for a
    table of 30,000 rows took 300 MB, never sees one whole (html_render renders tables of up to its limit of cells
    itself, as markdown-it renders them). The same HTML: the Markdown is cut only before a table that follows a blank
    line (every block before it is closed there), and only when nothing in it reaches over a blank line or is
    defined for the whole document (fences, HTML blocks, indented code, link definitions); each part of a table
    is the table's head and some of its rows, and markdown-it would have made the whole table of the same
    rows (fewer cells missing than its limit).

    `after`: the lines `_with_provenance` adds to the overview, the HTML being that of
    `markdown.rstrip("\n") + "\n\n" + "\n".join(after)`. Neither that text nor any whole block of it is made
    again: blocks and a long table's parts are read from `markdown` by place (at 30,000 units the overview's
    Markdown is ~17 MB of the parent's, and each copy of it, of its rankings block or of their lines was
    about as much again)."""
    import re
    from array import array

    from markdown_it.rules_block.table import MAX_AUTOCOMPLETED_CELLS, escapedSplit

    end, ending = len(markdown), ""
    if after is not None:
        while end and markdown[end - 1] == "\n":
            end -= 1
        ending = "\n\n" + "\n".join(after)
    awkward = re.compile(r"^(?: {0,3}(?:```|~~~|<|\[[^\]]*\]:)| {4}|\t)", re.M)
    if any(html_render.rewritten(text) or awkward.search(text) for text in (markdown, ending)):
        yield html_render.body(markdown[:end] + ending if after is not None else markdown, charts)
        return
    cut = re.compile(r"\n\n(?=\|)")

    def cells(line: str) -> int:
        # escapedSplit splits at each '|' not right after a backslash: without one, str.split (escapedSplit, a
        # character at a time in Python, took 1 s of the parent at 3,000 units)
        columns = line.strip().split("|") if "\\" not in line else escapedSplit(line.strip())
        return len(columns) - (bool(columns) and columns[0] == "") - (len(columns) > 1 and columns[-1] == "")

    # the blocks re.split(cut, text) gives, as (source, start, stop): all but those of the last region from
    # `markdown` itself; the last (its last block and `ending`, where a new cut may fall) made as one text
    starts = [0] + [found.end() for found in cut.finditer(markdown, 0, end)]
    blocks = [(markdown, starts[n], starts[n + 1] - 2) for n in range(len(starts) - 1)]
    if after is None:
        blocks.append((markdown, starts[-1], end))
    else:
        last = markdown[starts[-1]:end] + ending
        inner = [0] + [found.end() for found in cut.finditer(last)]
        blocks += [(last, inner[k], inner[k + 1] - 2) for k in range(len(inner) - 1)] + [(last, inner[-1], len(last))]
    for n, (source, start, stop) in enumerate(blocks):
        suffix = "" if n == len(blocks) - 1 else "\n"  # text = source[start:stop] + suffix
        blank = source.find("\n\n", start, stop)
        if blank < 0 and suffix and stop > start and source[stop - 1] == "\n":
            blank = stop - 1  # the blank line the suffix closes
        table_end = stop if blank < 0 else blank
        while table_end > start and source[table_end - 1] == "\n":  # table.rstrip("\n")
            table_end -= 1
        breaks = array("q", [start - 1])  # where each line of the table starts, less one
        at = source.find("\n", start, table_end)
        while at >= 0:
            breaks.append(at)
            at = source.find("\n", at + 1, table_end)
        breaks.append(table_end)
        count = len(breaks) - 1  # lines of the table

        def line(k: int, source: str = source, breaks: Any = breaks) -> str:
            return source[breaks[k] + 1:breaks[k + 1]]
        columns = cells(line(0)) if n else 0
        per = max(1, TABLE_CELLS // max(1, columns))
        if (not n or count - 2 <= per or any(not line(k).startswith("|") for k in range(count))
                or sum(columns - cells(line(k)) for k in range(2, count)) > MAX_AUTOCOMPLETED_CELLS):
            yield html_render.body(("\n" if n else "") + source[start:stop] + suffix, charts)
            continue
        head = source[start:breaks[2]]  # its first two lines, "\n" between them
        for first in range(2, count, per):
            rows = source[breaks[first] + 1:breaks[min(first + per, count)]]
            part = html_render.body(head + "\n" + rows + "\n", charts)
            if first > 2:
                part = part[part.index("<tbody>\n") + len("<tbody>\n"):]
            if first + per < count:
                part = part.removesuffix("</tbody>\n</table>\n")
            yield part
        if blank >= 0 and blank + 2 < stop + len(suffix):  # text after the table's blank line
            yield html_render.body("\n" + source[blank + 2:stop] + suffix, charts)


_BODY = "\x00gapctl-body\x00"  # where a page's text goes in what `html_render.document` puts around it
PART = 1 << 20  # characters of a page's text encoded and written at a time


def _framed(head: str, body: Any, around: html_render.Frame, copy: Any = None) -> Any:
    """`html_render.document(title, lang, ["".join(body)], around)` (head: its `document_head`) as bytes in parts,
    never the whole page at once. `copy`: a file the body is written to as well, as report.html has it
    (`_flatten_links`)."""
    before, after = _frame_ends(head, around, True)
    yield before
    for text in body:
        yield from _text_parts(text)
        if copy is not None:
            copy.writelines(_text_parts(text, True))
    yield after


def _frame_ends(head: str, around: html_render.Frame, tail: bool) -> tuple[bytes, bytes]:
    """What `_framed` writes before and after its body (DOCUMENT_TAIL after it unless `tail` is False)."""
    framed = html_render.first_section(_BODY, around) if around.head else _BODY
    before, after = html_render.section(framed).split(_BODY)
    return (head + before).encode("utf-8"), (after + (html_render.DOCUMENT_TAIL if tail else "")).encode("utf-8")


def _text_parts(text: str, flat: bool = False) -> Any:
    """`text` encoded in parts of about PART characters, each ending with a line (a link `_flatten_links`
    rewrites is never cut in two)."""
    start = 0
    while start < len(text):
        end = text.find("\n", start + PART)
        end = len(text) if end < 0 else end + 1
        piece = text[start:end]
        yield (_flatten_links(piece) if flat else piece).encode("utf-8")
        start = end


def document_units(source: Any, fmt: str, lang: str = "zh", previous: Any = None, stamp: str | None = None,
                   issue: Issue | None = None, standing: Standing | None = None, provenance: Any = None,
                   progress: Any = None, spool: Any = None) -> bytes:
    """`document` of a round detailed unit by unit (gapctl.scoring.details): docx with each unit's section
    made by a worker; pdf printed from the one-file HTML report (which Chromium needs whole). `spool`: as
    for `write_units` (pdf)."""
    from gapctl.scoring import details
    scored = source.scored
    if fmt == "docx":
        from gapctl.report.word import docx_bytes, unit_xml

        def parts(order: list[Any]) -> Any:
            number = {s.unit.id: n for n, s in enumerate(order, start=1)}

            def work(found: list[Any]) -> str:
                s = found[0]
                return unit_xml(s, number[s.unit.id], lang, scored.ranks_shown(s.scheme))
            return details.each([source], details.units_of(source, order=order), work, progress)
        return docx_bytes(scored, lang, issue, standing, provenance, parts)
    if fmt == "pdf":
        from gapctl.report.pdf import print_pdf
        whole = None
        for rel, data in _report_files(source, "html", lang, previous, stamp, issue, standing, progress,
                                       provenance=provenance, spool=spool):
            if rel == "report.html":
                whole = b"".join(data)  # Chromium prints it whole
        assert whole is not None
        return print_pdf(whole.decode("utf-8"))
    raise ValueError(f"{fmt!r} is not a document format; expected one of {', '.join(DOCUMENTS)}")


def _check_target(out_dir: Path) -> None:
    if out_dir.is_symlink():
        raise ReportError(_("{path} is a symbolic link; write the report to a real directory").format(path=out_dir))
    if out_dir.exists() and not out_dir.is_dir():
        raise ReportError(_("{path} exists and is not a directory").format(path=out_dir))


def _check_rel(rel: str, out_dir: Path) -> None:
    """Paths come from unit ids: never let one write outside the report."""
    if rel and "\\" not in rel and ":" not in rel and all(part not in ("", ".", "..") for part in rel.split("/")):
        return  # a plain relative path (every unit's page): no PurePosixPath made twice a page
    parts = PurePosixPath(rel).parts
    if not parts or PurePosixPath(rel).is_absolute() or ".." in parts or "\\" in rel or ":" in rel:
        raise ReportError(_("refusing to write {file}: report files stay inside {path}").format(
            file=repr(rel), path=out_dir))


def document_path(out: Path | None, round_id: str, fmt: str) -> Path:
    """Where a document goes: `--out` as given, inside it when it is a directory, else out/<round-id>.<fmt>."""
    if out is None:
        return Path("out") / f"{round_id}.{fmt}"
    out = Path(out)
    return out / f"{round_id}.{fmt}" if out.is_dir() and not out.is_symlink() else out


def write_document(data: bytes, path: Path) -> None:
    """Write the document in one step (gapctl.data.writes): the old file or the new one, never half."""
    from gapctl.data.writes import WriteError, write_atomically

    path = Path(path)
    try:  # refuses links and anything but a regular file
        write_atomically(path, data, root=path.parent)
    except WriteError as err:
        raise ReportError(str(err)) from None


def _flatten_links(body: str) -> str:
    """In the one-file print version, unit pages sit beside the index: fix their relative links."""
    return body.replace(_UP_LINK, 'href="index.html"')


_UP_LINK = 'href="../index.html"'  # a unit page's link to the overview


def write(files: dict[str, str], out_dir: Path) -> None:
    """Build the report beside `out_dir`, then swap it into place in one step (gapctl.data.writes)."""
    from gapctl.data.writes import WriteError, write_directory

    out_dir = Path(out_dir)
    _check_target(out_dir)
    for rel in files:
        _check_rel(rel, out_dir)
    try:
        write_directory(out_dir, {rel: text.encode("utf-8") for rel, text in files.items()})
    except WriteError as err:
        raise ReportError(str(err)) from None


# --- one pass with the cache off (gapctl.scoring.one_pass) ------------------------------------------
# With the cache off, `write_units` would parse every unit's file twice: once to check and score it,
# once more to render its page. Instead each checking worker keeps the unit's observation file as it
# read it (`kept_observations`, pickled: a tenth of the cost of parsing the YAML again), the parent keeps
# those bytes in a temporary file (gapctl.io.export.PieceSpool), and the page workers score each unit
# from them and finish it from the ranked summary (gapctl.scoring.details.detail_from), as
# `details.detail` does after reading the file again: the same pages, byte for byte.

def kept_observations(plan: Any, full: Any, obs: Any) -> bytes:
    """A unit's observation file as read, pickled (a gapctl.scoring.one_pass extra, made in a worker)."""
    import pickle
    return pickle.dumps(obs, pickle.HIGHEST_PROTOCOL)


_SPOOLED: tuple[list[Any], Any, int, dict[Path, tuple[int, int]], str | None, Any] | None = None  # workers inherit it
_SHARED: list[Any] = []  # [round, {id(object): key}, {key: object}]: the objects summaries are sent to workers by


def _shared(round_: Any) -> tuple[dict[int, Any], dict[Any, Any]]:
    """Every object of the round's schemes (by scheme id and place in a walk of their fields) and every unit
    of its unit set: what a summary sent to a page worker refers to, sent as a key (the worker has them all)."""
    if _SHARED and _SHARED[0] is round_:
        return _SHARED[1], _SHARED[2]
    from gapctl.data.model import Placed

    by_id: dict[int, Any] = {}
    by_key: dict[Any, Any] = {}
    fields: dict[type, tuple[str, ...]] = {}
    for name, root in [*round_.schemes.items(), ("", round_.unit_set)]:
        todo, n = [root], 0
        while todo:
            obj = todo.pop()
            if isinstance(obj, Placed):
                if id(obj) in by_id:
                    continue
                by_id[id(obj)] = (name, n)
                by_key[(name, n)] = obj
                n += 1
                kind = type(obj)
                if kind not in fields:
                    fields[kind] = tuple(f.name for f in dataclasses.fields(obj))
                todo.extend(getattr(obj, f, None) for f in fields[kind])
            elif isinstance(obj, (list, tuple)):
                todo.extend(obj)
            elif isinstance(obj, dict):
                todo.extend(obj.values())
    _SHARED[:] = [round_, by_id, by_key]
    return by_id, by_key


def _known(key: Any) -> Any:
    """A round's object sent by its key (`_shared`): the worker's own copy, inherited from the parent."""
    return _SHARED[2][key]


def _packed(round_: Any, rows: list[Any]) -> bytes:
    """Rows of summaries pickled for a page worker: the schemes' and units' objects as keys, so the worker
    never touches the parent's summaries (whose pages each worker would otherwise copy, a reference count
    at a time) and the summaries do not drag their schemes along."""
    import copyreg
    import io
    import pickle

    from gapctl.data.model import Placed

    by_id, _ = _shared(round_)

    def reduce(obj: Any) -> Any:
        key = by_id.get(id(obj))
        return (_known, (key,)) if key is not None else obj.__reduce_ex__(pickle.HIGHEST_PROTOCOL)

    kinds: list[type] = [Placed]
    for kind in kinds:
        kinds.extend(kind.__subclasses__())
    out = io.BytesIO()
    pickler = pickle.Pickler(out, pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = {**copyreg.dispatch_table, **{kind: reduce for kind in kinds}}
    pickler.dump(rows)
    return out.getvalue()


def _spooled_one(row: list[Any]) -> Any:
    """`work` of one unit's details: the first source's from its kept observations, finished from its
    summary (read from its file when none were kept), the others' (--compare) read from their files."""
    from gapctl.scoring import details

    assert _SPOOLED is not None
    sources, work, fd, places, lang, _fold = _SPOOLED
    found: list[Any] = []
    for n, (source, summary) in enumerate(zip(sources, row, strict=True)):
        place = places.get(source.files.get(summary.unit.id)) if n == 0 and summary is not None else None
        if summary is None:
            found.append(None)
        elif place is None:
            found.append(details.detail(source, summary))
        else:
            kept = _kept_piece(os.pread(fd, place[1], place[0]))
            if not isinstance(kept, TailPiece):
                found.append(details.detail_from(source, summary, kept))
            elif len(sources) == 1 and kept.fits(summary, lang):
                found.append(Tailed(summary, kept, source))
            else:  # ranking changed a leaf, another language than the tail's, or --compare
                found.append(Tailed(summary, kept, source).detailed())
    return work(found)


def _kept_piece(blob: bytes) -> Any:
    """What `kept_observations` or `TailKeeper` kept of a unit, from its bytes in the spool: pickled (made by this
    run's workers), or compressed in `TailPiece.record`'s form (gapctl.scoring.one_pass.unpacked: read from the
    cache, or made to be kept there), which is never unpickled."""
    import pickle

    from gapctl.scoring.one_pass import unpacked

    record = unpacked(blob)
    return TailPiece.from_record(record) if record is not None else pickle.loads(blob)


def _spooled_batch(number: int) -> list[Any]:
    """The results of the batch whose rows `_packed` kept under its number in the packs' spool."""
    import pickle

    from gapctl.collector import paused_gc

    packed = _PACKS[0].get(number)
    with paused_gc():
        return _folded([_spooled_one(row) for row in pickle.loads(packed)])


_PACKS: list[Any] = []  # [a Spool of the batches' packed rows by number] (`_each_spooled`), which page workers inherit


def _folded(results: list[Any]) -> list[Any]:
    """A batch's results as `_each_spooled`'s `fold` makes them, in the worker (as they are without one)."""
    assert _SPOOLED is not None
    fold = _SPOOLED[5]
    return results if fold is None else fold(results)


def _each_spooled(sources: list[Any], rows: list[list[Any]], work: Any, progress: Any, spool: Any,
                  lang: str | None = None, fold: Any = None) -> Any:
    """`gapctl.scoring.details.each` with the first source's details from `spool` (a PieceSpool of kept
    observations by file, or of `TailPiece`s, or empty: then from the files): a unit whose tail was made in
    `lang` and still holds after ranking is given to `work` as a `Tailed`. Large rounds in a pool of forked
    workers, which from PACK_FROM units read each batch's summaries from a file the parent packed them into
    (`_packed`) before it forked them, rather than from the parent's memory. `fold(results)`: what a pool's
    worker sends instead of a batch's results (e.g. one sum for the batch), the same number of results in the
    same order; one process gives every result as `work` made it."""
    global _SPOOLED
    import itertools
    from collections import deque

    from gapctl.collector import paused_gc
    from gapctl.scoring import details

    spool.file.flush()  # the workers read it with pread
    _SPOOLED = (sources, work, spool.file.fileno(), spool.places, lang, fold)
    total = len(rows)
    workers = min(details.jobs_wanted(), max(1, total // (details.PARALLEL_FROM // 2)))
    try:
        joined = joined_only(sources, lang)
        if joined and details.PARALLEL_FROM <= total < HELPER_BELOW and workers >= 2 and hasattr(os, "fork"):
            yield from _joined_halves(rows, progress)
            return
        if total < details.PARALLEL_FROM or workers < 2 or not hasattr(os, "fork") or joined:
            with paused_gc():
                for n, row in enumerate(rows, start=1):
                    yield _spooled_one(row)
                    if progress and (n % PROGRESS_EVERY == 0 or n == total):
                        progress(n, total)
            return
        from gapctl.scoring.executors import forked_pool, shared_with_forks

        packed = len(sources) == 1 and total >= PACK_FROM  # --compare's rows hold another round's summaries: in place
        round_ = sources[0].round
        if packed:  # every batch packed before the fork, into a file the workers read (`_spooled_batch`): while they
            # run the parent touches no summary, whose pages it shares with them (pickling one writes the reference
            # count of each of its objects, and the page is copied: ~40 MB of the parent's at 30,000 units)
            from gapctl.data.spool import Spool

            packs = Spool()
            _PACKS[:] = [packs]
            _shared(round_)
            for number, n in enumerate(range(0, total, details.BATCH)):
                packs[number] = _packed(round_, rows[n:n + details.BATCH])
            packs.file.flush()
            _SHARED[1:2] = [{}]  # by id(): the parent's, not needed once packed
            rows = []

        def batches() -> Any:
            if packed:
                yield from range(len(_PACKS[0]))
                return
            for n in range(0, total, details.BATCH):
                yield list(range(n, min(n + details.BATCH, total)))
        done = 0
        _ROWS[:] = [rows]
        try:
            # in a large round a worker forked again after WORKER_BATCHES batches (as the scoring pool,
            # executors.batches_per_worker): each page it renders touches the round's objects in the parent's memory,
            # and the pages they live on are then copied into it; the scoring phase's freed chunks (each unit's tail
            # passed through here) not reused in its pages
            with shared_with_forks(), forked_pool(workers, files=total) as pool:
                # a few batches in flight, not all: pages the parent has not written yet wait in its memory
                # (at 30,000 units, hundreds of MB when the workers ran ahead of it)
                todo, waiting = batches(), deque()  # type: ignore[var-annotated]
                for batch in itertools.islice(todo, IN_FLIGHT * workers):
                    waiting.append(pool.apply_async(_spooled_batch if packed else _indexed_batch, (batch,)))
                while waiting:
                    results = waiting.popleft().get()
                    for batch in itertools.islice(todo, 1):
                        waiting.append(pool.apply_async(_spooled_batch if packed else _indexed_batch, (batch,)))
                    yield from results
                    done += len(results)
                    if progress:
                        progress(done, total)
        finally:
            _ROWS.clear()
            _SHARED.clear()  # the round's objects by key (at 30,000 units ~10 MB): not needed by the overview
    finally:
        _SPOOLED = None
        for packs in _PACKS:
            packs.close()
        _PACKS.clear()


def _joined_halves(rows: list[list[Any]], progress: Any) -> Any:
    """The pages joined in place (`joined_only`) by two processes: this one makes the first part of the units' pages
    while one forked helper makes the rest, writing their pages into the new directory as this one does and their
    sections of report.html into a temporary file of its own; its results (each section as its length, the
    tallies folded) come when it is done, and are given after this process's own, each with its section read
    back, so that what follows sees every unit's result in the units' order as from one process."""
    import tempfile

    from gapctl.collector import paused_gc
    from gapctl.scoring.executors import forked_pool, shared_with_forks

    total = len(rows)
    own = total - total * HELPER_SHARE // 100  # the units whose pages this process makes: the first `own`
    with tempfile.TemporaryFile() as sections:
        _ROWS[:] = [rows, sections.fileno()]
        try:
            with shared_with_forks(), forked_pool(1, renewed=False) as pool:
                helper = pool.apply_async(_joined_part, (own, total))
                with paused_gc():
                    for n in range(own):
                        yield _spooled_one(rows[n])
                        if progress and (n + 1) % PROGRESS_EVERY == 0:  # the helper's pages made alongside: as if at
                            progress((n + 1) * total // own, total)  # this process's pace (known when it is done)
                results = helper.get()
        finally:
            _ROWS.clear()
        sections.seek(0)
        for path, data, length, charts, tally in results:
            yield path, data, sections.read(length), charts, tally
    if progress:
        progress(total, total)


PROGRESS_EVERY = 100  # pages between two calls of a page phase's `progress`
HELPER_SHARE = 45  # per cent of the units whose pages `_joined_halves`' helper makes
HELPER_BELOW = 10_000  # units from which the pages joined in place are made by this process alone: the helper and this
# process each copy the pages of the summaries they read (reference counts), ~100 MB each at 30,000 units


def _joined_part(start: int, stop: int) -> list[Any]:
    """In `_joined_halves`' helper: the results of rows start..stop, each unit's section written to the helper's
    file and given as its length, the tallies folded as they come (`_folded` of the last result and the next: one
    tally kept, not one a unit, which took ~300 MB at 30,000 units)."""
    from gapctl.collector import paused_gc

    rows, fd = _ROWS
    out: list[Any] = []
    last = None
    with paused_gc():
        for n in range(start, stop):
            path, data, part, charts, tally = _spooled_one(rows[n])
            write_all(fd, part)
            result = (path, data, len(part), charts, tally)
            if last is not None:
                before, result = _folded([last, result])
                out.append(before)
            last = result
    return out if last is None else [*out, last]


def joined_only(sources: list[Any], lang: str | None) -> bool:
    """Whether each unit's page is its head joined to the tail its first pass made (`Tailed`), so that the pages
    are made in this process: one round (no --compare), its tails made (`lang`), and no indicator whose figures
    ranking can change in a tail (`TailKeeper`'s `changing`: outside BLANK_SECTIONS, a rank rule, or in a section
    other than main a threshold rule or a gate), whose unit would be scored again from its observations. Joining a
    page costs ~0.3 ms: page workers cost more than they save (forking, the pages of the parent's memory each
    copies, every section sent back to the parent): 3,000 units in the same time and 0.7 CPU s less, 30,000 units
    49 s instead of 56 s, and no worker's memory beside the parent's."""
    if len(sources) != 1 or lang is None:
        return False
    return not any(ranking_may_change(ind, kind) for scheme in sources[0].round.schemes.values()
                   for ind in scheme.leaves() if ind.section not in BLANK_SECTIONS  # rows made from the summary
                   for kind in {rule.kind for rule in ind.rules} or {None})  # every variant's (`Indicator.rule_for`)


def ranking_may_change(indicator: Any, kind: str | None) -> bool:
    """Whether ranking can change the figures a unit's tail shows of a leaf of `indicator` scored by a rule of
    `kind` (None: none): a rank rule, or in a section other than main a threshold rule or a gate
    (score.rank_bonuses, _section_sum); `TailKeeper` keeps such a unit's observations, `joined_only` keeps the
    page pool for a round that has one."""
    if kind == "rank":
        return True
    return indicator.section != "main" and (kind == "threshold" or indicator.gate is not None)


_ROWS: list[Any] = []  # the rows, for `_indexed_batch` (and the file `_joined_part` writes its sections to)
IN_FLIGHT = 3  # batches sent ahead to each page worker
PACK_FROM = 10_000  # units from which page workers read their batches' summaries packed (`_packed`) instead of reading
# them in the memory they share with the parent: below it the pages of summaries a worker copies (reference counts)
# cost less than the parent's pickling (3,000 units: ~0.4 CPU s of the parent's, ~10% of a report's CPU time)


def _indexed_batch(indices: list[int]) -> list[Any]:
    from gapctl.collector import paused_gc

    with paused_gc():
        return _folded([_spooled_one(_ROWS[0][i]) for i in indices])


# --- a unit's tail made as it is scored ---------------------------------------------------------------
# Scoring a unit again for its page cost about what scoring it the first time did. But most of a unit's page (its
# indicators table and problem list: markdown.unit_tail) is made from its own leaves, which ranking leaves alone
# but for a few (rank bonuses, and bonus and penalty items whose thresholds and gates are decided with the
# totals: what `summarise` keeps of a unit's leaves). So the worker that scores a unit in the first pass
# (gapctl.scoring.one_pass) makes its tail there, with those few leaves' figures as it saw them; the page phase
# makes only the head (markdown.unit_head) from the ranked summary and joins the two, when the summary's leaves
# are still what the tail saw (`TailPiece.fits`: else the unit is scored again, as `detail_from` does, from its
# observations kept with the tail), in the language the tail was made in.

@dataclasses.dataclass
class TailPiece:
    """What the page phase needs of a unit scored in the first pass: its tail and its tally, and
    what they were made from that ranking may change."""

    unit: str  # the unit's id
    lang: str
    leaves: dict[str, tuple[str, bool, str, str]]  # the leaves ranking finishes → (earned, gated, state, points)
    observations: Any  # the unit's observations, when ranking could change one of its leaves: pickled (bytes), or
    # as they are in a piece read from its record (`from_record`)
    blank: list[str] = dataclasses.field(default_factory=list)  # bonus items whose rows the tail leaves blank
    made: tuple[Any, Any] | None = None  # (markdown.Tail, markdown.Tally) (None in a piece being `record`ed)

    def record(self, tail: Any, tally: Any, obs: Any) -> bytes:
        """The piece with its tail, tally and observations (None: not kept) as gapctl.codec's MessagePack: what the
        cache keeps (gapctl.scoring.one_pass), read back by `from_record` without unpickling anything. The leaves'
        figures, an HTML tail (its bytes) and the tally (`Tally.plain`) as MessagePack's own values: none goes
        through the codec's extensions (a Python call each, ~60 a piece)."""
        from gapctl import codec
        from gapctl.report.markdown import HtmlTail

        plain = tally.plain() if tally is not None else None
        return codec.dumps([self.unit, self.lang, {key: list(leaf) for key, leaf in self.leaves.items()},
                            tail.html if isinstance(tail, HtmlTail) else tail, tally if plain is None else None,
                            obs, self.blank, plain])

    @classmethod
    def from_record(cls, data: bytes) -> TailPiece:
        from gapctl import codec
        from gapctl.report.markdown import HtmlTail, Tally

        unit, lang, leaves, tail, tally, obs, blank, plain = codec.loads(data)
        made = (HtmlTail(tail) if isinstance(tail, bytes) else tail,
                tally if plain is None else Tally.from_plain(plain))
        return cls(unit, lang, {key: tuple(leaf) for key, leaf in leaves.items()}, obs, blank, made)

    def observed(self) -> Any:
        """The unit's observations kept with the piece (None: none were)."""
        import pickle

        return pickle.loads(self.observations) if isinstance(self.observations, bytes) else self.observations

    def fits(self, summary: Any, lang: str | None) -> bool:
        """Whether the page of `summary`'s unit in `lang` has this tail: the same unit, the same language, and every
        leaf `details.graft` takes from the summary is as the tail saw it (leaves never change otherwise); a bonus
        item whose row the tail left blank may have earned otherwise (its row is made from the summary's leaf: a
        bonus item's row is all the tail shows of it, unless it is pending)."""
        if self.unit != summary.unit.id or self.lang != lang:
            return False
        blank = self.blank
        for key, kept in summary.leaves.items():
            mine = self.leaves.get(key)
            if mine is None:
                return False
            if key in blank:
                if mine[2:] != (kept.state, str(kept.points)):
                    return False
            elif mine != (str(kept.earned), kept.gated, kept.state, str(kept.points)):
                return False
        return True

    def tail(self, summary: Any = None) -> tuple[Any, Any]:
        """The tail (its blank rows made from `summary`'s leaves) and the tally. An HTML tail kept alone
        (`markdown.HtmlTail`) is None where a blank row's Markdown is what only the whole page renders (`_page`)."""
        assert self.made is not None
        tail, tally = self.made
        if self.blank:
            from gapctl.report.markdown import HtmlTail, Tail, indicator_row

            rows = [indicator_row(summary.leaves[key], self.lang) for key in self.blank]
            if isinstance(tail, HtmlTail):
                if any(html_render.rewritten(row) for row, _html in rows):
                    return None, tally
                parts = tail.html.split(b"\x00")  # text, number, text, ...: each blank row as \x00n\x00
                parts[1::2] = [rows[int(n)][1].encode("utf-8") for n in parts[1::2]]
                return HtmlTail(b"".join(parts)), tally
            html = None if tail.html is None else _BLANK.sub(lambda m: rows[int(m.group(1))][1], tail.html)
            tail = Tail(_BLANK.sub(lambda m: rows[int(m.group(1))][0], tail.markdown), html)
        return tail, tally


_BLANK = re.compile("\x00([0-9]+)\x00")  # a row `markdown.unit_tail` left blank, by its place in `TailPiece.blank`


@dataclasses.dataclass
class Tailed:
    """A unit given to `_report_files`' `work` with its summary and the tail its first pass made, and its source
    (gapctl.scoring.details.Source) for a page that needs more than the tail kept (`detailed`)."""

    summary: Any
    piece: TailPiece
    source: Any

    def detailed(self) -> Any:
        """The unit's full score, scored again from its observations kept with the tail (ranking could change one
        of its leaves), or from its file (none kept)."""
        from gapctl.scoring import details

        if self.piece.observations is not None:
            return details.detail_from(self.source, self.summary, self.piece.observed())
        return details.detail(self.source, self.summary)


BLANK_SECTIONS = ("bonus",)  # a leaf of these shows in a tail by its row alone (its `lost` is 0), unless pending


def keep_tail(lang: str | None, html: bool) -> TailKeeper:
    """A gapctl.scoring.one_pass extra (made in a worker): the unit's `TailPiece`, pickled. `lang`: the report's
    language, or None when it follows the round's schemes (`report_language`)."""
    return TailKeeper(lang, html)


@dataclasses.dataclass(frozen=True)
class TailKeeper:
    """`keep_tail`'s extra: called in the worker that scores a unit, with the unit's full score and observations."""

    lang: str | None
    html: bool
    kept: bool = False  # the piece as its record (`TailPiece.record`), to be kept in the cache, not pickled

    def __call__(self, plan: Any, full: Any, obs: Any) -> bytes:
        import pickle

        from gapctl.report.markdown import Tally, unit_tail

        language = self.lang or report_language(plan)
        finished = {key: leaf for key, leaf in full.leaves.items()
                    if leaf.indicator.section != "main" or (leaf.rule and leaf.rule.kind == "rank")}
        leaves = {key: (str(leaf.earned), leaf.gated, leaf.state, str(leaf.points)) for key, leaf in finished.items()}
        blank = [key for key, leaf in finished.items()
                 if leaf.indicator.section in BLANK_SECTIONS and leaf.state not in ("not-applicable", "pending")]
        tail = unit_tail(full, language, self.html, blank)
        if blank and (tail.markdown.count("\x00") != 2 * len(blank)
                      or tail.html is not None and tail.html.count("\x00") != 2 * len(blank)):
            blank = []  # the unit's own text has a NUL: no row left blank
            tail = unit_tail(full, language, self.html)
        if self.html and _UP_LINK not in (tail.html or ""):  # an HTML page is joined from its tail's HTML, unless
            tail = tail.without_markdown(len(blank))  # its Markdown is rendered whole (or it links to the overview)
        changing = any(leaf.state == "scored" and key not in blank
                       and ranking_may_change(leaf.indicator, leaf.rule.kind if leaf.rule else None)
                       for key, leaf in finished.items())
        tally = Tally.of(full, language)
        if self.kept:
            return TailPiece(full.unit.id, language, leaves, None, blank).record(tail, tally, obs if changing else None)
        return pickle.dumps(TailPiece(full.unit.id, language, leaves,
                                      pickle.dumps(obs, pickle.HIGHEST_PROTOCOL) if changing else None, blank,
                                      (tail, tally)), pickle.HIGHEST_PROTOCOL)

    def prepare(self, plan: Any) -> None:
        """The round's report language worked out in the parent, before the scoring workers fork: each worker
        walking the unit set (30,000 units) itself copied ~80 MB of the parent's pages (the units' reference
        counts), each time it was forked again; and what every tail first needs (`markdown.prepare_tail`)."""
        from gapctl.report.markdown import prepare_tail

        prepare_tail(self.lang or report_language(plan))

    def cache_form(self, plan: Any) -> tuple[str, TailKeeper]:
        """What a unit's piece depends on besides its file's outcome (gapctl.scoring.one_pass keeps pieces in the
        cache by it: the language its tail is written in and whether it has the tail's HTML), and this extra giving
        each piece as its record (MessagePack: nothing read back from the cache is unpickled)."""
        return (f"tail4:{self.lang or report_language(plan)}:{'html' if self.html else 'md'}",
                dataclasses.replace(self, kept=True))


_LANGUAGE: list[Any] = []  # [a plan, the language of its report]


def report_language(plan: Any) -> str:
    """The language gapctl.cli.common._lang gives a report of this round without --lang: English when every unit's
    scheme is written in English (a guess made before the round is scored; a page whose tail is in another
    language than the report's is made again whole)."""
    if not _LANGUAGE or _LANGUAGE[0] is not plan:
        round_ = plan.round
        schemes = [round_.scheme_for(u) for u in (round_.unit_set.units if round_.unit_set else [])]
        from gapctl.labels import schemes_language
        _LANGUAGE[:] = [plan, schemes_language(s.language for s in schemes if s is not None)]
    return _LANGUAGE[1]
