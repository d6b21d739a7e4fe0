"""Markdown → self-contained HTML with markdown-it-py (tables on, raw HTML off).

The HTML is the Markdown rendered, wrapped in a template with print CSS, so the two never
disagree. Raw HTML in the Markdown is shown as text, and links other than http(s) and relative
ones are not links (`validateLink`), on top of the escaping the Markdown already did. Chart
images the Markdown references (`charts/*.svg`) are inlined as SVG that the report drew
itself; no JavaScript, no network, the page opens from a file.

The template adds what a document an office issues carries (`Frame`, from
gapctl.report.document): a masthead with the issuing office and document number, the office and
date at the end of the overview, and for print an A4 page whose margins name the office or round,
the number, the example and provisional banners and the page number (CSS margin boxes, which
Chromium prints), with a watermark on every page while the results are provisional. Texts in the
CSS go through `css_string`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from gapctl.escape import allowed_scheme
from gapctl.escape import html as escape
from gapctl.memo import kept

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
header.masthead { text-align: center; border-bottom: 3px solid #c00000; margin: 0 0 1.2em; padding-bottom: .4em; }
header.masthead .office { color: #c00000; font-size: 2.1em; font-weight: bold; letter-spacing: .08em; margin: .2em 0; }
header.masthead .number { margin: .2em 0; }
div.closing { text-align: right; margin: 2.5em 0 1em; }
div.closing p { margin: .2em 0; }
div.watermark { position: fixed; top: 42%; left: 0; right: 0; text-align: center; font-size: 96px;
                font-weight: bold; color: rgba(192, 0, 0, .10); transform: rotate(-30deg); pointer-events: none;
                white-space: nowrap; z-index: 10; }
@media print {
  main { max-width: none; padding: 0; }
  a { color: inherit; text-decoration: none; }
  table { page-break-inside: auto; }
  tr { page-break-inside: avoid; break-inside: avoid; }
  h2, h3 { page-break-after: avoid; break-after: avoid; }
}
"""

_IMG = re.compile(r'<img src="(?:\.\./)?charts/([A-Za-z0-9_.-]+\.svg)" alt="([^"]*)"\s*/?>')  # ../: a unit's page


def _parser() -> Any:
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")
    parser.validateLink = allowed_scheme  # default allows data:image/…; we allow http(s) and relative only
    # rules the report's Markdown never uses: fewer rules to try on every line and character
    return parser.disable(["code", "fence", "hr", "reference", "html_block", "lheading", "autolink", "html_inline"])


@lru_cache(maxsize=1)
def _renderer() -> Any:
    """The parser `body` renders with: `_parser`, whose inline content (a table cell, a heading, a
    paragraph) is rendered once per distinct text and reused (`_inline_once`), and whose tables are
    put together from rows rendered once each (`_table_rows_once`)."""
    parser = _parser()
    parser.core.ruler.at("inline", _inline_once)
    original = parser.block.ruler.__rules__[parser.block.ruler.__find__("table")].fn

    def table(state: Any, start: int, end: int, silent: bool) -> bool:
        return _table_rows_once(original, state, start, end, silent)
    parser.block.ruler.at("table", table, {"alt": ["paragraph", "reference"]})
    return parser


_INLINE: dict[str, str] = {}  # inline Markdown → its HTML, shared by the pages of a report
_INLINE_MOST = 5_000  # entries of each memo (a few MB); emptied when full: unique rows (a unit's problems) churn it,
# the rows that repeat (indicators, points) are made again once per few hundred pages


@lru_cache(maxsize=1)
def _plain() -> Any:
    return _parser()


_ROWS: dict[tuple[str | None, ...], str] = {}  # (header, delimiter row, None) → a head; (delimiter row, row) → a row


