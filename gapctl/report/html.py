"""Markdown → self-contained HTML with markdown-it-py (tables on, raw HTML off).

The HTML is the Markdown rendered, wrapped in a template with print CSS, so the two never
disagree. Raw HTML in the Markdown is shown as text, and links other than http(s) and relative
ones are not links (`validateLink`), on top of the escaping the Markdown already did. Chart
images the Markdown references (`charts/*.svg`) are inlined as SVG that the report drew
itself; no JavaScript, no network, the page opens from a file.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from gapctl.escape import allowed_scheme
from gapctl.escape import html as escape

CSS = """
:root { color-scheme: light; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei",
       "WenQuanYi Micro Hei", sans-serif;
       margin: 0; color: #1f2933; background: #fff; line-height: 1.55; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 32px 48px; }
h1 { font-size: 1.6em; border-bottom: 2px solid #3b6ea5; padding-bottom: .3em; }
h2 { font-size: 1.25em; margin-top: 1.6em; color: #24476b; }
h3 { font-size: 1.05em; }
table { border-collapse: collapse; margin: .6em 0 1.2em; font-size: .92em; }
th, td { border: 1px solid #c9d3dd; padding: 4px 8px; vertical-align: top; }
th { background: #eef2f6; white-space: nowrap; }
td:empty, th:empty { background: transparent; }
blockquote { margin: 0 0 1em; padding: .6em 1em; background: #fff4ce; border-left: 6px solid #e0a800; }
a { color: #1f5f99; }
figure.chart { margin: .5em 0 1.5em; }
section.page + section.page { break-before: page; page-break-before: always; }
@page { size: A4; margin: 15mm; }
@media print {
  main { max-width: none; padding: 0; }
  a { color: inherit; text-decoration: none; }
  table { page-break-inside: auto; }
  tr { page-break-inside: avoid; break-inside: avoid; }
  h2, h3 { page-break-after: avoid; break-after: avoid; }
}
"""

_IMG = re.compile(r'<img src="charts/([A-Za-z0-9_.-]+\.svg)" alt="([^"]*)"\s*/?>')


@lru_cache(maxsize=1)
def _renderer() -> Any:
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")
    parser.validateLink = allowed_scheme  # default allows data:image/…; we allow http(s) and relative only
    # rules the report's Markdown never uses: fewer rules to try on every line and character
    return parser.disable(["code", "fence", "hr", "reference", "html_block", "lheading", "autolink", "html_inline"])


def body(markdown: str, charts: dict[str, str]) -> str:
    """The page's HTML body: Markdown rendered, chart images replaced by their inline SVG."""
    html = _renderer().render(markdown)

    def inline(match: re.Match[str]) -> str:
        chart = charts.get(match.group(1))
        if chart is None:
            return match.group(0)
        return f'<figure class="chart">{chart}</figure>'
    return _IMG.sub(inline, html) if charts else html


def document(title: str, lang: str, sections: list[str]) -> str:
    pages = "".join(f'<section class="page">{section}</section>' for section in sections)
    return ("<!DOCTYPE html>\n"
            f'<html lang="{"zh-CN" if lang == "zh" else "en"}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n"
            f"<body><main>\n{pages}\n</main></body>\n</html>\n")
