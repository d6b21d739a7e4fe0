"""Write a report directory: index and one page per unit, as Markdown (with SVG charts) or HTML.

The whole directory is built beside its destination and renamed into place, so a reader
never sees half a report and an interrupted run leaves the previous report as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from gapctl.report import html as html_render
from gapctl.report.markdown import Page, pages
from gapctl.score import RoundScore


class ReportError(Exception):
    """The destination cannot be written (a symbolic link, or not a directory)."""


def render(scored: RoundScore, fmt: str = "html", lang: str = "zh", previous: RoundScore | None = None,
           stamp: str | None = None) -> dict[str, str]:
    """Relative path → file content for every file of the report (deterministic unless `stamp`)."""
    ext = ".html" if fmt == "html" else ".md"
    out: dict[str, str] = {}
    report_pages: list[Page] = pages(scored, lang, ext, previous, stamp)
    if fmt == "md":
        for page in report_pages:
            out[page.path] = page.markdown + "\n"
            for name, chart in page.charts.items():  # charts belong to the overview (index.md)
                out[f"charts/{name}"] = chart + "\n"
        return out
    bodies = []
    for page in report_pages:
        body = html_render.body(page.markdown, page.charts)
        bodies.append(body)
        title = page.markdown.splitlines()[0].lstrip("# ").strip()
        out[page.path] = html_render.document(title, lang, [body])
    out["report.html"] = html_render.document(scored.round.title, lang, [_flatten_links(b) for b in bodies])
    return out


def _flatten_links(body: str) -> str:
    """In the one-file print version, unit pages sit beside the index: fix their relative links."""
    return body.replace('href="../index.html"', 'href="index.html"')


def write(files: dict[str, str], out_dir: Path) -> None:
    """Build the report beside `out_dir`, then swap it into place."""
    out_dir = Path(out_dir)
    if out_dir.is_symlink():
        raise ReportError(f"{out_dir} is a symbolic link; write the report to a real directory")
    if out_dir.exists() and not out_dir.is_dir():
        raise ReportError(f"{out_dir} exists and is not a directory")
    parent = out_dir.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=parent))
    try:
        for rel, text in sorted(files.items()):
            path = staging / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        old = None
        if out_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old.", dir=parent))
            os.rmdir(old)
            os.replace(out_dir, old)
        os.replace(staging, out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