def _table_rows_once(original: Any, state: Any, start: int, end: int, silent: bool) -> bool:
    """markdown-it's table rule for the tables the report writes (`markdown._table`: at the left
    margin, every row a line starting with `|`, up to a blank line), with each distinct row made
    once from its cells (each cell's HTML from `_inline_html`) and reused; any other table goes to
    the rule itself. The rows and cells of a report's thousands of unit pages repeat."""
    from markdown_it.rules_block.table import MAX_AUTOCOMPLETED_CELLS

    if not original(state, start, end, True):
        return False
    if silent:
        return True
    lines = []
    line = start
    while line < end:
        text = state.src[state.bMarks[line] + state.tShift[line]:state.eMarks[line]]
        if not text.strip():
            break
        if state.blkIndent or state.tShift[line] or not text.startswith("|"):
            return original(state, start, end, False)  # not a table the report writes: the rule decides
        lines.append(text)
        line += 1
    header, delimiter, rows = lines[0], lines[1], lines[2:]
    if len(rows) * (header.count("|") + 1) > MAX_AUTOCOMPLETED_CELLS:  # where the rule could stop early
        return original(state, start, end, False)
    if len(_ROWS) > _INLINE_MOST:
        _ROWS.clear()
    token = state.push("html_block", "", 0)
    token.map = [start, line]
    token.content = _table(_head_html(header, delimiter), _body_rows(delimiter, rows))
    state.line = line
    return True


def _table_head(header: str, delimiter: str) -> str | None:
    """`_head_html`, or None when the two lines are not a table's head for markdown-it."""
    head = _head_html(header, delimiter)
    return head if head.startswith("<table>\n<thead>\n") and head.count("</thead>\n") == 1 else None


def _head_html(header: str, delimiter: str) -> str:
    """The HTML markdown-it gives a table's head, `<table>` to `</thead>`: cut from the table of the
    header and the delimiter row alone."""
    key = (header, delimiter, None)
    found = _ROWS.get(key)
    if found is None:
        alone = _plain().render(f"{header}\n{delimiter}\n")
        found = _ROWS[key] = alone.partition("</thead>\n")[0] + "</thead>\n"
    return found


def _body_rows(delimiter: str, rows: list[str]) -> list[str]:
    """A table's body rows as HTML, each row rendered once, then from the memo."""
    html = []
    for row in rows:
        found = _ROWS.get((delimiter, row))
        if found is None:
            found = _row_html(delimiter, row)
            if "](http" not in row:  # a row with a link to the web (a unit's evidence) is that unit's alone
                _ROWS[(delimiter, row)] = found
        html.append(found)
    return html


def _table(head: str, rows: list[str]) -> str:
    """A table's HTML from its head's (`<table>` to `</thead>`) and its body rows' (each `<tr>` to `</tr>`)."""
    return head + ("<tbody>\n" + "".join(rows) + "</tbody>\n" if rows else "") + "</table>\n"


def _row_html(delimiter: str, row: str) -> str:
    """One body row as markdown-it's table rule and renderer make it: the row split into cells
    (a \\| stays in its cell), as many cells as the delimiter row has columns (missing ones empty, extra
    ones dropped), each aligned as its column and rendered inline."""
    from markdown_it.common.utils import MD_TRIM_CHARS  # what mdTrim strips
    from markdown_it.rules_block.table import escapedSplit

    row = row.strip(MD_TRIM_CHARS)
    columns = row.split("|") if "\\|" not in row else escapedSplit(row)  # the same where no pipe is escaped
    if columns and columns[0] == "":
        columns.pop(0)
    if columns and columns[-1] == "":
        columns.pop()
    count = len(columns)
    cells = ["<tr>\n"]
    for i, opening in enumerate(_cell_openings(delimiter)):
        cells.append(f"{opening}{_inline_html(columns[i].strip(MD_TRIM_CHARS)) if i < count else ''}</td>\n")
    cells.append("</tr>\n")
    return "".join(cells)


@lru_cache(maxsize=64)
def _cell_openings(delimiter: str) -> tuple[str, ...]:
    """Each column's opening tag, aligned as the delimiter row says."""
    return tuple(f'<td style="text-align:{align}">' if align else "<td>" for align in _aligns(delimiter))


@lru_cache(maxsize=64)
def _aligns(delimiter: str) -> tuple[str, ...]:
    """Each column's alignment from the delimiter row, as markdown-it's table rule reads it."""
    from markdown_it.common.utils import mdTrim

    columns = delimiter.split("|")
    out = []
    for i, column in enumerate(columns):
        text = mdTrim(column)
        if not text:
            if i == 0 or i == len(columns) - 1:
                continue
        if text.endswith(":"):
            out.append("center" if text.startswith(":") else "right")
        elif text.startswith(":"):
            out.append("left")
        else:
            out.append("")
    return tuple(out)


