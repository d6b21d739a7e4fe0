"""Display width of text in a terminal, so that columns with Chinese characters align."""

from __future__ import annotations

import unicodedata


def width(text: str) -> int:
    """Columns the text takes: East Asian wide and full-width characters take two."""
    if text.isascii():
        return len(text)
    total = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        total += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return total


def pad(text: str, columns: int, align: str = "left") -> str:
    gap = max(0, columns - width(text))
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
    rows = [[plain_line(cell) for cell in r] + [""] * (cols - len(r)) for r in rows]
    widths = [max(width(r[i]) for r in rows) for i in range(cols)]
    aligns = aligns or ["left"] * cols
    lines = []
    for n, row in enumerate(rows):
        cells = [pad(cell, widths[i], aligns[i]) for i, cell in enumerate(row)]
        lines.append(sep.join(cells).rstrip())
        if n == 0:
            lines.append(sep.join("-" * w for w in widths))
    return lines
