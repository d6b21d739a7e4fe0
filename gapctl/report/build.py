"""Write a report directory: index and one page per unit, as Markdown (with SVG charts) or HTML.

The whole directory is built beside its destination and exchanged with the old one in one
rename (gapctl.writes.write_directory), so a reader never sees half a report or none, and a
run killed at any moment leaves the previous report or the new one.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from pathlib import Path, PurePosixPath
from typing import Any

from gapctl.report import html as html_render
from gapctl.report.markdown import pages
from gapctl.score import RoundScore


class ReportError(Exception):
    """The destination cannot be written (a symbolic link, or not a directory)."""


def render(scored: RoundScore, fmt: str = "html", lang: str = "zh", previous: RoundScore | None = None,
           stamp: str | None = None) -> dict[str, str]:
    """Relative path → file content for every file of the report (deterministic unless `stamp`)."""
    ext = ".html" if fmt == "html" else ".md"
    out: dict[str, str] = {}
    if fmt == "md":
        for page in pages(scored, lang, ext, previous, stamp):
            out[page.path] = page.markdown + "\n"
            for name, chart in page.charts.items():  # charts belong to the overview (index.md)
                out[f"charts/{name}"] = chart + "\n"
        return out
    rendered = _render_html(scored, lang, previous, stamp)
    for path, title, body in rendered:
        out[path] = html_render.document(title, lang, [body])
    out["report.html"] = html_render.document(scored.round.title, lang,
                                              [_flatten_links(body) for _, _, body in rendered])
    return out


PARALLEL_FROM = 200  # pages; below this a process pool costs more than it saves
_JOB: tuple[Any, ...] | None = None  # what forked workers render from (inherited, never pickled)


def _render_range(span: tuple[int, int]) -> list[tuple[str, str, str]]:
    """(path, title, HTML body) of pages start..end: page 0 is the overview, then one per unit."""
    from gapctl.load import paused_gc
    from gapctl.report.markdown import overview, unit_page

    assert _JOB is not None
    scored, lang, previous, stamp = _JOB
    before = previous.by_unit() if previous else {}
    out = []
    with paused_gc():  # markdown-it makes many small objects; collections only slow it down
        for i in range(*span):
            if i == 0:
                page = overview(scored, lang, ".html", stamp)
            else:
                unit = scored.units[i - 1]
                page = unit_page(scored, unit, lang, ".html", before.get(unit.unit.id))
            out.append((page.path, page.title, html_render.body(page.markdown, page.charts)))
    return out


def _render_html(scored: RoundScore, lang: str, previous: RoundScore | None,
                 stamp: str | None) -> list[tuple[str, str, str]]:
    """Every page rendered, in order; large rounds across the machine's cores (forked workers)."""
    global _JOB
    count = len(scored.units) + 1
    workers = min(os.cpu_count() or 1, 8)
    _JOB = (scored, lang, previous, stamp)
    try:
        if count < PARALLEL_FROM or workers < 2 or "fork" not in mp.get_all_start_methods():
            return _render_range((0, count))
        from concurrent.futures import ProcessPoolExecutor

        size = max(1, count // (workers * 4))
        spans = [(i, min(i + size, count)) for i in range(0, count, size)]
        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork")) as pool:
            return [page for chunk in pool.map(_render_range, spans) for page in chunk]
    finally:
        _JOB = None


def _flatten_links(body: str) -> str:
    """In the one-file print version, unit pages sit beside the index: fix their relative links."""
    return body.replace('href="../index.html"', 'href="index.html"')


def write(files: dict[str, str], out_dir: Path) -> None:
    """Build the report beside `out_dir`, then swap it into place in one step (gapctl.writes)."""
    from gapctl.writes import WriteError, write_directory

    out_dir = Path(out_dir)
    if out_dir.is_symlink():
        raise ReportError(f"{out_dir} is a symbolic link; write the report to a real directory")
    if out_dir.exists() and not out_dir.is_dir():
        raise ReportError(f"{out_dir} exists and is not a directory")
    for rel in files:  # paths come from unit ids: never let one write outside the report
        parts = PurePosixPath(rel).parts
        if not parts or PurePosixPath(rel).is_absolute() or ".." in parts or "\\" in rel or ":" in rel:
            raise ReportError(f"refusing to write {rel!r}: report files stay inside {out_dir}")
    try:
        write_directory(out_dir, {rel: text.encode("utf-8") for rel, text in files.items()})
    except WriteError as err:
        raise ReportError(str(err)) from None