_MARKUP = re.compile(r"[\\`*_\[\]!<>&~\n\r\x00]")  # what an inline rule of `_parser` could act on


def _inline_html(text: str) -> str:
    """`text` rendered inline (a cell, a heading, a paragraph), once per distinct text; text in which
    no inline rule of `_parser` can start (no escape, code, emphasis, link, entity, line break) is
    what markdown-it makes of it without parsing: itself, HTML-escaped (only `"` can be in it). Text
    that `gapctl.escape.md` and `link` write (escapes, entities, plain http(s) links: `_simple_html`)
    is rendered without markdown-it too; anything else by markdown-it."""
    html = _INLINE.get(text)
    if html is None:
        if not _MARKUP.search(text):
            html = text.replace('"', "&quot;")
        else:
            html = _simple_html(text)
            if html is None:
                html = _plain().renderInline(text)
            if "](http" in text:  # a link to the web (a unit's evidence): that unit's alone, not kept
                return html
        kept(_INLINE, text, html, _INLINE_MOST)
    return html


# What `_simple_html` renders: runs of text in which no inline rule can start, a backslash before ASCII
# punctuation (markdown-it's escape rule), the entities gapctl.escape.md writes, and a link whose
# destination markdown-it's normalizeLink leaves as it is (an http(s) URL of plain ASCII: no brackets,
# parentheses, spaces or stray `%`; `&` only as `&amp;`; or a relative path such as units/a.html),
# with a label of the same kind of text and no bracket at all. A `!` never comes before a `[` (an image).
_SIMPLE_TEXT = r"(?:[^\\`*_\[\]!<>&~\x00-\x1f\x7f]|\\[!-/:-@\[-`{-~]|&(?:amp|lt|gt|quot);|!(?!\[))"
_SIMPLE_URL = (r"(?:https?://[A-Za-z0-9][A-Za-z0-9.-]*(?::[0-9]{1,5})?"
               r"(?:[/?#](?:[A-Za-z0-9._~/?#=+,;:@!$'*-]|%[0-9A-Fa-f]{2}|&amp;)*)?"
               r"|(?:[A-Za-z0-9._~-]|%[0-9A-Fa-f]{2})(?:[A-Za-z0-9._~/-]|%[0-9A-Fa-f]{2})*)")  # or a relative path
_SIMPLE = re.compile(rf"(?:{_SIMPLE_TEXT}|\[(?:[^\\`*_\[\]!<>&~\x00-\x1f\x7f]|\\[!-/:-@^_`{{-~]|&(?:amp|lt|gt|quot);"
                     rf"|!(?!\[))*\]\({_SIMPLE_URL}\))*")
_SIMPLE_PART = re.compile(rf"\[([^\]]*)\]\(({_SIMPLE_URL})\)|\\([!-/:-@\[-`{{-~])|&(amp|lt|gt|quot);|(\")")
_ESCAPED_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}


def _simple_html(text: str) -> str | None:
    """What markdown-it's renderInline gives `text`, when `text` is of the simple kinds above
    (`_SIMPLE`); else None."""
    if not _SIMPLE.fullmatch(text):
        return None
    return _SIMPLE_PART.sub(_simple_part, text)


def _simple_part(match: re.Match[str]) -> str:
    label, url, escaped, entity, _quote = match.groups()
    if url is not None:  # the label renders as text does; the URL is the destination, as written
        return f'<a href="{url}">{_SIMPLE_PART.sub(_simple_part, label)}</a>'
    if escaped is not None:
        return _ESCAPED_HTML.get(escaped, escaped)
    return f"&{entity};" if entity is not None else "&quot;"


def _inline_once(state: Any) -> None:
    """markdown-it's `inline` core rule, with each distinct inline text rendered once: a report's
    thousands of unit pages repeat most of their cells (indicator names, points, methods). The HTML
    is what rendering the text inline gives (`renderInline` of a parser with the same rules), carried
    as one raw token, so the page renders to the same bytes."""
    from markdown_it.token import Token

    for token in state.tokens:
        if token.type == "inline":
            token.children = [Token("html_inline", "", 0, content=_inline_html(token.content))]


