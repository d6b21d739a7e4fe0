"""Display width of text in a terminal, so that columns with Chinese characters align."""

from __future__ import annotations

import unicodedata
from functools import lru_cache


def width(text: str) -> int:
    """Columns the text takes: East Asian wide and full-width characters take two."""
    if text.isascii():
        return len(text)
    return _wide_width(text)


@lru_cache(maxsize=8192)  # names, grades and unit types repeat down a table's rows
def _wide_width(text: str) -> int:
    total = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        total += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return total


def pad(text: str, columns: int, align: str = "left", text_width: int | None = None) -> str:
    gap = max(0, columns - (width(text) if text_width is None else text_width))
    return " " * gap + text if align == "right" else text + " " * gap


def table(rows: list[list[str]], aligns: list[str] | None = None, sep: str = "  ") -> list[str]:
    """Rows of cells → aligned lines (the first row is the header, underlined).

    Every cell is escaped for the terminal (`gapctl.escape.plain_line`: line breaks folded,
    bidi and control characters shown), so no value can break or reorder the table.
    """
    from gapctl.escape import plain_line

    if not rows:
        return []
    cols = max(len(r) for r in rows)
    # plain_line, width and pad inlined (same tests, same results): a table has a cell per unit and column.
    # A row whose cells are all printable ASCII (tested on the row joined: both are per character) needs
    # neither escaping nor width look-ups; the others are taken cell by cell.
    fixed: list[list[str]] = []
    cell_widths: list[list[int]] = []
    for r in rows:
        if len(r) < cols:
            r = [*r, *[""] * (cols - len(r))]
        joined = "".join(r)
        if not joined.isprintable():
            r = [c if c.isprintable() else plain_line(c) for c in r]
        elif joined.isascii():
            fixed.append(r)
            cell_widths.append(list(map(len, r)))
            continue
        fixed.append(r)
        cell_widths.append([len(c) if c.isascii() else _wide_width(c) for c in r])
    widths = [max(column) for column in zip(*cell_widths, strict=True)]
    aligns = aligns or ["left"] * cols
    rights = [aligns[i] == "right" for i in range(cols)]
    lines = []
    for n, (row, row_widths) in enumerate(zip(fixed, cell_widths, strict=True)):
        # a cell padded to its column's width in display columns: str's own padding counts characters, so a
        # wide cell is given as many more characters as it takes columns less
        cells = [c.rjust(w + len(c) - cw) if right else c.ljust(w + len(c) - cw)
                 for c, cw, w, right in zip(row, row_widths, widths, rights, strict=True)]
        lines.append(sep.join(cells).rstrip())
        if n == 0:
            lines.append(sep.join("-" * w for w in widths))
    return lines