def body(markdown: str, charts: dict[str, str]) -> str:
    """The page's HTML body: Markdown rendered, chart images replaced by their inline SVG."""
    html = _made_html(markdown)
    if html is None:
        html = _blocks_html(markdown)
    if html is None:
        html = _renderer().render(markdown)

    def inline(match: re.Match[str]) -> str:
        chart = charts.get(match.group(1))
        if chart is None:
            return match.group(0)
        return f'<figure class="chart">{chart}</figure>'
    return _IMG.sub(inline, html) if charts else html


# --- a unit's page made with its HTML ---------------------------------------------------------------
# gapctl.report.markdown.unit_page writes a page's Markdown and, from the same cells, the HTML `_blocks_html`
# would render it to (`made`): its tables' rows are made once per indicator and figure rather than parsed back
# from every page's text. `body` takes that HTML when it is given the same Markdown, or the same with blocks
# added at its end (a provenance line, a history: gapctl.report.build), rendering only what was added.

_MADE: list[str] = []  # [the last unit page's Markdown, its HTML]


def made(markdown: str, html: str) -> None:
    """The HTML of `markdown` (exactly what `_blocks_html` gives it), for `body` to take."""
    _MADE[:] = [markdown, html]


def _made_html(markdown: str) -> str | None:
    if not _MADE:
        return None
    known, html = _MADE
    if markdown is known or markdown == known:
        return html
    stem = known.rstrip("\n")
    if not markdown.startswith(stem) or not markdown.startswith("\n\n", len(stem)):
        return None
    more = blocks_after(markdown[len(stem) + 2:])
    return None if more is None else html + more


def blocks_after(rest: str) -> str | None:
    """The HTML of `rest`, blocks added after a page's made HTML and a blank line (`_made_html`), or None where
    the page must be rendered whole: a list of the page's would go on (a loose list), or `_blocks_html` gives none."""
    if _MORE and _MORE[0] == rest:  # the same blocks added to every page (the provenance line): made once
        return _MORE[1]  # type: ignore[no-any-return]
    after = next((line for line in rest.split("\n") if line.strip(" \t")), "")
    if after.startswith(("-", " ", "\t")):  # a list of the page's would go on: a loose list
        return None
    more = _blocks_html(rest)
    _MORE[:] = [rest, more]
    return more


_MORE: list[Any] = []  # [blocks added after a page's made HTML, their HTML]


def table_block_html(header: str, delimiter: str, rows: list[str]) -> str | None:
    """What `_blocks_html` makes of a table's block: these lines (rows as Markdown), each starting with `|`."""
    head = _table_head(header, delimiter)
    return None if head is None else table_html(head, header.count("|") + 1, _body_rows(delimiter, rows))


def table_html(head: str | None, cells: int, rows: list[str]) -> str | None:
    """The HTML `_blocks_html` makes of a table whose head's HTML is `head` (`_table_head`: None, not a table's head
    for markdown-it) and whose body rows' HTML are `rows`, each of `cells` cells; None where it would leave the page
    to markdown-it (more cells than markdown-it completes)."""
    from markdown_it.rules_block.table import MAX_AUTOCOMPLETED_CELLS

    if head is None or len(rows) * cells > MAX_AUTOCOMPLETED_CELLS:
        return None
    return _table(head, rows)


_WEB = re.compile(r"https?://[A-Za-z0-9][A-Za-z0-9.-]*+(?::[0-9]{1,5})?"  # possessive: a run of characters at once
                  r"(?:[/?#](?:[A-Za-z0-9._~/?#=+,;:@!$'*-]++|%[0-9A-Fa-f]{2})*+)?")  # (3x faster than one by one)


def web_url(url: str) -> bool:
    """An http(s) URL of plain ASCII that `gapctl.escape.link` writes as it is (`escape._PLAIN_HTTP`) and
    markdown-it leaves as written (`_SIMPLE_URL`): a link to it, labelled with it, is `<a href="URL">` and the
    label `escape.md_url` writes without its backslash escapes (such a URL holds no backslash of its own)."""
    return _WEB.fullmatch(url) is not None


def row_html(delimiter: str, cells: list[str], known: dict[int, str] | None = None) -> str:
    """The HTML of a table's body row of these cells (Markdown, as `gapctl.report.markdown._table` joins them),
    as `_body_rows` makes it; `known`: the HTML of some cells (by column), made with their Markdown."""
    if any("|" in cell for cell in cells):  # escaped pipes: split as markdown-it splits the row
        return _row_html(delimiter, "| " + " | ".join(cells) + " |")
    from markdown_it.common.utils import MD_TRIM_CHARS

    openings = _cell_openings(delimiter)
    if len(openings) != len(cells):
        return _row_html(delimiter, "| " + " | ".join(cells) + " |")
    known = known or {}
    return "<tr>\n" + "".join(f"{opening}{known[i] if i in known else _inline_html(cell.strip(MD_TRIM_CHARS))}</td>\n"
                               for i, (opening, cell) in enumerate(zip(openings, cells, strict=True))) + "</tr>\n"


# --- the blocks of a unit's page, without markdown-it's block parser ---------------------------------
# A unit's page (gapctl.report.markdown.unit_page) is headings, a banner quote, one-line paragraphs, lists
# of one-line items (`- `) and tables, each followed by a blank line. `_blocks_html` renders Markdown made
# only of such blocks as markdown-it does (tests/report/test_report.py compares them over every shipped
# round and random pages); a page with anything else (a loose list, a line broken inside a paragraph,
# indentation) is left to markdown-it.

_NOT_PARAGRAPH = re.compile(r"[-+*](?:[ \t]|$)|\d{1,9}[.)](?:[ \t]|$)|>|#{1,6}(?:[ \t]|$)|\||[ \t]")
_HEADING = re.compile(r"(#{1,6}) (.*)")


def _one_line(text: str) -> bool:
    """A line markdown-it reads as a paragraph of its own, with nothing to trim around its text."""
    return bool(text) and text == text.strip() and not _NOT_PARAGRAPH.match(text)


def rewritten(text: str) -> bool:
    """Whether markdown-it rewrites `text` before parsing it (a CR or a NUL in it): its HTML is then markdown-it's to
    make, never `_blocks_html`'s or a page's joined from parts."""
    return "\r" in text or "\x00" in text


def _blocks_html(markdown: str) -> str | None:
    """What markdown-it's render gives `markdown` when it is made of the blocks above; else None."""
    if rewritten(markdown):
        return None

    lines = markdown.split("\n")
    out: list[str] = []
    i, count = 0, len(lines)
    while i < count:
        line = lines[i]
        if not line.strip(" \t"):
            i += 1
            continue
        end = i + 1
        while end < count and lines[end].strip(" \t"):
            end += 1
        first = line[0]
        if first == "|":  # a table: every line of the block a row
            block = lines[i:end]
            if len(block) < 2 or any(not row.startswith("|") for row in block):
                return None
            table = table_block_html(block[0], block[1], block[2:])
            if table is None:
                return None
            out.append(table)
        elif first == "-" and all(item.startswith("- ") and _one_line(item[2:]) for item in lines[i:end]):
            after = next((later for later in lines[end:] if later.strip(" \t")), "")
            if after.startswith(("-", " ", "\t")):  # the list goes on after the blank line (a loose list)
                return None
            out.append("<ul>\n" + "".join(f"<li>{_inline_html(item[2:])}</li>\n" for item in lines[i:end]) + "</ul>\n")
        elif end != i + 1:  # several lines: a paragraph with line breaks, or another kind of list
            return None
        elif first == "#":
            heading = _HEADING.fullmatch(line)
            if heading is None:
                return None
            text = heading.group(2)
            if not text or text != text.strip() or text.endswith("#"):
                return None
            level = len(heading.group(1))
            out.append(f"<h{level}>{_inline_html(text)}</h{level}>\n")
        elif line.startswith("> "):
            text = line[2:]
            if not _one_line(text):
                return None
            out.append(f"<blockquote>\n<p>{_inline_html(text)}</p>\n</blockquote>\n")
        elif _one_line(line):
            out.append(f"<p>{_inline_html(line)}</p>\n")
        else:
            return None
        i = end
    if len(_ROWS) > _INLINE_MOST:
        _ROWS.clear()
    return "".join(out)


@dataclass(frozen=True)
class Frame:
    """What the pages carry besides their Markdown: texts as written (escaped here)."""

    header: str  # top left of every printed page: the office, else the round
    page: tuple[str, str, str]  # the page number line around its two numbers (gapctl.report.document.page_of)
    number: str = ""  # top right: the document number
    notices: tuple[str, ...] = ()  # top centre: the example and provisional banners
    mark: str = ""  # the watermark while provisional
    office: str = ""  # the masthead and the closing
    date: str = ""  # the closing, as the document writes it
    head: bool = True  # the masthead and closing around the first section (the overview, not a unit's page)


FONTS = '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif'


def css_string(text: str) -> str:
    """A CSS string literal: anything but letters, digits and spaces as a hex escape, so no text
    ends the string, the rule or the <style> element; invisible characters shown (gapctl.escape)."""
    from gapctl.escape import visible

    return '"' + "".join(ch if ch.isalnum() or ch == " " else f"\\{ord(ch):x} " for ch in visible(text)) + '"'


@lru_cache(maxsize=16)  # every unit page of a report has the same frame
def page_css(frame: Frame) -> str:
    """A4, and the margins of every printed page: header, number, banners, page x of y."""
    def box(where: str, content: str, extra: str = "") -> str:
        return (f"  @{where} {{ content: {content}; font-family: {FONTS}; font-size: 9pt; "
                f"color: {extra or '#52606d'}; white-space: pre-wrap; }}")
    before, middle, after = frame.page
    rules = [box("top-left", css_string(frame.header)),
             box("bottom-center", f"{css_string(before)} counter(page) {css_string(middle)} counter(pages) "
                                  f"{css_string(after)}")]
    if frame.number:
        rules.append(box("top-right", css_string(frame.number)))
    if frame.notices:
        rules.append(box("top-center", ' "\\a " '.join(css_string(n) for n in frame.notices), "#c00000"))
    return "@page {\n  size: A4; margin: 20mm 16mm 18mm;\n" + "\n".join(rules) + "\n}"


def masthead(frame: Frame) -> str:
    """The office (red) and the document number above a red rule: the head of an official document."""
    if not (frame.office or frame.number):
        return ""
    lines = [f'<p class="office">{escape(frame.office)}</p>' if frame.office else "",
             f'<p class="number">{escape(frame.number)}</p>' if frame.number else ""]
    return f'<header class="masthead">{"".join(lines)}</header>\n'


def closing(frame: Frame) -> str:
    """The office and the date at the end of the text (落款)."""
    if not (frame.office or frame.date):
        return ""
    lines = [f"<p>{escape(text)}</p>" for text in (frame.office, frame.date) if text]
    return f'<div class="closing">{"".join(lines)}</div>\n'


def document(title: str, lang: str, sections: list[str], frame: Frame | None = None) -> str:
    """A self-contained page; with `frame`, the masthead and closing around the first section and
    the print layout (every section starts a printed page)."""
    if frame is not None and frame.head and sections:
        sections = [first_section(sections[0], frame)] + sections[1:]
    pages = "".join(section(text) for text in sections)
    return document_head(title, lang, frame) + pages + DOCUMENT_TAIL


def first_section(text: str, frame: Frame) -> str:
    """The first section's text with the masthead and closing a framed document puts around it."""
    return masthead(frame) + text + closing(frame)


def section(text: str) -> str:
    """One printed page of a document: `document` is `document_head` + sections + DOCUMENT_TAIL, so
    a long one can be written a section at a time."""
    return f'<section class="page">{text}</section>'


DOCUMENT_TAIL = "\n</main></body>\n</html>\n"


def document_head(title: str, lang: str, frame: Frame | None = None) -> str:
    """Everything of a document before its first section."""
    before, after = document_head_around(lang, frame)
    return before + escape(title) + after


@lru_cache(maxsize=16)  # every unit page of a report has the same
def document_head_around(lang: str, frame: Frame | None = None) -> tuple[str, str]:
    """`document_head` before its title and after it."""
    style = CSS + (page_css(frame) + "\n" if frame is not None else "@page { size: A4; margin: 15mm; }\n")
    mark = f'<div class="watermark" aria-hidden="true">{escape(frame.mark)}</div>\n' if frame and frame.mark else ""
    return ("<!DOCTYPE html>\n"
            f'<html lang="{"zh-CN" if lang == "zh" else "en"}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>',
            f"</title>\n<style>{style}</style>\n</head>\n<body>{mark}<main>\n")
